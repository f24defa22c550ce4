package rollback

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/cloudsnap/rollback/provider"
)

// OpenFunc opens a provider from a URL whose scheme it was registered
// for (provider.Register); see provider.OpenFunc.
type OpenFunc = provider.OpenFunc

// Schemes returns the URL schemes Open knows, sorted: those of the
// provider packages linked into the program.
func Schemes() []string { return provider.Schemes() }

// Open opens the provider a URL names: "tencent://ap-guangzhou",
// "aliyun://cn-hangzhou?profile=prod". The scheme picks the provider
// package, which must be imported (its init registers the scheme), and
// the rest is that provider's configuration: the host is the region, and
// query parameters set documented fields (see aliyun.URLOpener and
// tencent.URLOpener); any other parameter is refused. opts apply to the
// client as they do to the provider's New.
//
// A URL never carries credentials: one with user information
// (user:pass@) is refused, and credentials come from the provider's
// default chain (environment, OIDC, CLI profile, instance role). Every
// mistake is ErrInvalidArgument, found before anything is sent.
//
// The aliyun and tencent clients are io.Closers that release their idle
// connections: close one when done with it (a test under goleak must):
//
//	if c, ok := p.(io.Closer); ok {
//		defer c.Close()
//	}
func Open(ctx context.Context, rawURL string, opts ...Option) (Provider, error) {
	u, err := parseOpenURL(rawURL)
	if err != nil {
		return nil, err
	}
	fn := provider.Opener(u.Scheme)
	if fn == nil {
		known := "none are registered"
		if s := Schemes(); len(s) > 0 {
			known = "registered: " + strings.Join(s, ", ")
		}
		e := openError("unknown scheme %q (%s)", u.Scheme, known)
		e.Hint = `import the provider's package for its side effects, e.g. import _ "github.com/cloudsnap/rollback/tencent"; nothing was sent`
		return nil, e
	}
	return fn(ctx, u, opts...)
}

// parseOpenURL checks what is common to every scheme. Until the URL is
// known to hold no user information, nothing of it is quoted in an error:
// a password must not end up in a log.
func parseOpenURL(raw string) (*url.URL, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || scheme == "" {
		return nil, openError(`want SCHEME://REGION, e.g. "tencent://ap-guangzhou" or "aliyun://cn-hangzhou"`)
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	if strings.Contains(authority, "@") {
		return nil, userinfoError()
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the whole input; its cause alone says what
		// is wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, openError("malformed URL: %v", err)
	}
	switch {
	case u.User != nil:
		return nil, userinfoError()
	case !provider.ValidScheme(u.Scheme):
		return nil, openError("malformed scheme %q", u.Scheme)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, openError("a provider URL has no #fragment")
	}
	return u, nil
}

func userinfoError() *Error {
	e := openError("a provider URL never carries credentials (user:password@): remove them")
	e.Hint = "credentials come from the provider's default chain: the environment " +
		"(TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY, ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET), " +
		"an OIDC token file, the cloud CLI's profile (?profile=NAME) or the instance's role; nothing was sent"
	return e
}

// openError is ErrInvalidArgument about the URL given to Open.
func openError(format string, args ...any) *Error {
	return &Error{Op: "Open", Kind: ErrInvalidArgument, Field: "URL",
		Message: fmt.Sprintf(format, args...), Hint: "nothing was sent"}
}

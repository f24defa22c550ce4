package acme

import (
	"context"
	"net/url"

	"github.com/cloudsnap/rollback/provider"
)

// Scheme is the URL scheme Open serves.
const Scheme = "acme"

// Open opens a Client from a URL: acme://REGION[?endpoint=URL], e.g.
// "acme://eu-west" or "acme://eu-west?endpoint=http://127.0.0.1:1234" for
// the emulator. Credentials never come from the URL: a URL with user
// information is refused, and the key comes from ACME_KEY_ID and
// ACME_SECRET. Unknown query parameters are refused. Every mistake is
// ErrInvalidArgument, found before anything is sent. It is the
// provider.OpenFunc this package registers for Scheme in init.
func Open(ctx context.Context, u *url.URL, opts ...provider.Option) (provider.Provider, error) {
	bad := func(format string, args ...any) error {
		return provider.InvalidArgument(Name, "Open", "URL", format, args...)
	}
	switch {
	case u == nil:
		return nil, bad("is nil")
	case u.Scheme != Scheme:
		return nil, bad("has scheme %q; want %s://REGION", provider.Clip(u.Scheme), Scheme)
	case u.User != nil:
		return nil, bad("carries credentials (user:password@): remove them; the key comes from %s and %s", EnvKeyID, EnvSecret)
	case u.Port() != "" || (u.Path != "" && u.Path != "/") || u.Fragment != "" || u.Opaque != "":
		return nil, bad("must be %s://REGION with optional ?endpoint=, nothing else", Scheme)
	}
	cfg := Config{Region: u.Hostname()}
	for k, v := range u.Query() {
		switch k {
		case "endpoint":
			if len(v) != 1 {
				return nil, bad("names endpoint %d times", len(v))
			}
			cfg.Endpoint = v[0]
		default:
			return nil, bad("has unknown parameter %q (the only one is endpoint; credentials come from %s and %s)", provider.Clip(k), EnvKeyID, EnvSecret)
		}
	}
	if cfg.Region == "" {
		return nil, bad("names no region; want %s://REGION, e.g. %s://eu-west", Scheme, Scheme)
	}
	return New(cfg, opts...)
}

package creds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/sdkhttp"
)

// What both clients' credential sources (STS, metadata services,
// credentials URIs) share on the wire.

// MaxReply bounds a credential source's reply body.
const MaxReply = 1 << 20

// Setup is what a client's credential sources share: how they call STS
// and metadata services, and the role session they ask for.
type Setup struct {
	Provider    string            // the errors' Provider
	Transport   http.RoundTripper // the client's
	Insecure    bool              // plain http allowed (WithInsecureHTTP)
	Timeout     time.Duration     // of one HTTP call of a source
	STSEndpoint string            // a Config's; empty means DefaultSTS
	DefaultSTS  string            // "https://host"
	SessionName string            // the role session's name
	Duration    time.Duration     // the role session's length
}

// HTTPClient returns a client for one source's calls: the client's
// transport, at most Timeout a call.
func (s Setup) HTTPClient() *http.Client {
	return &http.Client{Transport: s.Transport, Timeout: s.Timeout}
}

// STS parses STSEndpoint (empty: DefaultSTS) with sdkhttp.ParseEndpoint's
// rules; a bad one is the Provider's ErrInvalidArgument from New, naming
// the field.
func (s Setup) STS() (sdkhttp.Endpoint, error) {
	ep, err := sdkhttp.ParseEndpoint(s.STSEndpoint, strings.TrimPrefix(s.DefaultSTS, "https://"), s.Insecure)
	if err != nil {
		return ep, provider.InvalidArgument(s.Provider, "New", "STSEndpoint", "%s", strings.TrimPrefix(err.Error(), "Endpoint "))
	}
	return ep, nil
}

// ReadReply sends req with hc and returns the reply's status and body (at most
// MaxReply bytes). A transport failure is src's failure, without the URL's
// query or user (NetReason).
func ReadReply(hc *http.Client, req *http.Request, src string) (int, []byte, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, Fail(src, NetReason(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxReply))
	if err != nil {
		return 0, nil, Fail(src, NetReason(err))
	}
	return resp.StatusCode, body, nil
}

// NetReason drops the URL's query and user from a transport error (they
// may carry a token) and keeps the cause; a timeout wraps
// context.DeadlineExceeded.
func NetReason(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		where := "(URL)"
		if u, err := url.Parse(ue.URL); err == nil {
			u.RawQuery, u.User = "", nil
			where = u.String()
		}
		if ue.Timeout() {
			return fmt.Errorf("%s %s timed out: %w", ue.Op, where, context.DeadlineExceeded)
		}
		return fmt.Errorf("%s %s: %w", ue.Op, where, ue.Err)
	}
	return err
}

// Unavailable describes a failed HTTP status of what; a 5xx wraps
// ErrUnavailable (worth another try).
func Unavailable(status int, what string) error {
	if status >= 500 {
		return fmt.Errorf("%s: HTTP %d (%w)", what, status, ErrUnavailable)
	}
	return fmt.Errorf("%s: HTTP %d", what, status)
}

// Reauther implements the call path's invoke.Reauther over a Cache:
// Expired says whether an attempt's raw error is the cloud calling the
// temporary credentials expired.
type Reauther struct {
	Cache   *Cache
	Expired func(raw error) bool
}

// Generation returns the cache's generation.
func (r Reauther) Generation() uint64 { return r.Cache.Generation() }

// Reauth drops the credentials of generation gen when raw says they
// expired, and reports whether the call may be sent again.
func (r Reauther) Reauth(raw error, gen uint64) bool {
	return r.Expired(raw) && r.Cache.Expired(gen)
}

// MetadataBase returns the base URL of the instance metadata service for
// the source named src: endpoint (a Config's MetadataEndpoint, trailing
// slashes trimmed), else def. The source is skipped (Skip) when the
// environment variable disabled is "true", and under go test when no
// endpoint is given: a test never asks a real metadata service (a
// link-local address off the machine).
func MetadataBase(src, disabled, endpoint, def string) (string, error) {
	if strings.EqualFold(os.Getenv(disabled), "true") {
		return "", Skip(src, "%s=true", disabled)
	}
	if endpoint != "" {
		return strings.TrimRight(endpoint, "/"), nil
	}
	if testing.Testing() {
		return "", Skip(src, "running under go test with no MetadataEndpoint")
	}
	return def, nil
}

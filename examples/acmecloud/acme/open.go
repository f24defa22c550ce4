package acme

import (
	"context"
	"net/url"

	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/openurl"
)

// Scheme is the URL scheme Open serves.
const Scheme = "acme"

// Open opens a Client from a URL: acme://REGION[?endpoint=URL], e.g.
// "acme://eu-west" or "acme://eu-west?endpoint=http://127.0.0.1:1234" for
// the emulator. Credentials never come from the URL: a URL with user
// information is refused, and the key comes from ACME_KEY_ID and
// ACME_SECRET. Unknown query parameters are refused. Every mistake is
// ErrInvalidArgument, found before anything is sent (provider/openurl
// reads the URL as it does for the library's providers). It is the
// provider.OpenFunc this package registers for Scheme in init.
func Open(ctx context.Context, u *url.URL, opts ...provider.Option) (provider.Provider, error) {
	if u == nil {
		return nil, provider.InvalidArgument(Name, "Open", "URL", "is nil")
	}
	q := openurl.New(Scheme, u)
	cfg := Config{Region: q.Region("eu-west"), Endpoint: q.Endpoint("endpoint")}
	if err := q.Err(); err != nil {
		return nil, err
	}
	return New(cfg, opts...)
}

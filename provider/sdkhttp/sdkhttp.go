// Package sdkhttp adapts the clouds' Go SDKs, which take no context.Context
// and (Alibaba) are not safe for concurrent use, to a library that must honour
// cancellation and serve many goroutines.
//
// Each SDK client is built over its own Binder, a RoundTripper that attaches
// the current call's context to every request the SDK sends. A Pool hands each
// call an SDK client of its own for the duration of the call, so nothing in an
// SDK client is ever shared between two calls in flight.
package sdkhttp

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cloudsnap/rollback/provider/sdkhttp/http2"
)

// NewTransport returns the default transport under the SDKs: HTTP/2 where the
// server offers it, proxies from the environment, bounded dial and TLS
// handshake times.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   5 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// Binder is a RoundTripper that sends every request with the context of the
// call in progress and a per-attempt timeout (see http2.Transport).
type Binder = http2.Transport

// ErrAttemptTimeout is the cause of a request's context when the per-attempt
// timeout fired, as opposed to the caller's context ending.
var ErrAttemptTimeout = http2.ErrAttemptTimeout

// Pool hands out SDK clients for exclusive use during one call (Lease). Clients are
// made on demand and kept for reuse; the pool never blocks.
type Pool[C any] struct {
	// New makes a client over the given Binder.
	New func(b *Binder) (C, error)
	// Prepare, when set, readies a client for each lease (e.g. gives it
	// the current credentials); its error fails the lease.
	Prepare func(ctx context.Context, c C) error

	mu   sync.Mutex
	free []pooled[C]
}

type pooled[C any] struct {
	client C
	binder *Binder
}

// Lease returns a client bound to ctx for exclusive use, and the function
// that gives it back. It hands the client out rather than calling back
// into the caller: an SDK that reads its own stack (the Alibaba SDK derives
// every request's nonce from runtime.Stack) pays for every frame between
// the caller and the call.
func (p *Pool[C]) Lease(ctx context.Context) (C, func(), error) {
	c, err := p.get()
	if err != nil {
		var zero C
		return zero, nil, err
	}
	if p.Prepare != nil {
		if err := p.Prepare(ctx, c.client); err != nil {
			p.put(c)
			var zero C
			return zero, nil, err
		}
	}
	c.binder.Bind(ctx)
	return c.client, func() {
		c.binder.Bind(nil)
		p.put(c)
	}, nil
}

func (p *Pool[C]) get() (pooled[C], error) {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		c := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	b := &Binder{}
	c, err := p.New(b)
	if err != nil {
		return pooled[C]{}, err
	}
	return pooled[C]{client: c, binder: b}, nil
}

func (p *Pool[C]) put(c pooled[C]) {
	p.mu.Lock()
	p.free = append(p.free, c)
	p.mu.Unlock()
}

// Endpoint is where a client sends its calls.
type Endpoint struct {
	Scheme string // "https" or "http"
	Host   string // host[:port]
}

// URL returns scheme://host.
func (e Endpoint) URL() string { return e.Scheme + "://" + e.Host }

// ParseEndpoint resolves a Config.Endpoint. Empty means https://defaultHost.
// A bare "host[:port]" means HTTPS. "http://" is accepted for loopback hosts
// (emulators, tests) and, with allowInsecure, for any host; otherwise it is
// refused, because the caller's traffic would cross a network in clear text.
// Paths, queries and user info are refused: the SDKs address only a host.
func ParseEndpoint(raw, defaultHost string, allowInsecure bool) (Endpoint, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return Endpoint{Scheme: "https", Host: defaultHost}, nil
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Endpoint{}, fmt.Errorf("Endpoint %q is not a URL: %v", raw, err)
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "https" && scheme != "http":
		return Endpoint{}, fmt.Errorf("Endpoint %q: scheme must be https (or http for a local emulator)", raw)
	case u.Host == "":
		return Endpoint{}, fmt.Errorf("Endpoint %q has no host", raw)
	case u.User != nil:
		return Endpoint{}, fmt.Errorf("Endpoint must not carry user info; pass credentials in the Config")
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return Endpoint{}, fmt.Errorf("Endpoint %q must be a scheme and host only, without a path or query", raw)
	case scheme == "http" && !allowInsecure && !IsLoopback(u.Hostname()):
		return Endpoint{}, fmt.Errorf("Endpoint %q uses plain HTTP on a non-loopback host; use https, or pass rollback.WithInsecureHTTP() if you really mean it", raw)
	}
	return Endpoint{Scheme: scheme, Host: u.Host}, nil
}

// IsLoopback reports whether host names this machine (localhost or a
// loopback address).
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

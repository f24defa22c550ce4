// Package http2 holds the transport the SDKs send through. Its name is
// deliberate: net/http's Client, when its Timeout is set (both SDKs set it),
// starts a watchdog goroutine per request unless it recognises the
// transport as one that honours request contexts, and it recognises
// "*http2.Transport" by name (net/http/client.go, knownRoundTripperImpl).
// Transport does honour contexts, so naming it so saves a goroutine and a
// dozen allocations per call. Should net/http change its heuristic, the
// only cost is the goroutine again.
package http2

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Transport is a RoundTripper that sends every request with the context of the
// call in progress and a per-attempt timeout. It is used by one call at a
// time (see Pool).
type Transport struct {
	Base    http.RoundTripper
	Timeout time.Duration // per HTTP attempt; 0 for none

	mu  sync.Mutex
	ctx context.Context
}

// Bind sets the context of the call about to be made.
func (b *Transport) Bind(ctx context.Context) {
	b.mu.Lock()
	b.ctx = ctx
	b.mu.Unlock()
}

var ErrAttemptTimeout = errors.New("HTTP attempt timed out")

// RoundTrip sends req under the bound context.
func (b *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	b.mu.Lock()
	ctx := b.ctx
	b.mu.Unlock()
	if ctx == nil {
		ctx = req.Context()
	}
	cancel := context.CancelFunc(func() {})
	if b.Timeout > 0 {
		ctx, cancel = context.WithTimeoutCause(ctx, b.Timeout, ErrAttemptTimeout)
	}
	resp, err := b.Base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		if cause := context.Cause(ctx); errors.Is(cause, ErrAttemptTimeout) && !errors.Is(err, ErrAttemptTimeout) {
			// Usually the transport already returns the cause itself.
			return nil, fmt.Errorf("%w after %s: %w", ErrAttemptTimeout, b.Timeout, err)
		}
		return nil, err
	}
	limit := int64(MaxBody)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		limit = MaxErrorBody
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel, left: limit}
	return resp, nil
}

// The SDKs read a whole reply into memory, and put an error reply's body
// into the error's text: a gateway answering with 50 MB made a 52 MB error
// string and seconds of redaction per attempt. Bodies are cut here, before
// the SDK sees them. An error reply says all it has to say (the cloud's
// envelope is a few hundred bytes) in the first MaxErrorBody; a success
// (a Describe of 100 instances is tens of kilobytes) in MaxBody. A cut
// body reads as if it ended there: JSON cut short fails to parse, which
// the providers report as the fault it is.
const (
	MaxErrorBody = 64 << 10
	MaxBody      = 16 << 20
)

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
	left   int64 // bytes still allowed
}

func (c *cancelOnClose) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.ReadCloser.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

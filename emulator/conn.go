package emulator

import (
	"context"
	"net"
	"net/http"
	"time"
)

// DropConnection closes the client's connection without writing a reply. With
// a TCP connection it sets SO_LINGER to 0 first, so the client sees a reset
// rather than a clean EOF. It reports false when the ResponseWriter cannot be
// hijacked (HTTP/2), in which case the caller should reply 503 instead.
func DropConnection(w http.ResponseWriter) bool {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return false
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return false
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
	return true
}

// Delay waits d of real time or until the request's context ends, and reports
// whether the full delay passed. Injected latency is real time on purpose: it
// exists to trip the client's real HTTP timeouts.
func Delay(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

package testkit

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// HugeBody starts a server that answers every request with status and a
// body of size bytes (prefix, then filler), and returns its URL and a
// counter of the bytes it managed to write: a client that reads only a
// bounded prefix and closes the connection stops it early.
func HugeBody(t testing.TB, status int, prefix string, size int) (url string, written *atomic.Int64) {
	t.Helper()
	written = new(atomic.Int64)
	filler := []byte(strings.Repeat("gateway error page ", 3277)) // ~64 KiB
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		n, err := w.Write([]byte(prefix))
		written.Add(int64(n))
		for sent := n; err == nil && sent < size; sent += n {
			n, err = w.Write(filler[:min(len(filler), size-sent)])
			written.Add(int64(n))
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, written
}

package emulator

import (
	"bufio"
	"net"
	"net/http"
	"sync"
)

// Hooks run test code at a chosen request of an action: before the emulator
// handles it, or after it has (state changed) but before the reply leaves.
// The zero value is ready to use and safe for concurrent use.
//
// Requests are counted per action from the emulator's start, resends
// included, at the point where faults count them (well-formed, authenticated
// calls). A hook runs once, on the request's own goroutine, so whatever it
// does happens-before the client sees the reply.
type Hooks struct {
	mu     sync.Mutex
	seen   map[string]int
	before map[hookKey][]func()
	after  map[hookKey][]func()
}

type hookKey struct {
	action string
	n      int
}

// Before arms f to run just before the n-th request of action is handled.
func (h *Hooks) Before(action string, n int, f func()) { h.add(&h.before, action, n, f) }

// After arms f to run just after the n-th request of action was handled,
// before its reply (or dropped connection) is sent.
func (h *Hooks) After(action string, n int, f func()) { h.add(&h.after, action, n, f) }

func (h *Hooks) add(m *map[hookKey][]func(), action string, n int, f func()) {
	if f == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if *m == nil {
		*m = map[hookKey][]func(){}
	}
	k := hookKey{action, n}
	(*m)[k] = append((*m)[k], f)
}

// Count numbers one request of action and returns its 1-based index.
func (h *Hooks) Count(action string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen == nil {
		h.seen = map[string]int{}
	}
	h.seen[action]++
	return h.seen[action]
}

// RunBefore runs (once) the Before hooks of the n-th request of action.
func (h *Hooks) RunBefore(action string, n int) { h.run(h.before, action, n) }

// RunAfter runs (once) the After hooks of the n-th request of action.
func (h *Hooks) RunAfter(action string, n int) { h.run(h.after, action, n) }

func (h *Hooks) run(m map[hookKey][]func(), action string, n int) {
	k := hookKey{action, n}
	h.mu.Lock()
	fs := m[k]
	delete(m, k)
	h.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

// AfterWriter wraps w so that the After hooks of the n-th request of action
// run just before the first byte of the reply is written or the connection
// is hijacked (dropped). Call Done when the handler returns, so the hooks run
// even when nothing was written.
func (h *Hooks) AfterWriter(w http.ResponseWriter, action string, n int) *HookedWriter {
	return &HookedWriter{ResponseWriter: w, fire: func() { h.RunAfter(action, n) }}
}

// HookedWriter is an http.ResponseWriter that runs a function once before
// the reply starts. It keeps http.Hijacker, so a dropped connection still
// drops.
type HookedWriter struct {
	http.ResponseWriter
	once sync.Once
	fire func()
}

// Done runs the function if it has not run yet.
func (w *HookedWriter) Done() { w.once.Do(w.fire) }

// WriteHeader implements http.ResponseWriter.
func (w *HookedWriter) WriteHeader(status int) {
	w.Done()
	w.ResponseWriter.WriteHeader(status)
}

// Write implements http.ResponseWriter.
func (w *HookedWriter) Write(b []byte) (int, error) {
	w.Done()
	return w.ResponseWriter.Write(b)
}

// Hijack implements http.Hijacker when the wrapped writer does.
func (w *HookedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.Done()
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	return hj.Hijack()
}

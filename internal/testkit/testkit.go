// Package testkit holds small helpers that the packages' tests share.
package testkit

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
)

// SyncBuffer collects log output written from many goroutines.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// ReplyTransport answers every request with one canned reply, without a
// network: for feeding an SDK replies no well-behaved server would send.
type ReplyTransport struct {
	Status      int
	ContentType string
	Body        string
}

// RoundTrip implements http.RoundTripper.
func (rt ReplyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	h := http.Header{}
	if rt.ContentType != "" {
		h.Set("Content-Type", rt.ContentType)
	}
	return &http.Response{StatusCode: rt.Status, Status: http.StatusText(rt.Status), Header: h,
		Body: io.NopCloser(strings.NewReader(rt.Body)), ContentLength: int64(len(rt.Body)), Request: req,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
}

// Action names the API action of an SDK request: Lighthouse's X-TC-Action
// header, or SWAS's Action query parameter.
func Action(req *http.Request) string {
	for k, v := range req.Header { // the Tencent SDK sets it uncanonicalised
		if strings.EqualFold(k, "X-TC-Action") && len(v) > 0 {
			return v[0]
		}
	}
	return req.URL.Query().Get("Action")
}

// Reply builds a response to req with status and body, without a network.
func Reply(req *http.Request, status int, body string) *http.Response {
	resp, _ := ReplyTransport{Status: status, ContentType: "application/json", Body: body}.RoundTrip(req)
	return resp
}

// Hooks is an http.RoundTripper that lets a test act between a client's
// calls at exact points: as another actor on the same server, as a lossy
// network, as a cloud whose reads lag. Before runs before the n-th
// (1-based) request of an action is sent: a non-nil response or error
// answers it instead of Base. After runs once Base has answered and may
// replace the answer. Either may be nil. Safe for concurrent use; the
// hooks run on the caller's goroutine, one at a time.
type Hooks struct {
	Base   http.RoundTripper
	Before func(action string, n int, req *http.Request) (*http.Response, error)
	After  func(action string, n int, req *http.Request, resp *http.Response, err error) (*http.Response, error)

	mu     sync.Mutex
	counts map[string]int
}

// RoundTrip implements http.RoundTripper.
func (h *Hooks) RoundTrip(req *http.Request) (*http.Response, error) {
	action := Action(req)
	h.mu.Lock()
	if h.counts == nil {
		h.counts = map[string]int{}
	}
	h.counts[action]++
	n := h.counts[action]
	h.mu.Unlock()
	if h.Before != nil {
		if resp, err := h.Before(action, n, req); resp != nil || err != nil {
			if req.Body != nil {
				req.Body.Close()
			}
			return resp, err
		}
	}
	resp, err := h.Base.RoundTrip(req)
	if h.After != nil {
		return h.After(action, n, req, resp, err)
	}
	return resp, err
}

// ReadBody reads and closes resp's body and gives resp a fresh copy of it.
func ReadBody(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return string(b)
}

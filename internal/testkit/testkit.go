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

package errmap

import (
	"errors"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"

	"github.com/cloudsnap/rollback/provider"
)

func TestLookup(t *testing.T) {
	tab := Table{
		Exact:  map[string]Rule{"InvalidDiskId.NotFound": {Kind: provider.ErrDiskNotFound}},
		Prefix: map[string]Rule{"Throttling": {Kind: provider.ErrThrottled}, "AuthFailure": {Kind: provider.ErrUnauthenticated}, "AuthFailure.Special": {Kind: provider.ErrPermissionDenied}},
	}
	tests := []struct {
		code   string
		status int
		kind   error
		known  bool
	}{
		{"InvalidDiskId.NotFound", 404, provider.ErrDiskNotFound, true},
		{"Throttling", 400, provider.ErrThrottled, true},
		{"Throttling.User", 400, provider.ErrThrottled, true},
		{"AuthFailure.SignatureFailure", 200, provider.ErrUnauthenticated, true},
		{"AuthFailure.Special.X", 200, provider.ErrPermissionDenied, true},
		{"Brand.New", 503, provider.ErrInternal, false},
		{"Brand.New", 429, provider.ErrThrottled, false},
		{"Brand.New", 403, provider.ErrPermissionDenied, false},
		{"Brand.New", 404, provider.ErrNotFound, false},
		{"Brand.New", 400, provider.ErrInvalidArgument, false},
		{"Brand.New", 200, provider.ErrInternal, false},
		// No code at all: a page from something that is not the API.
		{"", 404, provider.ErrInvalidArgument, false},
		{"", 405, provider.ErrInvalidArgument, false},
		{"", 502, provider.ErrInternal, false},
		{"", 429, provider.ErrThrottled, false},
	}
	for _, tt := range tests {
		r, known := tab.Lookup(tt.code, tt.status)
		if r.Kind != tt.kind || known != tt.known {
			t.Errorf("Lookup(%q, %d) = %v/%v, want %v/%v", tt.code, tt.status, r.Kind, known, tt.kind, tt.known)
		}
	}
	if got := tab.Codes(); len(got) != 1 || got[0] != "InvalidDiskId.NotFound" {
		t.Errorf("Codes() = %v", got)
	}
}

func TestTransportAmbiguous(t *testing.T) {
	dial := &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	read := &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}}
	tests := []struct {
		err  error
		text string
		want bool
	}{
		{dial, dial.Error(), false},
		{read, read.Error(), true},
		{nil, `Fail to get response because Post "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: connect: connection refused`, false},
		{nil, `Fail to get response because Post "https://x/": tls: failed to verify certificate: x509: unknown authority`, false},
		{nil, `Fail to get response because Post "http://x/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, true},
		{nil, `Fail to get response because Post "http://x/": EOF`, true},
		{errors.New("unexpected EOF"), "unexpected EOF", true},
	}
	for _, tt := range tests {
		if got := TransportAmbiguous(tt.err, tt.text); got != tt.want {
			t.Errorf("TransportAmbiguous(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

func TestTransport(t *testing.T) {
	tests := []struct {
		text      string
		kind      error
		ambiguous bool
		hint      string
	}{
		{`Post "https://127.0.0.1:1/": http: server gave HTTP response to HTTPS client`, provider.ErrInvalidArgument, false, "http://host:port"},
		{`Post "https://x/": tls: failed to verify certificate: x509: certificate signed by unknown authority`, provider.ErrInvalidArgument, false, "WithHTTPTransport"},
		{`Post "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: connect: connection refused`, provider.ErrNetwork, false, "check the endpoint and the network, or try later; nothing was sent"},
		{`Post "http://x/": read tcp: connection reset by peer`, provider.ErrNetwork, true, "may have been applied"},
		{`Post "http://x/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, provider.ErrNetwork, true, "may have been applied"},
	}
	for _, tt := range tests {
		r := Transport(nil, tt.text)
		if r.Kind != tt.kind || r.Ambiguous != tt.ambiguous || !strings.Contains(r.Hint, tt.hint) {
			t.Errorf("Transport(%q) = %+v", tt.text, r)
		}
		if provider.IsRetryable(&provider.Error{Kind: r.Kind}) != (tt.kind == provider.ErrNetwork) {
			t.Errorf("%q: retryable mismatch", tt.text)
		}
	}
}

package errmap

import (
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/cloudsnap/rollback/provider"
)

// sentinels are the kinds a Rule may carry.
var sentinels = []error{
	provider.ErrInvalidArgument, provider.ErrNotFound, provider.ErrInstanceNotFound, provider.ErrDiskNotFound,
	provider.ErrSnapshotNotFound, provider.ErrInstanceState, provider.ErrSnapshotState, provider.ErrSnapshotMismatch,
	provider.ErrBusy, provider.ErrThrottled, provider.ErrQuotaExceeded, provider.ErrUnauthenticated,
	provider.ErrPermissionDenied, provider.ErrInternal, provider.ErrNetwork,
}

func isSentinel(err error) bool {
	for _, s := range sentinels {
		if err == s {
			return true
		}
	}
	return false
}

var fuzzTable = Table{
	Exact: map[string]Rule{
		"InvalidDiskId.NotFound": {Kind: provider.ErrDiskNotFound},
		"InternalError":          {Kind: provider.ErrInternal, Ambiguous: true},
	},
	Prefix: map[string]Rule{
		"Throttling":          {Kind: provider.ErrThrottled},
		"AuthFailure":         {Kind: provider.ErrUnauthenticated},
		"AuthFailure.Special": {Kind: provider.ErrPermissionDenied},
	},
}

// FuzzLookup: any code and status get a rule with a sentinel; exact codes
// win, then the longest prefix, and an unknown code is what its HTTP status
// says (5xx: an ambiguous internal error).
func FuzzLookup(f *testing.F) {
	for _, c := range []struct {
		code   string
		status int
	}{
		{"InvalidDiskId.NotFound", 404}, {"Throttling.User", 400}, {"AuthFailure.Special.X", 200},
		{"", 0}, {"", 404}, {"", 502}, {"Brand.New", 503}, {"x", 429}, {"x", 401}, {"x", 403}, {"x", -1}, {"\x00", 99999},
	} {
		f.Add(c.code, c.status)
	}
	f.Fuzz(func(t *testing.T, code string, status int) {
		for _, tab := range []Table{fuzzTable, {}} {
			r, known := tab.Lookup(code, status)
			if r.Kind == nil || !isSentinel(r.Kind) {
				t.Fatalf("Lookup(%q, %d) kind %v", code, status, r.Kind)
			}
			if r2, known2 := tab.Lookup(code, status); r2 != r || known2 != known {
				t.Fatalf("Lookup(%q, %d) not deterministic", code, status)
			}
			if e, ok := tab.Exact[code]; ok && (r != e || !known) {
				t.Fatalf("exact code %q gave %+v", code, r)
			}
			if !known && code == "" {
				if r != NoCode(status) {
					t.Fatalf("no code, status %d: %+v, NoCode says %+v", status, r, NoCode(status))
				}
			} else if !known {
				if r != ByStatus(status) {
					t.Fatalf("unknown code %q: %+v, ByStatus says %+v", code, r, ByStatus(status))
				}
				if status >= 500 && (r.Kind != provider.ErrInternal || !r.Ambiguous) {
					t.Fatalf("unknown code with status %d: %+v", status, r)
				}
			}
		}
	})
}

// FuzzTransport: any transport failure is ErrNetwork, or
// ErrInvalidArgument for a misconfiguration; a failure to connect is never
// ambiguous, and neither is a misconfiguration; there is always a hint.
func FuzzTransport(f *testing.F) {
	for _, s := range []string{
		"read: connection reset by peer", "dial tcp 127.0.0.1:1: connect: connection refused",
		"x509: certificate signed by unknown authority", "http: server gave HTTP response to HTTPS client",
		"context deadline exceeded", "", "lookup nowhere: no such host", "TLS: handshake",
	} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(1))
	}
	f.Fuzz(func(t *testing.T, text string, shape uint8) {
		var err error
		switch shape % 4 {
		case 1:
			err = &net.OpError{Op: "dial", Net: "tcp", Err: errors.New(text)}
		case 2:
			err = &net.OpError{Op: "read", Net: "tcp", Err: errors.New(text)}
		case 3:
			err = syscall.ECONNREFUSED
		}
		r := Transport(err, text)
		if r.Kind != provider.ErrNetwork && r.Kind != provider.ErrInvalidArgument {
			t.Fatalf("Transport(%v, %q) kind %v", err, text, r.Kind)
		}
		if r.Hint == "" {
			t.Fatalf("Transport(%v, %q): no hint", err, text)
		}
		if r.Kind == provider.ErrInvalidArgument && r.Ambiguous {
			t.Fatalf("a misconfiguration is ambiguous: %q", text)
		}
		if (shape%4 == 1 || shape%4 == 3) && r.Ambiguous {
			t.Fatalf("a failure to connect (%v) is ambiguous", err)
		}
		if TransportAmbiguous(err, text) != r.Ambiguous && r.Kind == provider.ErrNetwork {
			t.Fatalf("Transport and TransportAmbiguous disagree on %v, %q", err, text)
		}
		if strings.Contains(strings.ToLower(text), "connection refused") && r.Ambiguous {
			t.Fatalf("refused connection is ambiguous: %q", text)
		}
	})
}

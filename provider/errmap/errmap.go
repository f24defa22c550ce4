// Package errmap turns the clouds' native error codes and transport failures
// into rollback's sentinels. Each provider declares a Table of its codes;
// the lookup rules and the transport classification are shared here.
package errmap

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/cloudsnap/rollback/provider"
)

// Rule is what a native code means.
type Rule struct {
	Kind error  // the sentinel
	Hint string // what the caller should do
	// Ambiguous marks codes after which the call may still have been
	// applied (provider-side faults).
	Ambiguous bool
}

// Table maps native codes to Rules.
type Table struct {
	// Exact codes, e.g. "InvalidDiskId.NotFound".
	Exact map[string]Rule
	// Prefixes, e.g. "Throttling" for "Throttling.User"; the longest
	// matching prefix wins.
	Prefix map[string]Rule
	// Default is used for unknown codes; when its Kind is nil the HTTP
	// status decides (5xx: ErrInternal, 429: ErrThrottled, 401: ErrUnauthenticated,
	// 403: ErrPermissionDenied, 404: ErrNotFound, other 4xx: ErrInvalidArgument).
	Default Rule
}

// Lookup returns the rule for code (and HTTP status, for unknown codes), and
// whether the code was known.
func (t Table) Lookup(code string, status int) (Rule, bool) {
	if r, ok := t.Exact[code]; ok {
		return r, true
	}
	if r, ok := t.longestPrefix(code); ok {
		return r, true
	}
	if code == "" {
		return NoCode(status), false
	}
	if t.Default.Kind != nil {
		return t.Default, false
	}
	return ByStatus(status), false
}

func (t Table) longestPrefix(code string) (Rule, bool) {
	best := -1
	var rule Rule
	for p, r := range t.Prefix {
		if len(p) > best && (code == p || strings.HasPrefix(code, p+".") || strings.HasPrefix(code, p)) {
			best, rule = len(p), r
		}
	}
	return rule, best >= 0
}

// Codes returns every exact code of the table, sorted; tests iterate it.
func (t Table) Codes() []string {
	out := make([]string, 0, len(t.Exact))
	for c := range t.Exact {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// ByStatus classifies an unknown code by its HTTP status.
func ByStatus(status int) Rule {
	switch {
	case status >= 500:
		return Rule{Kind: provider.ErrInternal, Ambiguous: true, Hint: "the provider failed; retry later"}
	case status == 429:
		return Rule{Kind: provider.ErrThrottled, Hint: "slow down"}
	case status == 401:
		return Rule{Kind: provider.ErrUnauthenticated}
	case status == 403:
		return Rule{Kind: provider.ErrPermissionDenied}
	case status == 404:
		return Rule{Kind: provider.ErrNotFound}
	case status >= 400:
		return Rule{Kind: provider.ErrInvalidArgument}
	}
	// A code on a 2xx/3xx or with no status at all: nothing known.
	return Rule{Kind: provider.ErrInternal, Ambiguous: true}
}

// NoCode classifies an error reply that carries no code of the cloud's,
// such as a page from a web server or proxy at the wrong endpoint. A 404 or
// 405 there says that the endpoint is not the cloud's API, not that a
// resource is missing: ErrInvalidArgument, so that nobody goes looking for
// a server that exists. Other statuses are as ByStatus says.
func NoCode(status int) Rule {
	if status == 404 || status == 405 {
		return Rule{Kind: provider.ErrInvalidArgument, Hint: fmt.Sprintf(
			"the endpoint answered HTTP %d without an error code of the cloud's, so it is not the cloud's API: check the endpoint; nothing was done", status)}
	}
	return ByStatus(status)
}

// TransportAmbiguous reports whether a transport failure may have happened
// after the server received the request. Failures to connect (refused, no
// route, DNS, TLS handshake and certificate errors) cannot have reached it;
// timeouts, resets and truncated replies may have. text is the error's
// message, for SDKs that keep only text (Tencent's ClientError.NetworkError).
func TransportAmbiguous(err error, text string) bool {
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return false
		}
		var dns *net.DNSError
		if errors.As(err, &dns) {
			return false
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			return false
		}
	}
	t := strings.ToLower(text)
	for _, s := range []string{"connection refused", "no such host", "dial tcp", "tls: ", "x509:", "certificate", "network is unreachable", "no route to host"} {
		if strings.Contains(t, s) {
			return false
		}
	}
	return true
}

// Transport classifies a failure to get any reply. text is the error's
// message (Tencent's SDK keeps only text).
//
//   - A misconfiguration that no retry can fix (HTTPS to a plain-HTTP
//     server, an untrusted certificate) is ErrInvalidArgument with a hint
//     naming the fix, so it fails at once instead of after every retry.
//   - A failure to connect (refused, DNS, unreachable) is ErrNetwork, not
//     ambiguous: nothing was sent.
//   - Anything else (timeout, reset, truncated reply) is ErrNetwork and
//     ambiguous: the call may have been applied.
func Transport(err error, text string) Rule {
	t := strings.ToLower(text)
	switch {
	case strings.Contains(t, "server gave http response to https client"):
		return Rule{Kind: provider.ErrInvalidArgument,
			Hint: "the endpoint speaks plain HTTP; for a local emulator write it as http://host:port"}
	case strings.Contains(t, "x509:") || strings.Contains(t, "certificate"):
		return Rule{Kind: provider.ErrInvalidArgument,
			Hint: "the endpoint's TLS certificate is not trusted: check the endpoint, or pass a transport trusting its CA (rollback.WithHTTPTransport)"}
	case !TransportAmbiguous(err, text):
		return Rule{Kind: provider.ErrNetwork, Hint: "could not connect: check the endpoint and the network, or try later; nothing was sent"}
	}
	return Rule{Kind: provider.ErrNetwork, Ambiguous: true, Hint: "no reply arrived; the call may have been applied"}
}

// MaxMessage bounds a message taken from a reply, on every provider (a
// gateway's HTML page can be long).
const MaxMessage = 512

// redactSlack is kept past MaxMessage while redacting, and longer than any
// secret: a secret cut in half by the prefix is not recognised, so the
// redacted prefix's last redactSlack bytes are dropped.
const redactSlack = 1024

// CleanMessage returns s without secrets (clean removes them) and cut to
// MaxMessage bytes, "..." marking a cut. Only a prefix of s is redacted,
// so a huge message costs no more than a short one.
func CleanMessage(s string, clean func(string) string) string {
	for n := MaxMessage + 2*redactSlack; ; n *= 2 {
		if n >= len(s) {
			return Clip(clean(s))
		}
		red := clean(s[:n])
		// Masks shorten what precedes the cut, never what follows it: a
		// secret split by the cut lies within the last redactSlack bytes.
		if keep := len(red) - redactSlack; keep > MaxMessage {
			return Clip(red[:keep])
		}
	}
}

// Clip cuts s to MaxMessage bytes on a character boundary, marking the cut
// with "...".
func Clip(s string) string {
	if len(s) <= MaxMessage {
		return s
	}
	cut := MaxMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

package provider

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sync"
)

// OpenFunc opens a provider from a URL whose scheme it was registered
// for. u has been checked by rollback.Open: it has a scheme, no user information
// and no fragment. The function checks the rest (the host is usually the
// region) and refuses query parameters it does not know.
type OpenFunc func(ctx context.Context, u *url.URL, opts ...Option) (Provider, error)

// The registry of URL schemes, filled by provider packages' init
// functions, as database/sql's drivers are.
var (
	openersMu sync.RWMutex
	openers   = map[string]OpenFunc{}
)

var schemeRE = regexp.MustCompile(`^[a-z][a-z0-9+.-]*$`)

// Register makes a provider available to rollback.Open under scheme (lower case,
// e.g. "tencent"). Provider packages call it from init. It panics when
// scheme is malformed, fn is nil, or the scheme is already registered:
// two packages claiming one scheme is a build mistake, not a runtime
// condition.
func Register(scheme string, fn OpenFunc) {
	if !ValidScheme(scheme) {
		panic(fmt.Sprintf("provider: Register of malformed scheme %q", scheme))
	}
	if fn == nil {
		panic("provider: Register of a nil OpenFunc for scheme " + scheme)
	}
	openersMu.Lock()
	defer openersMu.Unlock()
	if _, dup := openers[scheme]; dup {
		panic("provider: Register called twice for scheme " + scheme)
	}
	openers[scheme] = fn
}

// Opener returns the OpenFunc registered for scheme, or nil.
func Opener(scheme string) OpenFunc {
	openersMu.RLock()
	defer openersMu.RUnlock()
	return openers[scheme]
}

// Schemes returns the registered URL schemes, sorted.
func Schemes() []string {
	openersMu.RLock()
	defer openersMu.RUnlock()
	s := make([]string, 0, len(openers))
	for k := range openers {
		s = append(s, k)
	}
	slices.Sort(s)
	return s
}

// ValidScheme reports whether s can be a URL scheme of Register: lower
// case, starting with a letter.
func ValidScheme(s string) bool { return schemeRE.MatchString(s) }

// Package creds keeps one client's credentials fresh: a Cache fetches them
// from a Source (a provider's chain), refreshes them before they expire on
// the client's clock, shares each refresh among all the calls that need it
// (one fetch in flight, never one per call), teaches the redactor every
// value before it is used, and drops a credential that the cloud called
// expired so that the call can be sent once more.
package creds

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/provider"
)

// Value is one set of credentials.
type Value struct {
	ID, Secret, Token string
	// Expiry is when the cloud stops accepting them; zero means unknown
	// (static keys, or a source that does not say).
	Expiry time.Time
	// Source names where they came from ("environment", "profile default",
	// "instance metadata (role web)"), for logs and errors. Never a secret.
	Source string
}

// Source fetches credentials. It is called by one goroutine at a time.
type Source func(ctx context.Context) (Value, error)

// Defaults of a Cache.
const (
	// DefaultMargin: refresh this long before Expiry. The Alibaba SDK's
	// own providers use 3 minutes; a little more leaves room for a slow
	// metadata service.
	DefaultMargin = 5 * time.Minute
	// DefaultEvery: how often temporary credentials of unknown lifetime
	// are renewed. STS sessions last at least 15 minutes.
	DefaultEvery = 10 * time.Minute
	// DefaultRetryAfter: after a failed refresh, the credentials in hand
	// (while still valid) are used this long before the next try, so a
	// metadata service that is down costs one fetch per period, not one per
	// call.
	DefaultRetryAfter = 15 * time.Second
)

// Cache holds the current credentials of one client. Safe for concurrent
// use. Static credentials are fetched once and never refreshed.
type Cache struct {
	Fetch Source
	Clock clock.Clock
	// Learn, when set, receives every value before it is handed out (the
	// redactor's Learn).
	Learn func(secrets ...string)
	// Static: the source gives long-lived keys; never refresh or retry.
	Static     bool
	Margin     time.Duration // zero: DefaultMargin
	Every      time.Duration // zero: DefaultEvery
	RetryAfter time.Duration // zero: DefaultRetryAfter

	mu        sync.Mutex
	cur       *Value
	gen       uint64
	due       time.Time // refresh from here on
	dead      bool      // the cloud rejected cur as expired
	notBefore time.Time // no new fetch before this (after a failure)
	lastErr   error
	flight    chan struct{} // closed when the fetch in flight ends
	fetches   int
}

// Get returns usable credentials and their generation, fetching or
// refreshing them when due. While a refresh is in flight, callers that
// still hold valid credentials use them without waiting.
func (c *Cache) Get(ctx context.Context) (Value, uint64, error) {
	for {
		c.mu.Lock()
		now := c.now()
		usable := c.cur != nil && !c.dead && (c.cur.Expiry.IsZero() || now.Before(c.cur.Expiry))
		due := c.cur == nil || c.dead || (!c.Static && !now.Before(c.due))
		if usable && (!due || c.flight != nil || now.Before(c.notBefore)) {
			v, g := *c.cur, c.gen
			c.mu.Unlock()
			return v, g, nil
		}
		if !usable && c.flight == nil && now.Before(c.notBefore) && c.lastErr != nil {
			err := c.lastErr
			c.mu.Unlock()
			return Value{}, 0, err
		}
		if c.flight != nil {
			ch := c.flight
			c.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return Value{}, 0, ctx.Err()
			}
		}
		ch := make(chan struct{})
		c.flight = ch
		c.fetches++
		c.mu.Unlock()
		v, err := c.fetch(ctx)
		c.mu.Lock()
		c.flight = nil
		close(ch)
		now = c.now()
		if err != nil {
			c.lastErr = err
			// A context that ended is the caller's, not the source's: the
			// next caller tries at once.
			if ctx.Err() == nil {
				c.notBefore = now.Add(c.retryAfter())
			}
			stillUsable := c.cur != nil && !c.dead && (c.cur.Expiry.IsZero() || now.Before(c.cur.Expiry))
			if stillUsable {
				v, g := *c.cur, c.gen
				c.mu.Unlock()
				return v, g, nil
			}
			c.mu.Unlock()
			return Value{}, 0, err
		}
		c.cur, c.dead, c.lastErr, c.notBefore = &v, false, nil, time.Time{}
		c.gen++
		c.due = c.dueAfter(v, now)
		g := c.gen
		c.mu.Unlock()
		return v, g, nil
	}
}

// fetch calls the source and teaches the redactor before anyone can use
// the result.
func (c *Cache) fetch(ctx context.Context) (Value, error) {
	v, err := c.Fetch(ctx)
	if err != nil {
		return Value{}, err
	}
	if v.ID == "" || v.Secret == "" {
		return Value{}, fmt.Errorf("%s returned incomplete credentials", v.Source)
	}
	if c.Learn != nil {
		c.Learn(v.ID, v.Secret, v.Token)
	}
	return v, nil
}

func (c *Cache) dueAfter(v Value, now time.Time) time.Time {
	if !v.Expiry.IsZero() {
		life := v.Expiry.Sub(now)
		margin := c.Margin
		if margin <= 0 {
			margin = DefaultMargin
		}
		// Short-lived credentials refresh with a quarter of their life
		// left, not after it ended.
		margin = min(margin, life/4)
		return v.Expiry.Add(-margin)
	}
	if v.Token == "" {
		return time.Time{}.Add(1<<63 - 1) // long-lived keys: never due
	}
	every := c.Every
	if every <= 0 {
		every = DefaultEvery
	}
	return now.Add(every)
}

// Expired records that the cloud rejected the credentials of generation
// gen as expired. It reports whether a call should be sent again: true
// when newer credentials are (or can be) fetched. Concurrent calls that
// fail with the same generation cause one refresh between them.
func (c *Cache) Expired(gen uint64) bool {
	if c.Static {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen == c.gen && !c.dead {
		c.dead = true
		c.notBefore = time.Time{}
	}
	return true
}

// Generation returns the generation of the current credentials.
func (c *Cache) Generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// Fetches returns how many times the source was called (for tests and
// benchmarks).
func (c *Cache) Fetches() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fetches
}

func (c *Cache) now() time.Time { return clock.Or(c.Clock).Now() }

func (c *Cache) retryAfter() time.Duration {
	if c.RetryAfter > 0 {
		return c.RetryAfter
	}
	return DefaultRetryAfter
}

// SourceError says which source was tried and why it failed. Its text
// never holds a secret: sources put names and reasons in it, not values.
type SourceError struct {
	Source string
	Err    error
}

func (e *SourceError) Error() string { return e.Source + ": " + e.Err.Error() }
func (e *SourceError) Unwrap() error { return e.Err }

// ErrUnavailable marks a source that exists but did not serve (HTTP 5xx,
// a timeout): a call that needed it may succeed later, so it is retryable.
var ErrUnavailable = errors.New("unavailable")

// ErrNotConfigured marks a source of a chain that has nothing to offer
// (its variables unset, its file absent): the chain moves on to the next.
var ErrNotConfigured = errors.New("not configured")

// Chain tries sources in order and returns the first credentials found. A
// source that fails for another reason than ErrNotConfigured stops the
// chain: a broken profile or an unreachable role must not silently fall
// through to other credentials. The chain remembers the source that
// answered and asks only it from then on, as the clouds' SDKs do.
type Chain struct {
	Names   []string
	Sources []Source

	mu   sync.Mutex
	used int // index+1 of the source that answered
}

// Fetch implements Source.
func (ch *Chain) Fetch(ctx context.Context) (Value, error) {
	ch.mu.Lock()
	used := ch.used
	ch.mu.Unlock()
	if used > 0 {
		return ch.Sources[used-1](ctx)
	}
	var skipped []string
	for i, src := range ch.Sources {
		v, err := src(ctx)
		if errors.Is(err, ErrNotConfigured) {
			skipped = append(skipped, err.Error())
			continue
		}
		if err != nil {
			return Value{}, err
		}
		if v.Source == "" {
			v.Source = ch.Names[i]
		}
		ch.mu.Lock()
		ch.used = i + 1
		ch.mu.Unlock()
		return v, nil
	}
	return Value{}, &NoneError{Tried: skipped}
}

// NoneError: no source of a chain had credentials.
type NoneError struct{ Tried []string }

func (e *NoneError) Error() string {
	s := "no credentials found; tried, in order:"
	for i, t := range e.Tried {
		if i > 0 {
			s += ";"
		}
		s += " " + t
	}
	return s
}

// Skip returns the ErrNotConfigured error of a source, saying what it
// looked for.
func Skip(source, format string, args ...any) error {
	return &SourceError{Source: source, Err: fmt.Errorf(format+" (%w)", append(args, ErrNotConfigured)...)}
}

// Fail returns the error of a source that was configured but failed.
func Fail(source string, err error) error { return &SourceError{Source: source, Err: err} }

// Error turns a failure to get credentials into the *provider.Error a call
// returns: ErrNetwork (retryable) when the source did not answer in time or
// at all, else ErrUnauthenticated. Nothing was sent to the cloud. clean is
// the client's redactor.
func Error(prov, op string, err error, clean func(string) string) *provider.Error {
	if re, ok := err.(*provider.Error); ok {
		return re // a source's own check of its input
	}
	kind := provider.ErrUnauthenticated
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrUnavailable) {
		kind = provider.ErrNetwork
	}
	var none *NoneError
	field := ""
	if errors.As(err, &none) {
		field = "Credentials"
	}
	return &provider.Error{
		Provider: prov, Op: op, Kind: kind, Field: field,
		Message: "credentials: " + clean(err.Error()),
		Hint:    "nothing was sent",
	}
}

// fetchesInFlight reports whether a fetch is running (for tests).
func (c *Cache) fetchesInFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.flight != nil {
		return 1
	}
	return 0
}

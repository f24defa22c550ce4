package rollback

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/provider"
)

type (
	// Option configures a provider client (aliyun.New, tencent.New, Open):
	// the With* functions below. Its target, provider.Options, is what a
	// provider implementation reads.
	Option = provider.Option
	// RetryPolicy bounds the retries of every call (WithRetryPolicy).
	RetryPolicy = provider.RetryPolicy
	// RateLimit is a client-side pace (WithRateLimit).
	RateLimit = provider.RateLimit
	// RetryEvent describes one retry (WithRetryHook).
	RetryEvent = provider.RetryEvent
)

// Defaults of RetryPolicy and the client options.
const (
	DefaultMaxAttempts       = provider.DefaultMaxAttempts
	DefaultMaxElapsed        = provider.DefaultMaxElapsed
	DefaultBaseDelay         = provider.DefaultBaseDelay
	DefaultThrottleBaseDelay = provider.DefaultThrottleBaseDelay
	DefaultMaxDelay          = provider.DefaultMaxDelay
	DefaultCallTimeout       = provider.DefaultCallTimeout
	DefaultRetryBudget       = provider.DefaultRetryBudget
	// DefaultReadGrace is how long reads may lag writes (WithReadGrace).
	DefaultReadGrace = provider.DefaultReadGrace
)

// WithRetryPolicy sets the retry policy; zero fields keep their defaults.
func WithRetryPolicy(p RetryPolicy) Option { return func(o *provider.Options) { o.Retry = p } }

// WithMaxAttempts sets the total number of attempts per call (1: no retries).
func WithMaxAttempts(n int) Option { return func(o *provider.Options) { o.Retry.MaxAttempts = n } }

// WithLogger sends the client's structured logs to l.
func WithLogger(l *slog.Logger) Option { return func(o *provider.Options) { o.Logger = l } }

// WithClock sets the clock that paces retries, rate limits and waits. Tests
// and demos pass the emulator's clock.
func WithClock(c clock.Clock) Option { return func(o *provider.Options) { o.Clock = c } }

// WithRateLimit replaces the provider's default client-side rate limit of
// mutating calls with calls per per.
func WithRateLimit(calls int, per time.Duration) Option {
	return func(o *provider.Options) { o.RateLimit = &RateLimit{Calls: calls, Per: per} }
}

// WithoutRateLimit turns the client-side rate limit off (the cloud's own
// limit still applies, and throttling errors are retried).
func WithoutRateLimit() Option { return func(o *provider.Options) { o.RateLimit = &RateLimit{} } }

// WithHTTPTransport sets the HTTP transport under the SDK (a proxy, custom
// TLS roots, instrumentation). The client never modifies it.
func WithHTTPTransport(rt http.RoundTripper) Option {
	return func(o *provider.Options) { o.Transport = rt }
}

// WithCallTimeout limits each HTTP attempt.
func WithCallTimeout(d time.Duration) Option { return func(o *provider.Options) { o.CallTimeout = d } }

// WithInsecureHTTP permits a plain-HTTP endpoint on a host other than
// loopback. Credentials are signed, not sent, but requests and replies travel
// in clear text; use it only on a network you trust.
func WithInsecureHTTP() Option { return func(o *provider.Options) { o.AllowInsecureHTTP = true } }

// WithRetryHook calls fn before each retry sleep, e.g. to count retries.
func WithRetryHook(fn func(RetryEvent)) Option { return func(o *provider.Options) { o.OnRetry = fn } }

// WithRetryBudget sets the capacity of the client's retry budget
// (DefaultRetryBudget tokens): retries after cloud faults and network
// errors spend it and successes refill it, so during an outage calls stop
// retrying and fail fast. tokens < 0 disables it.
func WithRetryBudget(tokens int) Option { return func(o *provider.Options) { o.RetryBudget = tokens } }

// WithoutRetryBudget lets every call retry per its RetryPolicy, however many
// calls are failing.
func WithoutRetryBudget() Option { return func(o *provider.Options) { o.RetryBudget = -1 } }

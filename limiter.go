package rollback

import "github.com/cloudsnap/rollback/provider"

// WithLimiter hands the pacing of the client's rate-limited calls to l
// instead of the client's own limiter; the quota (WithRateLimit or the
// provider's default) is passed to l with each call, and WithoutRateLimit
// still turns limiting off. Give every client that shares an account the
// same l; a limiter keeps one window per provider and action, so clients
// of different accounts need limiters of different scopes.
func WithLimiter(l Limiter) Option { return func(o *provider.Options) { o.Limiter = l } }

type (
	// Limiter paces a client's calls together with other processes (a
	// rate limit shared by replicas; see provider.Limiter).
	Limiter = provider.Limiter
	// LimitedCall is one call a Limiter is asked about.
	LimitedCall = provider.LimitedCall
)

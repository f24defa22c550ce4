package provider

import (
	"context"
	"time"
)

// Limiter paces a client's rate-limited calls from outside the client: a
// limiter shared by every replica of a service (package pgstore has one
// backed by PostgreSQL) keeps the cloud's quota for the whole deployment,
// where each client's own limiter keeps it only for its process.
type Limiter interface {
	// Wait blocks until call may be sent, or ctx ends (then it returns
	// ctx's error and the call is not sent). Callers must not be starved:
	// serve them in the order they come.
	Wait(ctx context.Context, call LimitedCall) error
}

// LimitedCall is a call waiting for a Limiter.
type LimitedCall struct {
	Provider string // Capabilities.Name: "aliyun", "tencent", ...
	Op       string // the API action, e.g. "ResetDisk"
	// Calls per Per is the quota the client keeps for Op (its default or
	// rollback.WithRateLimit): at most Calls in any window of Per.
	Calls int
	Per   time.Duration
}

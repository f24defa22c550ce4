package provider

import (
	"context"
	"errors"
	"time"
)

// CallHooks observe a client's API calls: the call-level half of
// rollback.Hooks, which rollback.WithHooks puts in Options.Hooks. The call
// path (package invoke) calls them; a provider that does not use it calls
// them itself around each call and attempt.
//
// Hooks are called synchronously on the calling goroutine and must be quick
// and safe for concurrent use (a client serves many goroutines).
type CallHooks struct {
	// CallStart is called before the first attempt of a logical call (one
	// API action, all its retries included). The context it returns is the
	// one the attempts, the SDK's HTTP requests and CallEnd get: a tracer
	// puts its span there. Returning ctx unchanged is fine.
	CallStart func(ctx context.Context, c *CallInfo) context.Context
	// CallEnd is called once when the call has succeeded or given up.
	CallEnd func(ctx context.Context, c *CallInfo)
	// AttemptStart is called just before an attempt is sent, after its wait
	// for a rate-limit slot; its context goes to that attempt.
	AttemptStart func(ctx context.Context, c *CallInfo, a *AttemptInfo) context.Context
	// AttemptEnd is called when the attempt's fate is known: with the
	// retry delay and reason when another attempt follows.
	AttemptEnd func(ctx context.Context, c *CallInfo, a *AttemptInfo)
}

// CallHooked reports whether h observes calls: the call path's one check.
func (h *CallHooks) CallHooked() bool {
	return h.CallStart != nil || h.CallEnd != nil || h.AttemptStart != nil || h.AttemptEnd != nil
}

// CallInfo describes one logical API call.
type CallInfo struct {
	Provider string // Capabilities.Name: "aliyun", "tencent", ...
	Region   string
	Action   string // the API action, e.g. "ResetDisk"
	// The resources the call names, where it names them.
	InstanceID, DiskID, SnapshotID string
	Start                          time.Time

	// Known at the end.
	Duration time.Duration
	// Attempts is how many attempts were put on the wire.
	Attempts int
	// RateLimitWait is the time all attempts spent waiting for a slot of
	// the client-side rate limit.
	RateLimitWait time.Duration
	// RequestID is the successful reply's; on failure the last error's.
	RequestID  string
	HTTPStatus int // the last reply's status; 0 if none arrived
	// Err is how the call failed (nil on success); Kind its sentinel
	// (KindOf), or the context's error.
	Err, Kind error
}

// AttemptInfo describes one attempt of a call.
type AttemptInfo struct {
	Attempt       int // 1-based
	Start         time.Time
	RateLimitWait time.Duration // this attempt's wait for a rate-limit slot

	// Known at the end.
	Duration   time.Duration
	RequestID  string
	HTTPStatus int
	Err, Kind  error
	// Retry says that another attempt follows after RetryDelay, because of
	// RetryReason (the cloud's error code, or the sentinel's text when the
	// cloud gave none, e.g. "network error").
	Retry       bool
	RetryDelay  time.Duration
	RetryReason string
}

// ErrorKind is the sentinel of err for CallInfo.Kind and its kin: KindOf,
// or the context's error, or nil.
func ErrorKind(err error) error {
	if err == nil {
		return nil
	}
	if k := KindOf(err); k != nil {
		return k
	}
	switch {
	case errors.Is(err, context.Canceled):
		return context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded
	}
	return nil
}

// ErrorDetail returns the cloud's error code, request ID and HTTP status of
// err, where it carries them.
func ErrorDetail(err error) (code, requestID string, status int) {
	var e *Error
	if errors.As(err, &e) {
		return e.Code, e.RequestID, e.HTTPStatus
	}
	return "", "", 0
}

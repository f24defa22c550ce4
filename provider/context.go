package provider

import "context"

type retryHookKey struct{}

// ContextWithRetryHook returns a context under which provider calls report
// each retry to fn, in addition to the client's own rollback.WithRetryHook. rollback.Run uses
// it to turn retries inside provider calls into progress events.
func ContextWithRetryHook(ctx context.Context, fn func(RetryEvent)) context.Context {
	if prev := RetryHookFromContext(ctx); prev != nil {
		inner := fn
		fn = func(ev RetryEvent) { prev(ev); inner(ev) }
	}
	return context.WithValue(ctx, retryHookKey{}, fn)
}

// RetryHookFromContext returns the hook set by ContextWithRetryHook, or nil.
// Provider implementations call it before each retry sleep.
func RetryHookFromContext(ctx context.Context) func(RetryEvent) {
	fn, _ := ctx.Value(retryHookKey{}).(func(RetryEvent))
	return fn
}

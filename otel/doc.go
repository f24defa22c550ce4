// Package otel turns the hooks of github.com/cloudsnap/rollback into
// OpenTelemetry spans and metrics.
//
//	tel, err := otel.New(otel.WithTracerProvider(tp), otel.WithMeterProvider(mp))
//	p, err := aliyun.New(cfg, rollback.WithHooks(tel.Hooks()))
//	rep, err := rollback.Run(ctx, p, req, rollback.RunOptions{Hooks: tel.Hooks()})
//
// # Spans
//
// Each Run is a span named "Run" with a child per step ("Run.check",
// "Run.stop", "Run.rollback", "Run.wait-rollback", ...). Each API call is a
// client span named like the AWS SDK's, service and action:
// "SWAS.ResetDisk", "Lighthouse.ApplyInstanceSnapshot"; it is a child of
// the step that made it, or of whatever span the caller's context holds.
// Each attempt of the call is a child span "Attempt". Attributes follow the
// semantic conventions for RPC and cloud (rpc.system.name, rpc.method,
// cloud.provider, cloud.region, http.response.status_code, error.type) and
// add the library's own under rollback.* (request ID, resource IDs,
// attempt, rate-limit wait, retry delay and reason, step and outcome).
//
// No attribute holds a URL, a query string, a header, a body or an error
// message: errors appear as their sentinel (error.type, e.g. "throttled")
// and the cloud's error code. Span times are the wall clock's.
//
// # Metrics
//
//	rollback.calls                 {call}     logical calls; cloud.provider, rpc.method, error.type
//	rollback.call.duration         s          the same calls' durations
//	rollback.call.attempts         {attempt}  attempts; cloud.provider, rpc.method, error.type
//	rollback.call.throttles        {attempt}  attempts the cloud throttled
//	rollback.call.rate_limit.wait  s          each attempt's wait for a client-side rate-limit slot
//	rollback.run.duration          s          Run; cloud.provider, rollback.outcome, error.type
//
// Durations in metrics are measured on the client's clock (the one that
// paces its retries), so a test on a virtual clock sees exact values.
package otel

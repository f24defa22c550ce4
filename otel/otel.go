package otel

import (
	"context"
	"strings"
	"sync"

	global "go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/cloudsnap/rollback"
)

// ScopeName is the instrumentation scope of the spans and metrics.
const ScopeName = "github.com/cloudsnap/rollback/otel"

// Attribute keys of our own, where the semantic conventions have none.
const (
	KeyRequestID     = attribute.Key("rollback.request_id")
	KeyInstanceID    = attribute.Key("rollback.instance_id")
	KeyDiskID        = attribute.Key("rollback.disk_id")
	KeySnapshotID    = attribute.Key("rollback.snapshot_id")
	KeyAttempt       = attribute.Key("rollback.attempt")
	KeyAttempts      = attribute.Key("rollback.attempts")
	KeyRateLimitWait = attribute.Key("rollback.rate_limit_wait_seconds")
	KeyRetry         = attribute.Key("rollback.retry")
	KeyRetryDelay    = attribute.Key("rollback.retry.delay_seconds")
	KeyRetryReason   = attribute.Key("rollback.retry.reason")
	KeyErrorCode     = attribute.Key("rollback.error.code")
	KeyStep          = attribute.Key("rollback.step")
	KeyStepOutcome   = attribute.Key("rollback.step.outcome")
	KeyResource      = attribute.Key("rollback.resource")
	KeyOutcome       = attribute.Key("rollback.outcome")
	KeyDryRun        = attribute.Key("rollback.dry_run")
	KeyResumed       = attribute.Key("rollback.resumed")
)

// Metric names.
const (
	MetricCalls         = "rollback.calls"
	MetricCallDuration  = "rollback.call.duration"
	MetricAttempts      = "rollback.call.attempts"
	MetricThrottles     = "rollback.call.throttles"
	MetricRateLimitWait = "rollback.call.rate_limit.wait"
	MetricRunDuration   = "rollback.run.duration"
)

// Option configures New.
type Option func(*config)

type config struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// WithTracerProvider sets where spans go (default: the global provider).
func WithTracerProvider(tp trace.TracerProvider) Option { return func(c *config) { c.tp = tp } }

// WithMeterProvider sets where metrics go (default: the global provider).
func WithMeterProvider(mp metric.MeterProvider) Option { return func(c *config) { c.mp = mp } }

// Telemetry turns rollback.Hooks into spans and metrics. It is safe for
// concurrent use; one Telemetry serves any number of clients and Runs.
type Telemetry struct {
	tracer trace.Tracer

	calls, attempts, throttles metric.Int64Counter
	callDur, rateWait, runDur  metric.Float64Histogram

	// sets caches the metric attributes of each provider, action and
	// error type: building a set per record costs more than the record.
	mu   sync.RWMutex
	sets map[setKey]metric.MeasurementOption
}

type setKey struct{ provider, action, errType string }

// maxSets bounds sets; the real number is a few hundred at most.
const maxSets = 4096

// callSet is the metric attributes of a call or attempt: cloud.provider,
// rpc.method, and error.type when it failed.
func (t *Telemetry) callSet(provider, action, errType string) metric.MeasurementOption {
	k := setKey{provider, action, errType}
	t.mu.RLock()
	o, ok := t.sets[k]
	t.mu.RUnlock()
	if ok {
		return o
	}
	attrs := []attribute.KeyValue{cloudProvider(provider), semconv.RPCMethodKey.String(service(provider) + "/" + action)}
	if errType != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
	}
	o = metric.WithAttributeSet(attribute.NewSet(attrs...))
	t.mu.Lock()
	if len(t.sets) < maxSets {
		t.sets[k] = o
	}
	t.mu.Unlock()
	return o
}

// New returns a Telemetry reporting to the given providers.
func New(opts ...Option) (*Telemetry, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	if c.tp == nil {
		c.tp = global.GetTracerProvider()
	}
	if c.mp == nil {
		c.mp = global.GetMeterProvider()
	}
	t := &Telemetry{tracer: c.tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL)), sets: map[setKey]metric.MeasurementOption{}}
	m := c.mp.Meter(ScopeName, metric.WithSchemaURL(semconv.SchemaURL))
	var err error
	seconds := metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
	for _, f := range []func() error{
		func() (err error) {
			t.calls, err = m.Int64Counter(MetricCalls, metric.WithUnit("{call}"),
				metric.WithDescription("Logical API calls (retries included), by action and the sentinel they ended in."))
			return
		},
		func() (err error) {
			t.attempts, err = m.Int64Counter(MetricAttempts, metric.WithUnit("{attempt}"),
				metric.WithDescription("Attempts put on the wire, by action and how each ended."))
			return
		},
		func() (err error) {
			t.throttles, err = m.Int64Counter(MetricThrottles, metric.WithUnit("{attempt}"),
				metric.WithDescription("Attempts the cloud throttled."))
			return
		},
		func() (err error) {
			t.callDur, err = m.Float64Histogram(MetricCallDuration, metric.WithUnit("s"), seconds,
				metric.WithDescription("Duration of logical API calls, rate-limit waits and retries included."))
			return
		},
		func() (err error) {
			t.rateWait, err = m.Float64Histogram(MetricRateLimitWait, metric.WithUnit("s"), seconds,
				metric.WithDescription("Time each attempt waited for a slot of the client-side rate limit."))
			return
		},
		func() (err error) {
			t.runDur, err = m.Float64Histogram(MetricRunDuration, metric.WithUnit("s"), seconds,
				metric.WithDescription("Duration of rollback.Run, by outcome."))
			return
		},
	} {
		if err = f(); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Hooks returns the hooks to give to the clients (rollback.WithHooks) and
// to Run (RunOptions.Hooks).
func (t *Telemetry) Hooks() rollback.Hooks {
	return rollback.Hooks{
		CallStart:    t.callStart,
		CallEnd:      t.callEnd,
		AttemptStart: t.attemptStart,
		AttemptEnd:   t.attemptEnd,
		RunStart:     t.runStart,
		RunEnd:       t.runEnd,
		StepStart:    t.stepStart,
		StepEnd:      t.stepEnd,
	}
}

// service is the product name the cloud's own SDKs and consoles use, as
// the AWS SDK names spans "S3.GetObject".
func service(provider string) string {
	switch provider {
	case rollback.ProviderAliyun:
		return "SWAS"
	case rollback.ProviderTencent:
		return "Lighthouse"
	}
	return provider
}

func cloudProvider(provider string) attribute.KeyValue {
	switch provider {
	case rollback.ProviderAliyun:
		return semconv.CloudProviderAlibabaCloud
	case rollback.ProviderTencent:
		return semconv.CloudProviderTencentCloud
	}
	return semconv.CloudProviderKey.String(provider)
}

func rpcSystem(provider string) attribute.KeyValue {
	switch provider {
	case rollback.ProviderAliyun:
		return semconv.RPCSystemNameKey.String("alibaba_cloud_api")
	case rollback.ProviderTencent:
		return semconv.RPCSystemNameKey.String("tencent_cloud_api")
	}
	return semconv.RPCSystemNameKey.String(provider)
}

// errorType is the value of error.type: the sentinel, as a short
// snake_case word ("throttled", "network_error"), bounded in number.
func errorType(kind, err error) string {
	if kind != nil {
		return strings.ReplaceAll(kind.Error(), " ", "_")
	}
	if err != nil {
		return semconv.ErrorTypeOther.Value.AsString()
	}
	return ""
}

func ids(a []attribute.KeyValue, instance, disk, snapshot string) []attribute.KeyValue {
	if instance != "" {
		a = append(a, KeyInstanceID.String(instance))
	}
	if disk != "" {
		a = append(a, KeyDiskID.String(disk))
	}
	if snapshot != "" {
		a = append(a, KeySnapshotID.String(snapshot))
	}
	return a
}

// clientKind is built once: an option per span start is an allocation.
var clientKind = trace.WithSpanKind(trace.SpanKindClient)

// runKey holds the *runState of the Run a context belongs to.
type runKey struct{}

// runState is one Run's: its span and the step open now. Run's steps are
// sequential; the calls a step makes get the Run's context, and are
// parented to the step through this.
type runState struct {
	run trace.Span

	mu   sync.Mutex
	step trace.Span
}

func (t *Telemetry) callStart(ctx context.Context, c *rollback.CallInfo) context.Context {
	// A call made directly under the Run's span belongs to the step open
	// now; a call made inside another span (an attempt's recheck) stays
	// there.
	if rs, ok := ctx.Value(runKey{}).(*runState); ok && trace.SpanFromContext(ctx) == rs.run {
		rs.mu.Lock()
		step := rs.step
		rs.mu.Unlock()
		if step != nil {
			ctx = trace.ContextWithSpan(ctx, step)
		}
	}
	attrs := make([]attribute.KeyValue, 0, 8)
	attrs = append(attrs, rpcSystem(c.Provider),
		semconv.RPCMethodKey.String(service(c.Provider)+"/"+c.Action),
		cloudProvider(c.Provider))
	if c.Region != "" {
		attrs = append(attrs, semconv.CloudRegionKey.String(c.Region))
	}
	attrs = ids(attrs, c.InstanceID, c.DiskID, c.SnapshotID)
	ctx, _ = t.tracer.Start(ctx, service(c.Provider)+"."+c.Action,
		clientKind, trace.WithAttributes(attrs...))
	return ctx
}

func (t *Telemetry) callEnd(ctx context.Context, c *rollback.CallInfo) {
	span := trace.SpanFromContext(ctx)
	attrs := make([]attribute.KeyValue, 0, 4)
	attrs = append(attrs, KeyAttempts.Int(c.Attempts), KeyRateLimitWait.Float64(c.RateLimitWait.Seconds()))
	if c.RequestID != "" {
		attrs = append(attrs, KeyRequestID.String(c.RequestID))
	}
	if c.HTTPStatus != 0 {
		attrs = append(attrs, semconv.HTTPResponseStatusCodeKey.Int(c.HTTPStatus))
	}
	span.SetAttributes(attrs...)
	var et string
	if c.Err != nil {
		et = errorType(c.Kind, c.Err)
		setError(span, et, c.Err)
	}
	span.End()
	set := t.callSet(c.Provider, c.Action, et)
	t.calls.Add(ctx, 1, set)
	t.callDur.Record(ctx, c.Duration.Seconds(), set)
}

func setError(span trace.Span, errType string, err error) {
	span.SetAttributes(semconv.ErrorTypeKey.String(errType))
	// The cloud's code, never its message or ours: a message can quote a
	// URL or a reply body.
	if code, _, _ := rollback.ErrorDetail(err); code != "" {
		span.SetAttributes(KeyErrorCode.String(code), semconv.RPCResponseStatusCodeKey.String(code))
	}
	span.SetStatus(codes.Error, errType)
}

func (t *Telemetry) attemptStart(ctx context.Context, c *rollback.CallInfo, a *rollback.AttemptInfo) context.Context {
	ctx, _ = t.tracer.Start(ctx, "Attempt",
		trace.WithAttributes(KeyAttempt.Int(a.Attempt), KeyRateLimitWait.Float64(a.RateLimitWait.Seconds())))
	return ctx
}

func (t *Telemetry) attemptEnd(ctx context.Context, c *rollback.CallInfo, a *rollback.AttemptInfo) {
	span := trace.SpanFromContext(ctx)
	attrs := make([]attribute.KeyValue, 0, 5)
	if a.RequestID != "" {
		attrs = append(attrs, KeyRequestID.String(a.RequestID))
	}
	if a.HTTPStatus != 0 {
		attrs = append(attrs, semconv.HTTPResponseStatusCodeKey.Int(a.HTTPStatus))
	}
	if a.Retry {
		attrs = append(attrs, KeyRetry.Bool(true), KeyRetryDelay.Float64(a.RetryDelay.Seconds()), KeyRetryReason.String(a.RetryReason))
	}
	span.SetAttributes(attrs...)
	var et string
	if a.Err != nil {
		et = errorType(a.Kind, a.Err)
		setError(span, et, a.Err)
	}
	span.End()
	ok := t.callSet(c.Provider, c.Action, "")
	t.attempts.Add(ctx, 1, t.callSet(c.Provider, c.Action, et))
	t.rateWait.Record(ctx, a.RateLimitWait.Seconds(), ok)
	if a.Kind == rollback.ErrThrottled {
		t.throttles.Add(ctx, 1, ok)
	}
}

func (t *Telemetry) runStart(ctx context.Context, r *rollback.RunInfo) context.Context {
	attrs := []attribute.KeyValue{cloudProvider(r.Provider), KeyDryRun.Bool(r.DryRun)}
	if r.Request.Region != "" {
		attrs = append(attrs, semconv.CloudRegionKey.String(r.Request.Region))
	}
	attrs = ids(attrs, r.Request.InstanceID, r.Request.DiskID, r.Request.SnapshotID)
	ctx, span := t.tracer.Start(ctx, "Run", trace.WithAttributes(attrs...))
	return context.WithValue(ctx, runKey{}, &runState{run: span})
}

func (t *Telemetry) runEnd(ctx context.Context, r *rollback.RunInfo) {
	span := trace.SpanFromContext(ctx)
	outcome := r.Outcome()
	span.SetAttributes(KeyOutcome.String(outcome))
	if rep := r.Report; rep != nil {
		// The IDs Run found on the way (the instance of a disk, the disk
		// of an instance).
		span.SetAttributes(ids(nil, rep.Request.InstanceID, rep.Request.DiskID, "")...)
		span.SetAttributes(KeyResumed.Bool(rep.Resumed))
		if rep.Result != nil && rep.Result.RequestID != "" {
			span.SetAttributes(KeyRequestID.String(rep.Result.RequestID))
		}
	}
	mattrs := []attribute.KeyValue{cloudProvider(r.Provider), KeyOutcome.String(outcome)}
	if r.Err != nil {
		et := errorType(r.Kind, r.Err)
		setError(span, et, r.Err)
		mattrs = append(mattrs, semconv.ErrorTypeKey.String(et))
	}
	span.End()
	t.runDur.Record(ctx, r.Duration.Seconds(), metric.WithAttributes(mattrs...))
}

func (t *Telemetry) stepStart(ctx context.Context, s *rollback.StepInfo) {
	rs, ok := ctx.Value(runKey{}).(*runState)
	if !ok {
		return
	}
	attrs := []attribute.KeyValue{KeyStep.String(string(s.Step))}
	if s.Resource != "" {
		attrs = append(attrs, KeyResource.String(s.Resource))
	}
	_, span := t.tracer.Start(ctx, "Run."+string(s.Step), trace.WithAttributes(attrs...))
	rs.mu.Lock()
	rs.step = span
	rs.mu.Unlock()
}

func (t *Telemetry) stepEnd(ctx context.Context, s *rollback.StepInfo) {
	rs, ok := ctx.Value(runKey{}).(*runState)
	if !ok {
		return
	}
	rs.mu.Lock()
	span := rs.step
	rs.step = nil
	rs.mu.Unlock()
	if span == nil {
		return
	}
	span.SetAttributes(KeyStepOutcome.String(s.Outcome))
	if s.RequestID != "" {
		span.SetAttributes(KeyRequestID.String(s.RequestID))
	}
	if s.Err != nil {
		setError(span, errorType(rollback.ErrorKind(s.Err), s.Err), s.Err)
	} else if s.Outcome == "failed" {
		span.SetStatus(codes.Error, "failed")
	}
	span.End()
}

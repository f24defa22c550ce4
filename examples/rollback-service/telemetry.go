package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/cloudsnap/rollback"
	rolltel "github.com/cloudsnap/rollback/otel"
)

// telemetry is the service's tracing and metrics: the library's hooks
// through the OpenTelemetry adapter, metrics served at /metrics in the
// Prometheus format, and the W3C trace context of each request carried
// into the rollback it starts, which runs after the request has been
// answered.
type telemetry struct {
	tp     *sdktrace.TracerProvider
	mp     *sdkmetric.MeterProvider
	reg    *prometheus.Registry
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	hooks  rollback.Hooks

	mu sync.Mutex
	// parents are the request spans of POSTs by Idempotency-Key, until the
	// Run of that key starts (a Run is a child of the request that started
	// it, although it outlives it).
	parents map[string]trace.SpanContext
}

// maxParents bounds parents: POSTs whose Run never starts (refused, or
// repeats of a running operation) leave an entry behind.
const maxParents = 10000

// newTelemetry sets up metrics, and traces when spans is not nil: each
// ended span is written there as a line of JSON (a real deployment would
// send them to a collector with an OTLP exporter instead).
func newTelemetry(spans io.Writer) (*telemetry, error) {
	t := &telemetry{reg: prometheus.NewRegistry(), prop: propagation.TraceContext{}, parents: map[string]trace.SpanContext{}}
	t.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	exp, err := otelprom.New(otelprom.WithRegisterer(t.reg))
	if err != nil {
		return nil, err
	}
	t.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	var topts []sdktrace.TracerProviderOption
	if spans != nil {
		se, err := stdouttrace.New(stdouttrace.WithWriter(spans))
		if err != nil {
			return nil, err
		}
		topts = append(topts, sdktrace.WithSyncer(se))
	}
	t.tp = sdktrace.NewTracerProvider(topts...)
	t.tracer = t.tp.Tracer("github.com/cloudsnap/rollback/examples/rollback-service")
	tel, err := rolltel.New(rolltel.WithTracerProvider(t.tp), rolltel.WithMeterProvider(t.mp))
	if err != nil {
		return nil, err
	}
	t.hooks = tel.Hooks()
	runStart := t.hooks.RunStart
	t.hooks.RunStart = func(ctx context.Context, r *rollback.RunInfo) context.Context {
		t.mu.Lock()
		sc, ok := t.parents[r.Request.OperationKey]
		delete(t.parents, r.Request.OperationKey)
		t.mu.Unlock()
		if ok {
			ctx = trace.ContextWithSpanContext(ctx, sc)
		}
		return runStart(ctx, r)
	}
	return t, nil
}

// handler serves /metrics, and next with a server span per request, a
// child of the caller's trace when the request carries a traceparent.
// The span is named by route, and holds no URL, query or header.
func (t *telemetry) handler(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(t.reg, promhttp.HandlerOpts{}))
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := t.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		route := r.Method + " /rollbacks"
		if r.Method == http.MethodGet {
			route += "/{key}"
		}
		ctx, span := t.tracer.Start(ctx, route, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(semconv.HTTPRequestMethodKey.String(r.Method), semconv.HTTPRouteKey.String(route[len(r.Method)+1:])))
		defer span.End()
		if key := r.Header.Get("Idempotency-Key"); r.Method == http.MethodPost && key != "" {
			t.mu.Lock()
			if len(t.parents) >= maxParents {
				clear(t.parents)
			}
			t.parents[key] = span.SpanContext()
			t.mu.Unlock()
		}
		// The reply names the trace, so a caller without a tracer can
		// still find the rollback's.
		t.prop.Inject(ctx, propagation.HeaderCarrier(w.Header()))
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r.WithContext(ctx))
		span.SetAttributes(semconv.HTTPResponseStatusCodeKey.Int(sw.status))
	}))
	return mux
}

// close flushes and stops both providers.
func (t *telemetry) close(ctx context.Context) error {
	return errors.Join(t.tp.Shutdown(ctx), t.mp.Shutdown(ctx))
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (the wait of
// GET ?wait= flushes through it).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// traceTo is where spans go: stderr with -trace, else nowhere.
func traceTo(c *config, stderr io.Writer) io.Writer {
	if c.trace {
		return stderr
	}
	return nil
}

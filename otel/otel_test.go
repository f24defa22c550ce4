package otel_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/emulator"
	"github.com/cloudsnap/rollback/internal/chaos"
	rolltel "github.com/cloudsnap/rollback/otel"
)

// telemetry is an in-memory trace and metric pipeline.
type telemetry struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	tel    *rolltel.Telemetry
}

func newTelemetry(t *testing.T) *telemetry {
	t.Helper()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	rd := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(rd))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	tel, err := rolltel.New(rolltel.WithTracerProvider(tp), rolltel.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	return &telemetry{spans: sr, reader: rd, tel: tel}
}

func (tm *telemetry) metrics(t *testing.T) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := tm.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

var envs = []struct {
	name    string
	service string
	new     func(chaos.Config) (chaos.Env, error)
	// throttle is the provider's rate-limit refusal.
	throttle string
}{
	{"aliyun", "SWAS", chaos.NewAliyun, "Throttling.User"},
	{"tencent", "Lighthouse", chaos.NewTencent, "RequestLimitExceeded"},
}

// TestRunTrace runs a full rollback (stop, rollback, start) with a throttled
// rollback attempt, a failed read, and a client-side rate limit that makes
// the mutating calls queue, and checks the spans, their parents and
// attributes, and the metrics; then scans everything exported for secrets.
func TestRunTrace(t *testing.T) {
	for _, e := range envs {
		t.Run(e.name, func(t *testing.T) {
			tm := newTelemetry(t)
			clk := clock.NewAutoVirtual(time.Time{})
			env, err := e.new(chaos.Config{Clock: clk, Options: []rollback.Option{
				rollback.WithHooks(tm.tel.Hooks()),
				rollback.WithRateLimit(1, time.Minute), // Stop, then the rollback waits a minute for a slot
			}})
			if err != nil {
				t.Fatal(err)
			}
			defer env.Close()
			acts := env.Actions()
			tg := env.NewTarget(true)
			env.AddFault(emulator.Fault{Action: acts.Rollback, Code: e.throttle})
			env.AddFault(emulator.Fault{Action: acts.ReadInstance, Code: "InternalError", HTTPStatus: 500})

			rep, err := rollback.Run(context.Background(), env.Provider(), env.Request(tg), rollback.RunOptions{
				StopIfRunning: true, StartAfter: true, Clock: clk, Hooks: tm.tel.Hooks(),
			})
			if err != nil {
				t.Fatal(err)
			}
			spans := tm.spans.Ended()
			byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
			for _, s := range spans {
				byID[s.SpanContext().SpanID()] = s
			}
			parent := func(s sdktrace.ReadOnlySpan) string {
				if p, ok := byID[s.Parent().SpanID()]; ok {
					return p.Name()
				}
				return ""
			}

			// The Run span is the root; every step is its child.
			runs := named(spans, "Run")
			if len(runs) != 1 || runs[0].Parent().IsValid() {
				t.Fatalf("want one root Run span, got %d", len(runs))
			}
			run := runs[0]
			if got := attr(run, "rollback.outcome"); got != "succeeded" {
				t.Errorf("Run outcome = %q", got)
			}
			if got := attr(run, "rollback.request_id"); got != rep.Result.RequestID {
				t.Errorf("Run request ID = %q, want %q", got, rep.Result.RequestID)
			}
			for _, step := range []string{"check", "stop", "rollback", "wait-rollback", "start"} {
				ss := named(spans, "Run."+step)
				if len(ss) != 1 || parent(ss[0]) != "Run" {
					t.Errorf("step %s: %d spans, parent %v", step, len(ss), parentNames(ss, parent))
				}
			}

			// Every call has a request ID, a client kind, the RPC and cloud
			// attributes, and one Attempt child per attempt.
			calls := 0
			for _, s := range spans {
				if !strings.HasPrefix(s.Name(), e.service+".") {
					continue
				}
				calls++
				action := strings.TrimPrefix(s.Name(), e.service+".")
				if s.SpanKind() != trace.SpanKindClient {
					t.Errorf("%s: kind %v", s.Name(), s.SpanKind())
				}
				if attr(s, "rollback.request_id") == "" {
					t.Errorf("%s has no request ID", s.Name())
				}
				if got, want := attr(s, "rpc.method"), e.service+"/"+action; got != want {
					t.Errorf("%s: rpc.method %q, want %q", s.Name(), got, want)
				}
				if attr(s, "cloud.region") != env.Region() || attr(s, "cloud.provider") == "" || attr(s, "rpc.system.name") == "" {
					t.Errorf("%s: cloud attributes %v", s.Name(), s.Attributes())
				}
				if p := parent(s); !strings.HasPrefix(p, "Run.") && !strings.HasPrefix(p, "Attempt") {
					t.Errorf("%s: parent %q, want a step", s.Name(), p)
				}
				var atts int
				for _, c := range spans {
					if c.Parent().SpanID() == s.SpanContext().SpanID() && c.Name() == "Attempt" {
						atts++
					}
				}
				if want := attr(s, "rollback.attempts"); fmt.Sprint(atts) != want {
					t.Errorf("%s: %d Attempt spans, attribute says %s", s.Name(), atts, want)
				}
			}
			if calls < 6 {
				t.Errorf("only %d call spans", calls)
			}

			// The rollback: under the rollback step, throttled once, then
			// accepted; it waited for a rate-limit slot after the stop.
			rb := named(spans, e.service+"."+acts.Rollback)
			if len(rb) != 1 {
				t.Fatalf("%d rollback spans", len(rb))
			}
			if p := parent(rb[0]); p != "Run.rollback" {
				t.Errorf("rollback call's parent = %q", p)
			}
			if attr(rb[0], "rollback.attempts") != "2" || attr(rb[0], "http.response.status_code") != "200" ||
				attr(rb[0], "rollback.request_id") != rep.Result.RequestID || attr(rb[0], "rollback.instance_id") == "" {
				t.Errorf("rollback span attributes: %v", rb[0].Attributes())
			}
			if w := attr(rb[0], "rollback.rate_limit_wait_seconds"); w == "" || w == "0" {
				t.Errorf("rollback span rate-limit wait = %q, want > 0", w)
			}
			var first, second sdktrace.ReadOnlySpan
			for _, c := range spans {
				if c.Parent().SpanID() == rb[0].SpanContext().SpanID() {
					switch attr(c, "rollback.attempt") {
					case "1":
						first = c
					case "2":
						second = c
					}
				}
			}
			if first == nil || second == nil {
				t.Fatal("rollback attempt spans missing")
			}
			if attr(first, "error.type") != "throttled" || attr(first, "rollback.retry") != "true" ||
				attr(first, "rollback.retry.reason") != e.throttle || attr(first, "rollback.retry.delay_seconds") == "" ||
				first.Status().Code != codes.Error {
				t.Errorf("throttled attempt: %v %v", first.Attributes(), first.Status())
			}
			if attr(second, "rollback.request_id") != rep.Result.RequestID || second.Status().Code == codes.Error {
				t.Errorf("accepted attempt: %v %v", second.Attributes(), second.Status())
			}

			// Metrics.
			rm := tm.metrics(t)
			rbMethod := attribute.String("rpc.method", e.service+"/"+acts.Rollback)
			if got := sumOf(rm, "rollback.call.throttles", rbMethod); got != 1 {
				t.Errorf("throttles of the rollback = %v, want 1", got)
			}
			if got := sumOf(rm, "rollback.call.attempts", rbMethod, attribute.String("error.type", "throttled")); got != 1 {
				t.Errorf("throttled rollback attempts = %v, want 1", got)
			}
			if got := sumOf(rm, "rollback.call.attempts", rbMethod); got != 2 {
				t.Errorf("rollback attempts = %v, want 2", got)
			}
			if got := sumOf(rm, "rollback.calls", rbMethod); got != 1 {
				t.Errorf("rollback calls = %v, want 1", got)
			}
			readMethod := attribute.String("rpc.method", e.service+"/"+acts.ReadInstance)
			if got := sumOf(rm, "rollback.call.attempts", readMethod, attribute.String("error.type", "provider_internal_error")); got != 1 {
				t.Errorf("failed read attempts = %v, want 1", got)
			}
			if n, sum := histOf(rm, "rollback.run.duration", attribute.String("rollback.outcome", "succeeded")); n != 1 || sum <= 0 {
				t.Errorf("run duration: %d runs, %v s", n, sum)
			}
			if _, sum := histOf(rm, "rollback.call.rate_limit.wait", rbMethod); sum < 1 {
				t.Errorf("the rollback waited %v s for a slot, want most of a minute", sum)
			}

			scanAll(t, env, spans, rm)
		})
	}
}

// TestFailedRunTrace: a Run that fails marks its span, its step and the
// duration metric with the sentinel.
func TestFailedRunTrace(t *testing.T) {
	for _, e := range envs {
		t.Run(e.name, func(t *testing.T) {
			tm := newTelemetry(t)
			clk := clock.NewAutoVirtual(time.Time{})
			env, err := e.new(chaos.Config{Clock: clk, Options: []rollback.Option{
				rollback.WithHooks(tm.tel.Hooks()), rollback.WithMaxAttempts(2)}})
			if err != nil {
				t.Fatal(err)
			}
			defer env.Close()
			tg := env.NewTarget(false)
			env.AddFault(emulator.Fault{Action: env.Actions().Rollback, Code: e.throttle, Times: -1})
			_, err = rollback.Run(context.Background(), env.Provider(), env.Request(tg), rollback.RunOptions{Clock: clk, Hooks: tm.tel.Hooks()})
			if err == nil {
				t.Fatal("Run succeeded through a throttle on every attempt")
			}
			spans := tm.spans.Ended()
			run := named(spans, "Run")[0]
			if attr(run, "rollback.outcome") != "failed" || attr(run, "error.type") != "throttled" || run.Status().Code != codes.Error {
				t.Errorf("Run span: %v %v", run.Attributes(), run.Status())
			}
			step := named(spans, "Run.rollback")[0]
			if attr(step, "rollback.step.outcome") != "failed" || step.Status().Code != codes.Error {
				t.Errorf("rollback step span: %v", step.Attributes())
			}
			rm := tm.metrics(t)
			if n, _ := histOf(rm, "rollback.run.duration", attribute.String("rollback.outcome", "failed"), attribute.String("error.type", "throttled")); n != 1 {
				t.Errorf("failed runs = %d, want 1", n)
			}
			if got := sumOf(rm, "rollback.call.throttles"); got != 2 {
				t.Errorf("throttles = %v, want 2", got)
			}
			scanAll(t, env, spans, rm)
		})
	}
}

// scanAll runs the chaos tests' secret scanner over every exported span
// and metric, and checks that no attribute holds a URL.
func scanAll(t *testing.T, env chaos.Env, spans []sdktrace.ReadOnlySpan, rm metricdata.ResourceMetrics) {
	t.Helper()
	sc := chaos.NewScanner(env.Secrets(), env.Signatures())
	if len(env.Signatures()) == 0 {
		t.Fatal("no signatures captured: the scan would prove nothing")
	}
	var texts []string
	kv := func(where string, as []attribute.KeyValue) {
		for _, a := range as {
			v := a.Value.Emit()
			texts = append(texts, where+" "+string(a.Key)+"="+v)
			if strings.Contains(v, "://") || strings.Contains(v, "?") {
				t.Errorf("%s: attribute %s holds a URL or query: %q", where, a.Key, v)
			}
		}
	}
	for _, s := range spans {
		texts = append(texts, s.Name(), s.Status().Description)
		kv(s.Name(), s.Attributes())
		for _, ev := range s.Events() {
			texts = append(texts, ev.Name)
			kv(s.Name()+"/"+ev.Name, ev.Attributes)
		}
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			texts = append(texts, m.Name, m.Description, m.Unit)
			for _, set := range dataAttrs(m.Data) {
				kv(m.Name, set.ToSlice())
			}
		}
	}
	for _, text := range texts {
		if leaks := sc.Leaks(text); len(leaks) > 0 {
			t.Errorf("exported telemetry leaks %v: %q", leaks, text)
		}
	}
}

func named(spans []sdktrace.ReadOnlySpan, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

func parentNames(ss []sdktrace.ReadOnlySpan, parent func(sdktrace.ReadOnlySpan) string) []string {
	var out []string
	for _, s := range ss {
		out = append(out, parent(s))
	}
	return out
}

func attr(s sdktrace.ReadOnlySpan, key string) string {
	for _, a := range s.Attributes() {
		if string(a.Key) == key {
			return a.Value.Emit()
		}
	}
	return ""
}

func dataAttrs(d metricdata.Aggregation) []attribute.Set {
	var out []attribute.Set
	switch d := d.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	}
	return out
}

func has(set attribute.Set, want []attribute.KeyValue) bool {
	for _, w := range want {
		if v, ok := set.Value(w.Key); !ok || v != w.Value {
			return false
		}
	}
	return true
}

// sumOf adds up the counter's points that carry every attribute of want.
func sumOf(rm metricdata.ResourceMetrics, name string, want ...attribute.KeyValue) int64 {
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if d, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == name {
				for _, p := range d.DataPoints {
					if has(p.Attributes, want) {
						n += p.Value
					}
				}
			}
		}
	}
	return n
}

// histOf returns the count and sum of the histogram's points that carry
// every attribute of want.
func histOf(rm metricdata.ResourceMetrics, name string, want ...attribute.KeyValue) (uint64, float64) {
	var n uint64
	var sum float64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if d, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == name {
				for _, p := range d.DataPoints {
					if has(p.Attributes, want) {
						n += p.Count
						sum += p.Sum
					}
				}
			}
		}
	}
	return n, sum
}

package otel_test

import (
	"context"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/clock"
	rolltel "github.com/cloudsnap/rollback/otel"
	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// benchWays sends the same rollback through two clients of one emulator:
// one without hooks (the zero value) and one reporting to the adapter with
// the real SDK behind it (every span sampled and ended into a no-op
// exporter, metrics aggregated for a ManualReader).
type benchWays struct {
	unset, otel func() error
	next        func()
	close       func()
}

func adapterHooks(tb testing.TB) (rollback.Hooks, func()) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewNoopExporter()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tel, err := rolltel.New(rolltel.WithTracerProvider(tp), rolltel.WithMeterProvider(mp))
	if err != nil {
		tb.Fatal(err)
	}
	return tel.Hooks(), func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	}
}

func aliyunWays(tb testing.TB) benchWays {
	clk := clock.NewVirtual(time.Time{})
	srv := aliyuntest.NewServer(aliyuntest.WithClock(clk), aliyuntest.WithoutRateLimits())
	in := aliyuntest.Must(srv.AddInstance(aliyuntest.InstanceSpec{Status: aliyuntest.StatusStopped}))
	sn := aliyuntest.Must(srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: in.SystemDiskID}))
	hooks, stop := adapterHooks(tb)
	client := func(opts ...rollback.Option) *aliyun.Client {
		c, err := aliyun.New(aliyun.Config{Region: aliyuntest.DefaultRegion, Endpoint: srv.URL,
			AccessKeyID: aliyuntest.DefaultAccessKeyID, AccessKeySecret: aliyuntest.DefaultAccessKeySecret},
			append([]rollback.Option{rollback.WithClock(clk), rollback.WithoutRateLimit()}, opts...)...)
		if err != nil {
			tb.Fatal(err)
		}
		return c
	}
	unset, traced := client(), client(rollback.WithHooks(hooks))
	snap, err := unset.Snapshot(context.Background(), aliyuntest.DefaultRegion, sn.ID)
	if err != nil {
		tb.Fatal(err)
	}
	req := rollback.Request{Region: aliyuntest.DefaultRegion, InstanceID: in.ID, DiskID: in.SystemDiskID, SnapshotID: sn.ID}
	pf := provider.Preflight{Snapshot: snap}
	call := func(c *aliyun.Client) func() error {
		return func() error { _, err := c.RollbackWithPreflight(context.Background(), req, pf); return err }
	}
	return benchWays{unset: call(unset), otel: call(traced), next: func() { clk.Advance(time.Hour) },
		close: func() { unset.CloseIdleConnections(); traced.CloseIdleConnections(); srv.Close(); stop() }}
}

func tencentWays(tb testing.TB) benchWays {
	clk := clock.NewVirtual(time.Time{})
	srv := tencenttest.NewServer(tencenttest.WithClock(clk), tencenttest.WithoutRateLimits())
	in, _ := srv.AddInstance(tencenttest.Instance{State: "STOPPED"})
	sn, _ := srv.AddSnapshot(tencenttest.Snapshot{InstanceID: in.ID})
	hooks, stop := adapterHooks(tb)
	client := func(opts ...rollback.Option) *tencent.Client {
		c, err := tencent.New(tencent.Config{Region: tencenttest.DefaultRegion, Endpoint: srv.URL,
			SecretID: tencenttest.DefaultSecretID, SecretKey: tencenttest.DefaultSecretKey},
			append([]rollback.Option{rollback.WithClock(clk), rollback.WithoutRateLimit()}, opts...)...)
		if err != nil {
			tb.Fatal(err)
		}
		return c
	}
	unset, traced := client(), client(rollback.WithHooks(hooks))
	ctx := context.Background()
	inst, err := unset.Instance(ctx, tencenttest.DefaultRegion, in.ID)
	if err != nil {
		tb.Fatal(err)
	}
	snap, err := unset.Snapshot(ctx, tencenttest.DefaultRegion, sn.ID)
	if err != nil {
		tb.Fatal(err)
	}
	req := rollback.Request{Region: tencenttest.DefaultRegion, InstanceID: in.ID, SnapshotID: sn.ID}
	pf := provider.Preflight{Instance: inst, Snapshot: snap}
	call := func(c *tencent.Client) func() error {
		return func() error { _, err := c.RollbackWithPreflight(ctx, req, pf); return err }
	}
	return benchWays{unset: call(unset), otel: call(traced), next: func() { clk.Advance(time.Hour) },
		close: func() { unset.Close(); traced.Close(); srv.Close(); stop() }}
}

var benchProviders = []struct {
	name string
	make func(testing.TB) benchWays
}{{"aliyun", aliyunWays}, {"tencent", tencentWays}}

// BenchmarkAdapterOverhead alternates our rollback call without hooks and
// with the adapter in one loop, so both see the same machine, and reports
// each one's time per call and what the adapter adds in percent.
func BenchmarkAdapterOverhead(b *testing.B) {
	for _, p := range benchProviders {
		b.Run(p.name, func(b *testing.B) {
			w := p.make(b)
			defer w.close()
			var unset, traced, unsetCPU, tracedCPU time.Duration
			timed := func(call func() error, wall, cpu *time.Duration) {
				c0, t0 := cpuNow(), time.Now()
				if err := call(); err != nil {
					b.Fatal(err)
				}
				*wall += time.Since(t0)
				*cpu += cpuNow() - c0
				w.next()
			}
			for i := 0; i < b.N; i++ {
				if i%2 == 0 {
					timed(w.unset, &unset, &unsetCPU)
					timed(w.otel, &traced, &tracedCPU)
				} else {
					timed(w.otel, &traced, &tracedCPU)
					timed(w.unset, &unset, &unsetCPU)
				}
			}
			per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) }
			b.ReportMetric(per(unset), "unset-ns/call")
			b.ReportMetric(per(traced), "otel-ns/call")
			b.ReportMetric(100*(float64(traced)/float64(unset)-1), "otel-%")
			// CPU time (client and emulator) holds on a loaded machine.
			b.ReportMetric(per(unsetCPU), "unset-cpu-ns/call")
			b.ReportMetric(per(tracedCPU), "otel-cpu-ns/call")
			b.ReportMetric(100*(float64(tracedCPU)/float64(unsetCPU)-1), "otel-cpu-%")
		})
	}
}

// BenchmarkAdapterAllocs reports each way's allocations.
func BenchmarkAdapterAllocs(b *testing.B) {
	for _, p := range benchProviders {
		for _, way := range []string{"unset", "otel"} {
			b.Run(p.name+"/"+way, func(b *testing.B) {
				w := p.make(b)
				defer w.close()
				call := w.unset
				if way == "otel" {
					call = w.otel
				}
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if err := call(); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					w.next()
					b.StartTimer()
				}
			})
		}
	}
}

// BenchmarkAdapterPerCall times the adapter's own work for one call of one
// attempt (two spans, their attributes, five metric records), without the
// HTTP call around it: a number the machine's load does not drown.
func BenchmarkAdapterPerCall(b *testing.B) {
	hooks, stop := adapterHooks(b)
	defer stop()
	ctx := context.Background()
	b.ReportAllocs()
	c0 := cpuNow()
	defer func() { b.ReportMetric(float64((cpuNow()-c0).Nanoseconds())/float64(b.N), "cpu-ns/op") }()
	for i := 0; i < b.N; i++ {
		c := &rollback.CallInfo{Provider: rollback.ProviderTencent, Region: "ap-guangzhou", Action: "ApplyInstanceSnapshot",
			InstanceID: "lhins-web00001", SnapshotID: "lhsnap-nightly1"}
		cctx := hooks.CallStart(ctx, c)
		a := &rollback.AttemptInfo{Attempt: 1}
		actx := hooks.AttemptStart(cctx, c, a)
		a.RequestID, a.HTTPStatus, a.Duration = "6b1a4f0e-6f5c-4c1e-9d4b-0a4f2b8f8e11", 200, time.Millisecond
		hooks.AttemptEnd(actx, c, a)
		c.Attempts, c.RequestID, c.HTTPStatus, c.Duration = 1, a.RequestID, 200, time.Millisecond
		hooks.CallEnd(cctx, c)
	}
}

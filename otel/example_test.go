package otel_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	rolltel "github.com/cloudsnap/rollback/otel"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// A Run traced with the adapter: the same hooks go to the client (its
// calls) and to Run (the Run and its steps). Real programs pass their own
// tracer and meter providers (or none: the global ones).
func Example() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer tp.Shutdown(context.Background())
	defer mp.Shutdown(context.Background())
	tel, err := rolltel.New(rolltel.WithTracerProvider(tp), rolltel.WithMeterProvider(mp))
	if err != nil {
		panic(err)
	}

	clk := clock.NewAutoVirtual(time.Time{})
	srv := tencenttest.NewServer(tencenttest.WithClock(clk))
	defer srv.Close()
	srv.AddInstance(tencenttest.Instance{ID: "lhins-web00001", State: "STOPPED"})
	srv.AddSnapshot(tencenttest.Snapshot{ID: "lhsnap-nightly1", InstanceID: "lhins-web00001"})
	p, err := tencent.New(tencent.Config{Region: "ap-guangzhou", Endpoint: srv.URL,
		SecretID: tencenttest.DefaultSecretID, SecretKey: tencenttest.DefaultSecretKey},
		rollback.WithClock(clk), rollback.WithHooks(tel.Hooks()))
	if err != nil {
		panic(err)
	}
	defer p.Close()
	_, err = rollback.Run(context.Background(), p,
		rollback.Request{Region: "ap-guangzhou", InstanceID: "lhins-web00001", SnapshotID: "lhsnap-nightly1"},
		rollback.RunOptions{Clock: clk, NoWait: true, Hooks: tel.Hooks()})
	if err != nil {
		panic(err)
	}

	// The trace as a tree, spans in the order they started.
	depth := map[string]int{}
	for _, s := range spans.Started() {
		d := depth[s.Parent().SpanID().String()]
		depth[s.SpanContext().SpanID().String()] = d + 1
		fmt.Println(strings.Repeat("  ", d) + s.Name())
	}
	// Output:
	// Run
	//   Run.check
	//     Lighthouse.DescribeSnapshots
	//       Attempt
	//     Lighthouse.DescribeInstances
	//       Attempt
	//   Run.rollback
	//     Lighthouse.DescribeSnapshots
	//       Attempt
	//     Lighthouse.DescribeInstances
	//       Attempt
	//     Lighthouse.ApplyInstanceSnapshot
	//       Attempt
	//   Run.wait-rollback
}

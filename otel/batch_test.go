package otel_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/internal/chaos"
)

// TestBatchTrace: in a fleet run every item is its own Run trace, and
// every call, the batched reads included, carries its request ID.
func TestBatchTrace(t *testing.T) {
	for _, e := range envs {
		t.Run(e.name, func(t *testing.T) {
			tm := newTelemetry(t)
			clk := clock.NewScaled(200)
			env, err := e.new(chaos.Config{Clock: clk, RateSlack: true, Options: []rollback.Option{rollback.WithHooks(tm.tel.Hooks())}})
			if err != nil {
				t.Fatal(err)
			}
			defer env.Close()
			var reqs []rollback.Request
			for range 4 {
				reqs = append(reqs, env.Request(env.NewTarget(false)))
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for i, r := range rollback.RunBatch(ctx, env.Provider(), reqs, rollback.RunOptions{Clock: clk, Hooks: tm.tel.Hooks()}, rollback.BatchOptions{}) {
				if r.Err != nil {
					t.Fatalf("item %d: %v", i, r.Err)
				}
			}
			spans := tm.spans.Ended()
			runs := named(spans, "Run")
			if len(runs) != len(reqs) {
				t.Fatalf("%d Run spans for %d items", len(runs), len(reqs))
			}
			traces := map[string]bool{}
			for _, r := range runs {
				traces[r.SpanContext().TraceID().String()] = true
			}
			if len(traces) != len(reqs) {
				t.Errorf("%d traces for %d Runs", len(traces), len(reqs))
			}
			calls := 0
			for _, s := range spans {
				if strings.HasPrefix(s.Name(), e.service+".") {
					calls++
					if attr(s, "rollback.request_id") == "" {
						t.Errorf("%s without a request ID: %v", s.Name(), s.Attributes())
					}
				}
			}
			if rb := named(spans, e.service+"."+env.Actions().Rollback); len(rb) != len(reqs) {
				t.Errorf("%d rollback calls for %d items", len(rb), len(reqs))
			}
			if calls < 3*len(reqs) {
				t.Errorf("only %d call spans", calls)
			}
			scanAll(t, env, spans, tm.metrics(t))
		})
	}
}

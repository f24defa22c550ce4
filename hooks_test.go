package rollback_test

import (
	"context"
	"fmt"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// Hooks print a line per API call and per Run step: what a tracer or a
// metrics adapter does with them (github.com/cloudsnap/rollback/otel).
func ExampleHooks() {
	clk := clock.NewAutoVirtual(time.Time{})
	srv := tencenttest.NewServer(tencenttest.WithClock(clk))
	defer srv.Close()
	srv.AddInstance(tencenttest.Instance{ID: "lhins-web00001", State: "STOPPED"})
	srv.AddSnapshot(tencenttest.Snapshot{ID: "lhsnap-nightly1", InstanceID: "lhins-web00001"})
	// The first rollback attempt is throttled, and retried.
	srv.AddFault(tencenttest.Fault{Action: "ApplyInstanceSnapshot", Code: "RequestLimitExceeded"})

	hooks := rollback.Hooks{
		AttemptEnd: func(_ context.Context, c *rollback.CallInfo, a *rollback.AttemptInfo) {
			if a.Retry {
				fmt.Printf("  %s attempt %d: HTTP %d, retrying (%s)\n", c.Action, a.Attempt, a.HTTPStatus, a.RetryReason)
			}
		},
		CallEnd: func(_ context.Context, c *rollback.CallInfo) {
			fmt.Printf("  %s: %d attempt(s), request ID set: %t\n", c.Action, c.Attempts, c.RequestID != "")
		},
		StepStart: func(_ context.Context, s *rollback.StepInfo) { fmt.Println("step", s.Step) },
		StepEnd:   func(_ context.Context, s *rollback.StepInfo) { fmt.Println("step", s.Step, s.Outcome) },
		RunEnd:    func(_ context.Context, r *rollback.RunInfo) { fmt.Println("run", r.Outcome()) },
	}
	p, err := tencent.New(tencent.Config{Region: "ap-guangzhou", Endpoint: srv.URL,
		SecretID: tencenttest.DefaultSecretID, SecretKey: tencenttest.DefaultSecretKey},
		rollback.WithClock(clk), rollback.WithHooks(hooks))
	if err != nil {
		panic(err)
	}
	defer p.Close()
	_, err = rollback.Run(context.Background(), p,
		rollback.Request{Region: "ap-guangzhou", InstanceID: "lhins-web00001", SnapshotID: "lhsnap-nightly1"},
		rollback.RunOptions{Clock: clk, NoWait: true, Hooks: hooks})
	fmt.Println(err)
	// Output:
	// step check
	//   DescribeSnapshots: 1 attempt(s), request ID set: true
	//   DescribeInstances: 1 attempt(s), request ID set: true
	// step check done
	// step rollback
	//   DescribeSnapshots: 1 attempt(s), request ID set: true
	//   DescribeInstances: 1 attempt(s), request ID set: true
	//   ApplyInstanceSnapshot attempt 1: HTTP 200, retrying (RequestLimitExceeded)
	//   DescribeInstances: 1 attempt(s), request ID set: true
	//   ApplyInstanceSnapshot: 2 attempt(s), request ID set: true
	// step rollback done
	// step wait-rollback
	// step wait-rollback skipped
	// run succeeded
	// <nil>
}

package temporal

import (
	"context"
	"errors"
	"fmt"
	"runtime/metrics"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// runFleet runs FleetWorkflow to the end, following continue-as-new into
// a fresh environment each time (the test environment stops at it).
func runFleet(t *testing.T, newEnv func() *testsuite.TestWorkflowEnvironment, in FleetInput) FleetSummary {
	t.Helper()
	for {
		env := newEnv()
		env.ExecuteWorkflow(FleetWorkflowName, in)
		if !env.IsWorkflowCompleted() {
			t.Fatal("fleet workflow did not complete")
		}
		err := env.GetWorkflowError()
		var can *workflow.ContinueAsNewError
		if errors.As(err, &can) {
			var next FleetInput
			if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
				t.Fatal(err)
			}
			in = next
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var s FleetSummary
		if err := env.GetWorkflowResult(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
}

// TestDuplicateKey: a key given twice is run once, whether the second
// start comes while the first runs or after it finished; Temporal refuses
// the second workflow, and nothing of it is sent.
func TestDuplicateKey(t *testing.T) {
	for _, inFlight := range []int{1, 2} {
		t.Run(fmt.Sprintf("in-flight-%d", inFlight), func(t *testing.T) {
			forEachCloud(t, func(t *testing.T, c *cloud, clk clock.Clock) {
				req := c.target(t, "dup-1", false)
				s := runFleet(t, func() *testsuite.TestWorkflowEnvironment { return newEnv(t, c, clk) },
					FleetInput{Provider: c.name, Requests: []rollback.Request{req, req}, MaxInFlight: inFlight})
				if s.Succeeded != 1 || s.Duplicates != 1 || s.Failed != 0 {
					t.Errorf("summary = %+v", s)
				}
				if n := c.rollbacks(req); n != 1 || c.calls(ActionRollback) != 1 {
					t.Errorf("rollbacks = %d, calls %d; want 1", n, c.calls(ActionRollback))
				}
			})
		})
	}
}

// TestFleet1000 rolls back 1,000 emulated Lighthouse servers through
// FleetWorkflow (continuing as new every 500): every rollback is applied
// exactly once, no call exceeds the quota (none refused, at most 20 of an
// action in any second of the emulator's journal), and the reads are
// batched. Under the race detector it rolls back 100 (continuing every
// 50); .ci/run runs the 1,000 without it.
//
// The provider client keeps its default pacing (the cloud's 20 a second);
// the test environment has no Temporal server, so no task-queue rate limit
// applies: the client's limiter is what keeps the quota here. The clock is
// an idleClock, so that a loaded machine's scheduling delays never become
// cloud time.
func TestFleet1000(t *testing.T) {
	n, perRun := 1000, 500
	if raceEnabled {
		n, perRun = 100, 50
	}
	clk, hooks := idleClock(t, time.Millisecond, 40*time.Millisecond)
	c := newTencent(t, cloudOpts{clk: clk, rollback: 5 * time.Second, hooks: hooks})
	reqs := make([]rollback.Request, n)
	for i := range reqs {
		reqs[i] = c.target(t, fmt.Sprintf("fleet-%04d", i), false)
	}
	// One worker's activities for the whole fleet, reads batched.
	acts := NewActivities(c.p, ActivityOptions{Wait: rollback.WaitOptions{Clock: clk}, Batch: true})
	start, cloudStart := time.Now(), clk.Now()
	s := runFleet(t, func() *testsuite.TestWorkflowEnvironment {
		var ts testsuite.WorkflowTestSuite
		ts.SetLogger(quietLogger())
		env := ts.NewTestWorkflowEnvironment()
		env.SetTestTimeout(3 * time.Minute)
		env.SetWorkerOptions(testWorkerOptions())
		Register(env, acts)
		return env
	}, FleetInput{Provider: c.name, Requests: reqs, PerRun: perRun, MaxInFlight: perRun})
	t.Logf("%d rollbacks in %s real, %s of cloud time, %d runs", n, time.Since(start).Round(time.Millisecond),
		clk.Now().Sub(cloudStart).Round(time.Millisecond), s.Runs)
	if s.Succeeded != n || s.Failed != 0 || s.Duplicates != 0 || s.Runs != n/perRun || s.Kinds["Throttled"] != 0 {
		t.Fatalf("summary = %+v", s)
	}
	for _, r := range reqs {
		if got := c.rollbacks(r); got != 1 {
			t.Fatalf("%s: %d rollbacks, want exactly 1", r.InstanceID, got)
		}
	}
	if th := c.throttled(); th > 0 {
		t.Errorf("%d calls exceeded the quota", th)
	}
	if got := c.calls(ActionRollback); got != n {
		t.Errorf("ApplyInstanceSnapshot calls = %d, want %d", got, n)
	}
	for _, a := range []string{"ApplyInstanceSnapshot", "DescribeInstances", "DescribeSnapshots"} {
		m := maxInWindow(c.times(a), time.Second)
		if m > 20 {
			t.Errorf("%s: %d calls in one second, quota 20", a, m)
		}
		t.Logf("%s: at most %d calls in any second", a, m)
	}
	reads := len(c.times("DescribeInstances")) + len(c.times("DescribeSnapshots"))
	t.Logf("reads: %d DescribeInstances, %d DescribeSnapshots for %d servers",
		len(c.times("DescribeInstances")), len(c.times("DescribeSnapshots")), n)
	if reads > 3*n/2 {
		t.Errorf("%d reads for %d servers: not batched", reads, n)
	}
}

// maxInWindow is the most events within any window of length w.
func maxInWindow(ts []time.Time, w time.Duration) int {
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	best, lo := 0, 0
	for hi := range ts {
		for ts[hi].Sub(ts[lo]) >= w {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// idleClock is a virtual clock that moves forward by step every tick of
// real time, but only while the process is idle: no goroutine runnable, none
// running but the clock's own, and no API call between its rate-limit slot
// and its reply (the returned hooks count those; give them to the client).
// It is a discrete-event clock: cloud time passes only when nothing is left
// to do at the current instant.
//
// A clock that runs on regardless of the process (clock.NewScaled, or a
// ticker alone) turns a loaded machine's scheduling delays into cloud time,
// ten times over at ten times speed: a goroutine woken 30ms late from its
// rate-limit slot reached the emulator 300ms of cloud time late, in the
// same second as the next slots' calls, and the emulator counted more than
// its quota although the client had paced every call (0 to 14 of 1,000
// were refused). Here a woken goroutine is runnable, and a call on the
// wire is counted, so the clock waits for both: calls reach the emulator at
// the cloud time of their slot.
//
// A process that never goes idle would stop the clock; after 200 ticks in
// a row without idleness it advances anyway, and the test reports it.
func idleClock(t *testing.T, tick, step time.Duration) (*clock.Virtual, rollback.Hooks) {
	v := clock.NewVirtual(time.Now())
	var inflight, forced atomic.Int64
	hooks := rollback.Hooks{
		AttemptStart: func(ctx context.Context, _ *rollback.CallInfo, _ *rollback.AttemptInfo) context.Context {
			inflight.Add(1)
			return ctx
		},
		AttemptEnd: func(context.Context, *rollback.CallInfo, *rollback.AttemptInfo) { inflight.Add(-1) },
	}
	samples := []metrics.Sample{{Name: "/sched/goroutines/runnable:goroutines"}, {Name: "/sched/goroutines/running:goroutines"}}
	idle := func() bool {
		if inflight.Load() > 0 {
			return false
		}
		metrics.Read(samples)
		for i, want := range []uint64{0, 1} {
			if s := samples[i].Value; s.Kind() == metrics.KindUint64 && s.Uint64() > want {
				return false
			}
		}
		return true
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(tick)
		defer tk.Stop()
		busy := 0
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				if !idle() && busy < 200 {
					busy++
					continue
				}
				if busy >= 200 {
					forced.Add(1)
				}
				busy = 0
				v.Advance(step)
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-done
		if n := forced.Load(); n > 0 {
			t.Logf("the clock was moved %d times while the process was busy", n)
		}
	})
	return v, hooks
}

package temporal

import (
	"errors"
	"fmt"
	"os"
	"sort"
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
// exactly once, every call keeps to the quota, and the reads are batched.
// Under the race detector it rolls back 100 (continuing every 50); .ci/run
// runs the 1,000 without it.
//
// Keeping to the quota is checked where the cloud sees it: the emulator's
// journal. On a loaded machine a few calls can still reach the emulator
// bunched (its handlers run late and stamp them together), so by default
// up to 2% of the calls may be refused and retried by the library (none
// may reach a workflow); ROLLBACK_TEMPORAL_STRICT=1, for an idle machine,
// allows none.
func TestFleet1000(t *testing.T) {
	n, perRun, speed := 1000, 500, 10
	if raceEnabled {
		n, perRun, speed = 100, 50, 2 // the race detector's delays need more real margin
	}
	clk := tickingClock(t, 2*time.Millisecond, time.Duration(speed)*2*time.Millisecond)
	// The worker's share of the quota: 15 of Lighthouse's 20 calls a
	// second. At ten times real speed a 10ms scheduling delay on this
	// shared machine is 100ms of cloud time, the limiter's whole margin;
	// the headroom keeps such delays from bunching calls past the quota.
	c := newTencent(t, cloudOpts{clk: clk, rollback: 5 * time.Second, limit: 15})
	reqs := make([]rollback.Request, n)
	for i := range reqs {
		reqs[i] = c.target(t, fmt.Sprintf("fleet-%04d", i), false)
	}
	// One worker's activities for the whole fleet, reads batched.
	acts := NewActivities(c.p, ActivityOptions{Wait: rollback.WaitOptions{Clock: clk}, Batch: true})
	start := time.Now()
	s := runFleet(t, func() *testsuite.TestWorkflowEnvironment {
		var ts testsuite.WorkflowTestSuite
		ts.SetLogger(quietLogger())
		env := ts.NewTestWorkflowEnvironment()
		env.SetTestTimeout(2 * time.Minute)
		Register(env, acts)
		return env
	}, FleetInput{Provider: c.name, Requests: reqs, PerRun: perRun, MaxInFlight: perRun})
	t.Logf("%d rollbacks in %s (real), %d runs", n, time.Since(start).Round(time.Millisecond), s.Runs)
	if s.Succeeded != n || s.Failed != 0 || s.Duplicates != 0 || s.Runs != n/perRun || s.Kinds["Throttled"] != 0 {
		t.Fatalf("summary = %+v", s)
	}
	for _, r := range reqs {
		if got := c.rollbacks(r); got != 1 {
			t.Fatalf("%s: %d rollbacks, want exactly 1", r.InstanceID, got)
		}
	}
	th, strict := c.throttled(), os.Getenv("ROLLBACK_TEMPORAL_STRICT") == "1"
	if got := c.calls(ActionRollback); got > n+th {
		t.Errorf("ApplyInstanceSnapshot calls = %d, want %d (+%d refused for the quota)", got, n, th)
	}
	t.Logf("%d calls refused for the quota (retried by the library)", th)
	if th*50 > n || strict && th > 0 {
		t.Errorf("%d calls exceeded the quota", th)
	}
	for _, a := range []string{"ApplyInstanceSnapshot", "DescribeInstances", "DescribeSnapshots"} {
		if m := maxInWindow(c.times(a), time.Second); m > 20 && strict {
			t.Errorf("%s: %d calls in one second, quota 20", a, m)
		}
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

// tickingClock is a virtual clock that a goroutine moves forward by step
// every tick of real time, and never by more: about step/tick times
// faster than real time, like clock.NewScaled, except that when the
// process stalls (a loaded machine, a GC pause) its time stalls too. A
// scaled clock turns a 300ms stall into seconds of cloud time, during
// which calls paced by the client's limiter queue up and then reach the
// emulator together; here they arrive as paced.
func tickingClock(t *testing.T, tick, step time.Duration) *clock.Virtual {
	v := clock.NewVirtual(time.Now())
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(tick)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				v.Advance(step)
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	return v
}

package providertest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
)

func happyPath(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, false)
	rep := mustRun(t, h, h.Request(tg), opts(clk))
	wantRollbacks(t, h, tg, 1)
	if got, want := steps(rep), "check:done rollback:done wait-rollback:done"; got != want {
		t.Errorf("steps %q, want %q", got, want)
	}
	if rep.Result == nil || rep.Result.RequestID == "" || rep.Result.Attempts != 1 || rep.Result.ClientToken == "" {
		t.Errorf("result %+v", rep.Result)
	}
	if rep.Request.InstanceID != tg.InstanceID || rep.Request.DiskID != tg.DiskID {
		t.Errorf("report request %+v, want IDs of %+v", rep.Request, tg)
	}
	if rep.InstanceAfter == nil || rep.InstanceAfter.State != rollback.InstanceStopped {
		t.Errorf("instance after: %+v", rep.InstanceAfter)
	}
	if rep.Outcome == nil || rep.Outcome.Evidence == "" {
		t.Errorf("outcome %+v", rep.Outcome)
	}
	if rep.Duration < h.Durations().Rollback {
		t.Errorf("run took %v on the clock, less than the rollback itself (%v)", rep.Duration, h.Durations().Rollback)
	}
	if h.Calls(CallStop)+h.Calls(CallStart)+h.Calls(CallSnapshot) != 0 {
		t.Error("stopped, started or snapshotted without being asked")
	}
}

func runningWithoutStop(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, true)
	rep, err := rollback.Run(context.Background(), h.Provider(), h.Request(tg), opts(clk))
	wantErr(t, err, rollback.ErrInstanceState)
	if !strings.Contains(err.Error(), "StopIfRunning") {
		t.Errorf("error does not say how to opt in: %v", err)
	}
	var se *rollback.StepError
	if !errors.As(err, &se) || se.Step != rollback.StepCheck {
		t.Errorf("error not from the check step: %v", err)
	}
	wantRollbacks(t, h, tg, 0)
	if h.Calls(CallStop)+h.Calls(CallRollback) != 0 {
		t.Error("a call changed something")
	}
	if rep == nil || rep.InstanceBefore == nil || rep.InstanceBefore.State != rollback.InstanceRunning {
		t.Errorf("report lacks the instance: %+v", rep)
	}
	if got := steps(rep); got != "check:failed" {
		t.Errorf("steps %q, want the check recorded once, failed", got)
	}
}

func runningWithStopAndStart(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, true)
	o := opts(clk)
	o.StopIfRunning, o.StartAfter = true, true
	rep := mustRun(t, h, h.Request(tg), o)
	wantRollbacks(t, h, tg, 1)
	if got, want := steps(rep), "check:done stop:done rollback:done wait-rollback:done start:done"; got != want {
		t.Errorf("steps %q, want %q", got, want)
	}
	if rep.InstanceAfter == nil || rep.InstanceAfter.State != rollback.InstanceRunning {
		t.Errorf("instance after: %+v", rep.InstanceAfter)
	}
	if h.Calls(CallStop) != 1 || h.Calls(CallStart) != 1 {
		t.Errorf("stop calls %d, start calls %d", h.Calls(CallStop), h.Calls(CallStart))
	}
}

func busyWaitedOut(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, false)
	need[BusyMaker](t, h).MakeBusy(t, tg, 3*time.Minute)
	rep := mustRun(t, h, h.Request(tg), opts(clk))
	wantRollbacks(t, h, tg, 1)
	if !strings.Contains(steps(rep), "wait-idle:done") {
		t.Errorf("steps %q: no wait for the busy instance", steps(rep))
	}
}

func busyTooLong(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, false)
	need[BusyMaker](t, h).MakeBusy(t, tg, time.Hour)
	o := opts(clk)
	o.BusyTimeout = 2 * time.Minute
	_, err := rollback.Run(context.Background(), h.Provider(), h.Request(tg), o)
	wantErr(t, err, rollback.ErrBusy)
	wantErr(t, err, rollback.ErrTimeout)
	wantRollbacks(t, h, tg, 0)
}

func snapshotNotReady(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, false)
	req := h.Request(tg)
	req.SnapshotID = need[SnapshotCreator](t, h).CreatingSnapshot(t, tg)
	_, err := rollback.Run(context.Background(), h.Provider(), req, opts(clk))
	wantErr(t, err, rollback.ErrSnapshotState)
	wantRollbacks(t, h, tg, 0)
}

func snapshotOfAnotherDisk(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, false)
	req := h.Request(tg)
	req.SnapshotID = h.NewTarget(t, false).SnapshotID
	_, err := rollback.Run(context.Background(), h.Provider(), req, opts(clk))
	wantErr(t, err, rollback.ErrSnapshotMismatch)
	wantRollbacks(t, h, tg, 0)
	if h.Calls(CallRollback) != 0 {
		t.Error("the rollback was sent")
	}
}

func safetySnapshot(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, false)
	o := opts(clk)
	o.SafetySnapshot = true
	rep := mustRun(t, h, h.Request(tg), o)
	wantRollbacks(t, h, tg, 1)
	if rep.SafetySnapshotID == "" || rep.SafetySnapshotID == tg.SnapshotID {
		t.Fatalf("safety snapshot %q", rep.SafetySnapshotID)
	}
	s, err := h.Provider().Snapshot(context.Background(), region(h, tg), rep.SafetySnapshotID)
	if err != nil || s.State != rollback.SnapshotReady || s.DiskID != tg.DiskID {
		t.Errorf("safety snapshot %+v, %v", s, err)
	}
	if got := steps(rep); !strings.Contains(got, "safety-snapshot:done rollback:done") {
		t.Errorf("steps %q", got)
	}
}

func failedRollback(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, false)
	need[RollbackFailer](t, h).FailNextRollback()
	o := opts(clk)
	start := clk.Now()
	rep, err := rollback.Run(context.Background(), h.Provider(), h.Request(tg), o)
	wantErr(t, err, rollback.ErrRollbackFailed)
	// Noticed when the cloud says so, not at the wait's limit.
	if waited := clk.Now().Sub(start); waited > 3*h.Durations().Rollback {
		t.Errorf("failure noticed after %v; the rollback takes %v", waited, h.Durations().Rollback)
	}
	if rep.Result == nil || rep.Result.RequestID == "" {
		t.Error("report lacks the accepted call")
	}
}

func timeout(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, false)
	o := opts(clk)
	o.RollbackTimeout = h.Durations().Rollback / 3
	_, err := rollback.Run(context.Background(), h.Provider(), h.Request(tg), o)
	wantErr(t, err, rollback.ErrTimeout)
	var te *rollback.TimeoutError
	if !errors.As(err, &te) || !strings.HasPrefix(te.LastState, string(rollback.InstanceRollingBack)) {
		t.Fatalf("timeout error %#v, want last state rolling-back", err)
	}
	if te.Waited != o.RollbackTimeout {
		t.Errorf("waited %v, want exactly the limit %v", te.Waited, o.RollbackTimeout)
	}
}

func cancellation(t *testing.T, f Factory) {
	clk := clock.NewVirtual(time.Time{}) // manual: the stop wait never ends by itself
	h := f(t, clk)
	tg := h.NewTarget(t, true)
	o := opts(clk)
	o.StopIfRunning = true
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := rollback.Run(ctx, h.Provider(), h.Request(tg), o)
		done <- err
	}()
	clk.BlockUntil(1) // Run is waiting for the instance to stop
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		wantErr(t, err, context.Canceled)
		if d := time.Since(start); d > 200*time.Millisecond {
			t.Errorf("returned %v after cancel", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run ignored cancellation")
	}
	wantRollbacks(t, h, tg, 0)
}

func lostResponse(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, false)
	need[ReplyDropper](t, h).LoseNextRollbackReply()
	rep := mustRun(t, h, h.Request(tg), opts(clk))
	wantRollbacks(t, h, tg, 1)
	if rep.Result.RequestID == "" {
		t.Error("no request ID for the landed rollback")
	}
}

// crashAfterAccept runs until the rollback is accepted, then "crashes" (the
// context ends), as a process killed mid-wait would.
func crashAfterAccept(t *testing.T, h Harness, req rollback.Request, o rollback.RunOptions) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o.Progress = func(ev rollback.Event) {
		if ev.Kind == rollback.EventStepFinished && ev.Step == rollback.StepRollback {
			cancel()
		}
	}
	_, err := rollback.Run(ctx, h.Provider(), req, o)
	wantErr(t, err, context.Canceled)
}

func resumeCheckpointAfterAccept(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, false)
	req := h.Request(tg)
	req.OperationKey = "ticket-1"
	o := opts(clk)
	o.Checkpoints = &rollback.MemoryCheckpoints{}
	crashAfterAccept(t, h, req, o)
	rep := mustRun(t, h, req, o)
	wantRollbacks(t, h, tg, 1)
	if !rep.Resumed || h.Calls(CallRollback) != 1 {
		t.Errorf("resumed %v, rollback calls %d", rep.Resumed, h.Calls(CallRollback))
	}
	// A third run finds the operation done and touches nothing.
	rep = mustRun(t, h, req, o)
	if h.Calls(CallRollback) != 1 || !rep.Resumed {
		t.Errorf("the finished operation was run again")
	}
}

func resumeCheckpointWhileSending(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, false)
	req := h.Request(tg)
	req.OperationKey = "ticket-2"
	o := opts(clk)
	o.Checkpoints = rewoundToSending(t, h, req, o)
	mustRun(t, h, req, o)
	wantRollbacks(t, h, tg, 1)
}

func resumeFromStateRunning(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, false)
	req := h.Request(tg)
	req.OperationKey = "ticket-3"
	crashAfterAccept(t, h, req, opts(clk)) // no checkpoints
	rep := mustRun(t, h, req, opts(clk))
	wantRollbacks(t, h, tg, 1)
	if rep.InstanceAfter == nil || rep.InstanceAfter.State != rollback.InstanceStopped {
		t.Errorf("instance after %+v", rep.InstanceAfter)
	}
}

func resumeFromStateDone(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, false)
	req := h.Request(tg)
	req.OperationKey = "ticket-4"
	mustRun(t, h, req, opts(clk))
	mustRun(t, h, req, opts(clk)) // e.g. a retry after the first run's reply was lost
	wantRollbacks(t, h, tg, 1)
}

func keyReused(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	a, b := h.NewTarget(t, false), h.NewTarget(t, false)
	o := opts(clk)
	o.Checkpoints = &rollback.MemoryCheckpoints{}
	ra, rb := h.Request(a), h.Request(b)
	ra.OperationKey, rb.OperationKey = "same-key", "same-key"
	mustRun(t, h, ra, o)
	_, err := rollback.Run(context.Background(), h.Provider(), rb, o)
	wantErr(t, err, rollback.ErrInvalidArgument)
	wantRollbacks(t, h, b, 0)
}

func dryRun(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, true)
	o := opts(clk)
	o.DryRun, o.StopIfRunning, o.SafetySnapshot, o.StartAfter = true, true, true, true
	rep := mustRun(t, h, h.Request(tg), o)
	if !rep.DryRun || len(rep.Plan) != 5 {
		t.Fatalf("plan %q", rep.Plan)
	}
	for i, want := range []string{"stop instance", "snapshot disk", "roll back disk " + tg.DiskID, "wait until the rollback", "start instance"} {
		if !strings.HasPrefix(rep.Plan[i], want) {
			t.Errorf("plan[%d] = %q, want %q...", i, rep.Plan[i], want)
		}
	}
	if n := h.Calls(CallStop) + h.Calls(CallSnapshot) + h.Calls(CallRollback) + h.Calls(CallStart); n != 0 {
		t.Errorf("a dry run made %d changing calls", n)
	}
}

func dryRunChecks(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, false)
	req := h.Request(tg)
	req.SnapshotID = h.NewTarget(t, false).SnapshotID
	o := opts(clk)
	o.DryRun = true
	_, err := rollback.Run(context.Background(), h.Provider(), req, o)
	wantErr(t, err, rollback.ErrSnapshotMismatch)
}

func progressEvents(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, true)
	var events []rollback.Event
	o := opts(clk)
	o.StopIfRunning, o.SafetySnapshot = true, true
	o.Progress = func(ev rollback.Event) { events = append(events, ev) }
	rep := mustRun(t, h, h.Request(tg), o)
	var started, finished []string
	states, percents := 0, 0
	for i, ev := range events {
		if i > 0 && ev.Elapsed < events[i-1].Elapsed {
			t.Fatalf("event %d goes back in time", i)
		}
		switch ev.Kind {
		case rollback.EventStepStarted:
			started = append(started, string(ev.Step))
		case rollback.EventStepFinished:
			finished = append(finished, string(ev.Step))
		case rollback.EventState:
			states++
			if ev.Percent >= 0 {
				percents++
			}
		}
	}
	want := "check stop safety-snapshot rollback wait-rollback"
	if got := strings.Join(started, " "); got != want {
		t.Errorf("started %q, want %q", got, want)
	}
	if got := strings.Join(finished, " "); got != want {
		t.Errorf("finished %q, want %q", got, want)
	}
	if states < 3 {
		t.Errorf("%d state events", states)
	}
	if percents == 0 {
		t.Error("no progress percentage while the safety snapshot was created")
	}
	waits := map[rollback.Step]bool{rollback.StepStop: true, rollback.StepSafetySnapshot: true, rollback.StepWaitRollback: true}
	for _, st := range rep.Steps {
		// On a virtual clock only waiting takes time.
		if st.Outcome != "done" || (waits[st.Step] && st.Duration <= 0) {
			t.Errorf("step %+v", st)
		}
	}
	if last := rep.Steps[len(rep.Steps)-1]; last.RequestID == "" {
		t.Errorf("the wait step does not name the rollback's request: %+v", last)
	}
	_ = fmt.Sprint(rep)
}

func batchBatchesReads(t *testing.T, f Factory) {
	// Many goroutines at once: a scaled clock, not an auto-advancing one.
	// The client keeps to 5 mutating calls a minute, half of either
	// cloud's quota, so calls would have to be held up by a whole window
	// to trip the cloud's. At 100x that is 630ms of wall time; at 200x
	// (315ms) a loaded machine running -race did it, and the cloud's
	// throttling outlasted the retries. 30 servers keep the run as short.
	clk := clock.NewScaled(100)
	h := f(t, clk, rollback.WithRateLimit(5, time.Minute))
	const n = 30
	tgs := make([]Target, n)
	reqs := make([]rollback.Request, n)
	for i := range tgs {
		tgs[i] = h.NewTarget(t, i%2 == 0) // half of them running
		reqs[i] = h.Request(tgs[i])
		reqs[i].OperationKey = fmt.Sprintf("fleet-%d", i)
	}
	o := opts(clk)
	o.StopIfRunning = true
	events, polls := 0, 0
	results := rollback.RunBatch(context.Background(), h.Provider(), reqs, o, rollback.BatchOptions{
		Progress: func(_ int, ev rollback.Event) {
			events++
			if ev.Kind == rollback.EventState {
				polls++ // one read each; unbatched, one call each
			}
		},
	})
	for i, r := range results {
		if r.Err != nil {
			t.Fatalf("item %d: %v", i, r.Err)
		}
		if h.Rollbacks(tgs[i]) != 1 {
			t.Fatalf("item %d: %d rollbacks", i, h.Rollbacks(tgs[i]))
		}
		if r.Report.InstanceAfter == nil || r.Report.InstanceAfter.State != rollback.InstanceStopped {
			t.Fatalf("item %d ended %+v", i, r.Report.InstanceAfter)
		}
	}
	// Every check, poll and pre-flight read goes through batched reads (2n
	// check reads, 2n pre-flight reads and every poll). How many reads a
	// call serves depends on which goroutines run within the coalescing
	// window, that is on the scheduler: on a loaded machine it fell from 3
	// to 2.3 per call (issue 16). So it is logged here, not asserted; the
	// target is held by internal/bench (BenchmarkFleet, and TestFleetTargets
	// with ROLLBACK_BENCH_STRICT=1 on an idle machine).
	describes := h.Calls(CallDescribe)
	reads := polls + 4*n
	t.Logf("%s: %d rollbacks, %d reads served by %d read calls, mark reads included (%.1f reads per call), %d events",
		name(h), n, reads, describes, float64(reads)/float64(max(describes, 1)), events)
}

func dryRunNeverResumes(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, false)
	req := h.Request(tg)
	req.OperationKey = "dry-1"
	o := opts(clk)
	o.Checkpoints, o.NoWait = &rollback.MemoryCheckpoints{}, true
	mustRun(t, h, req, o) // accepted, not waited for: the checkpoint says rollback-sent
	o.NoWait, o.DryRun, o.StartAfter = false, true, true
	start := clk.Now()
	rep := mustRun(t, h, req, o)
	if h.Calls(CallStart) != 0 || h.Calls(CallRollback) != 1 {
		t.Errorf("a dry run changed something: %d starts, %d rollback calls", h.Calls(CallStart), h.Calls(CallRollback))
	}
	if waited := clk.Now().Sub(start); waited > time.Minute {
		t.Errorf("a dry run waited %v", waited)
	}
	if !rep.DryRun || rep.Outcome != nil {
		t.Errorf("report %+v", rep)
	}
}

func dryRunBusy(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, false)
	need[BusyMaker](t, h).MakeBusy(t, tg, time.Hour)
	o := opts(clk)
	o.DryRun = true
	rep, err := rollback.Run(context.Background(), h.Provider(), h.Request(tg), o)
	if err != nil {
		t.Fatalf("a dry run refused a busy instance that a real run would wait for: %v", err)
	}
	if len(rep.Plan) == 0 || !strings.HasPrefix(rep.Plan[0], "wait until instance "+tg.InstanceID+" is idle") {
		t.Errorf("plan %q", rep.Plan)
	}
}

// Without any checkpoint (a new process), a Run resumes from what the cloud
// shows.

func resumeNoCheckpointsRunning(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, false)
	req := h.Request(tg)
	req.OperationKey = "ticket-5"
	o := opts(clk)
	o.Checkpoints = rollback.NoCheckpoints
	crashAfterAccept(t, h, req, o)
	// The rollback still running is waited for. With its mark (SWAS) the
	// Run then proves it was its own; without one (Lighthouse) it cannot
	// tell it from someone else's rollback to the same snapshot, and says
	// so rather than adopt it or send another. (A cloud that still
	// deduplicates the token may also take the resend's answer.)
	rep, err := rollback.Run(context.Background(), h.Provider(), req, o)
	wantRollbacks(t, h, tg, 1)
	if !marks(h) && err != nil {
		wantErr(t, err, rollback.ErrOutcomeUnknown)
		return
	}
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.InstanceAfter == nil || rep.InstanceAfter.State != rollback.InstanceStopped {
		t.Errorf("instance after %+v", rep.InstanceAfter)
	}
}

func resumeNoCheckpointsDone(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, false)
	req := h.Request(tg)
	req.OperationKey = "ticket-6"
	o := opts(clk)
	o.Checkpoints = rollback.NoCheckpoints
	mustRun(t, h, req, o)
	// The same operation again, as from a new process: it must not roll
	// back twice, and may only succeed if it can prove the first one did.
	_, err := rollback.Run(context.Background(), h.Provider(), req, o)
	wantRollbacks(t, h, tg, 1)
	if err != nil && !errors.Is(err, rollback.ErrOutcomeUnknown) {
		t.Errorf("err = %v, want success or ErrOutcomeUnknown", err)
	}
}

// batchItemsEndOnTheirOwn: in one RunBatch, a refused item (a snapshot of
// another disk) fails alone, before anything is sent for it, and every
// other item is rolled back once; results keep the requests' order, and
// Done sees every item once.
func batchItemsEndOnTheirOwn(t *testing.T, f Factory) {
	clk := clock.NewScaled(100)
	h := f(t, clk)
	tgs := []Target{h.NewTarget(t, false), h.NewTarget(t, false), h.NewTarget(t, false)}
	reqs := make([]rollback.Request, len(tgs))
	for i, tg := range tgs {
		reqs[i] = h.Request(tg)
		reqs[i].OperationKey = fmt.Sprintf("items-%d", i)
	}
	reqs[1].SnapshotID = h.NewTarget(t, false).SnapshotID
	var mu sync.Mutex
	done := map[int]int{}
	results := rollback.RunBatch(context.Background(), h.Provider(), reqs, opts(clk), rollback.BatchOptions{
		Done: func(i int, _ rollback.BatchResult) { mu.Lock(); done[i]++; mu.Unlock() },
	})
	if len(results) != len(reqs) {
		t.Fatalf("%d results for %d requests", len(results), len(reqs))
	}
	for i, r := range results {
		if r.Request.SnapshotID != reqs[i].SnapshotID {
			t.Errorf("result %d is for request %+v, want %+v", i, r.Request, reqs[i])
		}
		if done[i] != 1 {
			t.Errorf("Done called %d times for item %d", done[i], i)
		}
	}
	wantErr(t, results[1].Err, rollback.ErrSnapshotMismatch)
	wantRollbacks(t, h, tgs[1], 0)
	for _, i := range []int{0, 2} {
		if results[i].Err != nil {
			t.Errorf("item %d: %v", i, results[i].Err)
		}
		wantRollbacks(t, h, tgs[i], 1)
	}
	if n := h.Calls(CallRollback); n != 2 {
		t.Errorf("%d rollback calls, want 2", n)
	}
}

// throttledRollbackIsRetried: a throttled rollback call was not applied;
// it is retried and applied once.
func throttledRollbackIsRetried(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	need[Refuser](t, h)
	tg := h.NewTarget(t, false)
	refuseNextRollback(t, h, rollback.ErrThrottled)
	rep := mustRun(t, h, h.Request(tg), opts(clk))
	wantRollbacks(t, h, tg, 1)
	if n := h.Calls(CallRollback); n != 2 || rep.Result.Attempts != 2 {
		t.Errorf("%d rollback calls, %d attempts in the result; want 2 and 2", n, rep.Result.Attempts)
	}
}

// permissionDeniedIsFinal: a refusal no retry can fix is returned at
// once, typed, named for the provider, and not ambiguous: nothing was
// applied.
func permissionDeniedIsFinal(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	need[Refuser](t, h)
	tg := h.NewTarget(t, false)
	refuseNextRollback(t, h, rollback.ErrPermissionDenied)
	_, err := rollback.Run(context.Background(), h.Provider(), h.Request(tg), opts(clk))
	wantErr(t, err, rollback.ErrPermissionDenied)
	var e *rollback.Error
	if !errors.As(err, &e) || e.Provider == "" || e.Code == "" {
		t.Errorf("error %#v: want a *rollback.Error naming the provider and the cloud's code", err)
	}
	if rollback.IsRetryable(err) || rollback.IsAmbiguous(err) {
		t.Errorf("error %v: retryable %v, ambiguous %v; want neither", err, rollback.IsRetryable(err), rollback.IsAmbiguous(err))
	}
	if n := h.Calls(CallRollback); n != 1 {
		t.Errorf("%d rollback calls, want 1", n)
	}
	wantRollbacks(t, h, tg, 0)
}

// cancelledMidWait: a Run cancelled while it waits for its rollback
// returns the context's error and reports what it sent: never hidden.
func cancelledMidWait(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := opts(clk)
	o.Progress = func(ev rollback.Event) {
		if ev.Kind == rollback.EventStepStarted && ev.Step == rollback.StepWaitRollback {
			cancel()
		}
	}
	rep, err := rollback.Run(ctx, h.Provider(), h.Request(tg), o)
	wantErr(t, err, context.Canceled)
	if rep == nil || rep.Result == nil || rep.Result.RequestID == "" {
		t.Fatalf("report %+v: the rollback that was sent is not reported", rep)
	}
	if !strings.Contains(steps(rep), "rollback:done") {
		t.Errorf("steps %q: the sent rollback is not recorded", steps(rep))
	}
	wantRollbacks(t, h, tg, 1)
}

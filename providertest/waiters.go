package providertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
)

// The waiters over the provider's reads: each ends when the cloud says
// so, on the clock, and a wait that cannot end times out with the last
// state seen.

func waitOpts(clk clock.Clock) rollback.WaitOptions {
	return rollback.WaitOptions{Clock: clk, Learner: &rollback.Learner{}}
}

// waitStopAndStart: WaitInstance follows a stop and then a start.
func waitStopAndStart(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, true)
	ctx, reg, p := context.Background(), region(h, tg), h.Provider()
	if err := p.StopInstance(ctx, reg, tg.InstanceID); err != nil {
		t.Fatalf("StopInstance: %v", err)
	}
	start := clk.Now()
	in, err := rollback.WaitInstance(ctx, p, reg, tg.InstanceID, rollback.UntilStopped, waitOpts(clk))
	if err != nil || in.State != rollback.InstanceStopped || in.Busy {
		t.Fatalf("wait for stopped: %+v, %v", in, err)
	}
	if d := clk.Now().Sub(start); d < h.Durations().Stop {
		t.Errorf("stopped after %v on the clock; the stop takes %v", d, h.Durations().Stop)
	}
	if err := p.StartInstance(ctx, reg, tg.InstanceID); err != nil {
		t.Fatalf("StartInstance: %v", err)
	}
	in, err = rollback.WaitInstance(ctx, p, reg, tg.InstanceID, rollback.UntilRunning, waitOpts(clk))
	if err != nil || in.State != rollback.InstanceRunning {
		t.Fatalf("wait for running: %+v, %v", in, err)
	}
	if h.Calls(CallStop) != 1 || h.Calls(CallStart) != 1 {
		t.Errorf("%d stop and %d start calls, want one each", h.Calls(CallStop), h.Calls(CallStart))
	}
}

// waitSnapshot: a snapshot being created is waited for until ready, and
// it is of the disk asked for.
func waitSnapshot(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, false)
	ctx, reg, p := context.Background(), region(h, tg), h.Provider()
	s, err := p.CreateSnapshot(ctx, reg, tg.InstanceID, tg.DiskID, "providertest")
	if err != nil {
		t.Fatalf("CreateSnapshot: %v", err)
	}
	got, err := rollback.WaitSnapshot(ctx, p, reg, s.ID, waitOpts(clk))
	if err != nil || got.State != rollback.SnapshotReady || got.ID != s.ID {
		t.Fatalf("wait for the snapshot: %+v, %v", got, err)
	}
	if got.DiskID != "" && got.DiskID != tg.DiskID {
		t.Errorf("snapshot of disk %s, want %s", got.DiskID, tg.DiskID)
	}
}

// waitRollback: the wait recognises the end of the rollback that the
// Roller started.
func waitRollback(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, false)
	ctx, reg, p := context.Background(), region(h, tg), h.Provider()
	res, err := p.Rollback(ctx, h.Request(tg))
	if err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	if res.InstanceID != tg.InstanceID || res.Before == nil || res.Before.ID != tg.SnapshotID || res.Attempts != 1 {
		t.Errorf("result %+v", res)
	}
	out, err := rollback.WaitRollback(ctx, p, reg, res, waitOpts(clk))
	if err != nil {
		t.Fatalf("WaitRollback: %v", err)
	}
	if out.Instance == nil || out.Instance.State != rollback.InstanceStopped || out.Evidence == "" {
		t.Errorf("outcome %+v", out)
	}
	wantRollbacks(t, h, tg, 1)
}

// waitRollbackFailed: a rollback the cloud reports failed ends the wait
// with ErrRollbackFailed when the cloud says so, not at the wait's limit.
func waitRollbackFailed(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	fail := need[RollbackFailer](t, h)
	tg := h.NewTarget(t, false)
	ctx, reg, p := context.Background(), region(h, tg), h.Provider()
	fail.FailNextRollback()
	res, err := p.Rollback(ctx, h.Request(tg))
	if err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	start := clk.Now()
	_, err = rollback.WaitRollback(ctx, p, reg, res, waitOpts(clk))
	wantErr(t, err, rollback.ErrRollbackFailed)
	if d := clk.Now().Sub(start); d > 3*h.Durations().Rollback {
		t.Errorf("failure noticed after %v; the rollback takes %v", d, h.Durations().Rollback)
	}
}

// waitTimeout: an instance busy for an hour is not idle within a minute;
// the wait ends at its limit with the last state seen.
func waitTimeout(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	busy := need[BusyMaker](t, h)
	tg := h.NewTarget(t, false)
	busy.MakeBusy(t, tg, time.Hour)
	o := waitOpts(clk)
	o.Timeout = time.Minute
	_, err := rollback.WaitInstance(context.Background(), h.Provider(), region(h, tg), tg.InstanceID, rollback.UntilIdle, o)
	wantErr(t, err, rollback.ErrTimeout)
	var te *rollback.TimeoutError
	if !errors.As(err, &te) || te.Waited != o.Timeout || te.LastState == "" {
		t.Errorf("timeout error %#v, want the limit waited and the last state", err)
	}
}

// waitMany: the batched waiters end every instance and every rollback on
// its own.
func waitMany(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	ctx, p := context.Background(), h.Provider()
	var tgs []Target
	var ids []string
	for range 3 {
		tg := h.NewTarget(t, true)
		tgs, ids = append(tgs, tg), append(ids, tg.InstanceID)
		if err := p.StopInstance(ctx, region(h, tg), tg.InstanceID); err != nil {
			t.Fatalf("StopInstance: %v", err)
		}
	}
	reg := region(h, tgs[0])
	ins, err := rollback.WaitInstances(ctx, p, reg, ids, rollback.UntilStopped, waitOpts(clk))
	if err != nil {
		t.Fatalf("WaitInstances: %v", err)
	}
	for _, id := range ids {
		if r := ins[id]; r.Err != nil || r.Instance == nil || r.Instance.State != rollback.InstanceStopped {
			t.Errorf("instance %s: %+v", id, r)
		}
	}
	var results []*rollback.Result
	for _, tg := range tgs {
		res, err := p.Rollback(ctx, h.Request(tg))
		if err != nil {
			t.Fatalf("Rollback: %v", err)
		}
		results = append(results, res)
	}
	rbs, err := rollback.WaitRollbacks(ctx, p, reg, results, waitOpts(clk))
	if err != nil {
		t.Fatalf("WaitRollbacks: %v", err)
	}
	if len(rbs) != len(tgs) {
		t.Errorf("%d rollback results for %d rollbacks", len(rbs), len(tgs))
	}
	for id, r := range rbs {
		if r.Err != nil || r.Outcome == nil {
			t.Errorf("rollback %s: %+v", id, r)
		}
	}
	for _, tg := range tgs {
		wantRollbacks(t, h, tg, 1)
	}
}

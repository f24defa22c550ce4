package providertest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
)

// Lost checkpoints: a keyed Run whose store does not outlive the process
// (the in-memory default) finds no checkpoint after a crash, exactly as for
// a key never used. It must never roll back twice: it proves from the
// provider's mark (SWAS tags the disk) or from a snapshot never rolled back
// to that no earlier Run of its key sent anything, or it refuses with
// ErrOutcomeUnknown and changes nothing.

func marks(h Harness) bool { return capabilitiesOf(h.Provider()).marker != nil }

// lostCheckpointAfterStart: the first Run rolls back and starts the
// instance; its checkpoint is lost; the same operation runs again.
func lostCheckpointAfterStart(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	need[TokenForgetter](t, h)
	need[OtherActor](t, h)
	tg := h.NewTarget(t, true)
	req := h.Request(tg)
	req.OperationKey = "lost-1"
	o := opts(clk)
	o.StopIfRunning, o.StartAfter = true, true
	o.Checkpoints = rollback.NoCheckpoints // as in a new process
	// The first Run "crashes" as it is about to start the instance (before
	// PhaseDone, so its mark is still there); someone else starts it.
	ctx, cancel := context.WithCancel(context.Background())
	o1 := o
	o1.Progress = func(ev rollback.Event) {
		if ev.Kind == rollback.EventStepStarted && ev.Step == rollback.StepStart {
			cancel()
		}
	}
	_, err := rollback.Run(ctx, h.Provider(), req, o1)
	wantErr(t, err, context.Canceled)
	cancel()
	wantRollbacks(t, h, tg, 1)
	forgetTokens(t, h)
	otherActorStart(t, h, tg)
	clk.Advance(time.Hour)
	_, err = rollback.Run(context.Background(), h.Provider(), req, o)
	wantRollbacks(t, h, tg, 1)
	if marks(h) {
		if err != nil {
			t.Fatalf("with its mark the Run can prove its earlier rollback: %v", err)
		}
		return
	}
	wantErr(t, err, rollback.ErrOutcomeUnknown)
	if !strings.Contains(err.Error(), "AcceptRepeatRisk") {
		t.Errorf("the refusal should say how to proceed: %v", err)
	}
	if n := h.Calls(CallStop); n != 1 {
		t.Errorf("%d stop calls: the refusing Run must not stop the instance first", n)
	}
	// The operator who is sure accepts the risk.
	o.AcceptRepeatRisk = true
	if _, err := rollback.Run(context.Background(), h.Provider(), req, o); err != nil {
		t.Fatalf("with AcceptRepeatRisk: %v", err)
	}
	wantRollbacks(t, h, tg, 2)
}

// lostCheckpointWhileSending: the first Run's reply is lost after the
// cloud applied it and the Run dies; the cloud forgets the token; someone
// starts the instance. A new Run of the key must not reset it again.
func lostCheckpointWhileSending(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	need[TokenForgetter](t, h)
	need[OtherActor](t, h)
	tg := h.NewTarget(t, false)
	req := h.Request(tg)
	req.OperationKey = "lost-2"
	o := opts(clk)
	o.Checkpoints = rollback.NoCheckpoints
	crashAfterAccept(t, h, req, o)
	wantRollbacks(t, h, tg, 1)
	clk.Advance(time.Hour) // the rollback ends; the token is forgotten
	forgetTokens(t, h)
	otherActorStart(t, h, tg)
	clk.Advance(10 * time.Minute)
	o.StopIfRunning = true
	_, err := rollback.Run(context.Background(), h.Provider(), req, o)
	wantRollbacks(t, h, tg, 1)
	if err != nil && !errors.Is(err, rollback.ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want success (proved by the mark) or ErrOutcomeUnknown", err)
	}
	if marks(h) && err != nil {
		t.Fatalf("with its mark the Run can prove its earlier rollback: %v", err)
	}
	if n := h.Calls(CallStop); n != 0 {
		t.Errorf("%d stop calls: the Run stopped a server it was not going to roll back", n)
	}
}

// newKeyFreshSnapshot: a key never used, on a snapshot never rolled back
// to, rolls back even with a store that keeps nothing.
func newKeyFreshSnapshot(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, false)
	req := h.Request(tg)
	req.OperationKey = "fresh-1"
	o := opts(clk)
	o.Checkpoints = rollback.NoCheckpoints
	mustRun(t, h, req, o)
	wantRollbacks(t, h, tg, 1)
}

// newKeyUsedSnapshot: a new key on a snapshot rolled back to before (by
// another operation). With a mark, the Run knows its key never sent and
// goes ahead; without one it cannot tell and asks.
func newKeyUsedSnapshot(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	need[OtherActor](t, h)
	tg := h.NewTarget(t, false)
	req := h.Request(tg)
	o := opts(clk)
	o.Checkpoints = rollback.NoCheckpoints
	mustRun(t, h, req, o) // unkeyed: last week's rollback
	otherActorStart(t, h, tg)
	clk.Advance(time.Hour)
	req.OperationKey = "new-key"
	o.StopIfRunning = true
	_, err := rollback.Run(context.Background(), h.Provider(), req, o)
	if marks(h) {
		if err != nil {
			t.Fatalf("no mark of this key: nothing sent before, so the Run may go ahead: %v", err)
		}
		wantRollbacks(t, h, tg, 2)
		return
	}
	wantErr(t, err, rollback.ErrOutcomeUnknown)
	wantRollbacks(t, h, tg, 1)
}

// durableStoreNewKey: with a store that outlives the process, a missing
// checkpoint means a new key, whatever the snapshot's history.
func durableStoreNewKey(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	need[OtherActor](t, h)
	tg := h.NewTarget(t, false)
	req := h.Request(tg)
	o := opts(clk)
	o.Checkpoints = rollback.FileCheckpoints{Dir: t.TempDir()}
	mustRun(t, h, req, o)
	otherActorStart(t, h, tg)
	clk.Advance(time.Hour)
	req.OperationKey = "durable-new"
	o.StopIfRunning = true
	mustRun(t, h, req, o)
	wantRollbacks(t, h, tg, 2)
}

package providertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/provider"
)

// The exactly-once rules (docs/DESIGN.md, "Exactly once"): an attempt
// that may have applied is resent only on evidence that nothing landed,
// read at least the read grace after it; another actor's rollback is
// never taken for ours; a resumed Run decides from its recorded baseline
// before it touches anything.

// ambiguousNotLanded: the first attempt fails with a server error and
// was not applied. The rollback is applied exactly once, and the Run
// succeeds.
func ambiguousNotLanded(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	need[Refuser](t, h)
	tg := h.NewTarget(t, false)
	refuseNextRollback(t, h, rollback.ErrInternal)
	rep := mustRun(t, h, h.Request(tg), opts(clk))
	wantRollbacks(t, h, tg, 1)
	if n := h.Calls(CallRollback); n != 2 {
		t.Errorf("%d rollback calls, want the failed one and one resend", n)
	}
	if rep.Result == nil || rep.Result.RequestID == "" || rep.Result.Attempts < 2 {
		t.Errorf("result %+v, want the resend's request ID and its attempts", rep.Result)
	}
}

// lostReplyUnderReadLag: the rollback lands, its reply is lost, and for
// half the read grace reads do not show it. A reading made at once would
// see nothing landed; the provider must read again once the grace has
// passed (or resend what the cloud deduplicates) and never apply twice.
func lostReplyUnderReadLag(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	lag, drop := need[ReadLagger](t, h), need[ReplyDropper](t, h)
	tg := h.NewTarget(t, false)
	lag.SetReadLag(rollback.DefaultReadGrace / 2)
	drop.LoseNextRollbackReply()
	rep := mustRun(t, h, h.Request(tg), opts(clk))
	wantRollbacks(t, h, tg, 1)
	if rep.Result == nil || rep.Result.RequestID == "" {
		t.Errorf("result %+v: no request ID for the landed rollback", rep.Result)
	}
}

// readLagBeyondGrace: reads lag an hour, far past the grace, and the
// rollback's reply is lost. Whatever the Run concludes, it never applies
// the rollback twice and never claims it did not happen: an error is
// ambiguous (or ErrOutcomeUnknown), and the checkpoint never moves back
// before rollback-sending.
func readLagBeyondGrace(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk, rollback.WithMaxAttempts(3))
	lag, drop := need[ReadLagger](t, h), need[ReplyDropper](t, h)
	tg := h.NewTarget(t, false)
	lag.SetReadLag(time.Hour)
	drop.LoseNextRollbackReply()
	req := h.Request(tg)
	req.OperationKey = "lag-beyond-grace"
	cps := &rollback.MemoryCheckpoints{}
	o := opts(clk)
	o.Checkpoints = cps
	_, err := rollback.Run(context.Background(), h.Provider(), req, o)
	wantRollbacks(t, h, tg, 1)
	if err == nil {
		return
	}
	if !rollback.IsAmbiguous(err) && !errors.Is(err, rollback.ErrOutcomeUnknown) {
		t.Errorf("err = %v, want an ambiguous error or ErrOutcomeUnknown", err)
	}
	if errors.Is(err, rollback.ErrRollbackFailed) {
		t.Errorf("err = %v: a rollback that landed reported as failed", err)
	}
	cp, _ := cps.Load(context.Background(), req.OperationKey)
	if cp == nil || provider.PhaseBefore(cp.Phase, rollback.PhaseRollbackSending) {
		t.Errorf("checkpoint %+v after a send that may have landed; want rollback-sending or later", cp)
	}
}

// foreignRollbackIsNotOurs: our attempt fails with a server error, and
// before anything is read another actor rolls the disk back to another
// snapshot. That is not our success: ErrOutcomeUnknown, nothing resent
// that lands.
func foreignRollbackIsNotOurs(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	hook, actor := need[RollbackHooker](t, h), need[OtherActor](t, h)
	need[Refuser](t, h)
	tg := h.NewTarget(t, false)
	refuseNextRollback(t, h, rollback.ErrInternal)
	actorErr := make(chan error, 1)
	hook.AfterRollbackCall(h.Calls(CallRollback)+1, func() { actorErr <- actor.OtherActorRollback(tg) })
	res, err := h.Provider().Rollback(context.Background(), h.Request(tg))
	select {
	case aerr := <-actorErr:
		if aerr != nil {
			t.Fatalf("the other actor's rollback: %v", aerr)
		}
	default:
		t.Fatal("the hook never ran: the first rollback call was not made")
	}
	if !errors.Is(err, rollback.ErrOutcomeUnknown) {
		t.Fatalf("got %+v, %v; want ErrOutcomeUnknown", res, err)
	}
	wantRollbacks(t, h, tg, 1) // the other actor's only
}

// resumeWhileOthersAct: a Run crashes with its rollback on the wire
// (checkpoint rollback-sending); the rollback lands and someone starts
// the instance. The resumed Run, asked to stop a running instance,
// decides from its recorded baseline first: it adopts the landed
// rollback and neither stops the instance nor rolls back again.
func resumeWhileOthersAct(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	if capabilitiesOf(h.Provider()).witness == nil {
		t.Skip("the provider is no provider.RollbackWitness: a resume cannot judge the cloud against its baseline")
	}
	need[OtherActor](t, h)
	tg := h.NewTarget(t, false)
	req := h.Request(tg)
	req.OperationKey = "resume-while-others-act"
	o := opts(clk)
	o.Checkpoints = rewoundToSending(t, h, req, o)
	clk.Advance(time.Hour) // the rollback ends
	otherActorStart(t, h, tg)
	clk.Advance(10 * time.Minute)
	o.StopIfRunning = true
	rep := mustRun(t, h, req, o)
	wantRollbacks(t, h, tg, 1)
	if n := h.Calls(CallStop); n != 0 {
		t.Errorf("%d stop calls: the resumed Run stopped a server someone had started", n)
	}
	if rep.Result == nil || !rep.Result.Adopted {
		t.Errorf("result %+v, want the earlier rollback adopted", rep.Result)
	}
}

// rewoundToSending runs req until its rollback is accepted, crashes, and
// returns a store holding the checkpoint as it was while the call was on
// the wire (no reply recorded): the hardest crash to recover from.
func rewoundToSending(t *testing.T, h Harness, req rollback.Request, o rollback.RunOptions) rollback.Checkpointer {
	t.Helper()
	cps := &rollback.MemoryCheckpoints{}
	o.Checkpoints = cps
	crashAfterAccept(t, h, req, o)
	cp, err := cps.Load(context.Background(), req.OperationKey)
	if err != nil || cp == nil {
		t.Fatalf("checkpoint after the crash: %+v, %v", cp, err)
	}
	// Phases only move forward in a store, so the rewound record goes into
	// a new one, as if restored from a backup taken then.
	cp.Phase, cp.Result = rollback.PhaseRollbackSending, nil
	rewound := &rollback.MemoryCheckpoints{}
	if err := rewound.Save(context.Background(), cp); err != nil {
		t.Fatal(err)
	}
	return rewound
}

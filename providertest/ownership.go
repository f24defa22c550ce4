package providertest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
)

// One key, one actor: a Run of a key that another Run holds changes
// nothing and says so (ErrKeyHeld); once the holder has finished, the same
// Run resumes from its checkpoint.

// overlapRun starts a second Run of req's key while the first waits for
// its rollback, and returns the second Run's error.
func overlapRun(t *testing.T, h Harness, req rollback.Request, first, second rollback.RunOptions) error {
	t.Helper()
	var overlapErr error
	overlapped := false
	first.Progress = func(ev rollback.Event) {
		if ev.Kind == rollback.EventStepStarted && ev.Step == rollback.StepWaitRollback && !overlapped {
			overlapped = true
			_, overlapErr = rollback.Run(context.Background(), h.Provider(), req, second)
		}
	}
	mustRun(t, h, req, first)
	if !overlapped {
		t.Fatal("the first Run never waited for its rollback")
	}
	return overlapErr
}

func overlappingRun(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, true)
	req := h.Request(tg)
	req.OperationKey = "overlap-1"
	o := opts(clk)
	o.Checkpoints = &rollback.MemoryCheckpoints{}
	o.StopIfRunning, o.StartAfter = true, true
	err := overlapRun(t, h, req, o, o)
	wantErr(t, err, rollback.ErrKeyHeld)
	if !errors.Is(err, rollback.ErrBusy) {
		t.Errorf("ErrKeyHeld should be ErrBusy too: %v", err)
	}
	wantRollbacks(t, h, tg, 1)
	if n := h.Calls(CallStop); n != 1 {
		t.Errorf("%d stop calls; the overlapping Run must not stop the instance", n)
	}
	// Run again after the holder finished: resumed from its checkpoint,
	// nothing sent.
	rep := mustRun(t, h, req, o)
	if !rep.Resumed || h.Calls(CallRollback) != 1 || h.Calls(CallStart) != 1 {
		t.Errorf("resumed %v, rollback calls %d, start calls %d", rep.Resumed, h.Calls(CallRollback), h.Calls(CallStart))
	}
}

func overlappingProcesses(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, false)
	req := h.Request(tg)
	req.OperationKey = "overlap-2"
	dir := t.TempDir()
	// Two FileCheckpoints values on one directory stand for two processes.
	a, b := opts(clk), opts(clk)
	a.Checkpoints, b.Checkpoints = rollback.FileCheckpoints{Dir: dir}, rollback.FileCheckpoints{Dir: dir}
	wantErr(t, overlapRun(t, h, req, a, b), rollback.ErrKeyHeld)
	wantRollbacks(t, h, tg, 1)
	cp, err := b.Checkpoints.Load(context.Background(), req.OperationKey)
	if err != nil || cp == nil || cp.Phase != rollback.PhaseDone || cp.Owner != "" {
		t.Fatalf("checkpoint after both Runs: %+v, %v; want done and released", cp, err)
	}
}

func crashedOwner(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, false)
	req := h.Request(tg)
	req.OperationKey = "crashed-1"
	o := opts(clk)
	o.Checkpoints = &rollback.MemoryCheckpoints{}
	// A Run that died after claiming the key, without releasing it.
	if _, err := o.Checkpoints.Acquire(context.Background(), req.OperationKey,
		rollback.Lease{Owner: "dead-host/1/abc", Now: clk.Now(), TTL: rollback.DefaultLeaseTTL}); err != nil {
		t.Fatal(err)
	}
	_, err := rollback.Run(context.Background(), h.Provider(), req, o)
	wantErr(t, err, rollback.ErrKeyHeld)
	if n := h.Calls(CallDescribe) + h.Calls(CallRollback); n != 0 {
		t.Errorf("%d calls made for a held key; want none", n)
	}
	clk.Advance(rollback.DefaultLeaseTTL + time.Second)
	mustRun(t, h, req, o)
	wantRollbacks(t, h, tg, 1)
}

func corruptCheckpoint(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	tg := h.NewTarget(t, false)
	req := h.Request(tg)
	req.OperationKey = "corrupt-1"
	dir := t.TempDir()
	store := rollback.FileCheckpoints{Dir: dir}
	o := opts(clk)
	o.Checkpoints = store
	if err := store.Save(context.Background(), &rollback.Checkpoint{Key: req.OperationKey, Phase: rollback.PhaseChecked}); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 1 {
		t.Fatalf("checkpoint files %v", files)
	}
	if err := os.WriteFile(files[0], []byte(`{"version":99,"key":"corrupt-1"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := rollback.Run(context.Background(), h.Provider(), req, o)
	wantErr(t, err, rollback.ErrCheckpointCorrupt)
	if n := h.Calls(CallRollback) + h.Calls(CallStop); n != 0 {
		t.Errorf("%d mutating calls despite an unreadable checkpoint", n)
	}
}

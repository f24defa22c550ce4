package chaos

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/cloudsnap/rollback"
)

// The world is not alone: other actors change the server between the
// client's calls, Runs of one key overlap, checkpoints get lost, reads lag
// writes and tokens are forgotten. JudgeWorld holds Runs in such a world
// to four invariants:
//
//   - never two rollbacks for one key;
//   - never a success that was not ours (our rollback applied once, and the
//     report names our request);
//   - never a forced stop that was not allowed (a rollback applied to a
//     RUNNING instance without AllowForcedStop, on a cloud that forces the
//     stop, or a Run stopping the server after the key's rollback landed);
//   - never a checkpoint phase that moves backwards.

// phaseOrder ranks the checkpoint phases; phases it does not know are not
// judged.
var phaseOrder = map[rollback.Phase]int{
	rollback.PhaseChecked: 1, rollback.PhaseStopped: 2, rollback.PhaseBackedUp: 3, rollback.PhaseRollbackSending: 4,
	rollback.PhaseRollbackSent: 5, rollback.PhaseRollbackDone: 6, rollback.PhaseDone: 7,
}

// PhaseWatch reads a key's checkpoint whenever Look is called (the world
// tests call it before every request the clients send) and remembers any
// phase that moved backwards. It only loads, so it holds for any
// Checkpointer.
type PhaseWatch struct {
	store rollback.Checkpointer
	key   string

	mu   sync.Mutex
	last rollback.Phase
	bad  []string
}

// WatchPhases watches key's checkpoint in store.
func WatchPhases(store rollback.Checkpointer, key string) *PhaseWatch {
	return &PhaseWatch{store: store, key: key}
}

// Look loads the checkpoint and compares its phase with the last one seen.
func (w *PhaseWatch) Look() {
	if w == nil || w.store == nil {
		return
	}
	cp, err := w.store.Load(context.Background(), w.key)
	if err != nil || cp == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	now, known := phaseOrder[cp.Phase]
	if !known {
		return
	}
	if now < phaseOrder[w.last] {
		w.bad = append(w.bad, fmt.Sprintf("PHASE BACKWARDS: the checkpoint of %s went from %s to %s", w.key, w.last, cp.Phase))
	}
	w.last = cp.Phase
}

// ForcedStops counts rollbacks applied to a RUNNING instance, watching
// rollback requests through the emulator's hooks (Actors).
type ForcedStops struct {
	mu sync.Mutex
	n  int
}

// WatchForcedStops watches the first n rollback requests for tg.
func WatchForcedStops(e Env, tg Target, n int) *ForcedStops {
	return watchForcedStopsFrom(e, tg, 1, n, func(f func()) func() { return f })
}

// watchForcedStopsFrom watches rollback requests from to from+n-1; gate
// wraps each hook (the soak's disarm their unit's hooks when it ends). An
// Env without Actors watches nothing.
func watchForcedStopsFrom(e Env, tg Target, from, n int, gate func(func()) func()) *ForcedStops {
	fs := &ForcedStops{}
	hooks, ok := e.(Actors)
	if !ok {
		return fs
	}
	rb := e.Profile().Calls.Rollback
	for i := from; i < from+n; i++ {
		var running bool
		var before int
		hooks.Before(rb, i, gate(func() { running, before = e.State(tg) == rollback.InstanceRunning, e.Rollbacks(tg) }))
		hooks.After(rb, i, gate(func() {
			if running && e.Rollbacks(tg) > before {
				fs.mu.Lock()
				fs.n++
				fs.mu.Unlock()
			}
		}))
	}
	return fs
}

// Count is how many forced stops were seen.
func (fs *ForcedStops) Count() int {
	if fs == nil {
		return 0
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.n
}

// WorldRun is one Run's result.
type WorldRun struct {
	Err    error
	Report *rollback.Report
}

// stoppedAfterRollback reports whether a client stopped tg's instance after
// one of its rollbacks was applied: the server was running again (someone
// started it, or the run itself), so the stop erases nothing yet but
// throws away what ran.
func stoppedAfterRollback(e Env, tg Target) bool {
	a := e.Profile().Calls
	rolled := false
	for _, c := range e.Journal() {
		if c.Actor || !c.Applied || !c.Names(tg) {
			continue
		}
		switch {
		case c.Name == a.Rollback:
			rolled = true
		case c.Name == a.Stop && rolled:
			return true
		}
	}
	return false
}

// JudgeWorld returns every world invariant the Runs of one key on tg
// broke: forced counts forced stops (nil: not watched), watches the key's
// checkpoint phases.
func JudgeWorld(e Env, tg Target, runs []WorldRun, forced *ForcedStops, watches ...*PhaseWatch) []string {
	var bad []string
	ids := Ours(e, tg)
	if len(ids) > 1 {
		bad = append(bad, fmt.Sprintf("DOUBLE ROLLBACK: %d rollbacks of ours for one key", len(ids)))
	}
	for i, r := range runs {
		if r.Err != nil {
			continue
		}
		if len(ids) != 1 {
			bad = append(bad, fmt.Sprintf("SUCCESS THAT WAS NOT OURS: run %d succeeded with %d rollbacks of ours", i, len(ids)))
		}
		if r.Report != nil && r.Report.Result != nil && r.Report.Result.RequestID != "" && !slices.Contains(ids, r.Report.Result.RequestID) {
			bad = append(bad, fmt.Sprintf("SUCCESS THAT WAS NOT OURS: run %d reports request %s, ours are %v", i, r.Report.Result.RequestID, ids))
		}
	}
	if n := forced.Count(); n > 0 {
		bad = append(bad, fmt.Sprintf("FORCED STOP: %d rollbacks applied to a RUNNING instance without AllowForcedStop", n))
	}
	if stoppedAfterRollback(e, tg) {
		bad = append(bad, "FORCED STOP: a run stopped the server after the key's rollback had landed")
	}
	for _, w := range watches {
		w.Look()
		w.mu.Lock()
		bad = append(bad, w.bad...)
		w.mu.Unlock()
	}
	return bad
}

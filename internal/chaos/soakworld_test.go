package chaos

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cloudsnap/rollback"
)

// The soak's world units (issue 11), drawn only when worldFixed: around a
// Run, another actor starts, stops, snapshots or rolls back the server at a
// random request; reads lag writes; SWAS forgets old tokens; a resumed Run
// finds its checkpoint lost; or a second Run of the same key overlaps it, in
// the same process or in another one sharing a FileCheckpoints directory.
// World units are judged by judgeWorld's four invariants (and the secret
// scan): the other checks of judge assume the Run is alone.

// worldPlan is what a unit does around its Run.
type worldPlan struct {
	Actor       string // "", "start", "stop", "snapshot", "rollback"
	ActorOn     string // the action whose request triggers the actor
	ActorAt     int    // that action's n-th request of the unit
	ActorAfter  bool   // after the request was handled, not before
	Lag         time.Duration
	TokenWindow time.Duration
	Lost        bool   // the resumed Run gets a fresh, empty store
	Overlap     string // "", "goroutine", "process"
}

func (w worldPlan) active() bool {
	return w.Actor != "" || w.Lag > 0 || w.TokenWindow > 0 || w.Lost || w.Overlap != ""
}

func (w worldPlan) String() string {
	var parts []string
	if w.Actor != "" {
		when := "before"
		if w.ActorAfter {
			when = "after"
		}
		parts = append(parts, fmt.Sprintf("another actor %ss %s %s #%d", w.Actor, when, w.ActorOn, w.ActorAt))
	}
	if w.Lag > 0 {
		parts = append(parts, "read lag "+w.Lag.String())
	}
	if w.TokenWindow > 0 {
		parts = append(parts, "tokens forgotten after "+w.TokenWindow.String())
	}
	if w.Lost {
		parts = append(parts, "checkpoint lost before the resume")
	}
	if w.Overlap != "" {
		parts = append(parts, "overlapping run in another "+w.Overlap)
	}
	return strings.Join(parts, ", ")
}

// drawWorld gives about one unit in three a world, from the unit's own
// stream (the plan's other draws do not change).
func drawWorld(seed uint64, p *soakPlan) {
	r := rand.New(rand.NewPCG(seed, uint64(p.ID)|1<<50))
	if r.IntN(3) != 0 {
		return
	}
	w := &p.World
	a := ProviderActions[p.Provider]
	if r.IntN(2) == 0 {
		w.Actor = []string{"start", "stop", "snapshot", "rollback"}[r.IntN(4)]
		w.ActorOn = []string{a.Rollback, a.ReadInstance, a.ReadSnapshot, a.Stop, a.Start}[r.IntN(5)]
		w.ActorAt = 1 + r.IntN(3)
		w.ActorAfter = r.IntN(2) == 0
	}
	if r.IntN(3) == 0 {
		w.Lag = []time.Duration{5 * time.Second, 30 * time.Second, worldMaxLag}[r.IntN(3)]
	}
	if p.Provider == rollback.ProviderAliyun && r.IntN(4) == 0 {
		w.TokenWindow = []time.Duration{time.Minute, 10 * time.Minute}[r.IntN(2)]
	}
	if p.CrashAt > 0 && r.IntN(3) == 0 {
		w.Lost = true
	}
	if p.CrashAt == 0 && r.IntN(3) == 0 {
		w.Overlap = []string{"goroutine", "process"}[r.IntN(2)]
		if p.Key == "" {
			p.Key = fmt.Sprintf("soak-%d-%d", seed, p.ID)
		}
		p.Checkpoints = true
	}
	if !w.active() {
		w.Lag = time.Minute
	}
}

// runWorldPlan runs a unit with a world and records it.
func (g *envGroup) runWorldPlan(p soakPlan, st *soakStats) {
	what := p.String()
	e, err := g.env(p.Provider, p.Slow, p.DataDisk)
	if err != nil {
		st.record("world", p.Provider, nil, false, nil, err, 0, []string{"env: " + err.Error()}, nil, what)
		return
	}
	unit := g.unit.Add(1)
	mine := func(f func()) func() {
		return func() {
			if g.unit.Load() == unit {
				f()
			}
		}
	}
	tg, j0 := g.prepare(e, p)
	w := p.World
	e.SetReadLag(w.Lag)
	e.SetTokenWindow(w.TokenWindow)
	defer func() {
		g.unit.Add(1) // disarm this unit's hooks
		e.ClearFaults()
		e.FailNextRollbacks(0)
		e.SetReadLag(0)
		e.SetTokenWindow(0)
		g.hook = nil
	}()

	// Hooks count requests from the emulator's start: arm them past this
	// unit's first.
	sent := func(action string) int {
		n := 0
		for _, en := range e.Journal() {
			if en.Actor == "" && en.Action == action {
				n++
			}
		}
		return n
	}
	if w.Actor != "" {
		act := map[string]func(Target) error{
			"start": e.ActorStart, "stop": e.ActorStop, "snapshot": e.ActorSnapshot,
			// To another snapshot: one to the same snapshot after our
			// baseline cannot be told from ours (DESIGN.md, Exactly once).
			"rollback": func(tg Target) error { _, err := e.ActorRollbackOther(tg); return err },
		}[w.Actor]
		f := mine(func() { _ = act(tg) }) // refused by the cloud's rules or not: the world moved on
		n := sent(w.ActorOn) + w.ActorAt
		if w.ActorAfter {
			e.After(w.ActorOn, n, f)
		} else {
			e.Before(w.ActorOn, n, f)
		}
	}
	var forced *forcedStops
	if p.Provider == rollback.ProviderTencent {
		forced = watchForcedStopsFrom(e, tg, sent(e.Actions().Rollback)+1, 10, mine)
	}

	req := e.Request(tg)
	req.OperationKey = p.Key
	runLogs := NewCapture()
	opts := rollback.RunOptions{
		StopIfRunning: p.Stop, SafetySnapshot: p.Safety, StartAfter: p.Start,
		Clock: g.clk, Logger: slog.New(runLogs), Wait: g.wait,
	}
	opts.Wait.Learner = g.learner
	var store rollback.Checkpointer
	var dir string
	switch {
	case w.Overlap == "process":
		dir, err = os.MkdirTemp("", "chaos-world-")
		if err != nil {
			st.record("world", p.Provider, nil, false, nil, err, 0, []string{"temp dir: " + err.Error()}, nil, what)
			return
		}
		defer os.RemoveAll(dir)
		store = rollback.FileCheckpoints{Dir: dir}
	case p.Checkpoints:
		store = &rollback.MemoryCheckpoints{}
	}
	opts.Checkpoints = store
	var watches []*phaseWatch
	if store != nil && p.Key != "" {
		watches = append(watches, &phaseWatch{store: store, key: p.Key})
	}
	look := func() {
		for _, pw := range watches {
			pw.look()
		}
	}

	mode := "world"
	var runs []worldRun
	switch {
	case w.Overlap != "":
		second, closeSecond := e.Provider(), func() {}
		if w.Overlap == "process" {
			second, closeSecond, err = e.NewClient()
			if err != nil {
				st.record("world", p.Provider, nil, false, nil, err, 0, []string{"second client: " + err.Error()}, nil, what)
				return
			}
		}
		defer closeSecond()
		g.hook = func(string) { look() }
		runs = make([]worldRun, 2)
		var wg sync.WaitGroup
		for i, prov := range []rollback.Provider{e.Provider(), second} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rep, err := rollback.Run(context.Background(), prov, req, opts)
				runs[i] = worldRun{err, rep}
			}()
		}
		wg.Wait()
		mode = "world-overlap"
	case p.CrashAt > 0:
		ctx, cancel := context.WithCancel(context.Background())
		n := 0
		g.hook = func(string) {
			look()
			if n++; n == p.CrashAt {
				cancel()
			}
		}
		rep, err := rollback.Run(ctx, e.Provider(), req, opts)
		cancel()
		runs = append(runs, worldRun{err, rep})
		g.hook = func(string) { look() }
		if w.Lost {
			opts.Checkpoints = &rollback.MemoryCheckpoints{}
		}
		rep, err = rollback.Run(context.Background(), e.Provider(), req, opts)
		runs = append(runs, worldRun{err, rep})
		mode = "world-resume"
	default:
		g.hook = func(string) { look() }
		rep, err := rollback.Run(context.Background(), e.Provider(), req, opts)
		runs = append(runs, worldRun{err, rep})
	}
	g.hook = nil

	entries := e.Journal()[j0:]
	_, _, _, count := firedFaults(entries, p.Faults, e.Actions())
	bad := judgeWorld(e, tg, runs, forced, watches...)
	if p.FailRollback && len(e.Ours(tg)) == 2 && e.RollbackSucceeded(tg) {
		// The documented exception (resentAfterFailure): the first of our
		// rollbacks FAILED in the cloud while no Run watched, and SWAS
		// shows a failed reset exactly as one never made; the resumed Run
		// sent it again and that one succeeded. One rollback took effect.
		bad = slices.DeleteFunc(bad, func(b string) bool {
			return strings.HasPrefix(b, "DOUBLE ROLLBACK: 2 ") || strings.HasPrefix(b, "SUCCESS THAT WAS NOT OURS: run 1 succeeded with 2 ")
		})
		count["resent after a cloud failure"]++
	}
	if *soakOnly == p.ID {
		g.dump(entries)
	}
	var texts []string
	var reps []*rollback.Report
	for _, r := range runs {
		texts = append(texts, ErrorTexts(r.err)...)
		reps = append(reps, r.rep)
	}
	leaks := g.leaks(e, texts, runLogs, reps...)
	last := runs[len(runs)-1]
	applied := len(e.Ours(tg))
	if len(bad) > 0 {
		what += fmt.Sprintf("; got %v after %d calls: %v", Observe(last.err, applied), len(entries), last.err)
	}
	st.record(mode, p.Provider, p.Faults, p.FailRollback, count, last.err, applied, bad, leaks, what)
	st.mu.Lock()
	st.calls[mode] += len(entries)
	st.mu.Unlock()
}

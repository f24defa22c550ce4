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

// The soak's world units: around a Run, another actor starts, stops,
// snapshots or rolls back the server at a random request (Actors); reads
// lag writes (ReadLagger); tokens are forgotten (TokenForgetter); a
// resumed Run finds its checkpoint lost; or a second Run of the same key
// overlaps it, in the same process or in another one (Clients) sharing a
// FileCheckpoints directory. World units are judged by JudgeWorld's four
// invariants (and the secret scan): the other checks of judge assume the
// Run is alone.

// worldPlan is what a unit does around its Run.
type worldPlan struct {
	Actor       string // "", "start", "stop", "snapshot", "rollback"
	ActorOn     string // the call whose request triggers the actor
	ActorAt     int    // that call's n-th request of the unit
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
// stream (the plan's other draws do not change), made of what the Env can
// do.
func (s *soaker) drawWorld(p *soakPlan) {
	r := rand.New(rand.NewPCG(s.seed, uint64(p.ID)|1<<50))
	if r.IntN(3) != 0 {
		return
	}
	w := &p.World
	a := s.prof.Calls
	if r.IntN(2) == 0 && s.caps.actors {
		w.Actor = []string{"start", "stop", "snapshot", "rollback"}[r.IntN(4)]
		w.ActorOn = []string{a.Rollback, a.ReadInstance, a.ReadSnapshot, a.Stop, a.Start}[r.IntN(5)]
		w.ActorAt = 1 + r.IntN(3)
		w.ActorAfter = r.IntN(2) == 0
	}
	if r.IntN(3) == 0 && s.caps.lag {
		w.Lag = []time.Duration{5 * time.Second, 30 * time.Second, MaxReadLag}[r.IntN(3)]
	}
	if s.caps.tokens && r.IntN(4) == 0 {
		w.TokenWindow = []time.Duration{time.Minute, 10 * time.Minute}[r.IntN(2)]
	}
	if p.CrashAt > 0 && r.IntN(3) == 0 {
		w.Lost = true
	}
	if p.CrashAt == 0 && r.IntN(3) == 0 {
		w.Overlap = []string{"goroutine", "process"}[r.IntN(2)]
		if w.Overlap == "process" && !s.caps.clients {
			w.Overlap = "goroutine"
		}
		if p.Key == "" {
			p.Key = fmt.Sprintf("soak-%d-%d", s.seed, p.ID)
		}
		p.Checkpoints = true
	}
	if !w.active() && s.caps.lag {
		w.Lag = time.Minute
	}
}

// runWorldPlan runs a unit with a world and records it.
func (g *envGroup) runWorldPlan(p soakPlan) {
	st := g.s.st
	what := p.String()
	e, err := g.env(p.Slow, p.Variant)
	if err != nil {
		st.record("world", p.Variant, nil, false, nil, err, 0, []string{"env: " + err.Error()}, nil, what)
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
	w := p.World
	defer func() {
		g.unit.Add(1) // disarm this unit's hooks
		e.ClearFaults()
		e.FailNextRollbacks(0)
		if l, ok := e.(ReadLagger); ok {
			l.SetReadLag(0)
		}
		if tf, ok := e.(TokenForgetter); ok {
			tf.SetTokenWindow(0)
		}
		g.hook = nil
	}()
	tg, j0, err := g.prepare(e, p)
	if err != nil {
		st.record("world", p.Variant, nil, false, nil, err, 0, []string{err.Error()}, nil, what)
		return
	}
	if l, ok := e.(ReadLagger); ok {
		l.SetReadLag(w.Lag)
	}
	if tf, ok := e.(TokenForgetter); ok {
		tf.SetTokenWindow(w.TokenWindow)
	}

	// Hooks count requests from the emulator's start: arm them past this
	// unit's first.
	sent := func(call string) int {
		n := 0
		for _, c := range e.Journal() {
			if !c.Actor && c.Name == call {
				n++
			}
		}
		return n
	}
	if actors, ok := e.(Actors); ok && w.Actor != "" {
		act := map[string]func(Target) error{
			"start": actors.ActorStart, "stop": actors.ActorStop, "snapshot": actors.ActorSnapshot,
			// To another snapshot: one to the same snapshot after our
			// baseline cannot be told from ours (DESIGN.md, Exactly once).
			"rollback": func(tg Target) error { _, err := actors.ActorRollbackOther(tg); return err },
		}[w.Actor]
		f := mine(func() { _ = act(tg) }) // refused by the cloud's rules or not: the world moved on
		n := sent(w.ActorOn) + w.ActorAt
		if w.ActorAfter {
			actors.After(w.ActorOn, n, f)
		} else {
			actors.Before(w.ActorOn, n, f)
		}
	}
	var forced *ForcedStops
	if g.s.prof.Traits.RollbackForcesStop {
		forced = watchForcedStopsFrom(e, tg, sent(g.s.prof.Calls.Rollback)+1, 10, mine)
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
			st.record("world", p.Variant, nil, false, nil, err, 0, []string{"temp dir: " + err.Error()}, nil, what)
			return
		}
		defer os.RemoveAll(dir)
		store = rollback.FileCheckpoints{Dir: dir}
	case p.Checkpoints:
		store = &rollback.MemoryCheckpoints{}
	}
	opts.Checkpoints = store
	var watches []*PhaseWatch
	if store != nil && p.Key != "" {
		watches = append(watches, WatchPhases(store, p.Key))
	}
	look := func() {
		for _, pw := range watches {
			pw.Look()
		}
	}

	mode := "world"
	var runs []WorldRun
	switch {
	case w.Overlap != "":
		second, closeSecond := e.Provider(), func() {}
		if w.Overlap == "process" {
			second, closeSecond, err = e.(Clients).NewClient()
			if err != nil {
				st.record("world", p.Variant, nil, false, nil, err, 0, []string{"second client: " + err.Error()}, nil, what)
				return
			}
		}
		defer closeSecond()
		g.hook = func(string) { look() }
		runs = make([]WorldRun, 2)
		var wg sync.WaitGroup
		for i, prov := range []rollback.Provider{e.Provider(), second} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rep, err := rollback.Run(context.Background(), prov, req, opts)
				runs[i] = WorldRun{err, rep}
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
		runs = append(runs, WorldRun{err, rep})
		g.hook = func(string) { look() }
		if w.Lost {
			opts.Checkpoints = &rollback.MemoryCheckpoints{}
		}
		rep, err = rollback.Run(context.Background(), e.Provider(), req, opts)
		runs = append(runs, WorldRun{err, rep})
		mode = "world-resume"
	default:
		g.hook = func(string) { look() }
		rep, err := rollback.Run(context.Background(), e.Provider(), req, opts)
		runs = append(runs, WorldRun{err, rep})
	}
	g.hook = nil

	entries := e.Journal()[j0:]
	_, _, _, count := firedFaults(entries, g.s.prof.Calls)
	bad := JudgeWorld(e, tg, runs, forced, watches...)
	if p.FailRollback && len(Ours(e, tg)) == 2 && e.RollbackSucceeded(tg) {
		// The documented exception (resentAfterFailure): the first of our
		// rollbacks FAILED in the cloud while no Run watched, and the cloud
		// may show a failed rollback exactly as one never made; the resumed
		// Run sent it again and that one succeeded. One rollback took
		// effect.
		bad = slices.DeleteFunc(bad, func(b string) bool {
			return strings.HasPrefix(b, "DOUBLE ROLLBACK: 2 ") || strings.HasPrefix(b, "SUCCESS THAT WAS NOT OURS: run 1 succeeded with 2 ")
		})
		count["resent after a cloud failure"]++
	}
	if g.s.only == p.ID {
		g.dump(entries)
	}
	var texts []string
	var reps []*rollback.Report
	for _, r := range runs {
		texts = append(texts, ErrorTexts(r.Err)...)
		reps = append(reps, r.Report)
	}
	leaks := g.leaks(e, texts, runLogs, reps...)
	last := runs[len(runs)-1]
	applied := len(Ours(e, tg))
	if len(bad) > 0 {
		what += fmt.Sprintf("; got %v after %d calls: %v", Observe(last.Err, applied), len(entries), last.Err)
	}
	st.record(mode, p.Variant, p.Faults, p.FailRollback, count, last.Err, applied, bad, leaks, what)
	st.mu.Lock()
	st.calls[mode] += len(entries)
	st.mu.Unlock()
}

package chaos

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	pchaos "github.com/cloudsnap/rollback/providertest/chaos"
)

// The world is not alone (issue 11): other actors change the server between
// our calls, runs of one key overlap (two goroutines, or two processes
// sharing a checkpoint directory), checkpoints get lost, reads lag writes
// and SWAS forgets old ClientTokens. Every scenario is judged by the same
// four invariants (judgeWorld):
//
//   - never two rollbacks for one key;
//   - never a success that was not ours (our rollback applied once, and the
//     report names our request);
//   - never a forced stop that was not allowed (Lighthouse applying a
//     rollback to a RUNNING instance without AllowForcedStop, or a run
//     stopping the server after the key's rollback landed);
//   - never a checkpoint phase that moves backwards. This is strict: a Run
//     whose rollback was refused may not rewind rollback-sending to checked
//     either (today's library does; issue 11 item 1 wants phases to move
//     forward only, a resume deciding from the recorded baseline).

// worldFixed turns on the scenarios (and the soak's world units) that fail
// on the library before issue 11's engine (ownership of keys, evidence that
// names our target, checks before every send, markers). The lead flips it
// after merging the engine; every guarded test must then pass.
const worldFixed = true

// needsEngine skips a test that fails until the issue 11 engine is merged.
func needsEngine(t *testing.T) {
	t.Helper()
	if !worldFixed {
		t.Skip("needs the issue 11 engine (flip worldFixed in internal/chaos/world_test.go once it is merged)")
	}
}

// worldRun is one Run's result.
func worldRun(err error, rep *rollback.Report) pchaos.WorldRun {
	return pchaos.WorldRun{Err: err, Report: rep}
}

// judgeWorld holds runs to the four invariants (pchaos.JudgeWorld).
func judgeWorld(e Env, tg Target, runs []pchaos.WorldRun, forced *pchaos.ForcedStops, watches ...*pchaos.PhaseWatch) []string {
	return pchaos.JudgeWorld(Public(e), tg, runs, forced, watches...)
}

func watchForcedStops(e Env, tg Target, n int) *pchaos.ForcedStops {
	return pchaos.WatchForcedStops(Public(e), tg, n)
}

// worldEnv is an Env on an auto-advancing virtual clock whose clients poll
// the watched checkpoints before every request.
type worldEnv struct {
	Env
	clk *clock.Virtual

	mu      sync.Mutex
	watches []*pchaos.PhaseWatch
}

func newWorldEnv(t *testing.T, provider string, d Durations) *worldEnv {
	t.Helper()
	w := &worldEnv{clk: clock.NewAutoVirtual(time.Time{})}
	e, err := envs[provider](Config{Clock: w.clk, Durations: d, OnRequest: func(string) {
		w.mu.Lock()
		ws := slices.Clone(w.watches)
		w.mu.Unlock()
		for _, pw := range ws {
			pw.Look()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	w.Env = e
	return w
}

func (w *worldEnv) watch(store rollback.Checkpointer, key string) *pchaos.PhaseWatch {
	pw := pchaos.WatchPhases(store, key)
	w.mu.Lock()
	w.watches = append(w.watches, pw)
	w.mu.Unlock()
	return pw
}

func (w *worldEnv) opts(store rollback.Checkpointer) rollback.RunOptions {
	return rollback.RunOptions{StopIfRunning: true, StartAfter: true, Clock: w.clk, Checkpoints: store,
		Wait: rollback.WaitOptions{Learner: &rollback.Learner{}}}
}

func check(t *testing.T, bad []string, runs ...pchaos.WorldRun) {
	t.Helper()
	for _, b := range bad {
		t.Error(b)
	}
	if len(bad) > 0 {
		for i, r := range runs {
			t.Logf("run %d: %v", i, r.Err)
		}
	}
}

var bothClouds = []string{"aliyun", "tencent"}

// A run crashes once its rollback landed (checkpoint rollback-sending);
// someone then starts the server, or snapshots it; the resumed run (same
// key, same FileCheckpoints) must not roll back again, nor stop the server.
func TestWorldOtherActorAfterCrash(t *testing.T) {
	for _, provider := range bothClouds {
		for _, act := range []string{"start", "snapshot"} {
			t.Run(provider+"/"+act, func(t *testing.T) {
				if provider == "tencent" || act == "start" {
					needsEngine(t)
				}
				w := newWorldEnv(t, provider, Durations{})
				tg := w.NewTarget(false)
				req := w.Request(tg)
				req.OperationKey = "crash-then-" + act
				store := rollback.FileCheckpoints{Dir: t.TempDir()}
				pw := w.watch(store, req.OperationKey)
				ctx, cancel := context.WithCancel(context.Background())
				w.After(w.Actions().Rollback, 1, cancel)
				_, first := rollback.Run(ctx, w.Provider(), req, w.opts(store))
				cancel()
				w.clk.Advance(10 * time.Minute) // the rollback ends
				var err error
				if act == "start" {
					err = w.ActorStart(tg)
				} else {
					err = w.ActorSnapshot(tg)
				}
				if err != nil {
					t.Fatal(err)
				}
				w.clk.Advance(10 * time.Minute)
				rep, err := rollback.Run(context.Background(), w.Provider(), req, w.opts(store))
				runs := []pchaos.WorldRun{worldRun(first, nil), worldRun(err, rep)}
				check(t, judgeWorld(w, tg, runs, nil, pw), runs...)
			})
		}
	}
}

// Two Runs of one key at once, in one process (two goroutines, one
// MemoryCheckpoints) or in two (two clients, one FileCheckpoints
// directory).
func TestWorldOverlappingRuns(t *testing.T) {
	for _, provider := range bothClouds {
		for _, mode := range []string{"goroutines", "processes"} {
			t.Run(provider+"/"+mode, func(t *testing.T) {
				needsEngine(t)
				w := newWorldEnv(t, provider, Durations{})
				tg := w.NewTarget(true)
				req := w.Request(tg)
				req.OperationKey = "overlap-" + mode
				var store rollback.Checkpointer = &rollback.MemoryCheckpoints{}
				second := w.Provider()
				if mode == "processes" {
					store = rollback.FileCheckpoints{Dir: t.TempDir()}
					p, closeP, err := w.NewClient()
					if err != nil {
						t.Fatal(err)
					}
					defer closeP()
					second = p
				}
				pw := w.watch(store, req.OperationKey)
				forced := watchForcedStops(w, tg, 10)
				// The second run starts when the first one's rollback is about
				// to be handled: the widest overlap that needs no waiting
				// inside the hook (a run that waits for the key's owner must
				// not deadlock the test).
				runs := make([]pchaos.WorldRun, 2)
				var wg sync.WaitGroup
				run := func(i int, p rollback.Provider) {
					defer wg.Done()
					rep, err := rollback.Run(context.Background(), p, req, w.opts(store))
					runs[i] = worldRun(err, rep)
				}
				wg.Add(2)
				var once sync.Once
				w.Before(w.Actions().Rollback, 1, func() { once.Do(func() { go run(1, second) }) })
				run(0, w.Provider())
				once.Do(func() { go run(1, second) }) // the first run never sent a rollback
				wg.Wait()
				check(t, judgeWorld(w, tg, runs, forced, pw), runs...)
			})
		}
	}
}

// Our rollback call fails (a 5xx, nothing applied); before the state read,
// someone else rolls the same server back. That is not our success.
func TestWorldOtherActorRollsBackAfterOurFailure(t *testing.T) {
	for _, provider := range bothClouds {
		t.Run(provider, func(t *testing.T) {
			needsEngine(t)
			w := newWorldEnv(t, provider, Durations{})
			tg := w.NewTarget(false)
			rb := w.Actions().Rollback
			w.AddFault(faultOf(provider, "5xx", rb, false))
			// Another snapshot: a rollback to the same snapshot after our
			// baseline cannot be told from ours and is taken as ours (it
			// leaves the disk where we wanted it; DESIGN.md, Exactly once).
			w.After(rb, 1, func() {
				if _, err := w.ActorRollbackOther(tg); err != nil {
					t.Error(err)
				}
			})
			rep, err := rollback.Run(context.Background(), w.Provider(), w.Request(tg), w.opts(nil))
			runs := []pchaos.WorldRun{worldRun(err, rep)}
			check(t, judgeWorld(w, tg, runs, watchForcedStops(w, tg, 0)), runs...)
		})
	}
}

// The server is started by someone else while our rollback is being
// retried (throttled): Lighthouse must not force it off (AllowForcedStop is
// false). SWAS refuses a running server by itself.
func TestWorldStartedDuringRetries(t *testing.T) {
	needsEngine(t)
	w := newWorldEnv(t, "tencent", Durations{Start: time.Second})
	tg := w.NewTarget(false)
	rb := w.Actions().Rollback
	f := faultOf("tencent", "throttle", rb, false)
	f.Times = 3
	w.AddFault(f)
	forced := watchForcedStops(w, tg, 10)
	w.After(rb, 1, func() {
		if err := w.ActorStart(tg); err != nil {
			t.Error(err)
		}
	})
	rep, err := rollback.Run(context.Background(), w.Provider(), w.Request(tg), w.opts(nil))
	runs := []pchaos.WorldRun{worldRun(err, rep)}
	check(t, judgeWorld(w, tg, runs, forced), runs...)
}

// Reads lag writes; our rollback's reply is lost. The run must not roll
// back twice, nor record "checked" after it may have sent the rollback.
func TestWorldReadLagAndLostReply(t *testing.T) {
	for _, provider := range bothClouds {
		t.Run(provider, func(t *testing.T) {
			if provider == "tencent" {
				needsEngine(t)
			}
			w := newWorldEnv(t, provider, Durations{})
			w.SetReadLag(2 * time.Minute)
			tg := w.NewTarget(false)
			req := w.Request(tg)
			req.OperationKey = "lag"
			store := &rollback.MemoryCheckpoints{}
			pw := w.watch(store, req.OperationKey)
			w.AddFault(faultOf(provider, "lost-reply", w.Actions().Rollback, false))
			rep, err := rollback.Run(context.Background(), w.Provider(), req, w.opts(store))
			runs := []pchaos.WorldRun{worldRun(err, rep)}
			check(t, judgeWorld(w, tg, runs, watchForcedStops(w, tg, 0), pw), runs...)
		})
	}
}

// SWAS forgets an old ClientToken: a run that crashed after its reset
// landed, resumed long after, must not reset the disk again (the
// snapshot's RollbackTime proves the first one).
func TestWorldForgottenToken(t *testing.T) {
	needsEngine(t)
	w := newWorldEnv(t, "aliyun", Durations{})
	w.SetTokenWindow(5 * time.Minute)
	tg := w.NewTarget(false)
	req := w.Request(tg)
	req.OperationKey = "old-token"
	store := &rollback.MemoryCheckpoints{}
	pw := w.watch(store, req.OperationKey)
	ctx, cancel := context.WithCancel(context.Background())
	w.After(w.Actions().Rollback, 1, cancel)
	_, first := rollback.Run(ctx, w.Provider(), req, w.opts(store))
	cancel()
	w.clk.Advance(time.Hour)
	rep, err := rollback.Run(context.Background(), w.Provider(), req, w.opts(store))
	runs := []pchaos.WorldRun{worldRun(first, nil), worldRun(err, rep)}
	check(t, judgeWorld(w, tg, runs, nil, pw), runs...)
}

// A keyed run's checkpoint is lost (a new pod, the in-memory default):
// after the crashed run started the server, or after it finished, the run
// again with the same key and a fresh store must not roll back a second
// time.
func TestWorldLostCheckpoint(t *testing.T) {
	for _, provider := range bothClouds {
		for _, when := range []string{"after-start", "after-done"} {
			t.Run(provider+"/"+when, func(t *testing.T) {
				needsEngine(t)
				w := newWorldEnv(t, provider, Durations{})
				tg := w.NewTarget(false)
				req := w.Request(tg)
				req.OperationKey = "lost-" + when
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if when == "after-start" {
					w.After(w.Actions().Start, 1, cancel)
				}
				rep1, first := rollback.Run(ctx, w.Provider(), req, w.opts(&rollback.MemoryCheckpoints{}))
				w.clk.Advance(10 * time.Minute)
				rep, err := rollback.Run(context.Background(), w.Provider(), req, w.opts(&rollback.MemoryCheckpoints{}))
				runs := []pchaos.WorldRun{worldRun(first, rep1), worldRun(err, rep)}
				check(t, judgeWorld(w, tg, runs, nil), runs...)
			})
		}
	}
}

// The world matrix: every call a full Run makes (stop, safety snapshot,
// rollback, start) x another actor starting, stopping, snapshotting or
// rolling back the server just before or just after the call's first
// request, plus each call's reply lost while reads lag a minute. Cells are
// judged by the four invariants, not by an expected outcome: what a Run
// should answer depends on the engine's evidence rules, but none of these
// may ever break.
//
//	go test -race -run WorldMatrix -v ./internal/chaos
func TestWorldMatrix(t *testing.T) {
	needsEngine(t)
	for _, provider := range bothClouds {
		calls, err := pchaos.RunCalls(Factory(provider), "")
		if err != nil {
			t.Fatal(err)
		}
		type cell struct{ call, world string }
		var cells []cell
		for _, call := range calls {
			for _, act := range []string{"start", "stop", "snapshot", "rollback"} {
				cells = append(cells, cell{call, "before/" + act}, cell{call, "after/" + act})
			}
			cells = append(cells, cell{call, "lag/lost-reply"})
		}
		for _, c := range cells {
			t.Run(provider+"/"+c.call+"/"+c.world, func(t *testing.T) {
				w := newWorldEnv(t, provider, Durations{})
				tg := w.NewTarget(true)
				req := w.Request(tg)
				req.OperationKey = "matrix"
				store := &rollback.MemoryCheckpoints{}
				pw := w.watch(store, req.OperationKey)
				forced := watchForcedStops(w, tg, 10)
				when, what, _ := strings.Cut(c.world, "/")
				act := map[string]func(Target) error{
					"start": w.ActorStart, "stop": w.ActorStop, "snapshot": w.ActorSnapshot,
					"rollback": func(tg Target) error { _, err := w.ActorRollback(tg); return err },
				}[what]
				switch when {
				case "before":
					w.Before(c.call, 1, func() { _ = act(tg) })
				case "after":
					w.After(c.call, 1, func() { _ = act(tg) })
				case "lag":
					w.SetReadLag(time.Minute)
					w.AddFault(faultOf(provider, "lost-reply", c.call, false))
				}
				opts := w.opts(store)
				opts.SafetySnapshot = true
				rep, err := rollback.Run(context.Background(), w.Provider(), req, opts)
				runs := []pchaos.WorldRun{worldRun(err, rep)}
				check(t, judgeWorld(w, tg, runs, forced, pw), runs...)
			})
		}
	}
}

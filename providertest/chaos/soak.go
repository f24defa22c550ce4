package chaos

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
)

// The soak's flags, registered in every test binary that imports this
// package (SoakFlags reads them; SoakConfig's zero fields default to them).
var (
	flagRuns    = flag.Int("soak.runs", envInt("CHAOS_SOAK_RUNS", 2000), "Run executions in the chaos soak (env CHAOS_SOAK_RUNS)")
	flagSeed    = flag.Uint64("soak.seed", uint64(envInt("CHAOS_SOAK_SEED", 1)), "seed of the soak's faults and timings (env CHAOS_SOAK_SEED)")
	flagOnly    = flag.Int("soak.only", envInt("CHAOS_SOAK_ONLY", -1), "replay one unit of the soak by its ID (env CHAOS_SOAK_ONLY)")
	flagWorkers = flag.Int("soak.workers", envInt("CHAOS_SOAK_WORKERS", 8), "sequential workers of the soak (env CHAOS_SOAK_WORKERS)")
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// SoakConfig sizes a soak. Zero fields take the flags' values.
type SoakConfig struct {
	// Runs is how many Run executions (sequential Runs and RunBatch items,
	// half each): -soak.runs, 2,000 by default.
	Runs int
	// Seed seeds every random draw: -soak.seed, 1 by default.
	Seed uint64
	// Workers run sequential units at once (-soak.workers, 8), and
	// BatchWorkers batches beside them (4): they mostly wait on their
	// clocks.
	Workers, BatchWorkers int
	// Replay is the command that reruns this soak, printed with
	// -soak.only=ID after each failure (default: go test -run with the
	// test's name, -soak.seed and -soak.runs).
	Replay string
}

// SoakFlags returns the configuration the flags ask for.
func SoakFlags() SoakConfig {
	return SoakConfig{Runs: *flagRuns, Seed: *flagSeed, Workers: *flagWorkers, BatchWorkers: batchWorkers}
}

const (
	// runsPerEnv sequential runs share one Env (per variant), its clock,
	// its durations and one Learner, as runs in one process would; then
	// the next group gets fresh ones.
	runsPerEnv = 40
	// batchShare: one Run in batchShare runs inside RunBatch; batchWorkers
	// batches run at once by default.
	batchShare   = 2
	batchWorkers = 4
	// soakSlowTimeout is the per-attempt timeout of the clients that get
	// slow replies; soakCallTimeout that of the others (never tripped by a
	// loopback call, so a timeout always means an injected fault).
	soakSlowTimeout = 250 * time.Millisecond
	soakCallTimeout = 10 * time.Second
)

var soakKinds = []struct {
	kind   FaultKind
	weight int
}{
	{Fault5xx, 14}, {FaultGateway, 6}, {FaultThrottle, 14}, {FaultBusy, 12}, {FaultReset, 15}, {FaultLostReply, 25}, {FaultSlowReply, 3}, {FaultFailRollback, 6},
}

// soakPlan is one sequential unit: a Run (or a crashed Run and its resume).
type soakPlan struct {
	ID                  int
	Provider            string
	Running             bool   // the target starts running
	RolledBack          bool   // its snapshot was rolled back to before
	Variant             string // Config.Variant
	Stop, Safety, Start bool   // RunOptions.StopIfRunning, SafetySnapshot, StartAfter
	Busy                time.Duration
	Key                 string // OperationKey
	Checkpoints         bool   // MemoryCheckpoints
	CrashAt             int    // the first Run's context ends before its CrashAt-th request
	Faults              []Fault
	FailRollback        bool
	Slow                bool // a slow-reply fault: the client with the short timeout
	World               worldPlan
}

func (p soakPlan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "unit %d: %s, target %s", p.ID, p.Provider, map[bool]string{true: "running", false: "stopped"}[p.Running])
	if p.RolledBack {
		b.WriteString(" (its snapshot rolled back to before)")
	}
	if p.Variant != "" {
		fmt.Fprintf(&b, " (variant %s)", p.Variant)
	}
	fmt.Fprintf(&b, ", stop=%v safety=%v start=%v", p.Stop, p.Safety, p.Start)
	if p.Busy > 0 {
		fmt.Fprintf(&b, ", busy for %v", p.Busy)
	}
	if p.Key != "" {
		fmt.Fprintf(&b, ", key %s (checkpoints %v)", p.Key, p.Checkpoints)
	}
	if p.CrashAt > 0 {
		fmt.Fprintf(&b, ", crash before request %d then resume", p.CrashAt)
	}
	var fs []string
	for _, f := range p.Faults {
		fs = append(fs, f.String())
	}
	if p.FailRollback {
		fs = append(fs, string(FaultFailRollback))
	}
	fmt.Fprintf(&b, ", faults [%s]", strings.Join(fs, "; "))
	if p.World.active() {
		fmt.Fprintf(&b, ", world: %s", p.World)
	}
	return b.String()
}

func weighted[T any](r *rand.Rand, items []T, weight func(T) int) T {
	total := 0
	for _, it := range items {
		total += weight(it)
	}
	n := r.IntN(total)
	for _, it := range items {
		if n < weight(it) {
			return it
		}
		n -= weight(it)
	}
	return items[len(items)-1]
}

type weightedInt struct{ v, w int }

func pickInt(r *rand.Rand, opts ...weightedInt) int {
	return weighted(r, opts, func(o weightedInt) int { return o.w }).v
}

// soaker is one soak: the provider's profile, what its Env can do, and the
// numbers.
type soaker struct {
	factory Factory
	prof    Profile
	caps    envCaps
	seed    uint64
	only    int
	st      *soakStats
}

// drawFaults draws n faults; batch faults count calls of every item, so
// they fire later and more often.
func (s *soaker) drawFaults(r *rand.Rand, n int, batch bool) (faults []Fault, failRb, slow bool) {
	a := s.prof.Calls
	for range n {
		kind := weighted(r, soakKinds, func(k struct {
			kind   FaultKind
			weight int
		}) int {
			if batch && k.kind == FaultSlowReply {
				return 0 // real time; the sequential runs cover it
			}
			if k.kind != FaultFailRollback && !s.prof.supports(k.kind) {
				return 0
			}
			return k.weight
		}).kind
		if kind == FaultFailRollback {
			failRb = true
			continue
		}
		call := weighted(r, []struct {
			a string
			w int
		}{{a.Rollback, 30}, {a.ReadInstance, 20}, {a.ReadSnapshot, 15}, {a.Stop, 10}, {a.Start, 10}, {a.Snapshot, 15}},
			func(x struct {
				a string
				w int
			}) int {
				return x.w
			}).a
		nth := 1 + r.IntN(3)
		if a.IsRead(call) {
			nth = 1 + r.IntN(12)
		}
		if batch {
			nth = 1 + r.IntN(20)
		}
		times := pickInt(r, weightedInt{1, 45}, weightedInt{2, 20}, weightedInt{3, 10}, weightedInt{5, 10}, weightedInt{-1, 15})
		if kind == FaultSlowReply {
			times = 1 + r.IntN(2)
			slow = true
		}
		faults = append(faults, Fault{Call: call, Role: a.Role(call), Kind: kind, Nth: nth, Times: times})
	}
	return faults, failRb, slow
}

func (s *soaker) plan(id int) soakPlan {
	seed := s.seed
	r := rand.New(rand.NewPCG(seed, uint64(id)))
	p := soakPlan{ID: id, Provider: s.prof.Name}
	p.Running = r.IntN(2) == 0
	p.RolledBack = r.IntN(4) == 0
	if vs := s.prof.Variants; len(vs) > 0 && r.IntN(5) == 0 {
		p.Variant = vs[r.IntN(len(vs))]
	}
	p.Stop = !p.Running || r.IntN(12) != 0 // now and then a running target Run may not stop
	p.Safety = r.IntN(2) == 0
	p.Start = r.IntN(2) == 0
	if r.IntN(10) == 0 && s.caps.busy {
		p.Busy = time.Duration(10+r.IntN(170)) * time.Second
	}
	if r.IntN(10) < 6 {
		p.Key = fmt.Sprintf("soak-%d-%d", seed, id)
		p.Checkpoints = r.IntN(2) == 0
		if r.IntN(3) == 0 {
			p.CrashAt = 1 + r.IntN(45)
		}
	}
	n := pickInt(r, weightedInt{0, 20}, weightedInt{1, 40}, weightedInt{2, 25}, weightedInt{3, 15})
	p.Faults, p.FailRollback, p.Slow = s.drawFaults(r, n, false)
	if s.prof.Traits.FailuresLeaveNoTrace && p.CrashAt > 0 && !p.Checkpoints && p.FailRollback {
		// Known limitation (Traits.FailuresLeaveNoTrace): the resumed Run
		// takes the snapshot's earlier rollback for the end of the crashed
		// Run's rollback, which failed unseen.
		p.RolledBack = false
	}
	s.drawWorld(&p)
	return p
}

// groupTimings are the operation durations and wait pacing of one env
// group (or one batch): random, from the unit's stream.
func groupTimings(seed uint64, stream uint64) (Durations, rollback.WaitOptions) {
	r := rand.New(rand.NewPCG(seed, stream))
	sec := func(lo, hi int) time.Duration { return time.Duration(lo+r.IntN(hi-lo+1)) * time.Second }
	d := Durations{Stop: sec(3, 30), Start: sec(3, 30), Rollback: sec(5, 90), Snapshot: sec(5, 90)}
	w := rollback.WaitOptions{
		MinDelay: []time.Duration{time.Second, 2 * time.Second, 5 * time.Second}[r.IntN(3)],
		MaxDelay: []time.Duration{10 * time.Second, 30 * time.Second, time.Minute}[r.IntN(3)],
	}
	return d, w
}

// --- the numbers ---

// soakStats are the soak's numbers.
type soakStats struct {
	mu        sync.Mutex
	seqWall   time.Duration  // until the last sequential worker finished
	batchWall time.Duration  // until the last batch finished
	runs      map[string]int // by mode
	variants  map[string]int
	armed     map[string]int // faults armed, by kind
	fired     map[string]int // calls a fault fired on, by kind
	outcomes  map[string]int // by sentinel ("ok")
	applied   map[int]int
	calls     map[string]int // API calls made, by mode
	failures  []string
	leaks     []string
}

func newSoakStats() *soakStats {
	return &soakStats{runs: map[string]int{}, variants: map[string]int{}, armed: map[string]int{}, fired: map[string]int{},
		outcomes: map[string]int{}, applied: map[int]int{}, calls: map[string]int{}}
}

func (st *soakStats) record(mode, variant string, armed []Fault, failRb bool, fired map[FaultKind]int, err error, applied int, bad, leaks []string, what string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.runs[mode]++
	if variant == "" {
		variant = "usual"
	}
	st.variants[variant]++
	for _, a := range armed {
		st.armed[string(a.Kind)]++
	}
	if failRb {
		st.armed[string(FaultFailRollback)]++
	}
	for k, n := range fired {
		st.fired[string(k)] += n
	}
	o := Sentinel(err)
	if o == "" {
		o = "ok"
	}
	st.outcomes[o]++
	st.applied[applied]++
	for _, b := range bad {
		st.failures = append(st.failures, what+": "+b)
	}
	for _, l := range leaks {
		st.leaks = append(st.leaks, what+": "+l)
	}
}

// done records when a worker of a phase finished.
func (st *soakStats) done(phase *time.Duration, start time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	*phase = max(*phase, time.Since(start))
}

func (st *soakStats) summary(name string, seed uint64, total time.Duration) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	var b strings.Builder
	n := 0
	for _, v := range st.runs {
		n += v
	}
	fmt.Fprintf(&b, "chaos soak of %s: %d Run executions in %v (seed %d; sequential runs done after %v, batches after %v)\n",
		name, n, total.Round(time.Millisecond), seed, st.seqWall.Round(time.Millisecond), st.batchWall.Round(time.Millisecond))
	line := func(title string, m map[string]int) {
		fmt.Fprintf(&b, "  %-22s", title)
		for _, k := range keys(m) {
			fmt.Fprintf(&b, " %s=%d", k, m[k])
		}
		b.WriteString("\n")
	}
	line("runs by mode:", st.runs)
	line("runs by variant:", st.variants)
	line("faults armed:", st.armed)
	line("calls faulted:", st.fired)
	line("outcomes:", st.outcomes)
	perRun := map[string]int{}
	for m, c := range st.calls {
		if st.runs[m] > 0 {
			perRun[m] = c / st.runs[m]
		}
	}
	line("API calls per run:", perRun)
	fmt.Fprintf(&b, "  %-22s 0=%d 1=%d more=%d\n", "rollbacks applied:", st.applied[0], st.applied[1], n-st.applied[0]-st.applied[1])
	fmt.Fprintf(&b, "  %-22s %d invariant failures, %d leaks", "violations:", len(st.failures), len(st.leaks))
	return b.String()
}

// --- sequential units ---

// envGroup is one worker's Envs for runsPerEnv sequential runs: one per
// variant on one auto-advancing virtual clock, and, made on first use, the
// same with the short per-attempt timeout for slow replies.
type envGroup struct {
	s       *soaker
	clk     *clock.Virtual
	dur     Durations
	wait    rollback.WaitOptions
	logs    *Capture
	learner *rollback.Learner
	hook    func(string)
	envs    map[string]Env
	// unit numbers the group's world units, so that hooks a unit armed
	// and did not reach do nothing in a later one (see runWorldPlan).
	unit atomic.Int64
}

func (s *soaker) newEnvGroup(group int) *envGroup {
	d, w := groupTimings(s.seed, 1<<40|uint64(group))
	return &envGroup{s: s, clk: clock.NewAutoVirtual(time.Time{}), dur: d, wait: w, logs: NewCapture(),
		learner: &rollback.Learner{}, envs: map[string]Env{}}
}

func (g *envGroup) env(slow bool, variant string) (Env, error) {
	name := variant
	timeout := soakCallTimeout
	if slow {
		name += "/slow"
		timeout = soakSlowTimeout
	}
	if e, ok := g.envs[name]; ok {
		return e, nil
	}
	e, err := g.s.factory(Config{Clock: g.clk, CallTimeout: timeout, Log: g.logs, Durations: g.dur, Variant: variant,
		Options: harnessOptions(nil),
		OnRequest: func(a string) {
			if g.hook != nil {
				g.hook(a)
			}
		}})
	if err != nil {
		return nil, err
	}
	g.envs[name] = e
	return e, nil
}

// dump logs a replayed unit's journal and client log to stderr.
func (g *envGroup) dump(calls []Call) {
	for _, e := range calls {
		fmt.Fprintf(os.Stderr, "%s %-24s applied=%-5v actor=%-5v code=%s fault=%q %s\n",
			e.Time.Format("15:04:05.000"), e.Name, e.Applied, e.Actor, e.Code, e.Fault, e.Detail)
	}
	for _, l := range g.logs.Lines() {
		fmt.Fprintln(os.Stderr, "log:", clipText(l))
	}
}

func (g *envGroup) close() {
	for _, e := range g.envs {
		e.Close()
	}
}

// prepare seeds a unit's target and arms its faults; it returns the target
// and where the unit's part of the journal begins.
func (g *envGroup) prepare(e Env, p soakPlan) (Target, int, error) {
	tg, err := e.NewTarget(TargetSpec{Running: p.Running, RolledBack: p.RolledBack})
	if err != nil {
		return Target{}, 0, fmt.Errorf("seeding the target: %w", err)
	}
	if p.Busy > 0 {
		if b, ok := e.(Busier); ok {
			if err := b.MakeBusy(tg, p.Busy); err != nil {
				return Target{}, 0, fmt.Errorf("making the instance busy: %w", err)
			}
		}
	}
	j0 := len(e.Journal())
	g.logs.Reset()
	for _, f := range p.Faults {
		if err := e.AddFault(f); err != nil && !errors.Is(err, ErrUnsupported) {
			return Target{}, 0, fmt.Errorf("arming %s: %w", f, err)
		}
	}
	if p.FailRollback {
		e.FailNextRollbacks(1)
	}
	return tg, j0, nil
}

// leaks scans texts, the reports' steps and the unit's log lines for the
// Env's secrets and signatures.
func (g *envGroup) leaks(e Env, texts []string, runLogs *Capture, reps ...*rollback.Report) []string {
	sc := NewScanner(e.Secrets(), e.Signatures())
	for _, rep := range reps {
		if rep != nil {
			for _, s := range rep.Steps {
				texts = append(texts, s.Err, s.Detail)
			}
		}
	}
	texts = append(texts, g.logs.Lines()...)
	texts = append(texts, runLogs.Lines()...)
	var leaks []string
	for _, s := range texts {
		for _, l := range sc.Leaks(s) {
			leaks = append(leaks, l+" in: "+clipText(s))
		}
	}
	return leaks
}

// runPlan runs one sequential unit and records it.
func (g *envGroup) runPlan(p soakPlan) {
	st := g.s.st
	if p.World.active() {
		g.runWorldPlan(p)
		return
	}
	what := p.String()
	e, err := g.env(p.Slow, p.Variant)
	if err != nil {
		st.record("error", p.Variant, nil, false, nil, err, 0, []string{"env: " + err.Error()}, nil, what)
		return
	}
	defer func() {
		e.ClearFaults()
		e.FailNextRollbacks(0)
		g.hook = nil
	}()
	tg, j0, err := g.prepare(e, p)
	if err != nil {
		st.record("error", p.Variant, nil, false, nil, err, 0, []string{err.Error()}, nil, what)
		return
	}

	req := e.Request(tg)
	req.OperationKey = p.Key
	runLogs := NewCapture()
	var evErrs []string
	opts := rollback.RunOptions{
		StopIfRunning: p.Stop, SafetySnapshot: p.Safety, StartAfter: p.Start,
		Clock: g.clk, Logger: slog.New(runLogs),
		Progress: func(ev rollback.Event) {
			if ev.Err != nil {
				evErrs = append(evErrs, ErrorTexts(ev.Err)...)
			}
		},
	}
	opts.Wait = g.wait
	opts.Wait.Learner = g.learner
	if p.Checkpoints {
		// In memory, but standing for a store that outlives the process:
		// the soak's "crash" keeps the process.
		opts.Checkpoints = durableMemory{&rollback.MemoryCheckpoints{}}
	} else if p.Key != "" {
		opts.Checkpoints = rollback.NoCheckpoints
	}

	mode := "run"
	var (
		firstErr error
		firstRep *rollback.Report
	)
	if p.CrashAt > 0 {
		ctx, cancel := context.WithCancel(context.Background())
		n, crashed := 0, false
		g.hook = func(string) {
			if n++; n == p.CrashAt {
				crashed = true
				cancel()
			}
		}
		firstRep, firstErr = rollback.Run(ctx, e.Provider(), req, opts)
		cancel()
		g.hook = nil
		if crashed {
			mode = map[bool]string{true: "resume+checkpoints", false: "resume-from-state"}[p.Checkpoints]
		}
	}
	var rep *rollback.Report
	if mode == "run" && p.CrashAt > 0 {
		mode = "keyed" // finished before its crash point: one Run
		rep, err = firstRep, firstErr
	} else {
		rep, err = rollback.Run(context.Background(), e.Provider(), req, opts)
	}
	if mode == "run" && p.Key != "" {
		mode = "keyed"
	}

	entries := e.Journal()[j0:]
	fired, read, ambMut, count := firedFaults(entries, g.s.prof.Calls)
	applied := e.Rollbacks(tg)
	if p.FailRollback && applied > 0 {
		fired[FaultFailRollback] = true
	}
	facts := runFacts{profile: g.s.prof, running: p.Running, stop: p.Stop, start: p.Start, failRollback: p.FailRollback, shortTimeout: p.Slow,
		fired: fired, readFaulted: read, ambiguousMut: ambMut, err: err, rep: rep, applied: applied, state: e.State(tg),
		succeeded: e.RollbackSucceeded(tg),
		resumed:   strings.HasPrefix(mode, "resume"), fromState: mode == "resume-from-state",
		cannotTell: g.s.prof.Traits.NoOperationMark && p.Key != "" && !p.Checkpoints && (p.RolledBack || p.CrashAt > 0)}
	if facts.resentAfterFailure() {
		count["resent after a cloud failure"]++
	}
	bad := judge(facts)
	if firstErr != nil && mode != "keyed" && !errors.Is(firstErr, context.Canceled) {
		// The crashed Run failed on its own before the crash: judge that too.
		f := facts
		f.err, f.rep = firstErr, firstRep
		for _, b := range judge(f) {
			bad = append(bad, "first run: "+b)
		}
	}
	if g.s.only == p.ID {
		g.dump(entries)
	}

	// Secrets: every error, event, step report and log line of the unit.
	texts := append(ErrorTexts(err), ErrorTexts(firstErr)...)
	texts = append(texts, evErrs...)
	leaks := g.leaks(e, texts, runLogs, rep)
	if len(bad) > 0 {
		what += fmt.Sprintf("; got %v after %d calls: %v", Observe(err, applied), len(entries), err)
	}
	st.record(mode, p.Variant, p.Faults, p.FailRollback, count, err, applied, bad, leaks, what)
	st.mu.Lock()
	st.calls[mode] += len(entries)
	st.mu.Unlock()
}

// --- batches ---

// batchPlan is one RunBatch unit.
type batchPlan struct {
	ID                  int
	Provider            string
	Running             []bool
	Stop, Safety, Start bool
	Keys                bool
	Factor              float64
	Faults              []Fault
	FailRollbacks       int
}

func (p batchPlan) String() string {
	var fs []string
	for _, f := range p.Faults {
		fs = append(fs, f.String())
	}
	return fmt.Sprintf("unit %d: RunBatch of %d on %s (x%.0f time), stop=%v safety=%v start=%v keys=%v, %d rollback failures, faults [%s]",
		p.ID, len(p.Running), p.Provider, p.Factor, p.Stop, p.Safety, p.Start, p.Keys, p.FailRollbacks, strings.Join(fs, "; "))
}

func (s *soaker) batchPlan(id int) batchPlan {
	r := rand.New(rand.NewPCG(s.seed, uint64(id)))
	p := batchPlan{ID: id, Provider: s.prof.Name}
	p.Running = make([]bool, 10+r.IntN(31))
	for i := range p.Running {
		p.Running[i] = r.IntN(2) == 0
	}
	p.Stop, p.Safety, p.Start, p.Keys = true, r.IntN(2) == 0, r.IntN(2) == 0, r.IntN(2) == 0
	p.Factor = []float64{200, 400}[r.IntN(2)]
	if f := envInt("CHAOS_BATCH_FACTOR", 0); f > 0 {
		p.Factor = float64(f)
	}
	n := pickInt(r, weightedInt{0, 15}, weightedInt{1, 35}, weightedInt{2, 30}, weightedInt{3, 20})
	var failRb bool
	p.Faults, failRb, _ = s.drawFaults(r, n, true)
	if failRb {
		p.FailRollbacks = 1 + r.IntN(3)
	}
	return p
}

func (s *soaker) runBatchPlan(p batchPlan) {
	st := s.st
	what := p.String()
	clk := clock.NewScaled(p.Factor)
	dur, wait := groupTimings(s.seed, 2<<40|uint64(p.ID))
	logs := NewCapture()
	e, err := s.factory(Config{Clock: clk, CallTimeout: soakCallTimeout, Log: logs, Durations: dur, RateSlack: true, Options: harnessOptions(nil)})
	if err != nil {
		st.record("batch", "", nil, false, nil, err, 0, []string{"env: " + err.Error()}, nil, what)
		return
	}
	defer e.Close()
	tgs := make([]Target, len(p.Running))
	reqs := make([]rollback.Request, len(p.Running))
	for i, running := range p.Running {
		if tgs[i], err = e.NewTarget(TargetSpec{Running: running}); err != nil {
			st.record("batch", "", nil, false, nil, err, 0, []string{"seeding: " + err.Error()}, nil, what)
			return
		}
		reqs[i] = e.Request(tgs[i])
		if p.Keys {
			reqs[i].OperationKey = fmt.Sprintf("fleet-%d-%d", p.ID, i)
		}
	}
	for _, f := range p.Faults {
		if err := e.AddFault(f); err != nil && !errors.Is(err, ErrUnsupported) {
			st.record("batch", "", nil, false, nil, err, 0, []string{"arming: " + err.Error()}, nil, what)
			return
		}
	}
	if p.FailRollbacks > 0 {
		e.FailNextRollbacks(p.FailRollbacks)
	}
	runLogs := NewCapture()
	opts := rollback.RunOptions{StopIfRunning: p.Stop, SafetySnapshot: p.Safety, StartAfter: p.Start,
		Clock: clk, Wait: wait, Logger: slog.New(runLogs)}
	opts.Wait.Learner = &rollback.Learner{}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	results := rollback.RunBatch(ctx, e.Provider(), reqs, opts, rollback.BatchOptions{})
	if ctx.Err() != nil {
		st.record("batch", "", nil, false, nil, ctx.Err(), 0, []string{"the batch did not end within 2 minutes"}, nil, what)
	}
	journal := e.Journal()
	fired, read, ambMut, count := firedFaults(journal, s.prof.Calls)
	st.mu.Lock()
	st.calls["batch"] += len(journal)
	st.mu.Unlock()
	failed := 0
	sc := NewScanner(e.Secrets(), e.Signatures())
	var leaks []string
	scan := func(s string) {
		for _, l := range sc.Leaks(s) {
			leaks = append(leaks, l+" in: "+clipText(s))
		}
	}
	for _, s := range append(logs.Lines(), runLogs.Lines()...) {
		scan(s)
	}
	for i, r := range results {
		applied := e.Rollbacks(tgs[i])
		f := map[FaultKind]bool{}
		for k := range fired {
			f[k] = true
		}
		if p.FailRollbacks > 0 && applied > 0 {
			f[FaultFailRollback] = true
		}
		if Sentinel(r.Err) == "ErrRollbackFailed" {
			failed++
		}
		facts := runFacts{profile: s.prof, batch: true, running: p.Running[i], stop: p.Stop, start: p.Start, failRollback: p.FailRollbacks > 0,
			fired: f, readFaulted: read, ambiguousMut: ambMut, err: r.Err, rep: r.Report, applied: applied, state: e.State(tgs[i]),
			succeeded: e.RollbackSucceeded(tgs[i])}
		bad := judge(facts)
		for _, s := range ErrorTexts(r.Err) {
			scan(s)
		}
		itemWhat := what
		if len(bad) > 0 {
			itemWhat = fmt.Sprintf("%s, item %d: got %v: %v", what, i, Observe(r.Err, applied), r.Err)
		}
		var fc map[FaultKind]int
		var armed []Fault
		if i == 0 { // count the batch's faults once
			fc, armed = count, p.Faults
		}
		st.record("batch", "", armed, i == 0 && p.FailRollbacks > 0, fc, r.Err, applied, bad, nil, itemWhat)
	}
	st.mu.Lock()
	if failed > p.FailRollbacks {
		st.failures = append(st.failures, what+": "+fmt.Sprintf("%d items failed in the cloud, %d failures injected", failed, p.FailRollbacks))
	}
	for _, l := range leaks {
		st.leaks = append(st.leaks, what+": "+l)
	}
	st.mu.Unlock()
}

// units splits the runs into sequential units and batches: unit IDs below
// seq are sequential runs, the others batches.
func (s *soaker) units(runs int) (seq int, batches []batchPlan) {
	want := runs / batchShare
	items := 0
	for id := runs; items < want; id++ { // batch IDs start above any sequential one
		b := s.batchPlan(id)
		batches = append(batches, b)
		items += len(b.Running)
	}
	return max(runs-items, 0), batches
}

// Soak runs the randomized chaos soak against the provider that factory
// makes Envs of: cfg.Runs Run executions with random workflows (stop,
// safety snapshot, start), timings, faults of every kind the Env injects,
// crashes with resumes, with and without checkpoints, half of them inside
// RunBatch on a scaled clock; and, where the Env implements the World
// interfaces, other actors, read lag, forgotten tokens, lost checkpoints
// and overlapping Runs of one key. Each Run is judged by the invariants:
// exactly one rollback, success only when the cloud's rollback succeeded
// and the instance is where it was asked to be, a sentinel the faults that
// fired can cause, no secret or signature in any error, event, report or
// log line. Goroutine leaks are the caller's TestMain's (goleak).
//
// Everything random comes from cfg.Seed, and each unit (a sequential Run,
// or a RunBatch) draws from its own stream, so a failure names its unit
// and the command that replays it alone (-soak.only=ID).
func Soak(t *testing.T, factory Factory, cfg SoakConfig) {
	t.Helper()
	if cfg.Replay == "" {
		c := cfg.withFlags()
		cfg.Replay = fmt.Sprintf("go test -race -run '%s' -v . -soak.seed=%d -soak.runs=%d", runPattern(t.Name()), c.Seed, c.Runs)
	}
	st, err := soak(factory, cfg, t.Log)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range st.failures {
		if i == 20 {
			t.Errorf("... and %d more", len(st.failures)-20)
			break
		}
		t.Errorf("%s\n\treplay: %s -soak.only=%s", f, cfg.Replay, unitOf(f))
	}
	for i, l := range st.leaks {
		if i == 20 {
			t.Errorf("... and %d more leaks", len(st.leaks)-20)
			break
		}
		t.Errorf("LEAK %s", l)
	}
}

// withFlags fills the zero fields from the flags.
func (cfg SoakConfig) withFlags() SoakConfig {
	flags := SoakFlags()
	if cfg.Runs <= 0 {
		cfg.Runs = flags.Runs
	}
	if cfg.Seed == 0 {
		cfg.Seed = flags.Seed
	}
	if cfg.Workers <= 0 {
		cfg.Workers = flags.Workers
	}
	if cfg.BatchWorkers <= 0 {
		cfg.BatchWorkers = batchWorkers
	}
	return cfg
}

// soak runs the soak and returns its numbers, failures and leaks; log
// gets the summary (and the plan of a replayed unit).
func soak(factory Factory, cfg SoakConfig, log func(...any)) (*soakStats, error) {
	cfg = cfg.withFlags()
	prof, caps, err := probe(factory)
	if err != nil {
		return nil, fmt.Errorf("the factory: %w", err)
	}
	s := &soaker{factory: factory, prof: prof, caps: caps, seed: cfg.Seed, only: *flagOnly, st: newSoakStats()}
	start := time.Now()
	seq, batches := s.units(cfg.Runs)

	if only := s.only; only >= 0 {
		if only < seq {
			// The unit's group up to it, on one env group as in the soak,
			// so that clocks, rate limits and learned durations match.
			g := s.newEnvGroup(only / runsPerEnv)
			defer g.close()
			for id := only / runsPerEnv * runsPerEnv; id <= only; id++ {
				p := s.plan(id)
				if id == only {
					log(p)
				}
				g.runPlan(p)
			}
		} else {
			for _, b := range batches {
				if b.ID == only {
					log(b)
					s.runBatchPlan(b)
				}
			}
		}
	} else {
		var wg sync.WaitGroup
		groups := make(chan int)
		for range cfg.Workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer s.st.done(&s.st.seqWall, start)
				for grp := range groups {
					g := s.newEnvGroup(grp)
					for id := grp * runsPerEnv; id < min((grp+1)*runsPerEnv, seq); id++ {
						g.runPlan(s.plan(id))
					}
					g.close()
				}
			}()
		}
		// Batches run beside the sequential workers: they mostly wait on
		// their scaled clocks.
		bch := make(chan batchPlan)
		for range cfg.BatchWorkers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer s.st.done(&s.st.batchWall, start)
				for b := range bch {
					s.runBatchPlan(b)
				}
			}()
		}
		go func() {
			for _, b := range batches {
				bch <- b
			}
			close(bch)
		}()
		for grp := 0; grp*runsPerEnv < seq; grp++ {
			groups <- grp
		}
		close(groups)
		wg.Wait()
	}
	log(s.st.summary(prof.Name, cfg.Seed, time.Since(start)))
	return s.st, nil
}

// runPattern turns a test's name into a -run pattern that selects it alone.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + p + "$"
	}
	return strings.Join(parts, "/")
}

// unitOf reads the unit ID back from a failure line.
func unitOf(s string) string {
	var id int
	fmt.Sscanf(s, "unit %d", &id)
	return strconv.Itoa(id)
}

// durableMemory is a MemoryCheckpoints that Run takes for a store that
// outlives the process (it does not report itself Volatile).
type durableMemory struct{ *rollback.MemoryCheckpoints }

// Volatile implements Run's optional check: this store counts as durable.
func (durableMemory) Volatile() bool { return false }

package chaos

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/emulator"
)

// The chaos soak: many rollback.Run executions on both clouds with
// randomized faults, timings and workflows, each judged against the
// invariants (see judge). Everything random comes from -soak.seed, and each
// unit (a sequential Run, or a RunBatch) draws from its own stream, so a
// failure names its unit and the flags that replay it alone.
//
//	go test -race -run Soak -v ./internal/chaos                      # CI: 2,000 runs
//	go test -race -run Soak -v -timeout 30m ./internal/chaos -soak.runs=20000
//	CHAOS_SOAK_RUNS=20000 go test -race -run Soak -v -timeout 30m ./internal/chaos
//	go test -race -run Soak -v ./internal/chaos -soak.seed=7 -soak.only=123  # replay
var (
	soakRuns    = flag.Int("soak.runs", envInt("CHAOS_SOAK_RUNS", 2000), "Run executions in the chaos soak (env CHAOS_SOAK_RUNS)")
	soakSeed    = flag.Uint64("soak.seed", uint64(envInt("CHAOS_SOAK_SEED", 1)), "seed of the soak's faults and timings (env CHAOS_SOAK_SEED)")
	soakOnly    = flag.Int("soak.only", envInt("CHAOS_SOAK_ONLY", -1), "replay one unit of the soak by its ID (env CHAOS_SOAK_ONLY)")
	soakWorkers = flag.Int("soak.workers", envInt("CHAOS_SOAK_WORKERS", 8), "sequential workers of the soak (env CHAOS_SOAK_WORKERS)")
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

const (
	// runsPerEnv sequential runs share one emulator pair, its clock, its
	// durations and one Learner, as runs in one process would; then the
	// next group gets fresh ones.
	runsPerEnv = 40
	// batchShare: one Run in batchShare runs inside RunBatch; batchWorkers
	// batches run at once (they mostly wait on their scaled clocks).
	batchShare   = 2
	batchWorkers = 4
	// soakSlowTimeout is the per-attempt timeout of the clients that get
	// slow replies; soakCallTimeout that of the others (never tripped by a
	// loopback call, so a timeout always means an injected fault).
	soakSlowTimeout = 250 * time.Millisecond
	soakCallTimeout = 10 * time.Second
)

// Fault kinds of the soak: the matrix's, plus a rollback the cloud fails;
// and, not injected, a call the emulator's own rate limit refused.
const (
	failRollback   = "fail-rollback"
	serverThrottle = "emulator-throttle"
)

var soakKinds = []struct {
	kind   string
	weight int
}{
	{"5xx", 14}, {"gateway-502", 6}, {"throttle", 14}, {"busy", 12}, {"reset", 15}, {"lost-reply", 25}, {"slow-reply", 3}, {failRollback, 6},
}

// armedFault is one fault of a plan.
type armedFault struct {
	Kind  string
	Fault emulator.Fault
}

func (a armedFault) String() string {
	if a.Kind == failRollback {
		return failRollback
	}
	times := strconv.Itoa(a.Fault.Times)
	if a.Fault.Times < 0 {
		times = "all"
	}
	return fmt.Sprintf("%s on %s #%d x%s", a.Kind, a.Fault.Action, a.Fault.Nth, times)
}

// soakPlan is one sequential unit: a Run (or a crashed Run and its resume).
type soakPlan struct {
	ID                  int
	Provider            string
	Running             bool // the target starts running
	RolledBack          bool // its snapshot was rolled back to before
	DataDisk            bool // SWAS: roll back a data disk (Run finds the instance with ListDisks)
	Stop, Safety, Start bool // RunOptions.StopIfRunning, SafetySnapshot, StartAfter
	Busy                time.Duration
	Key                 string // OperationKey
	Checkpoints         bool   // MemoryCheckpoints
	CrashAt             int    // the first Run's context ends before its CrashAt-th request
	Faults              []armedFault
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
	if p.DataDisk {
		b.WriteString(" (a data disk)")
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
		fs = append(fs, failRollback)
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

// drawFaults draws n faults for provider; batch faults count calls of
// every item, so they fire later and more often.
func drawFaults(r *rand.Rand, provider string, n int, batch bool) (faults []armedFault, failRb, slow bool) {
	a := ProviderActions[provider]
	for range n {
		kind := weighted(r, soakKinds, func(k struct {
			kind   string
			weight int
		}) int {
			if batch && k.kind == "slow-reply" {
				return 0 // real time; the sequential runs cover it
			}
			return k.weight
		}).kind
		if kind == failRollback {
			failRb = true
			continue
		}
		action := weighted(r, []struct {
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
		if a.IsRead(action) {
			nth = 1 + r.IntN(12)
		}
		if batch {
			nth = 1 + r.IntN(20)
		}
		times := pickInt(r, weightedInt{1, 45}, weightedInt{2, 20}, weightedInt{3, 10}, weightedInt{5, 10}, weightedInt{-1, 15})
		if kind == "slow-reply" {
			times = 1 + r.IntN(2)
			slow = true
		}
		f := faultOf(provider, kind, action, false)
		f.Nth, f.Times = nth, times
		faults = append(faults, armedFault{Kind: kind, Fault: f})
	}
	return faults, failRb, slow
}

func newSoakPlan(seed uint64, id int) soakPlan {
	r := rand.New(rand.NewPCG(seed, uint64(id)))
	p := soakPlan{ID: id, Provider: []string{"aliyun", "tencent"}[r.IntN(2)]}
	p.Running = r.IntN(2) == 0
	p.RolledBack = r.IntN(4) == 0
	p.DataDisk = p.Provider == "aliyun" && r.IntN(5) == 0
	p.Stop = !p.Running || r.IntN(12) != 0 // now and then a running target Run may not stop
	p.Safety = r.IntN(2) == 0
	p.Start = r.IntN(2) == 0
	if r.IntN(10) == 0 {
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
	p.Faults, p.FailRollback, p.Slow = drawFaults(r, p.Provider, n, false)
	if p.Provider == "aliyun" && p.CrashAt > 0 && !p.Checkpoints && p.FailRollback {
		// Known limitation (TestResumeFromStateAfterUnseenFailure): the
		// resumed Run takes the snapshot's earlier RollbackTime for the end
		// of the crashed Run's rollback, which failed unseen.
		p.RolledBack = false
	}
	if worldFixed {
		drawWorld(seed, &p)
	}
	return p
}

// groupDurations are the operation durations and wait pacing of one env
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

// --- judging ---

// runFacts are what the judge knows about one Run (or one batch item).
type runFacts struct {
	provider      string
	running, stop bool
	start         bool
	failRollback  bool // a rollback failure was armed (for this run, or the batch)
	fired         map[string]bool
	readFaulted   bool // a fault fired on a read
	ambiguousMut  bool // an ambiguous fault (5xx, reset, lost or slow reply) fired on a mutation
	// shortTimeout: the unit's client has the short per-attempt timeout of
	// slow-reply units (soakSlowTimeout), which a loaded machine can trip
	// on a call no fault slowed.
	shortTimeout bool
	batch        bool // an item of RunBatch (on a scaled clock)
	resumed      bool // a Run resumed after a crashed one (the facts are the resumed Run's)
	// cannotTell: a keyed Lighthouse Run with no checkpoint that outlives
	// the process, on a snapshot rolled back to before (by another
	// operation, or by its own crashed Run): with no mark to read, it must
	// refuse with ErrOutcomeUnknown rather than risk a second rollback.
	cannotTell bool
	fromState  bool // resumed without checkpoints: only the cloud's state to go by
	err        error
	rep        *rollback.Report
	applied    int
	succeeded  bool // the cloud finished a rollback of the target successfully
	state      rollback.InstanceState
}

// resentAfterFailure says whether a second rollback is the documented
// exception: the crashed Run's rollback ended FAILED in the cloud, and the
// Run resumed from state sent it again (Run ignores failed operations when
// it looks for an earlier attempt's rollback; with checkpoints it reports
// ErrRollbackFailed instead). One rollback still succeeded at most.
func (f runFacts) resentAfterFailure() bool {
	return f.applied == 2 && f.fromState && f.fired[failRollback]
}

// kindSentinels are the sentinels a fault kind may surface as.
func kindSentinels(provider, kind string) []string {
	switch kind {
	case "5xx", "gateway-502":
		return []string{"ErrInternal"}
	case "throttle", serverThrottle:
		return []string{"ErrThrottled"}
	case "busy":
		if provider == rollback.ProviderAliyun {
			return []string{"ErrInstanceState"}
		}
		return []string{"ErrBusy"}
	case "reset", "lost-reply", "slow-reply":
		return []string{"ErrNetwork"}
	case failRollback:
		return []string{"ErrRollbackFailed"}
	}
	return nil
}

// judge returns every invariant the outcome breaks:
//
//   - never more than one rollback applied to a target;
//   - success: exactly one applied, and the instance running if StartAfter,
//     else stopped;
//   - an accepted rollback (Report.Result) was applied exactly once;
//   - a rollback applied is never reported as failing before it was
//     accepted, unless as ErrOutcomeUnknown;
//   - a failure's sentinel is one the faults that fired can cause;
//     ErrRollbackFailed only when a rollback failure was injected and
//     applied; ErrOutcomeUnknown only when a mutation may have landed and
//     reads were faulted too.
func judge(f runFacts) []string {
	var bad []string
	once := f.applied == 1 || f.resentAfterFailure()
	if f.applied > 1 && !f.resentAfterFailure() {
		bad = append(bad, fmt.Sprintf("DOUBLE ROLLBACK: %d applied", f.applied))
	}
	want := rollback.InstanceStopped
	if f.start {
		want = rollback.InstanceRunning
	}
	if f.err == nil {
		if !once {
			bad = append(bad, fmt.Sprintf("success with %d rollbacks applied", f.applied))
		}
		if !f.succeeded {
			bad = append(bad, "FALSE SUCCESS: the cloud's rollback did not succeed")
		}
		if f.state != want {
			bad = append(bad, fmt.Sprintf("success, but the instance is %s, want %s", f.state, want))
		}
		if f.rep != nil && (f.rep.InstanceAfter == nil || f.rep.InstanceAfter.State != want) {
			bad = append(bad, fmt.Sprintf("success, but the report's InstanceAfter is %+v", f.rep.InstanceAfter))
		}
		return bad
	}
	s := Sentinel(f.err)
	allowed := map[string]bool{}
	for k := range f.fired {
		for _, x := range kindSentinels(f.provider, k) {
			allowed[x] = true
		}
	}
	if f.readFaulted {
		allowed["ErrTimeout"], allowed["ErrBusy"] = true, true // a wait whose reads kept failing
	}
	if f.readFaulted && f.ambiguousMut {
		allowed["ErrOutcomeUnknown"] = true
	}
	if f.batch && f.provider == rollback.ProviderAliyun && f.fired[failRollback] {
		// On a clock 200-400 times faster than real time, a rollback can
		// fail before the first read of its wait (a few milliseconds of
		// real latency): SWAS then shows nothing, and the waiter says it
		// cannot tell.
		allowed["ErrOutcomeUnknown"] = true
	}
	if f.provider == rollback.ProviderAliyun && f.fired[failRollback] && f.ambiguousMut {
		// A SWAS reset whose replies were lost and which then failed
		// leaves no evidence that names the snapshot (a failed reset
		// records no RollbackTime): whether it was ours cannot be told.
		allowed["ErrOutcomeUnknown"] = true
	}
	if f.resumed && f.fired[failRollback] {
		// The crashed Run's rollback failed in the cloud while no Run
		// watched, and SWAS shows a failed reset exactly as one never
		// made: the resumed Run cannot tell.
		allowed["ErrOutcomeUnknown"] = true
	}
	if f.running && !f.stop {
		allowed["ErrInstanceState"] = true
	}
	if f.cannotTell {
		allowed["ErrOutcomeUnknown"] = true
	}
	if f.provider == rollback.ProviderAliyun && f.fired[failRollback] && f.readFaulted {
		// The wait's reads were held up (throttled, faulted) until a reset
		// that failed at once had ended: SWAS then shows nothing of it,
		// and the waiter says it cannot tell.
		allowed["ErrOutcomeUnknown"] = true
	}
	if f.shortTimeout {
		// Wall-clock timeouts that short are the test's, not the cloud's:
		// under load they fire on unfaulted calls too. The invariants
		// above still hold them to exactly once.
		allowed["ErrNetwork"], allowed["ErrOutcomeUnknown"] = true, true
	}
	if !allowed[s] {
		bad = append(bad, fmt.Sprintf("sentinel %s not caused by the faults that fired %v", s, keys(f.fired)))
	}
	if s == "ErrRollbackFailed" && (!f.failRollback || !once) {
		bad = append(bad, fmt.Sprintf("ErrRollbackFailed with failure armed %v, %d applied", f.failRollback, f.applied))
	}
	accepted := f.rep != nil && f.rep.Result != nil
	if accepted && !once {
		bad = append(bad, fmt.Sprintf("the rollback was reported accepted, but %d applied", f.applied))
	}
	// A resumed Run may fail before it finds the crashed one's rollback;
	// and a rollback whose replies were lost and which then failed in the
	// cloud leaves nothing to see on SWAS: the give-up is reported as what
	// it is, ambiguous (Error.Ambiguous).
	unseenFailure := f.fired[failRollback] && f.ambiguousMut && rollback.IsAmbiguous(f.err)
	if !accepted && f.applied == 1 && s != "ErrOutcomeUnknown" && !f.resumed && !unseenFailure {
		bad = append(bad, fmt.Sprintf("a rollback was applied, but Run reports %s before accepting it", s))
	}
	return bad
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// fired reads which armed faults fired from a journal slice.
func firedFaults(entries []emulator.Entry, armed []armedFault, a Actions) (fired map[string]bool, read, ambiguousMut bool, count map[string]int) {
	kindOf := map[string]string{}
	for _, f := range armed {
		kindOf[f.Fault.String()] = f.Kind
	}
	fired, count = map[string]bool{}, map[string]int{}
	for _, e := range entries {
		k := kindOf[e.Fault]
		if (e.Code == "Throttling.User" || e.Code == "RequestLimitExceeded") && k != "throttle" {
			// The emulator's own rate limit (which a fault that lets the
			// call through may run into): the cloud may throttle too.
			fired[serverThrottle] = true
			count[serverThrottle]++
			continue
		}
		if e.Fault == "" {
			continue
		}
		if k == "" {
			k = "unknown:" + e.Fault
		}
		fired[k] = true
		count[k]++
		if a.IsRead(e.Action) {
			read = true
		} else if k == "5xx" || k == "gateway-502" || k == "reset" || k == "lost-reply" || k == "slow-reply" {
			ambiguousMut = true
		}
	}
	return fired, read, ambiguousMut, count
}

// --- the soak ---

// soakStats are the soak's numbers.
type soakStats struct {
	mu        sync.Mutex
	seqWall   time.Duration  // until the last sequential worker finished
	batchWall time.Duration  // until the last batch finished
	runs      map[string]int // by mode
	providers map[string]int
	armed     map[string]int // faults armed, by kind
	fired     map[string]int // calls a fault fired on, by kind
	outcomes  map[string]int // by sentinel ("ok")
	applied   map[int]int
	calls     map[string]int // API calls made, by mode
	failures  []string
	leaks     []string
}

func newSoakStats() *soakStats {
	return &soakStats{runs: map[string]int{}, providers: map[string]int{}, armed: map[string]int{}, fired: map[string]int{},
		outcomes: map[string]int{}, applied: map[int]int{}, calls: map[string]int{}}
}

func (st *soakStats) record(mode, provider string, armed []armedFault, failRb bool, fired map[string]int, err error, applied int, bad, leaks []string, what string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.runs[mode]++
	st.providers[provider]++
	for _, a := range armed {
		st.armed[a.Kind]++
	}
	if failRb {
		st.armed[failRollback]++
	}
	for k, n := range fired {
		st.fired[k] += n
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

func (st *soakStats) summary(total time.Duration) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	var b strings.Builder
	n := 0
	for _, v := range st.runs {
		n += v
	}
	fmt.Fprintf(&b, "chaos soak: %d Run executions in %v (seed %d; sequential runs done after %v, batches after %v)\n",
		n, total.Round(time.Millisecond), *soakSeed, st.seqWall.Round(time.Millisecond), st.batchWall.Round(time.Millisecond))
	line := func(title string, m map[string]int) {
		fmt.Fprintf(&b, "  %-22s", title)
		for _, k := range keys(boolKeys(m)) {
			fmt.Fprintf(&b, " %s=%d", k, m[k])
		}
		b.WriteString("\n")
	}
	line("runs by mode:", st.runs)
	line("runs by cloud:", st.providers)
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

func boolKeys(m map[string]int) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

// envGroup is one worker's emulators for runsPerEnv sequential runs: both
// clouds on one auto-advancing virtual clock, and, made on first use, the
// same with the short per-attempt timeout for slow replies.
type envGroup struct {
	seed    uint64
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

func newEnvGroup(seed uint64, group int) *envGroup {
	d, w := groupTimings(seed, 1<<40|uint64(group))
	g := &envGroup{seed: seed, clk: clock.NewAutoVirtual(time.Time{}), dur: d, wait: w, logs: NewCapture(),
		learner: &rollback.Learner{}, envs: map[string]Env{}}
	return g
}

func (g *envGroup) env(provider string, slow, dataDisk bool) (Env, error) {
	name := provider
	if dataDisk {
		name += "/data-disk"
	}
	timeout := soakCallTimeout
	if slow {
		name += "/slow"
		timeout = soakSlowTimeout
	}
	if e, ok := g.envs[name]; ok {
		return e, nil
	}
	e, err := envs[provider](Config{Clock: g.clk, CallTimeout: timeout, Log: g.logs, Durations: g.dur, DataDisk: dataDisk,
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
func (g *envGroup) dump(entries []emulator.Entry) {
	for _, e := range entries {
		fmt.Fprintf(os.Stderr, "%s %-24s applied=%-5v status=%d code=%s fault=%q params=%v\n",
			e.Time.Format("15:04:05.000"), e.Action, e.Applied, e.HTTPStatus, e.Code, e.Fault, e.Params)
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
func (g *envGroup) prepare(e Env, p soakPlan) (Target, int) {
	tg := e.NewTarget(p.Running)
	if p.RolledBack {
		tg = e.NewRolledBackTarget(p.Running)
	}
	if p.Busy > 0 {
		e.MakeBusy(tg, p.Busy)
	}
	j0 := len(e.Journal())
	g.logs.Reset()
	for _, f := range p.Faults {
		e.AddFault(f.Fault)
	}
	if p.FailRollback {
		e.FailNextRollbacks(1)
	}
	return tg, j0
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
func (g *envGroup) runPlan(p soakPlan, st *soakStats) {
	if p.World.active() {
		g.runWorldPlan(p, st)
		return
	}
	what := p.String()
	e, err := g.env(p.Provider, p.Slow, p.DataDisk)
	if err != nil {
		st.record("error", p.Provider, nil, false, nil, err, 0, []string{"env: " + err.Error()}, nil, what)
		return
	}
	tg, j0 := g.prepare(e, p)
	defer func() {
		e.ClearFaults()
		e.FailNextRollbacks(0)
		g.hook = nil
	}()

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
	fired, read, ambMut, count := firedFaults(entries, p.Faults, e.Actions())
	applied := e.Rollbacks(tg)
	if p.FailRollback && applied > 0 {
		fired[failRollback] = true
	}
	facts := runFacts{provider: p.Provider, running: p.Running, stop: p.Stop, start: p.Start, failRollback: p.FailRollback, shortTimeout: p.Slow,
		fired: fired, readFaulted: read, ambiguousMut: ambMut, err: err, rep: rep, applied: applied, state: e.State(tg),
		succeeded: e.RollbackSucceeded(tg),
		resumed:   strings.HasPrefix(mode, "resume"), fromState: mode == "resume-from-state",
		cannotTell: p.Provider == rollback.ProviderTencent && p.Key != "" && !p.Checkpoints && (p.RolledBack || p.CrashAt > 0)}
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
	if *soakOnly == p.ID {
		g.dump(entries)
	}

	// Secrets: every error, event, step report and log line of the unit.
	texts := append(ErrorTexts(err), ErrorTexts(firstErr)...)
	texts = append(texts, evErrs...)
	leaks := g.leaks(e, texts, runLogs, rep)
	if len(bad) > 0 {
		what += fmt.Sprintf("; got %v after %d calls: %v", Observe(err, applied), len(entries), err)
	}
	st.record(mode, p.Provider, p.Faults, p.FailRollback, count, err, applied, bad, leaks, what)
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
	Faults              []armedFault
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

func newBatchPlan(seed uint64, id int) batchPlan {
	r := rand.New(rand.NewPCG(seed, uint64(id)))
	p := batchPlan{ID: id, Provider: []string{"aliyun", "tencent"}[r.IntN(2)]}
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
	p.Faults, failRb, _ = drawFaults(r, p.Provider, n, true)
	if failRb {
		p.FailRollbacks = 1 + r.IntN(3)
	}
	return p
}

func runBatchPlan(seed uint64, p batchPlan, st *soakStats) {
	what := p.String()
	clk := clock.NewScaled(p.Factor)
	dur, wait := groupTimings(seed, 2<<40|uint64(p.ID))
	logs := NewCapture()
	e, err := envs[p.Provider](Config{Clock: clk, CallTimeout: soakCallTimeout, Log: logs, Durations: dur, RateSlack: true})
	if err != nil {
		st.record("batch", p.Provider, nil, false, nil, err, 0, []string{"env: " + err.Error()}, nil, what)
		return
	}
	defer e.Close()
	tgs := make([]Target, len(p.Running))
	reqs := make([]rollback.Request, len(p.Running))
	for i, running := range p.Running {
		tgs[i] = e.NewTarget(running)
		reqs[i] = e.Request(tgs[i])
		if p.Keys {
			reqs[i].OperationKey = fmt.Sprintf("fleet-%d-%d", p.ID, i)
		}
	}
	for _, f := range p.Faults {
		e.AddFault(f.Fault)
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
		st.record("batch", p.Provider, nil, false, nil, ctx.Err(), 0, []string{"the batch did not end within 2 minutes"}, nil, what)
	}
	journal := e.Journal()
	fired, read, ambMut, count := firedFaults(journal, p.Faults, e.Actions())
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
	total := 0
	for i, r := range results {
		applied := e.Rollbacks(tgs[i])
		total += applied
		f := map[string]bool{}
		for k := range fired {
			f[k] = true
		}
		if p.FailRollbacks > 0 && applied > 0 {
			f[failRollback] = true
		}
		if Sentinel(r.Err) == "ErrRollbackFailed" {
			failed++
		}
		facts := runFacts{batch: true, provider: p.Provider, running: p.Running[i], stop: p.Stop, start: p.Start, failRollback: p.FailRollbacks > 0,
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
		var fc map[string]int
		var armed []armedFault
		if i == 0 { // count the batch's faults once
			fc, armed = count, p.Faults
		}
		st.record("batch", p.Provider, armed, i == 0 && p.FailRollbacks > 0, fc, r.Err, applied, bad, nil, itemWhat)
	}
	var bad []string
	if failed > p.FailRollbacks {
		bad = append(bad, fmt.Sprintf("%d items failed in the cloud, %d failures injected", failed, p.FailRollbacks))
	}
	st.mu.Lock()
	for _, b := range bad {
		st.failures = append(st.failures, what+": "+b)
	}
	for _, l := range leaks {
		st.leaks = append(st.leaks, what+": "+l)
	}
	st.mu.Unlock()
}

// soakUnits splits the runs into sequential units and batches: unit IDs
// below seq are sequential runs, the others batches.
func soakUnits(seed uint64, runs int) (seq int, batches []batchPlan) {
	want := runs / batchShare
	items := 0
	for id := runs; items < want; id++ { // batch IDs start above any sequential one
		b := newBatchPlan(seed, id)
		batches = append(batches, b)
		items += len(b.Running)
	}
	return max(runs-items, 0), batches
}

func TestSoak(t *testing.T) {
	seed := *soakSeed
	start := time.Now()
	st := newSoakStats()
	seq, batches := soakUnits(seed, *soakRuns)
	replay := fmt.Sprintf("go test -race -run Soak -v ./internal/chaos -soak.seed=%d -soak.runs=%d", seed, *soakRuns)

	if only := *soakOnly; only >= 0 {
		if only < seq {
			// The unit's group up to it, on one env group as in the soak,
			// so that clocks, rate limits and learned durations match.
			g := newEnvGroup(seed, only/runsPerEnv)
			defer g.close()
			for id := only / runsPerEnv * runsPerEnv; id <= only; id++ {
				p := newSoakPlan(seed, id)
				if id == only {
					t.Log(p)
				}
				g.runPlan(p, st)
			}
		} else {
			for _, b := range batches {
				if b.ID == only {
					t.Log(b)
					runBatchPlan(seed, b, st)
				}
			}
		}
	} else {
		var wg sync.WaitGroup
		groups := make(chan int)
		for range max(*soakWorkers, 1) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer st.done(&st.seqWall, start)
				for grp := range groups {
					g := newEnvGroup(seed, grp)
					for id := grp * runsPerEnv; id < min((grp+1)*runsPerEnv, seq); id++ {
						g.runPlan(newSoakPlan(seed, id), st)
					}
					g.close()
				}
			}()
		}
		// Batches run beside the sequential workers: they mostly wait on
		// their scaled clocks.
		bch := make(chan batchPlan)
		for range batchWorkers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer st.done(&st.batchWall, start)
				for b := range bch {
					runBatchPlan(seed, b, st)
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

	t.Log(st.summary(time.Since(start)))
	for i, f := range st.failures {
		if i == 20 {
			t.Errorf("... and %d more", len(st.failures)-20)
			break
		}
		t.Errorf("%s\n\treplay: %s -soak.only=%s", f, replay, unitOf(f))
	}
	for i, l := range st.leaks {
		if i == 20 {
			t.Errorf("... and %d more leaks", len(st.leaks)-20)
			break
		}
		t.Errorf("LEAK %s", l)
	}
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

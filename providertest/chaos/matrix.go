package chaos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
)

// MatrixConfig says what the fault matrix expects of a provider.
type MatrixConfig struct {
	// Specs are the expected outcomes, by Config.Variant ("" for the usual
	// shape): one line per call and fault kind,
	//
	//	# call          fault       once                        persistent
	//	ListSnapshots   5xx         ok                          check:ErrInternal/0
	//
	// where an outcome is "ok" (success, one rollback applied, the instance
	// running) or "step:Sentinel/N" (Run failed in that step with that
	// sentinel, N rollbacks applied; see ParseOutcome). A spec must list
	// exactly the calls a clean Run makes (a variant's: those the usual
	// shape does not), so that it cannot fall behind the provider. A
	// variant without a spec, or a provider without any, has its cells
	// judged by the soak's invariants instead.
	Specs map[string]string
	// Workers run cells at once (0: 8): slow-reply cells mostly wait.
	Workers int
}

// combined are cells of more than one fault, for the outcomes no single
// fault reaches: a rollback the cloud reports failed, and the two ways the
// state can fail to tell. arm injects the faults; hook sees each call as
// the client sends it; needs are the fault kinds it injects (a cell whose
// kinds the Env lacks is skipped). Their outcomes hold for every provider.
var combined = []struct {
	name  string
	needs []FaultKind
	arm   func(e Env, hook *func(call string)) error
	want  string
}{
	{
		name: "the cloud reports the rollback failed",
		arm:  func(e Env, _ *func(string)) error { e.FailNextRollbacks(1); return nil },
		want: "wait-rollback:ErrRollbackFailed/1",
	},
	{
		// Every rollback reply is lost, and from the first rollback call
		// on no read succeeds: nothing can tell whether it landed.
		name:  "rollback replies lost, then every read fails",
		needs: []FaultKind{FaultLostReply, Fault5xx},
		arm: func(e Env, hook *func(string)) error {
			a := e.Profile().Calls
			*hook = readsFailFrom(e, a.Rollback)
			return e.AddFault(Fault{Call: a.Rollback, Role: RoleRollback, Kind: FaultLostReply, Times: -1})
		},
		want: "rollback:ErrOutcomeUnknown/1",
	},
	{
		// The rollback is accepted; then no read succeeds, so its wait
		// cannot see it end.
		name:  "rollback accepted, then every read fails",
		needs: []FaultKind{Fault5xx},
		arm: func(e Env, hook *func(string)) error {
			*hook = readsFailFrom(e, e.Profile().Calls.Rollback)
			return nil
		},
		want: "wait-rollback:ErrTimeout/1",
	},
	{
		// The reply is lost, and the resend is refused as busy: with the
		// rollback running, that refusal is likely caused by it.
		name:  "rollback reply lost, then the resend refused as busy",
		needs: []FaultKind{FaultLostReply, FaultBusy},
		arm: func(e Env, _ *func(string)) error {
			rb := e.Profile().Calls.Rollback
			return errors.Join(
				e.AddFault(Fault{Call: rb, Role: RoleRollback, Kind: FaultLostReply}),
				e.AddFault(Fault{Call: rb, Role: RoleRollback, Kind: FaultBusy, Nth: 2, Times: -1}))
		},
		want: "ok",
	},
	{
		// One reply lost, and the reads made to resolve it fail twice:
		// their own retries get through.
		name:  "rollback reply lost, then two reads fail",
		needs: []FaultKind{FaultLostReply, Fault5xx},
		arm: func(e Env, hook *func(string)) error {
			a := e.Profile().Calls
			armed := false
			*hook = func(call string) {
				if call == a.Rollback && !armed {
					armed = true
					_ = e.AddFault(Fault{Call: a.ReadSnapshot, Role: RoleDescribe, Kind: Fault5xx, Times: 2})
					_ = e.AddFault(Fault{Call: a.ReadInstance, Role: RoleDescribe, Kind: Fault5xx, Times: 2})
				}
			}
			return e.AddFault(Fault{Call: a.Rollback, Role: RoleRollback, Kind: FaultLostReply})
		},
		want: "ok",
	},
}

// readsFailFrom returns a hook that, when call is first sent, makes every
// read fail from then on (the cloud's internal error).
func readsFailFrom(e Env, call string) func(string) {
	armed := false
	return func(a string) {
		if a != call || armed {
			return
		}
		armed = true
		for _, read := range e.Profile().Calls.Reads() {
			_ = e.AddFault(Fault{Call: read, Role: RoleDescribe, Kind: Fault5xx, Times: -1})
		}
	}
}

// slowTimeout is the per-attempt timeout of slow-reply cells.
const slowTimeout = 300 * time.Millisecond

type cellKey struct {
	call       string
	fault      FaultKind
	persistent bool
}

func parseSpec(spec string) (map[cellKey]Outcome, []string, error) {
	cells := map[cellKey]Outcome{}
	var calls []string
	for _, line := range strings.Split(spec, "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 4 {
			return nil, nil, fmt.Errorf("spec line %q: want call, fault, once, persistent", line)
		}
		if !slices.Contains(calls, f[0]) {
			calls = append(calls, f[0])
		}
		for i, persistent := range []bool{false, true} {
			o, err := ParseOutcome(f[2+i])
			if err != nil {
				return nil, nil, fmt.Errorf("spec line %q: %v", line, err)
			}
			cells[cellKey{f[0], FaultKind(f[1]), persistent}] = o
		}
	}
	return cells, calls, nil
}

// matrixOpts are the Run options of every cell: the full workflow.
func matrixOpts(clk clock.Clock, logs *Capture) rollback.RunOptions {
	return rollback.RunOptions{
		StopIfRunning: true, SafetySnapshot: true, StartAfter: true,
		Clock:  clk,
		Wait:   rollback.WaitOptions{Learner: &rollback.Learner{}},
		Logger: slog.New(logs),
		// Bounds for waits whose reads keep failing.
		RollbackTimeout: 10 * time.Minute, SnapshotTimeout: 10 * time.Minute,
	}
}

// RunCalls lists the distinct calls a clean full Run (StopIfRunning,
// SafetySnapshot, StartAfter, on a running instance) makes on an Env of
// variant, in order of first use.
func RunCalls(factory Factory, variant string) ([]string, error) {
	clk := clock.NewAutoVirtual(time.Time{})
	e, err := factory(Config{Clock: clk, Variant: variant, Options: harnessOptions(nil)})
	if err != nil {
		return nil, err
	}
	defer e.Close()
	tg, err := e.NewTarget(TargetSpec{Running: true})
	if err != nil {
		return nil, err
	}
	if _, err := rollback.Run(context.Background(), e.Provider(), e.Request(tg), matrixOpts(clk, NewCapture())); err != nil {
		return nil, fmt.Errorf("clean run: %w", err)
	}
	var calls []string
	for _, c := range e.Journal() {
		if !c.Actor && !slices.Contains(calls, c.Name) {
			calls = append(calls, c.Name)
		}
	}
	return calls, nil
}

// cellResult is one cell as run.
type cellResult struct {
	got         Outcome
	err         string
	leaks       []string
	unsupported bool
	bad         []string // invariants broken (cells without a spec)
}

// matrixJob is one cell to run.
type matrixJob struct {
	variant  string
	key      cellKey
	combo    int // index in combined + 1; 0 for a single fault
	want     Outcome
	haveWant bool
}

// runCell runs the full workflow against a fresh Env with its fault(s)
// armed and reports the outcome.
func runCell(factory Factory, prof Profile, j *matrixJob) cellResult {
	clk := clock.NewAutoVirtual(time.Time{})
	clientLogs, runLogs := NewCapture(), NewCapture()
	var hook func(string)
	cfg := Config{Clock: clk, Log: clientLogs, Variant: j.variant, Options: harnessOptions(nil), OnRequest: func(a string) {
		if hook != nil {
			hook(a)
		}
	}}
	if j.key.fault == FaultSlowReply {
		cfg.CallTimeout = slowTimeout
	}
	e, err := factory(cfg)
	if err != nil {
		return cellResult{got: Outcome{Step: "env", Err: "other"}, err: err.Error()}
	}
	defer e.Close()
	tg, err := e.NewTarget(TargetSpec{Running: true})
	if err != nil {
		return cellResult{got: Outcome{Step: "env", Err: "other"}, err: err.Error()}
	}
	req := e.Request(tg)
	if j.combo > 0 {
		for _, k := range combined[j.combo-1].needs {
			if !prof.supports(k) {
				return cellResult{unsupported: true, err: fmt.Sprintf("the Env does not inject %s", k)}
			}
		}
		err = combined[j.combo-1].arm(e, &hook)
	} else {
		f := Fault{Call: j.key.call, Role: prof.Calls.Role(j.key.call), Kind: j.key.fault}
		if j.key.persistent {
			f.Times = -1
		}
		err = e.AddFault(f)
	}
	if errors.Is(err, ErrUnsupported) {
		return cellResult{unsupported: true, err: err.Error()}
	} else if err != nil {
		return cellResult{got: Outcome{Step: "env", Err: "other"}, err: err.Error()}
	}
	o := matrixOpts(clk, runLogs)
	var evErrs []string
	o.Progress = func(ev rollback.Event) {
		if ev.Err != nil {
			evErrs = append(evErrs, ErrorTexts(ev.Err)...)
		}
	}
	j0 := len(e.Journal())
	rep, err := rollback.Run(context.Background(), e.Provider(), req, o)
	applied := e.Rollbacks(tg)
	res := cellResult{got: Observe(err, applied)}
	if err != nil {
		res.err = err.Error()
	}
	// Every error text and log line, scanned for credentials and signatures.
	sigs := e.Signatures()
	if len(sigs) == 0 && len(e.Secrets()) == 0 {
		res.leaks = append(res.leaks, "no secret and no signature to look for: the scan would be blind")
	}
	sc := NewScanner(e.Secrets(), sigs)
	texts := append(ErrorTexts(err), evErrs...)
	if rep != nil {
		for _, st := range rep.Steps {
			texts = append(texts, st.Err, st.Detail)
		}
	}
	texts = append(texts, clientLogs.Lines()...)
	texts = append(texts, runLogs.Lines()...)
	for _, s := range texts {
		for _, l := range sc.Leaks(s) {
			res.leaks = append(res.leaks, l+" in: "+clipText(s))
		}
	}
	state := e.State(tg)
	succeeded := e.RollbackSucceeded(tg)
	if res.got.Err == "" && state != rollback.InstanceRunning {
		res.got.Step = "ok-but-" + rollback.Step(state)
	}
	if res.got.Err == "" && !succeeded {
		res.got.Step = "ok-but-the-rollback-failed"
	}
	if !j.haveWant {
		fired, read, ambMut, _ := firedFaults(e.Journal()[j0:], prof.Calls)
		if j.combo == 1 && applied > 0 {
			fired[FaultFailRollback] = true
		}
		res.bad = judge(runFacts{profile: prof, running: true, stop: true, start: true, failRollback: j.combo == 1,
			fired: fired, readFaulted: read, ambiguousMut: ambMut, err: err, rep: rep, applied: applied,
			succeeded: succeeded, state: state, shortTimeout: j.key.fault == FaultSlowReply})
	}
	return res
}

// Matrix runs the fault matrix against the provider that factory makes
// Envs of: rollback.Run with StopIfRunning, SafetySnapshot and StartAfter
// on a running instance, against every call it makes x every fault kind
// the Env injects, once (the first such request) and persistently (every
// such request, outlasting the client's retries); plus combined cells for
// the outcomes no single fault reaches (a rollback the cloud fails, state
// that cannot tell). Each cell gets a fresh Env, and is held to its
// expected outcome (cfg.Specs) or, without one, to the soak's invariants;
// and every error, event, report and log line of every cell is scanned
// for secrets and signatures. Cells are subtests named
// [variant/]call/fault/once|persistent and combined/name; -v prints the
// observed matrix.
func Matrix(t *testing.T, factory Factory, cfg MatrixConfig) {
	t.Helper()
	prof, _, err := probe(factory)
	if err != nil {
		t.Fatalf("the factory: %v", err)
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = 8
	}
	var jobs []*matrixJob
	variants := append([]string{""}, prof.Variants...)
	calls := map[string][]string{}
	for _, v := range variants {
		cs, err := RunCalls(factory, v)
		if err != nil {
			t.Fatalf("%s: %v", variantName(prof, v), err)
		}
		t.Logf("%s: Run makes %s", variantName(prof, v), strings.Join(cs, ", "))
		if v != "" {
			// A variant covers only the calls the usual shape does not.
			cs = slices.DeleteFunc(cs, func(c string) bool { return slices.Contains(calls[""], c) })
		}
		calls[v] = cs
		var spec map[cellKey]Outcome
		if text, ok := cfg.Specs[v]; ok {
			var specCalls []string
			if spec, specCalls, err = parseSpec(text); err != nil {
				t.Fatalf("%s: %v", variantName(prof, v), err)
			}
			if !slices.Equal(cs, specCalls) {
				t.Errorf("%s: Run makes %v; the spec lists %v", variantName(prof, v), cs, specCalls)
			}
		}
		for _, call := range cs {
			for _, kind := range prof.kinds() {
				for _, persistent := range []bool{false, true} {
					key := cellKey{call, kind, persistent}
					want, ok := spec[key]
					if spec != nil && !ok {
						t.Errorf("%s: no spec for %s/%s", variantName(prof, v), call, kind)
					}
					jobs = append(jobs, &matrixJob{variant: v, key: key, want: want, haveWant: ok})
				}
			}
		}
		if v != "" {
			continue
		}
		for i, c := range combined {
			want, err := ParseOutcome(c.want)
			if err != nil {
				t.Fatal(err)
			}
			jobs = append(jobs, &matrixJob{key: cellKey{call: "+"}, combo: i + 1, want: want, haveWant: true})
		}
	}

	// Run every cell, many at once; then judge each in its own subtest.
	results := make([]cellResult, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers)
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = runCell(factory, prof, j)
		}()
	}
	wg.Wait()

	byVariant := map[string]map[cellKey]cellResult{}
	for i, j := range jobs {
		res := results[i]
		if byVariant[j.variant] == nil {
			byVariant[j.variant] = map[cellKey]cellResult{}
		}
		key := j.key
		if j.combo > 0 {
			key.fault = FaultKind(fmt.Sprint(j.combo))
		}
		byVariant[j.variant][key] = res
		name := fmt.Sprintf("%s/%s/%s", j.key.call, j.key.fault, map[bool]string{false: "once", true: "persistent"}[j.key.persistent])
		if j.variant != "" {
			name = j.variant + "/" + name
		}
		if j.combo > 0 {
			name = "combined/" + combined[j.combo-1].name
		}
		t.Run(name, func(t *testing.T) {
			if res.unsupported {
				t.Skip(res.err)
			}
			for _, l := range res.leaks {
				t.Errorf("leak: %s", l)
			}
			switch {
			case !j.haveWant:
				for _, b := range res.bad {
					t.Errorf("%s; got %v (%s)", b, res.got, res.err)
				}
			case res.got != j.want:
				t.Errorf("got %v, want %v; error: %s", res.got, j.want, res.err)
			}
		})
	}
	for _, v := range variants {
		printMatrix(t, prof, variantName(prof, v), calls[v], byVariant[v])
	}
}

func variantName(p Profile, v string) string {
	if v == "" {
		return p.Name
	}
	return p.Name + "/" + v
}

func printMatrix(t *testing.T, prof Profile, section string, calls []string, results map[cellKey]cellResult) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%s fault matrix (once | persistent):\n", section)
	fmt.Fprintf(&b, "%-24s", "call \\ fault")
	for _, k := range prof.kinds() {
		fmt.Fprintf(&b, " | %-44s", k)
	}
	b.WriteString("\n")
	for _, c := range calls {
		fmt.Fprintf(&b, "%-24s", c)
		for _, k := range prof.kinds() {
			once, pers := results[cellKey{c, k, false}], results[cellKey{c, k, true}]
			fmt.Fprintf(&b, " | %-44s", once.got.String()+" | "+pers.got.String())
		}
		b.WriteString("\n")
	}
	for i, c := range combined {
		if r, ok := results[cellKey{call: "+", fault: FaultKind(fmt.Sprint(i + 1))}]; ok {
			fmt.Fprintf(&b, "%-70s | %s\n", "+ "+c.name, r.got)
		}
	}
	t.Log(b.String())
}

package chaos

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/emulator"
)

// The fault matrix: every API call that rollback.Run makes (with
// StopIfRunning, SafetySnapshot and StartAfter, on a running instance) x
// every fault kind, injected once (the first such call) and persistently
// (every such call), on both clouds. Each cell is the outcome the library
// must produce:
//
//	ok                  success; exactly one rollback applied, instance running
//	step:Sentinel/N     Run failed in step with that sentinel; N rollbacks applied
//
// Fault kinds:
//
//	5xx         the cloud's internal error (SWAS InternalError, HTTP 500;
//	            Lighthouse InternalError) instead of applying the call
//	gateway-502 an HTML page with HTTP 502 from a gateway in front of the
//	            API, instead of applying the call
//	throttle    the rate-limit refusal (Throttling.User; RequestLimitExceeded)
//	busy        the refusal for an operation in progress (SWAS has no such
//	            code: IncorrectInstanceStatus, as for a transitional state;
//	            Lighthouse UnsupportedOperation.LatestOperationUnfinished)
//	reset       the connection is reset before the server applies anything
//	lost-reply  the server applies the call, then drops the connection
//	slow-reply  the reply comes later than the client's per-attempt
//	            timeout (SWAS still applies the call; Lighthouse does not)
//
// A persistent fault outlasts the client's five attempts. What a cell
// expects follows from three rules: a read that keeps failing fails its
// step with the fault's sentinel (retried faults that stop in time do not
// matter); a mutation that is refused keeps nothing applied; a mutation
// that may have landed is resolved by its token (SWAS) or by reading state
// (Lighthouse), so it is applied exactly once, never reported as a plain
// transient error while it landed.
var matrixSpec = map[string]string{
	"aliyun": `
# call          fault       once                        persistent
ListSnapshots   5xx         ok                          check:ErrInternal/0
ListSnapshots   gateway-502 ok                          check:ErrInternal/0
ListSnapshots   throttle    ok                          check:ErrThrottled/0
ListSnapshots   busy        check:ErrInstanceState/0    check:ErrInstanceState/0
ListSnapshots   reset       ok                          check:ErrNetwork/0
ListSnapshots   lost-reply  ok                          check:ErrNetwork/0
ListSnapshots   slow-reply  ok                          check:ErrNetwork/0
ListInstances   5xx         ok                          check:ErrInternal/0
ListInstances   gateway-502 ok                          check:ErrInternal/0
ListInstances   throttle    ok                          check:ErrThrottled/0
ListInstances   busy        check:ErrInstanceState/0    check:ErrInstanceState/0
ListInstances   reset       ok                          check:ErrNetwork/0
ListInstances   lost-reply  ok                          check:ErrNetwork/0
ListInstances   slow-reply  ok                          check:ErrNetwork/0
StopInstance    5xx         ok                          stop:ErrInternal/0
StopInstance    gateway-502 ok                          stop:ErrInternal/0
StopInstance    throttle    ok                          stop:ErrThrottled/0
StopInstance    busy        stop:ErrInstanceState/0     stop:ErrInstanceState/0
StopInstance    reset       ok                          stop:ErrNetwork/0
StopInstance    lost-reply  ok                          stop:ErrNetwork/0
StopInstance    slow-reply  ok                          stop:ErrNetwork/0
CreateSnapshot  5xx         ok                          safety-snapshot:ErrInternal/0
CreateSnapshot  gateway-502 ok                          safety-snapshot:ErrInternal/0
CreateSnapshot  throttle    ok                          safety-snapshot:ErrThrottled/0
CreateSnapshot  busy        safety-snapshot:ErrInstanceState/0  safety-snapshot:ErrInstanceState/0
CreateSnapshot  reset       ok                          safety-snapshot:ErrNetwork/0
CreateSnapshot  lost-reply  ok                          safety-snapshot:ErrNetwork/0
CreateSnapshot  slow-reply  ok                          safety-snapshot:ErrNetwork/0
ResetDisk       5xx         ok                          rollback:ErrInternal/0
ResetDisk       gateway-502 ok                          rollback:ErrInternal/0
ResetDisk       throttle    ok                          rollback:ErrThrottled/0
ResetDisk       busy        rollback:ErrInstanceState/0 rollback:ErrInstanceState/0
ResetDisk       reset       ok                          rollback:ErrNetwork/0
ResetDisk       lost-reply  ok                          ok
ResetDisk       slow-reply  ok                          ok
StartInstance   5xx         ok                          start:ErrInternal/1
StartInstance   gateway-502 ok                          start:ErrInternal/1
StartInstance   throttle    ok                          start:ErrThrottled/1
StartInstance   busy        start:ErrInstanceState/1    start:ErrInstanceState/1
StartInstance   reset       ok                          start:ErrNetwork/1
StartInstance   lost-reply  ok                          start:ErrNetwork/1
StartInstance   slow-reply  ok                          start:ErrNetwork/1
`,
	// A data disk's snapshot does not name its instance: Run finds it with
	// ListDisks, the one call the system-disk Run above does not make
	// (its other calls behave as above).
	"aliyun/data-disk": `
# call          fault       once                        persistent
ListDisks       5xx         ok                          check:ErrInternal/0
ListDisks       gateway-502 ok                          check:ErrInternal/0
ListDisks       throttle    ok                          check:ErrThrottled/0
ListDisks       busy        check:ErrInstanceState/0    check:ErrInstanceState/0
ListDisks       reset       ok                          check:ErrNetwork/0
ListDisks       lost-reply  ok                          check:ErrNetwork/0
ListDisks       slow-reply  ok                          check:ErrNetwork/0
`,
	"tencent": `
# call                  fault       once    persistent
DescribeSnapshots       5xx         ok      check:ErrInternal/0
DescribeSnapshots       gateway-502 ok      check:ErrInternal/0
DescribeSnapshots       throttle    ok      check:ErrThrottled/0
DescribeSnapshots       busy        ok      check:ErrBusy/0
DescribeSnapshots       reset       ok      check:ErrNetwork/0
DescribeSnapshots       lost-reply  ok      check:ErrNetwork/0
DescribeSnapshots       slow-reply  ok      check:ErrNetwork/0
DescribeInstances       5xx         ok      check:ErrInternal/0
DescribeInstances       gateway-502 ok      check:ErrInternal/0
DescribeInstances       throttle    ok      check:ErrThrottled/0
DescribeInstances       busy        ok      check:ErrBusy/0
DescribeInstances       reset       ok      check:ErrNetwork/0
DescribeInstances       lost-reply  ok      check:ErrNetwork/0
DescribeInstances       slow-reply  ok      check:ErrNetwork/0
StopInstances           5xx         ok      stop:ErrInternal/0
StopInstances           gateway-502 ok      stop:ErrInternal/0
StopInstances           throttle    ok      stop:ErrThrottled/0
StopInstances           busy        ok      stop:ErrBusy/0
StopInstances           reset       ok      stop:ErrNetwork/0
StopInstances           lost-reply  ok      ok
StopInstances           slow-reply  ok      stop:ErrNetwork/0
CreateInstanceSnapshot  5xx         ok      safety-snapshot:ErrInternal/0
CreateInstanceSnapshot  gateway-502 ok      safety-snapshot:ErrInternal/0
CreateInstanceSnapshot  throttle    ok      safety-snapshot:ErrThrottled/0
CreateInstanceSnapshot  busy        ok      safety-snapshot:ErrBusy/0
CreateInstanceSnapshot  reset       ok      safety-snapshot:ErrNetwork/0
CreateInstanceSnapshot  lost-reply  ok      ok
CreateInstanceSnapshot  slow-reply  ok      safety-snapshot:ErrNetwork/0
ApplyInstanceSnapshot   5xx         ok      rollback:ErrInternal/0
ApplyInstanceSnapshot   gateway-502 ok      rollback:ErrInternal/0
ApplyInstanceSnapshot   throttle    ok      rollback:ErrThrottled/0
ApplyInstanceSnapshot   busy        ok      rollback:ErrBusy/0
ApplyInstanceSnapshot   reset       ok      rollback:ErrNetwork/0
ApplyInstanceSnapshot   lost-reply  ok      ok
ApplyInstanceSnapshot   slow-reply  ok      rollback:ErrNetwork/0
StartInstances          5xx         ok      start:ErrInternal/1
StartInstances          gateway-502 ok      start:ErrInternal/1
StartInstances          throttle    ok      start:ErrThrottled/1
StartInstances          busy        ok      start:ErrBusy/1
StartInstances          reset       ok      start:ErrNetwork/1
StartInstances          lost-reply  ok      ok
StartInstances          slow-reply  ok      start:ErrNetwork/1
`,
}

// combined are cells of more than one fault, for the outcomes no single
// fault reaches: a rollback the cloud reports failed, and the two ways the
// state can fail to tell. arm injects the faults; hook sees each action
// as the client sends it.
var combined = []struct {
	name            string
	arm             func(e Env, hook *func(action string))
	aliyun, tencent string
}{
	{
		name:   "the cloud reports the rollback failed",
		arm:    func(e Env, _ *func(string)) { e.FailNextRollbacks(1) },
		aliyun: "wait-rollback:ErrRollbackFailed/1", tencent: "wait-rollback:ErrRollbackFailed/1",
	},
	{
		// Every rollback reply is lost, and from the first rollback call
		// on no read succeeds: nothing can tell whether it landed.
		name: "rollback replies lost, then every read fails",
		arm: func(e Env, hook *func(string)) {
			a := e.Actions()
			e.AddFault(emulator.Fault{Action: a.Rollback, DropResponse: true, Times: -1})
			*hook = readsFailFrom(e, a.Rollback)
		},
		aliyun: "rollback:ErrOutcomeUnknown/1", tencent: "rollback:ErrOutcomeUnknown/1",
	},
	{
		// The rollback is accepted; then no read succeeds, so its wait
		// cannot see it end.
		name: "rollback accepted, then every read fails",
		arm: func(e Env, hook *func(string)) {
			*hook = readsFailFrom(e, e.Actions().Rollback)
		},
		aliyun: "wait-rollback:ErrTimeout/1", tencent: "wait-rollback:ErrTimeout/1",
	},
	{
		// The reply is lost, and the resend is refused as busy: with the
		// rollback running, that refusal is likely caused by it.
		name: "rollback reply lost, then the resend refused as busy",
		arm: func(e Env, _ *func(string)) {
			a := e.Actions()
			e.AddFault(emulator.Fault{Action: a.Rollback, DropResponse: true})
			e.AddFault(emulator.Fault{Action: a.Rollback, Nth: 2, Code: codes[e.Name()]["busy"].Code, Times: -1})
		},
		aliyun: "ok", tencent: "ok",
	},
	{
		// One reply lost, and the reads made to resolve it fail twice:
		// their own retries get through.
		name: "rollback reply lost, then two reads fail",
		arm: func(e Env, hook *func(string)) {
			a := e.Actions()
			e.AddFault(emulator.Fault{Action: a.Rollback, DropResponse: true})
			armed := false
			*hook = func(action string) {
				if action == a.Rollback && !armed {
					armed = true
					e.AddFault(emulator.Fault{Action: a.ReadSnapshot, Code: codes[e.Name()]["5xx"].Code, Times: 2})
					e.AddFault(emulator.Fault{Action: a.ReadInstance, Code: codes[e.Name()]["5xx"].Code, Times: 2})
				}
			}
		},
		aliyun: "ok", tencent: "ok",
	},
}

// readsFailFrom returns a hook that, when action is first sent, makes every
// read fail from then on (the cloud's internal error).
func readsFailFrom(e Env, action string) func(string) {
	armed := false
	return func(a string) {
		if a != action || armed {
			return
		}
		armed = true
		code := codes[e.Name()]["5xx"].Code
		for _, read := range []string{e.Actions().ReadSnapshot, e.Actions().ReadInstance, "ListDisks"} {
			e.AddFault(emulator.Fault{Action: read, Code: code, Times: -1})
		}
	}
}

// faultKinds in matrix order.
var faultKinds = []string{"5xx", "gateway-502", "throttle", "busy", "reset", "lost-reply", "slow-reply"}

// codes are each provider's native codes of the coded fault kinds.
var codes = map[string]map[string]emulator.Fault{
	"aliyun": {
		"5xx":      {Code: "InternalError"},
		"throttle": {Code: "Throttling.User"},
		"busy":     {Code: "IncorrectInstanceStatus"},
	},
	"tencent": {
		"5xx":      {Code: "InternalError"},
		"throttle": {Code: "RequestLimitExceeded"},
		"busy":     {Code: "UnsupportedOperation.LatestOperationUnfinished"},
	},
}

// slowTimeout is the per-attempt timeout of slow-reply cells; the reply is
// held far longer, until the client gives up.
const (
	slowTimeout = 300 * time.Millisecond
	slowLatency = 30 * time.Second
)

// faultOf builds the fault of a kind for action.
func faultOf(provider, kind, action string, persistent bool) emulator.Fault {
	f := codes[cloudOf(provider)][kind]
	switch kind {
	case "gateway-502":
		f.Body, f.HTTPStatus = "<html><body><h1>502 Bad Gateway</h1></body></html>", 502
	case "reset":
		f.Reset = true
	case "lost-reply":
		f.DropResponse = true
	case "slow-reply":
		f.Latency = slowLatency
	}
	f.Action = action
	if persistent {
		f.Times = -1
	}
	return f
}

type cellKey struct {
	call, fault string
	persistent  bool
}

func parseSpec(t *testing.T, provider string) (map[cellKey]Outcome, []string) {
	t.Helper()
	cells := map[cellKey]Outcome{}
	var calls []string
	for _, line := range strings.Split(matrixSpec[provider], "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 4 {
			t.Fatalf("%s spec line %q: want call, fault, once, persistent", provider, line)
		}
		if !slices.Contains(calls, f[0]) {
			calls = append(calls, f[0])
		}
		for i, persistent := range []bool{false, true} {
			o, err := ParseOutcome(f[2+i])
			if err != nil {
				t.Fatalf("%s spec line %q: %v", provider, line, err)
			}
			cells[cellKey{f[0], f[1], persistent}] = o
		}
	}
	return cells, calls
}

var envs = map[string]func(Config) (Env, error){
	"aliyun": NewAliyun, "tencent": NewTencent,
	"aliyun/data-disk": func(c Config) (Env, error) { c.DataDisk = true; return NewAliyun(c) },
}

// cloudOf is the provider of a matrix section ("aliyun/data-disk": aliyun).
func cloudOf(section string) string {
	cloud, _, _ := strings.Cut(section, "/")
	return cloud
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

// runCalls lists the distinct actions a clean full Run makes, in order of
// first use.
func runCalls(t *testing.T, provider string) []string {
	clk := clock.NewAutoVirtual(time.Time{})
	e, err := envs[provider](Config{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	tg := e.NewTarget(true)
	if _, err := rollback.Run(context.Background(), e.Provider(), e.Request(tg), matrixOpts(clk, NewCapture())); err != nil {
		t.Fatalf("clean run: %v", err)
	}
	var calls []string
	for _, en := range e.Journal() {
		if !slices.Contains(calls, en.Action) {
			calls = append(calls, en.Action)
		}
	}
	return calls
}

// cellResult is one cell as run.
type cellResult struct {
	key   cellKey
	got   Outcome
	err   string
	leaks []string
	state rollback.InstanceState
}

// runCell runs the full workflow against a fresh emulator with one fault
// armed and reports the outcome.
func runCell(provider string, key cellKey, arm func(Env, *func(string))) cellResult {
	clk := clock.NewAutoVirtual(time.Time{})
	clientLogs, runLogs := NewCapture(), NewCapture()
	var hook func(string)
	cfg := Config{Clock: clk, Log: clientLogs, OnRequest: func(a string) {
		if hook != nil {
			hook(a)
		}
	}}
	if key.fault == "slow-reply" {
		cfg.CallTimeout = slowTimeout
	}
	e, err := envs[provider](cfg)
	if err != nil {
		return cellResult{key: key, got: Outcome{Step: "env", Err: "other"}, err: err.Error()}
	}
	defer e.Close()
	tg := e.NewTarget(true)
	req := e.Request(tg)
	if arm != nil {
		arm(e, &hook)
	} else {
		e.AddFault(faultOf(provider, key.fault, key.call, key.persistent))
	}
	o := matrixOpts(clk, runLogs)
	var evErrs []string
	o.Progress = func(ev rollback.Event) {
		if ev.Err != nil {
			evErrs = append(evErrs, ErrorTexts(ev.Err)...)
		}
	}
	rep, err := rollback.Run(context.Background(), e.Provider(), req, o)
	res := cellResult{key: key, got: Observe(err, e.Rollbacks(tg)), state: e.State(tg)}
	if err != nil {
		res.err = err.Error()
	}
	// Every error text and log line, scanned for credentials and signatures.
	sigs := e.Signatures()
	if len(sigs) == 0 {
		res.leaks = append(res.leaks, "no signature was captured on the wire: the scan would be blind")
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
	if res.got.Err == "" && res.state != rollback.InstanceRunning {
		res.got.Step = "ok-but-" + rollback.Step(res.state)
	}
	if res.got.Err == "" && !e.RollbackSucceeded(tg) {
		res.got.Step = "ok-but-the-rollback-failed"
	}
	return res
}

func clipText(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// sections of the matrix: each cloud, and SWAS rolling back a data disk.
var sections = []string{"aliyun", "aliyun/data-disk", "tencent"}

// matrixWorkers run cells at once: slow-reply cells mostly wait, so more
// of them than cores keeps the matrix short.
const matrixWorkers = 8

func TestFaultMatrix(t *testing.T) {
	type job struct {
		provider string
		key      cellKey
		arm      func(Env, *func(string))
		want     Outcome
		haveWant bool
	}
	var jobs []*job
	calls := map[string][]string{}
	for _, provider := range sections {
		spec, specCalls := parseSpec(t, provider)
		calls[provider] = runCalls(t, provider)
		t.Logf("%s: Run makes %s", provider, strings.Join(calls[provider], ", "))
		if base := cloudOf(provider); base != provider {
			// A variant's section covers only the calls its cloud's does not.
			calls[provider] = slices.DeleteFunc(calls[provider], func(c string) bool { return slices.Contains(calls[base], c) })
		}
		if !slices.Equal(calls[provider], specCalls) {
			t.Errorf("%s: Run makes %v; the spec lists %v", provider, calls[provider], specCalls)
		}
		for _, call := range calls[provider] {
			for _, kind := range faultKinds {
				for _, persistent := range []bool{false, true} {
					key := cellKey{call, kind, persistent}
					want, ok := spec[key]
					jobs = append(jobs, &job{provider: provider, key: key, want: want, haveWant: ok})
				}
			}
		}
		for i, c := range combined {
			if cloudOf(provider) != provider {
				continue
			}
			want, err := ParseOutcome(map[string]string{"aliyun": c.aliyun, "tencent": c.tencent}[provider])
			if err != nil {
				t.Fatal(err)
			}
			jobs = append(jobs, &job{provider: provider, key: cellKey{call: "+", fault: fmt.Sprint(i)}, arm: c.arm, want: want, haveWant: true})
		}
	}

	// Run every cell, many at once; then judge each in its own subtest.
	results := make([]cellResult, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, matrixWorkers)
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = runCell(j.provider, j.key, j.arm)
		}()
	}
	wg.Wait()

	byProvider := map[string]map[cellKey]cellResult{}
	for _, p := range sections {
		byProvider[p] = map[cellKey]cellResult{}
	}
	for i, j := range jobs {
		res := results[i]
		byProvider[j.provider][j.key] = res
		name := fmt.Sprintf("%s/%s/%s/%s", j.provider, j.key.call, j.key.fault, map[bool]string{false: "once", true: "persistent"}[j.key.persistent])
		if j.key.call == "+" {
			name = j.provider + "/combined/" + combined[mustAtoi(j.key.fault)].name
		}
		t.Run(name, func(t *testing.T) {
			for _, l := range res.leaks {
				t.Errorf("leak: %s", l)
			}
			switch {
			case !j.haveWant:
				t.Errorf("no spec; got %v (%s)", res.got, res.err)
			case res.got != j.want:
				t.Errorf("got %v, want %v; error: %s", res.got, j.want, res.err)
			}
		})
	}
	for _, provider := range sections {
		printMatrix(t, provider, calls[provider], byProvider[provider])
	}
}

func mustAtoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}

func printMatrix(t *testing.T, provider string, calls []string, results map[cellKey]cellResult) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%s fault matrix (once | persistent):\n", provider)
	fmt.Fprintf(&b, "%-24s", "call \\ fault")
	for _, k := range faultKinds {
		fmt.Fprintf(&b, " | %-44s", k)
	}
	b.WriteString("\n")
	for _, c := range calls {
		fmt.Fprintf(&b, "%-24s", c)
		for _, k := range faultKinds {
			once, pers := results[cellKey{c, k, false}], results[cellKey{c, k, true}]
			fmt.Fprintf(&b, " | %-44s", once.got.String()+" | "+pers.got.String())
		}
		b.WriteString("\n")
	}
	for i, c := range combined {
		if r, ok := results[cellKey{call: "+", fault: fmt.Sprint(i)}]; ok {
			fmt.Fprintf(&b, "%-70s | %s\n", "+ "+c.name, r.got)
		}
	}
	t.Log(b.String())
}

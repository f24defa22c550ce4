package rollbackcli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/internal/cli"
)

// A DemoCloud is one cloud of -demo: an emulator running in the process,
// seeded with a server and a snapshot, a client of it, and the rollback
// to run there.
type DemoCloud struct {
	Provider rollback.Provider // a client of the emulator
	Request  rollback.Request  // the rollback -demo runs: stop, safety snapshot, roll back, wait, start
	Applied  func() int        // how many rollbacks the emulator applied, for the summary line
	Close    func()            // stops the emulator; nil: nothing to stop
}

// A DemoFunc starts a demo cloud: its emulator on clk (which runs faster
// than real time), and its client with opts, which carry clk and -v's
// hooks.
type DemoFunc func(clk clock.Clock, opts []rollback.Option) (*DemoCloud, error)

var (
	demoMu sync.Mutex
	demos  = map[string]DemoFunc{}
)

// RegisterDemo adds a cloud, by its provider's name, to -demo, which runs
// every registered cloud in name order (-demo -provider NAME one). A
// package that offers one registers it from init, as provider packages
// register their URL schemes; package rollbackcli/builtin registers aliyun
// and tencent. A name registered twice panics: it is a build mistake.
func RegisterDemo(name string, start DemoFunc) {
	demoMu.Lock()
	defer demoMu.Unlock()
	if _, dup := demos[name]; dup || start == nil {
		panic("rollbackcli: RegisterDemo of " + name + " twice or with a nil DemoFunc")
	}
	demos[name] = start
}

// demoNames returns the registered demo clouds, sorted.
func demoNames() []string {
	demoMu.Lock()
	defer demoMu.Unlock()
	var names []string
	for n := range demos {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func demoFunc(name string) DemoFunc {
	demoMu.Lock()
	defer demoMu.Unlock()
	return demos[name]
}

// runDemo starts the registered demo clouds' emulators in this process and
// runs the full safe rollback (stop, safety snapshot, rollback, wait,
// start) on one server of each, with live progress. The emulators run on
// a clock -demo-speed times faster than real time, so minutes of cloud
// time pass in seconds; the library waits on the same clock.
func runDemo(ctx context.Context, c *config, stdout, stderr io.Writer) int {
	clk := clock.NewScaled(c.scale)
	var calls *callTable // -v: the per-call timing table
	if c.verbose {
		calls = &callTable{}
	}
	opts := []rollback.Option{rollback.WithClock(clk), rollback.WithHooks(calls.hooks())}
	// Durations learned on a clock 100 times faster mean nothing to waits
	// on the wall clock: keep the demo's to itself.
	learner := &rollback.Learner{}

	type target struct {
		name string
		*DemoCloud
	}
	var targets []target
	for _, name := range demoNames() {
		if c.provider != "" && c.provider != name {
			continue
		}
		dc, err := demoFunc(name)(clk, opts)
		if err != nil {
			return fail(stdout, stderr, c, nil, fmt.Errorf("-demo: starting %s: %w", name, err))
		}
		if dc.Close != nil {
			defer dc.Close()
		}
		targets = append(targets, target{name, dc})
	}

	// With -json, stdout carries the JSON document and nothing else: the
	// narration goes to stderr with the progress.
	text := stdout
	if c.jsonOut {
		text = stderr
	}
	fmt.Fprintf(text, "Demo: %s in this process, running %gx faster than real time.\n\n", countClouds(len(targets)), c.scale)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var reports []*cli.Report
	for _, t := range targets {
		verb := "roll back"
		if c.dryRun {
			verb = "dry run: check rolling back"
		}
		fmt.Fprintf(text, "%s: %s %s to %s: stop it, snapshot its disk first, roll back, wait, start it again.\n",
			t.name, verb, describeTarget(t.Request), t.Request.SnapshotID)
		pr := newProgress(stderr, fmt.Sprintf("%-10s", "["+t.name+"]"), clk.Now)
		rep, err := rollback.Run(ctx, t.Provider, t.Request, rollback.RunOptions{
			StopIfRunning: true, SafetySnapshot: true, StartAfter: true, DryRun: c.dryRun,
			Clock: clk, Progress: pr.event, Wait: rollback.WaitOptions{Learner: learner},
		})
		pr.done()
		calls.flush(stderr)
		if err != nil {
			return fail(stdout, stderr, c, rep, err)
		}
		if c.jsonOut {
			reports = append(reports, jsonReport(rep))
			continue
		}
		writeText(stdout, rep)
		fmt.Fprintln(stdout)
	}
	if c.jsonOut {
		_ = cli.WriteJSON(stdout, jsonResult{Header: cli.NewHeader("rollback", exitOK, nil), Reports: reports})
		return exitOK
	}
	var applied []string
	for _, t := range targets {
		applied = append(applied, fmt.Sprintf("%s %d", t.name, t.Applied()))
	}
	note := "exactly one each"
	if c.dryRun {
		note = "a dry run changes nothing"
	}
	fmt.Fprintf(stdout, "Rollbacks applied: %s (%s).\n", strings.Join(applied, ", "), note)
	fmt.Fprintln(stdout, "Next: 'go run ./examples/rollback -help' for real use; credentials come from the environment.")
	return exitOK
}

func countClouds(n int) string {
	if words := []string{"no emulated clouds", "one emulated cloud", "two emulated clouds", "three emulated clouds"}; n < len(words) {
		return words[n]
	}
	return fmt.Sprintf("%d emulated clouds", n)
}

func describeTarget(req rollback.Request) string {
	if req.InstanceID == "" {
		return "disk " + req.DiskID
	}
	if req.DiskID == "" {
		return "instance " + req.InstanceID
	}
	return "disk " + req.DiskID + " of instance " + req.InstanceID
}

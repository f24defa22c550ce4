package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/internal/cli"
	_ "github.com/cloudsnap/rollback/tencent" // registers tencent:// for rollback.Open
)

// env is what a run works with besides its flags. The demo and the tests
// give it a clock and a learner shared with their emulators.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	clock          clock.Clock          // nil: the wall clock
	speed          float64              // how much faster than real time clock runs (0: 1)
	learner        *rollback.Learner    // nil: the library's default
	times          map[string]stepTimes // expected step times (nil: typicalTimes)
	clientOpts     []rollback.Option    // for the clients made from the flags
}

// rollback-fleet is one run over the rows of the input.
type fleet struct {
	c       *config
	e       env
	rows    []row
	bad     badRows // found while reading the rows
	clients map[string]rollback.Provider
	models  map[string]model // each provider's estimate
}

// runFile rolls back the rows of -file on the real clouds (or the
// endpoints given).
func runFile(ctx context.Context, c *config, e env) int {
	in, name := e.stdin, "stdin"
	if c.file != "-" {
		f, err := os.Open(c.file)
		if err != nil {
			return fail(e.stderr, c, usageError(err.Error()))
		}
		defer f.Close()
		in, name = f, c.file
	}
	rows, err := readRows(name, c.format, in)
	bad, _ := err.(badRows)
	if err != nil && (bad == nil || len(rows) == 0) {
		return fail(e.stderr, c, err)
	}
	return runRows(ctx, c, e, rows, bad, cloudSet{urls: c.cloudURLs()})
}

// cloudSet says how the clients are opened: each provider's URL, and what
// opens it. Credentials never are in a URL: they come from the
// environment, or from the openers the demo gives.
type cloudSet struct {
	urls    map[string]string            // provider -> URL for rollback.Open
	openers map[string]rollback.OpenFunc // provider -> opener (nil: rollback.Open)
}

// open opens the client of provider p.
func (cl cloudSet) open(ctx context.Context, p string, opts []rollback.Option) (rollback.Provider, error) {
	raw, ok := cl.urls[p]
	if !ok {
		return nil, fmt.Errorf("no URL for provider %q", p)
	}
	if fn := cl.openers[p]; fn != nil {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, err
		}
		return fn(ctx, u, opts...)
	}
	return rollback.Open(ctx, raw, opts...)
}

// runRows makes the clients and runs the fleet; bad are the input's
// problems found so far, reported with the rows' own.
func runRows(ctx context.Context, c *config, e env, rows []row, bad badRows, cl cloudSet) int {
	opts := e.clientOpts
	if e.clock != nil {
		opts = append(opts, rollback.WithClock(e.clock))
	}
	if c.verbose {
		opts = append(opts, rollback.WithLogger(debugLogger(e.stderr)))
	}
	clients, models, err := newClients(ctx, c, e, rows, cl, opts)
	defer closeClients(clients)
	if err != nil {
		return fail(e.stderr, c, err)
	}
	return (&fleet{c: c, e: e, rows: rows, bad: bad, clients: clients, models: models}).run(ctx)
}

// newClients makes one client per provider named in rows that has a URL
// (aliyun, tencent, or any registered scheme given with -cloud): every row
// of a provider shares it, and with it the account's rate limits. Each
// call names its own region, so one client serves them all. The estimate
// model of each comes from what its provider declares (quota, priors),
// read from a first client that is then closed: the retry policy of the
// one used depends on it, and opening sends nothing.
func newClients(ctx context.Context, c *config, e env, rows []row, cl cloudSet, opts []rollback.Option) (map[string]rollback.Provider, map[string]model, error) {
	clients, models := map[string]rollback.Provider{}, map[string]model{}
	for _, p := range providersOf(rows) {
		if _, ok := cl.urls[p]; !ok {
			continue // a bad row, reported with the others
		}
		probe, err := cl.open(ctx, p, opts)
		if err != nil {
			return clients, models, err
		}
		m := newModel(quotaOf(probe), timesOf(e, p, probe), c)
		closeClients(map[string]rollback.Provider{p: probe})
		popts := append(opts[:len(opts):len(opts)], retryPolicy(p, m.estimate(count(rows, p))))
		client, err := cl.open(ctx, p, popts)
		if err != nil {
			return clients, models, err
		}
		clients[p], models[p] = client, m
	}
	return clients, models, nil
}

// retryPolicy fits a client's retries to a batch. The library counts a
// call's wait for a rate-limit slot against its retry budget
// (RetryPolicy.MaxElapsed, 2 minutes by default), and in a fleet that wait
// alone can take longer: the call would get no retry at all after a
// throttle or a network error. And a run started within a minute of
// another on the same account (a resumed run, another tool) finds SWAS's
// one-minute window full: a throttled call needs more attempts than the
// default five to outlast it.
func retryPolicy(provider string, batch time.Duration) rollback.Option {
	p := rollback.RetryPolicy{}
	if provider == rollback.ProviderAliyun {
		p = aliyun.DefaultRetryPolicy
	}
	p.MaxElapsed = batch + rollback.DefaultMaxElapsed
	p.MaxAttempts = 10
	return rollback.WithRetryPolicy(p)
}

func count(rows []row, provider string) int {
	n := 0
	for _, r := range rows {
		if r.Provider == provider {
			n++
		}
	}
	return n
}

func closeClients(clients map[string]rollback.Provider) {
	for _, p := range clients {
		switch p := p.(type) {
		case interface{ CloseIdleConnections() }:
			p.CloseIdleConnections()
		case io.Closer:
			p.Close()
		}
	}
}

func (f *fleet) run(ctx context.Context) int {
	c, e := f.c, f.e
	reqs, err := checkRows(f.rows, f.bad, f.clients, c.keyPrefix, !c.dryRun)
	if err != nil {
		return f.fail(err)
	}
	clk := clock.Or(e.clock)
	models := f.models
	eta := describePlan(e.stderr, c, f.rows, models, f.realTime)
	if !c.dryRun && !c.yes && !isTerminal(e.stdin) {
		// A pipe or /dev/null cannot say yes.
		return f.fail(fmt.Errorf("%w: standard input is not a terminal, so nobody can confirm; add -yes to roll back without asking, or -dry-run to only check", errNotConfirmed))
	}
	if !c.dryRun && !c.yes {
		if c.file == "-" {
			fmt.Fprintln(e.stderr, "The rows came from the terminal, so there is no answer to read: add -yes.")
			return f.fail(errNotConfirmed)
		}
		if err := confirm(e.stdin, e.stderr, len(f.rows)); err != nil {
			return f.fail(err)
		}
	}
	opts := rollback.RunOptions{StopIfRunning: c.stop, SafetySnapshot: c.backup, StartAfter: c.start, DryRun: c.dryRun,
		Clock: clk, Wait: rollback.WaitOptions{Learner: e.learner}}
	if c.verbose {
		opts.Logger = debugLogger(e.stderr)
	}
	var store rollback.Checkpointer
	if dir, err := stateDir(c.stateDir); err == nil {
		store = rollback.FileCheckpoints{Dir: dir}
	} else if !c.dryRun {
		return fail(e.stderr, c, err)
	}
	if !c.dryRun {
		opts.Checkpoints = store
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout(eta))
	defer cancel()

	start := clk.Now()
	pr := newProgress(e.stderr, clk, f.rows, models)
	results := f.runBatches(ctx, reqs, opts, store, pr)
	pr.close()
	sum := summarize(f.rows, results, start, clk.Now().Sub(start), c.dryRun)
	keys := make([]string, len(reqs))
	for i, r := range reqs {
		keys[i] = r.OperationKey
	}
	if c.jsonFile != "-" {
		sum.writeTable(e.stdout)
	}
	if c.jsonFile != "" {
		if err := sum.writeReport(c.jsonFile, e.stdout, keys); err != nil {
			fmt.Fprintf(e.stderr, "rollback-fleet: writing the JSON report: %v\n", err)
			sum.code = worst(sum.code, exitError)
		}
	}
	if hint := advice(sum.code, c); hint != "" {
		fmt.Fprintln(e.stderr, hint)
	}
	return sum.code
}

// runBatches runs each provider's rows with RunBatch, the providers at
// once, and returns the results in the order of the rows.
func (f *fleet) runBatches(ctx context.Context, reqs []rollback.Request, opts rollback.RunOptions, store rollback.Checkpointer, pr *progress) []rollback.BatchResult {
	results := make([]rollback.BatchResult, len(reqs))
	var wg sync.WaitGroup
	for _, p := range providersOf(f.rows) {
		var idx []int // the rows of p
		var batch []rollback.Request
		for i, r := range f.rows {
			if r.Provider != p {
				continue
			}
			if f.c.dryRun && store != nil {
				if res, ok := earlierRun(ctx, store, reqs[i]); ok {
					results[i] = res
					continue
				}
			}
			idx = append(idx, i)
			batch = append(batch, reqs[i])
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := rollback.RunBatch(ctx, f.clients[p], batch, opts, rollback.BatchOptions{
				Concurrency: f.c.concurrency,
				Progress:    func(i int, ev rollback.Event) { pr.event(idx[i], ev) },
				Done:        func(i int, r rollback.BatchResult) { pr.done(idx[i], r) },
			})
			for i, r := range res {
				results[idx[i]] = r
			}
		}()
	}
	wg.Wait()
	return results
}

// earlierRun finds, for a dry run, a row that an earlier run with the same
// key already started: a dry run would check it as if nothing had
// happened, and a real run resumes it instead.
func earlierRun(ctx context.Context, store rollback.Checkpointer, req rollback.Request) (rollback.BatchResult, bool) {
	if req.OperationKey == "" {
		return rollback.BatchResult{}, false
	}
	cp, err := store.Load(ctx, req.OperationKey)
	if err != nil || cp == nil {
		return rollback.BatchResult{}, false
	}
	rep := &rollback.Report{DryRun: true, Resumed: true, Request: cp.Request, Result: cp.Result,
		Plan: []string{fmt.Sprintf("resume the earlier run (it got to %s)", cp.Phase)}}
	if cp.Phase == rollback.PhaseDone {
		rep.Plan = nil
	}
	return rollback.BatchResult{Request: req, Report: rep}, true
}

// timeout is -timeout, or twice the estimate and at least an hour, in
// real time.
func (f *fleet) timeout(eta time.Duration) time.Duration {
	if f.c.timeout > 0 {
		return f.c.timeout
	}
	return max(time.Hour, 2*f.real(eta))
}

// real converts a duration on the run's clock to real time.
func (f *fleet) real(d time.Duration) time.Duration {
	if f.e.speed <= 1 {
		return d
	}
	return time.Duration(float64(d) / f.e.speed)
}

// realTime says how long d takes in real time when the clock runs faster.
func (f *fleet) realTime(d time.Duration) string {
	if f.e.speed <= 1 {
		return ""
	}
	return fmt.Sprintf(" of cloud time, about %s here at %gx", fmtDur(f.real(d)), f.e.speed)
}

func stateDir(flagDir string) (string, error) {
	if flagDir != "" {
		return flagDir, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no -state-dir given and no user cache directory: %w", err)
	}
	// The rollback command's directory: a key names one operation in both.
	return filepath.Join(base, "cloudsnap-rollback"), nil
}

func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// fail reports an error that ends the run before any row ran, in the
// JSON report too.
func (f *fleet) fail(err error) int {
	code := fail(f.e.stderr, f.c, err)
	if f.c.jsonFile != "" {
		_ = writeJSONTo(f.c.jsonFile, f.e.stdout, report{Header: cli.NewHeader("rollback-fleet", code, err)})
	}
	return code
}

// fail reports an error that ends the run before any row ran.
func fail(stderr io.Writer, c *config, err error) int {
	code, _ := classify(err)
	if _, bad := err.(badRows); bad {
		code = exitUsage
	}
	fmt.Fprintf(stderr, "rollback-fleet: %s\n", trimPrefix(err.Error()))
	if code == exitUsage {
		fmt.Fprintln(stderr, "Run 'rollback-fleet -help' for usage.")
	}
	return code
}

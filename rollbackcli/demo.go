package rollbackcli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/internal/cli"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// demoTarget is one server of the demo and the rollback to run on it.
type demoTarget struct {
	name string
	p    rollback.Provider
	req  rollback.Request
	rep  *rollback.Report
	err  error
	// applied counts the rollbacks the emulator applied.
	applied func() int
}

// runDemo starts both emulators in this process, seeds a few servers with
// snapshots, and runs the full safe rollback (stop, safety snapshot,
// rollback, wait, start) on one server of each cloud, with live progress.
// The emulators run on a clock -demo-speed times faster than real time, so
// minutes of cloud time pass in seconds; the library waits on the same
// clock.
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

	ali := aliyuntest.NewServer(aliyuntest.WithClock(clk))
	defer ali.Close()
	tc := tencenttest.NewServer(tencenttest.WithClock(clk))
	defer tc.Close()

	aliClient, err := aliyun.New(aliyun.Config{
		Region: aliyuntest.DefaultRegion, Endpoint: ali.URL,
		AccessKeyID: aliyuntest.DefaultAccessKeyID, AccessKeySecret: aliyuntest.DefaultAccessKeySecret,
	}, opts...)
	if err != nil {
		return fail(stdout, stderr, c, nil, err)
	}
	tcClient, err := tencent.New(tencent.Config{
		Region: tencenttest.DefaultRegion, Endpoint: tc.URL,
		SecretID: tencenttest.DefaultSecretID, SecretKey: tencenttest.DefaultSecretKey,
	}, opts...)
	if err != nil {
		return fail(stdout, stderr, c, nil, err)
	}

	// With -json, stdout carries the JSON document and nothing else: the
	// narration goes to stderr with the progress.
	text := stdout
	if c.jsonOut {
		text = stderr
	}
	fmt.Fprintf(text, "Demo: two emulated clouds in this process, running %gx faster than real time.\n\n", c.scale)
	targets := []*demoTarget{seedAliyun(ali, aliClient), seedTencent(tc, tcClient)}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var reports []*cli.Report
	for _, t := range targets {
		if c.provider != "" && c.provider != t.name {
			continue
		}
		verb := "roll back"
		if c.dryRun {
			verb = "dry run: check rolling back"
		}
		fmt.Fprintf(text, "%s: %s %s to %s: stop it, snapshot its disk first, roll back, wait, start it again.\n",
			t.name, verb, describeTarget(t.req), t.req.SnapshotID)
		pr := newProgress(stderr, fmt.Sprintf("%-10s", "["+t.name+"]"), clk.Now)
		t.rep, t.err = rollback.Run(ctx, t.p, t.req, rollback.RunOptions{
			StopIfRunning: true, SafetySnapshot: true, StartAfter: true, DryRun: c.dryRun,
			Clock: clk, Progress: pr.event, Wait: rollback.WaitOptions{Learner: learner},
		})
		pr.done()
		calls.flush(stderr)
		if t.err != nil {
			return fail(stdout, stderr, c, t.rep, t.err)
		}
		if c.jsonOut {
			reports = append(reports, jsonReport(t.rep))
			continue
		}
		writeText(stdout, t.rep)
		fmt.Fprintln(stdout)
	}
	if c.jsonOut {
		_ = cli.WriteJSON(stdout, jsonResult{Header: cli.NewHeader("rollback", exitOK, nil), Reports: reports})
		return exitOK
	}
	var applied []string
	for _, t := range targets {
		if c.provider == "" || c.provider == t.name {
			applied = append(applied, fmt.Sprintf("%s %d", t.name, t.applied()))
		}
	}
	note := "exactly one each"
	if c.dryRun {
		note = "a dry run changes nothing"
	}
	fmt.Fprintf(stdout, "Rollbacks applied: %s (%s).\n", strings.Join(applied, ", "), note)
	fmt.Fprintln(stdout, "Next: 'go run ./examples/rollback -help' for real use; credentials come from the environment.")
	return exitOK
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

// seedAliyun creates three running servers, each with a snapshot of its
// system disk taken yesterday, and targets the first.
func seedAliyun(srv *aliyuntest.Server, p rollback.Provider) *demoTarget {
	var first rollback.Request
	for i := range 3 {
		in := aliyuntest.Must(srv.AddInstance(aliyuntest.InstanceSpec{Name: fmt.Sprintf("web-%d", i+1), Status: aliyuntest.StatusRunning}))
		snap := aliyuntest.Must(srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: in.SystemDiskID, Name: "nightly",
			CreatedAt: srv.Clock().Now().Add(-24 * time.Hour)}))
		if i == 0 {
			first = rollback.Request{Region: aliyuntest.DefaultRegion, DiskID: in.SystemDiskID, SnapshotID: snap.ID}
		}
	}
	return &demoTarget{name: "aliyun", p: p, req: first, applied: srv.Rollbacks}
}

// seedTencent creates three running Lighthouse instances with a snapshot
// each, and targets the first.
func seedTencent(srv *tencenttest.Server, p rollback.Provider) *demoTarget {
	var first rollback.Request
	for i := range 3 {
		in, err := srv.AddInstance(tencenttest.Instance{Name: fmt.Sprintf("api-%d", i+1), State: "RUNNING"})
		if err != nil {
			panic(err) // seeding fixed, valid data
		}
		snap, err := srv.AddSnapshot(tencenttest.Snapshot{InstanceID: in.ID, Name: "nightly"})
		if err != nil {
			panic(err)
		}
		if i == 0 {
			first = rollback.Request{Region: tencenttest.DefaultRegion, InstanceID: in.ID, SnapshotID: snap.ID}
		}
	}
	return &demoTarget{name: "tencent", p: p, req: first, applied: srv.Rollbacks}
}

package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/clock"
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

	fmt.Fprintf(stdout, "Demo: two emulated clouds in this process, running %gx faster than real time.\n\n", c.scale)
	targets := []*demoTarget{seedAliyun(ali, aliClient), seedTencent(tc, tcClient)}
	for _, t := range targets {
		fmt.Fprintf(stdout, "%s: roll back %s to %s: stop it, snapshot its disk first, roll back, wait, start it again.\n",
			t.name, describeTarget(t.req), t.req.SnapshotID)
		pr := newProgress(stderr, "["+t.name+"] ")
		t.rep, t.err = rollback.Run(ctx, t.p, t.req, rollback.RunOptions{
			StopIfRunning: true, SafetySnapshot: true, StartAfter: true,
			Clock: clk, Progress: pr.event, Wait: rollback.WaitOptions{Learner: learner},
		})
		pr.done()
		calls.flush(stderr)
		if t.err != nil {
			return fail(stdout, stderr, c, t.rep, t.err)
		}
		if c.jsonOut {
			writeJSON(stdout, t.rep, nil)
		} else {
			writeText(stdout, t.rep)
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "Rollbacks applied: aliyun %d, tencent %d (exactly one each).\n", ali.Rollbacks(), tc.Rollbacks())
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
		in := srv.AddInstance(aliyuntest.InstanceSpec{Name: fmt.Sprintf("web-%d", i+1), Status: aliyuntest.StatusRunning})
		snap := srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: in.SystemDiskID, Name: "nightly",
			CreatedAt: srv.Clock().Now().Add(-24 * time.Hour)})
		if i == 0 {
			first = rollback.Request{Region: aliyuntest.DefaultRegion, DiskID: in.SystemDiskID, SnapshotID: snap.ID}
		}
	}
	return &demoTarget{name: "aliyun", p: p, req: first}
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
	return &demoTarget{name: "tencent", p: p, req: first}
}

package acme_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"

	"example.com/acmecloud/acme"
	"example.com/acmecloud/acmetest"
)

func auto() *clock.Virtual { return clock.NewAutoVirtual(time.Time{}) }

func runOpts(clk clock.Clock) rollback.RunOptions {
	return rollback.RunOptions{Clock: clk, Wait: rollback.WaitOptions{Learner: &rollback.Learner{}}}
}

func TestRunHappyPath(t *testing.T) {
	clk := auto()
	h := acmetest.NewHarness(t, clk)
	tg := h.NewTarget(t, true)
	o := runOpts(clk)
	o.StopIfRunning, o.StartAfter, o.SafetySnapshot = true, true, true
	rep, err := rollback.Run(context.Background(), h.Client, h.Request(tg), o)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Rollbacks(tg); got != 1 {
		t.Fatalf("%d restores, want 1", got)
	}
	if rep.Result == nil || rep.Result.Provider != acme.Name || rep.Result.RequestID == "" || rep.Result.Adopted {
		t.Fatalf("result %+v", rep.Result)
	}
	if rep.SafetySnapshotID == "" || rep.InstanceAfter == nil || rep.InstanceAfter.State != rollback.InstanceRunning {
		t.Fatalf("report: safety %q, after %+v", rep.SafetySnapshotID, rep.InstanceAfter)
	}
	for kind, want := range map[string]int{acmetest.CallStop: 1, acmetest.CallStart: 1, acmetest.CallSnapshot: 1, acmetest.CallRollback: 1} {
		if got := h.Calls(kind); got != want {
			t.Errorf("%d %s calls, want %d", got, kind, want)
		}
	}
	snap, err := h.Client.Snapshot(context.Background(), "", tg.SnapshotID)
	if err != nil {
		t.Fatal(err)
	}
	if snap.LatestOperation.RequestID != rep.Result.RequestID || snap.LatestOperation.State != rollback.OperationSucceeded || snap.LastRollbackAt.IsZero() {
		t.Fatalf("snapshot's last restore %+v at %v, want request %s succeeded", snap.LatestOperation, snap.LastRollbackAt, rep.Result.RequestID)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	clk := auto()
	h := acmetest.NewHarness(t, clk)
	tg := h.NewTarget(t, true)
	o := runOpts(clk)
	o.DryRun, o.StopIfRunning, o.SafetySnapshot = true, true, true
	rep, err := rollback.Run(context.Background(), h.Client, h.Request(tg), o)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.DryRun || len(rep.Plan) == 0 {
		t.Fatalf("dry run report %+v", rep)
	}
	for _, e := range h.Server.Journal().Entries() {
		if e.Action != "DescribeServers" && e.Action != "DescribeSnapshots" {
			t.Fatalf("a dry run sent %s", e.Action)
		}
	}
	if st, _ := h.Server.State(tg.InstanceID); st != acme.StateRunning {
		t.Fatalf("server %s after a dry run", st)
	}
}

func TestLostReplyRestoresOnce(t *testing.T) {
	clk := auto()
	h := acmetest.NewHarness(t, clk)
	tg := h.NewTarget(t, false)
	h.LoseNextRollbackResponse()
	rep, err := rollback.Run(context.Background(), h.Client, h.Request(tg), runOpts(clk))
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Rollbacks(tg); got != 1 {
		t.Fatalf("%d restores after a lost reply, want exactly 1", got)
	}
	if got := h.Calls(acmetest.CallRollback); got != 1 {
		t.Fatalf("%d RestoreSnapshot calls: the engine resent without evidence", got)
	}
	if !rep.Result.Adopted || rep.Result.RequestID == "" {
		t.Fatalf("result %+v, want the landed restore adopted", rep.Result)
	}
}

func TestLostReplyOfClientRollbackDirect(t *testing.T) {
	// The same through the client alone, with a server error that did not
	// land before the lost reply: the engine proves nothing landed, resends
	// once, then adopts the lost one's evidence... or its own success.
	clk := auto()
	h := acmetest.NewHarness(t, clk)
	tg := h.NewTarget(t, false)
	h.ServerErrorNextRollback()
	res, err := h.Client.Rollback(context.Background(), h.Request(tg))
	if err != nil {
		t.Fatal(err)
	}
	if h.Rollbacks(tg) != 1 || res.Attempts != 2 || res.Adopted {
		t.Fatalf("restores %d, result %+v: want one restore after a 500 that applied nothing", h.Rollbacks(tg), res)
	}
}

func TestThrottleIsRetried(t *testing.T) {
	clk := auto()
	var retries []rollback.RetryEvent
	h := acmetest.NewHarness(t, clk, rollback.WithRetryHook(func(ev rollback.RetryEvent) { retries = append(retries, ev) }))
	tg := h.NewTarget(t, false)
	h.Server.FailNext("RestoreSnapshot", acme.CodeThrottled, 2)
	h.Server.FailNext("DescribeServers", acme.CodeThrottled, 1)
	if _, err := rollback.Run(context.Background(), h.Client, h.Request(tg), runOpts(clk)); err != nil {
		t.Fatal(err)
	}
	if h.Rollbacks(tg) != 1 || h.Calls(acmetest.CallRollback) != 3 {
		t.Fatalf("%d restores in %d calls, want 1 in 3", h.Rollbacks(tg), h.Calls(acmetest.CallRollback))
	}
	if len(retries) != 3 || !errors.Is(retries[0].Err, rollback.ErrThrottled) {
		t.Fatalf("retries %+v", retries)
	}
}

func TestRunBatch200(t *testing.T) {
	if testing.Short() {
		t.Skip("200 servers")
	}
	// Many goroutines: a scaled clock, not an auto-advancing one. The
	// emulator's rate windows are off and the step limits generous: this
	// test is about batched reads, and under -race on a loaded machine the
	// calls' CPU time, scaled 400 times, adds minutes of clock time.
	clk := clock.NewScaled(400)
	srv := acmetest.NewServer(acmetest.WithClock(clk), acmetest.WithoutRateLimits())
	defer srv.Close()
	c, err := acme.New(acme.Config{Region: acmetest.DefaultRegion, Endpoint: srv.URL, KeyID: acmetest.DefaultKeyID, Secret: acmetest.DefaultSecret},
		rollback.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 200
	reqs := make([]rollback.Request, n)
	ids := make([]string, n)
	for i := range reqs {
		state := acme.StateStopped
		if i%2 == 0 {
			state = acme.StateRunning
		}
		sv, _ := srv.AddServer(acmetest.ServerSpec{State: state})
		snap, err := srv.AddSnapshot(acmetest.SnapshotSpec{ServerID: sv.ID})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = sv.ID
		reqs[i] = rollback.Request{Region: acmetest.DefaultRegion, InstanceID: sv.ID, SnapshotID: snap, OperationKey: fmt.Sprintf("fleet-%d", i)}
	}
	o := runOpts(clk)
	o.StopIfRunning = true
	o.BusyTimeout, o.StopTimeout, o.RollbackTimeout, o.LeaseTTL = 24*time.Hour, 24*time.Hour, 24*time.Hour, 24*time.Hour
	start := clk.Now()
	results := rollback.RunBatch(context.Background(), c, reqs, o, rollback.BatchOptions{})
	t.Logf("RunBatch took %s of clock time", clk.Now().Sub(start))
	for i, r := range results {
		if r.Err != nil {
			t.Fatalf("item %d: %v", i, r.Err)
		}
		if got := srv.RestoresOf(ids[i]); got != 1 {
			t.Fatalf("item %d: %d restores", i, got)
		}
	}
	reads, calls := 0, 0
	for _, e := range srv.Journal().Entries() {
		if e.Action != "DescribeServers" {
			continue
		}
		if len(e.IDs) > acme.MaxIDs {
			t.Fatalf("a DescribeServers call named %d servers", len(e.IDs))
		}
		calls++
		reads += len(e.IDs)
	}
	t.Logf("RunBatch of %d: %d server reads in %d DescribeServers calls (%.1f per call)", n, reads, calls, float64(reads)/float64(max(calls, 1)))

	// A batched read of all 200 is exactly one call per 50.
	before := srv.Journal().Count("DescribeServers")
	got, err := c.Instances(context.Background(), "", ids)
	if err != nil || len(got) != n {
		t.Fatalf("Instances: %d, %v", len(got), err)
	}
	if calls := srv.Journal().Count("DescribeServers") - before; calls != n/acme.MaxIDs {
		t.Fatalf("Instances of %d servers took %d DescribeServers calls, want %d", n, calls, n/acme.MaxIDs)
	}
}

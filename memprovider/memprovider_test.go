package memprovider_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/memprovider"
)

func newCloud(t *testing.T, opts ...memprovider.Option) (*memprovider.Provider, *clock.Virtual) {
	t.Helper()
	clk := clock.NewAutoVirtual(time.Time{})
	return memprovider.New(append([]memprovider.Option{memprovider.WithClock(clk)}, opts...)...), clk
}

func seed(t *testing.T, p *memprovider.Provider, running bool) memprovider.Server {
	t.Helper()
	s, err := p.AddServer(memprovider.ServerSpec{Running: running})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func runOpts(clk clock.Clock) rollback.RunOptions {
	return rollback.RunOptions{Clock: clk, Wait: rollback.WaitOptions{Learner: &rollback.Learner{}}}
}

// RunBatch over 100 servers, half of them running: every one rolled back
// exactly once, stopped first and started after where needed, and reads
// batched. Concurrent waits need a scaled clock, not an auto-advancing one
// (each sleeper would push time forward for all).
func TestRunBatch100(t *testing.T) {
	clk := clock.NewScaled(100)
	p := memprovider.New(memprovider.WithClock(clk))
	const n = 100
	srvs := make([]memprovider.Server, n)
	reqs := make([]rollback.Request, n)
	for i := range srvs {
		srvs[i] = seed(t, p, i%2 == 0)
		reqs[i] = srvs[i].Request()
		reqs[i].OperationKey = fmt.Sprintf("fleet-%d", i)
	}
	o := runOpts(clk)
	o.StopIfRunning, o.StartAfter = true, true
	// Not a test of timeouts: generous limits keep a loaded machine's
	// scheduling delays (scaled 100x) from tripping them.
	o.StopTimeout, o.StartTimeout, o.RollbackTimeout = 3*time.Hour, 3*time.Hour, 3*time.Hour
	results := rollback.RunBatch(context.Background(), p, reqs, o, rollback.BatchOptions{})
	for i, r := range results {
		if r.Err != nil {
			t.Fatalf("item %d: %v", i, r.Err)
		}
		if got := p.RollbacksOf(srvs[i].InstanceID); got != 1 {
			t.Fatalf("item %d: %d rollbacks", i, got)
		}
		if in, _ := p.ViewInstance(srvs[i].InstanceID); in.State != rollback.InstanceRunning {
			t.Fatalf("item %d ended %s", i, in.State)
		}
	}
	if got := p.Calls(memprovider.ActionRollback); got != n {
		t.Errorf("%d rollback calls for %d servers", got, n)
	}
	if got := p.Calls(memprovider.ActionStopInstance); got != n/2 {
		t.Errorf("%d stop calls for %d running servers", got, n/2)
	}
	describes := p.Calls(memprovider.ActionDescribeInstances) + p.Calls(memprovider.ActionDescribeSnapshots)
	t.Logf("%d servers: %d describe calls", n, describes)
}

// Every way an attempt can end without saying whether it was applied:
// the rollback is applied exactly once, and a lost reply is adopted.
func TestAmbiguousAttemptsApplyOnce(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fault   memprovider.Fault
		adopted bool
	}{
		{"ReplyLost", memprovider.Fault{DropResponse: true}, true},
		{"ConnectionReset", memprovider.Fault{Err: rollback.ErrNetwork}, false},
		{"InternalError", memprovider.Fault{Err: rollback.ErrInternal}, false},
		{"ServiceUnavailableTwice", memprovider.Fault{Code: memprovider.CodeServiceUnavailable, Times: 2}, false},
		{"TimedOut", memprovider.Fault{Latency: time.Minute}, false},
		{"InternalErrorAfterApplying", memprovider.Fault{Err: rollback.ErrInternal, AfterApply: true}, true},
		{"SlowButInTime", memprovider.Fault{Latency: 5 * time.Second}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, clk := newCloud(t)
			s := seed(t, p, false)
			f := tc.fault
			f.Action = memprovider.ActionRollback
			if err := p.AddFault(f); err != nil {
				t.Fatal(err)
			}
			rep, err := rollback.Run(context.Background(), p, s.Request(), runOpts(clk))
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := p.RollbacksOf(s.InstanceID); got != 1 {
				t.Fatalf("%d rollbacks applied", got)
			}
			if rep.Result.Adopted != tc.adopted {
				t.Errorf("adopted %v, want %v", rep.Result.Adopted, tc.adopted)
			}
			if in, _ := p.ViewInstance(s.InstanceID); in.State != rollback.InstanceStopped {
				t.Errorf("instance %s", in.State)
			}
		})
	}
}

// Another actor rolls the instance back to another snapshot while our
// attempt's fate is unknown: not ours, so neither success nor a resend.
func TestForeignRollbackIsOutcomeUnknown(t *testing.T) {
	p, clk := newCloud(t)
	s := seed(t, p, false)
	other, err := p.AddSnapshot(memprovider.SnapshotSpec{InstanceID: s.InstanceID})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.FailNext(memprovider.ActionRollback, 1, rollback.ErrNetwork); err != nil {
		t.Fatal(err)
	}
	p.Before(memprovider.ActionRollback, 1, func() {
		if _, err := p.ActorRollback(s.InstanceID, other.ID); err != nil {
			t.Error(err)
		}
	})
	_, err = rollback.Run(context.Background(), p, s.Request(), runOpts(clk))
	if !errors.Is(err, rollback.ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
	}
	if got, calls := p.RollbacksOf(s.InstanceID), p.Calls(memprovider.ActionRollback); got != 1 || calls != 1 {
		t.Errorf("%d rollbacks applied (the other actor's), %d calls; want 1 and 1", got, calls)
	}
}

func TestRetriesAndFinalErrors(t *testing.T) {
	p, clk := newCloud(t)
	s := seed(t, p, false)
	if err := p.FailNext(memprovider.ActionDescribeInstances, 3, rollback.ErrThrottled); err != nil {
		t.Fatal(err)
	}
	if _, err := rollback.Run(context.Background(), p, s.Request(), runOpts(clk)); err != nil {
		t.Fatalf("throttled reads are retried: %v", err)
	}
	for kind, code := range map[error]string{
		rollback.ErrPermissionDenied: memprovider.CodeForbidden,
		rollback.ErrUnauthenticated:  memprovider.CodeUnauthenticated,
		rollback.ErrQuotaExceeded:    memprovider.CodeQuotaExceeded,
	} {
		s := seed(t, p, false)
		if err := p.FailNext(memprovider.ActionRollback, 1, kind); err != nil {
			t.Fatal(err)
		}
		_, err := rollback.Run(context.Background(), p, s.Request(), runOpts(clk))
		var re *rollback.Error
		if !errors.Is(err, kind) || !errors.As(err, &re) || re.Code != code || re.Provider != memprovider.Name || re.RequestID == "" {
			t.Errorf("%v: err = %#v", kind, err)
		}
		if p.RollbacksOf(s.InstanceID) != 0 {
			t.Errorf("%v: applied", kind)
		}
	}
	if err := p.FailNext(memprovider.ActionRollback, 1, rollback.ErrRollbackFailed); err == nil {
		t.Error("a fault cannot inject ErrRollbackFailed (FailNextRollbacks does)")
	}
	if err := p.AddFault(memprovider.Fault{Action: "Nope", Err: rollback.ErrBusy}); err == nil {
		t.Error("unknown action accepted")
	}
	for code, kind := range memprovider.Codes() {
		if kind == nil {
			t.Errorf("code %s maps to nothing", code)
		}
	}
}

// The provider's own refusals carry codes that map to the sentinels, and
// bad input is refused before anything is sent.
func TestRefusals(t *testing.T) {
	p, clk := newCloud(t)
	s := seed(t, p, true)
	ctx := context.Background()
	_, err := p.Rollback(ctx, s.Request())
	if !errors.Is(err, rollback.ErrInstanceState) {
		t.Errorf("running instance: %v", err)
	}
	o := seed(t, p, false)
	req := o.Request()
	req.SnapshotID = s.SnapshotID
	if _, err := p.Rollback(ctx, req); !errors.Is(err, rollback.ErrSnapshotMismatch) {
		t.Errorf("snapshot of another disk: %v", err)
	}
	if _, err := p.Instance(ctx, "", "ins-999999"); !errors.Is(err, rollback.ErrInstanceNotFound) {
		t.Errorf("missing instance: %v", err)
	}
	if _, err := p.Disk(ctx, "", "disk-999999"); !errors.Is(err, rollback.ErrDiskNotFound) {
		t.Errorf("missing disk: %v", err)
	}
	calls := p.Calls("")
	for _, bad := range []rollback.Request{
		{Region: "mem-1", InstanceID: "i-1", SnapshotID: s.SnapshotID},
		{Region: "mem-1", SnapshotID: s.SnapshotID},
		{Region: "elsewhere", InstanceID: s.InstanceID, SnapshotID: s.SnapshotID},
		{InstanceID: s.InstanceID, SnapshotID: s.SnapshotID},
	} {
		if _, err := rollback.Run(ctx, p, bad, runOpts(clk)); !errors.Is(err, rollback.ErrInvalidArgument) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if got := p.Calls(""); got != calls {
		t.Errorf("bad requests made %d calls", got-calls)
	}
	if _, err := p.AddInstance(memprovider.InstanceSpec{State: "Exploded"}); err == nil {
		t.Error("seeded an instance in an unknown state")
	}
	if _, err := p.AddSnapshot(memprovider.SnapshotSpec{InstanceID: "ins-nope"}); err == nil {
		t.Error("seeded a snapshot of nothing")
	}
}

func TestQuotaThrottles(t *testing.T) {
	p, _ := newCloud(t, memprovider.WithQuota(1, time.Minute),
		memprovider.WithClientOptions(rollback.WithoutRateLimit(), rollback.WithMaxAttempts(1)))
	a, b := seed(t, p, true), seed(t, p, true)
	ctx := context.Background()
	if err := p.StopInstance(ctx, "", a.InstanceID); err != nil {
		t.Fatal(err)
	}
	err := p.StopInstance(ctx, "", b.InstanceID)
	if !errors.Is(err, rollback.ErrThrottled) {
		t.Fatalf("second stop within the minute: %v", err)
	}
	// The client keeps to the quota by itself unless told otherwise.
	q, _ := newCloud(t, memprovider.WithQuota(1, time.Minute), memprovider.WithClientOptions(rollback.WithMaxAttempts(1)))
	c, d := seed(t, q, true), seed(t, q, true)
	for _, s := range []memprovider.Server{c, d} {
		if err := q.StopInstance(ctx, "", s.InstanceID); err != nil {
			t.Fatalf("paced stop: %v", err)
		}
	}
	// The quota is declared, for tools that pace many processes to it.
	if got := q.Capabilities().Quotas[rollback.OpRollback]; got != (rollback.RateLimit{Calls: 1, Per: time.Minute}) {
		t.Errorf("declared rollback quota %+v, want 1 per minute", got)
	}
	if got := p.Capabilities().Quotas; len(got) != 4 {
		t.Errorf("declared quotas %v, want the four mutating kinds", got)
	}
	if got := memprovider.New().Capabilities().Quotas; got != nil {
		t.Errorf("no quota, yet declared %v", got)
	}
}

func TestReadLag(t *testing.T) {
	p, clk := newCloud(t, memprovider.WithReadLag(30*time.Second))
	s := seed(t, p, true)
	ctx := context.Background()
	if err := p.ActorStop(s.InstanceID); err != nil {
		t.Fatal(err)
	}
	in, err := p.Instance(ctx, "", s.InstanceID)
	if err != nil || in.State != rollback.InstanceRunning {
		t.Fatalf("read at once: %+v, %v; want still running", in, err)
	}
	if real, _ := p.ViewInstance(s.InstanceID); real.State != rollback.InstanceStopping {
		t.Fatalf("real state %s", real.State)
	}
	clk.Advance(31 * time.Second) // the stop (20s) ended 11s ago: still hidden
	if in, _ = p.Instance(ctx, "", s.InstanceID); in.State != rollback.InstanceStopping {
		t.Fatalf("after the lag of the change: %s, want stopping (its end is still lagging)", in.State)
	}
	clk.Advance(20 * time.Second)
	if in, _ = p.Instance(ctx, "", s.InstanceID); in.State != rollback.InstanceStopped || in.LatestOperation.State != rollback.OperationSucceeded {
		t.Fatalf("after both lags: %+v", in)
	}
	// A Run under read lag still rolls back once.
	p.SetReadLag(5 * time.Second)
	if _, err := rollback.Run(ctx, p, s.Request(), runOpts(clk)); err != nil {
		t.Fatal(err)
	}
	if got := p.RollbacksOf(s.InstanceID); got != 1 {
		t.Fatalf("%d rollbacks", got)
	}
}

func TestLifecycleExactlyOnce(t *testing.T) {
	p, _ := newCloud(t)
	s := seed(t, p, true)
	ctx := context.Background()
	if err := p.LoseNextReply(memprovider.ActionStopInstance); err != nil {
		t.Fatal(err)
	}
	if err := p.StopInstance(ctx, "", s.InstanceID); err != nil {
		t.Fatalf("stop with a lost reply: %v", err)
	}
	if got := p.Calls(memprovider.ActionStopInstance); got != 1 {
		t.Errorf("%d stop calls", got)
	}
	if _, err := p.CreateSnapshot(ctx, "", s.InstanceID, "", "too-soon"); !errors.Is(err, rollback.ErrBusy) {
		t.Errorf("snapshot of a stopping instance: %v", err)
	}
	if _, err := rollback.WaitInstance(ctx, p, "", s.InstanceID, rollback.UntilStopped, rollback.WaitOptions{Clock: p.Clock()}); err != nil {
		t.Fatal(err)
	}
	refused := p.Calls(memprovider.ActionCreateSnapshot) // busy refusals, retried
	if err := p.LoseNextReply(memprovider.ActionCreateSnapshot); err != nil {
		t.Fatal(err)
	}
	snap, err := p.CreateSnapshot(ctx, "", s.InstanceID, "", "safety")
	if err != nil {
		t.Fatalf("snapshot with a lost reply: %v", err)
	}
	if snap.Name != "safety" || snap.DiskID != s.DiskID {
		t.Errorf("snapshot %+v", snap)
	}
	if got := p.Calls(memprovider.ActionCreateSnapshot) - refused; got != 1 {
		t.Errorf("%d snapshot calls", got)
	}
	got, err := rollback.WaitSnapshot(ctx, p, "", snap.ID, rollback.WaitOptions{Clock: p.Clock()})
	if err != nil || got.State != rollback.SnapshotReady || got.Progress != 100 {
		t.Fatalf("wait snapshot: %+v, %v", got, err)
	}
}

// The same test on a fresh provider and clock goes the same way: the same
// changing calls with the same outcomes. (When reads happen varies: the
// library's waits and retries jitter their delays.)
func TestDeterministic(t *testing.T) {
	run := func() []string {
		p, clk := newCloud(t)
		s := seed(t, p, true)
		_ = p.LoseNextReply(memprovider.ActionRollback)
		o := runOpts(clk)
		o.StopIfRunning, o.StartAfter, o.SafetySnapshot = true, true, true
		if _, err := rollback.Run(context.Background(), p, s.Request(), o); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range p.Journal() {
			if !strings.HasPrefix(e.Action, "Describe") {
				out = append(out, fmt.Sprint(e.Action, " ", e.Code, " ", e.Applied))
			}
		}
		in, _ := p.ViewInstance(s.InstanceID)
		out = append(out, fmt.Sprint(in.State, p.RollbacksOf(s.InstanceID)))
		return out
	}
	a, b := run(), run()
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("two runs differ:\n%s\n---\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	for _, bad := range []string{"tencent://ap-guangzhou", "mem://?servers=x", "mem://?color=red", "mem://Bad_Region", "mem:///path", "mem://?scale=0", "mem://?lag=soon", "mem://user:secret@mem-1", "mem://?servers=3#secret"} {
		u, err := url.Parse(bad)
		if err != nil {
			t.Fatal(err)
		}
		_, err = memprovider.Open(ctx, u)
		if !errors.Is(err, rollback.ErrInvalidArgument) {
			t.Errorf("%s: %v", bad, err)
		} else {
			for _, v := range []string{"secret", "Bad_Region", "red", "soon"} {
				if strings.Contains(err.Error(), v) {
					t.Errorf("%s: the error quotes a value: %v", bad, err)
				}
			}
		}
	}
	// An unknown parameter is named (its value is not), the first in
	// order of several.
	u, _ := url.Parse("mem://?zeta=red&color=red&servers=1")
	if _, err := memprovider.Open(ctx, u); err == nil || !strings.Contains(err.Error(), `unknown parameter "color"`) {
		t.Errorf("mem://?zeta=red&color=red: %v", err)
	}
	u, _ = url.Parse("mem://eu-1?lag=2s")
	if p, err := memprovider.Open(ctx, u); err != nil || p.(*memprovider.Provider).Region() != "eu-1" {
		t.Fatalf("mem://eu-1?lag=2s: %v", err)
	}
	u, _ = url.Parse("mem://?servers=3&scale=1000")
	p, err := memprovider.Open(ctx, u, rollback.WithMaxAttempts(2))
	if err != nil {
		t.Fatal(err)
	}
	mp := p.(*memprovider.Provider)
	if mp.Region() != memprovider.DefaultRegion {
		t.Errorf("region %s", mp.Region())
	}
	if got, err := mp.Instances(ctx, "", []string{"ins-000001", "ins-000003", "ins-000005", "ins-000009"}); err != nil || len(got) != 3 {
		t.Errorf("seeded servers: %d, %v", len(got), err)
	}
	// A Run on the wall clock: the minute-long rollback takes 60ms at
	// scale 1000, and the waits follow the provider's priors.
	rep, err := rollback.Run(ctx, p, rollback.Request{Region: memprovider.DefaultRegion, InstanceID: "ins-000001", SnapshotID: "snap-000002"},
		rollback.RunOptions{Wait: rollback.WaitOptions{Learner: &rollback.Learner{}}})
	if err != nil || mp.RollbacksOf("ins-000001") != 1 {
		t.Fatalf("Run on an opened provider: %v", err)
	}
	t.Logf("Run on mem://?scale=1000 took %v of wall time", rep.Duration)
}

func TestMarks(t *testing.T) {
	p, _ := newCloud(t)
	s := seed(t, p, false)
	ctx := context.Background()
	req := s.Request()
	if m, err := p.OperationMark(ctx, req, "k"); err != nil || m != nil {
		t.Fatalf("no mark yet: %+v, %v", m, err)
	}
	before, _ := p.ViewSnapshot(s.SnapshotID)
	for i := 0; i <= memprovider.MaxMarks; i++ {
		if err := p.MarkOperation(ctx, req, fmt.Sprint("k", i), before); err != nil {
			t.Fatal(err)
		}
	}
	if m, _ := p.OperationMark(ctx, req, "k0"); m != nil {
		t.Error("the oldest mark beyond MaxMarks was kept")
	}
	m, err := p.OperationMark(ctx, req, fmt.Sprint("k", memprovider.MaxMarks))
	if err != nil || m == nil || m.Before.ID != s.SnapshotID {
		t.Fatalf("mark %+v, %v", m, err)
	}
}

// Code that drives the pieces itself: Rollback, then the waiters.
func TestWaiters(t *testing.T) {
	p, clk := newCloud(t)
	ctx := context.Background()
	a, b := seed(t, p, false), seed(t, p, false)
	var results []*rollback.Result
	for _, s := range []memprovider.Server{a, b} {
		res, err := p.Rollback(ctx, s.Request())
		if err != nil {
			t.Fatal(err)
		}
		if res.Provider != memprovider.Name || res.Attempts != 1 || res.Before == nil || res.DiskID != s.DiskID {
			t.Errorf("result %+v", res)
		}
		results = append(results, res)
	}
	wo := rollback.WaitOptions{Clock: clk, Learner: &rollback.Learner{}}
	out, err := rollback.WaitRollback(ctx, p, "mem-1", results[0], wo)
	if err != nil || out.Instance.State != rollback.InstanceStopped {
		t.Fatalf("WaitRollback: %+v, %v", out, err)
	}
	all, err := rollback.WaitRollbacks(ctx, p, "mem-1", results, wo)
	if err != nil || len(all) != 2 {
		t.Fatalf("WaitRollbacks: %v, %v", all, err)
	}
	for id, r := range all {
		if r.Err != nil {
			t.Errorf("%s: %v", id, r.Err)
		}
	}
	for _, e := range p.Journal() {
		if e.Action == memprovider.ActionRollback && e.Params["SnapshotId"] == "" {
			t.Errorf("journal entry without its snapshot: %+v", e)
		}
	}
	// A failed rollback is noticed by the waiter.
	c := seed(t, p, false)
	p.FailNextRollbacks(1)
	res, err := p.Rollback(ctx, c.Request())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rollback.WaitRollback(ctx, p, "mem-1", res, wo); !errors.Is(err, rollback.ErrRollbackFailed) {
		t.Fatalf("failed rollback: %v", err)
	}
	if s, _ := p.ViewSnapshot(c.SnapshotID); !s.LastRollbackAt.IsZero() {
		t.Error("a failed rollback set the snapshot's rollback time")
	}
	if err := p.ActorStart(c.InstanceID); err != nil {
		t.Fatal(err)
	}
	if _, err := rollback.WaitInstance(ctx, p, "", c.InstanceID, rollback.UntilRunning, wo); err != nil {
		t.Fatal(err)
	}
	if p.Calls(memprovider.ActionStartInstance) != 0 {
		t.Error("another actor's start counted as a call")
	}
}

// With client tokens (as SWAS), a resend carries the same token and needs
// no proof: the provider applies it once and answers with the first ID.
func TestClientTokens(t *testing.T) {
	p, clk := newCloud(t, memprovider.WithClientTokens())
	s := seed(t, p, false)
	if err := p.LoseNextReply(memprovider.ActionRollback); err != nil {
		t.Fatal(err)
	}
	req := s.Request()
	req.ClientToken = "tok-1"
	rep, err := rollback.Run(context.Background(), p, req, runOpts(clk))
	if err != nil {
		t.Fatal(err)
	}
	snap, _ := p.ViewSnapshot(s.SnapshotID)
	if p.RollbacksOf(s.InstanceID) != 1 || p.Calls(memprovider.ActionRollback) != 2 || rep.Result.RequestID != snap.LatestOperation.RequestID {
		t.Fatalf("%d rollbacks, %d calls, request %s (snapshot names %s)", p.RollbacksOf(s.InstanceID),
			p.Calls(memprovider.ActionRollback), rep.Result.RequestID, snap.LatestOperation.RequestID)
	}
	// The same token again, straight to the Roller: answered, not applied.
	res, err := p.Rollback(context.Background(), req)
	if err != nil || res.RequestID != rep.Result.RequestID || p.RollbacksOf(s.InstanceID) != 1 {
		t.Fatalf("resent token: %+v, %v, %d rollbacks", res, err, p.RollbacksOf(s.InstanceID))
	}
	p.ForgetTokens()
	if _, err := p.Rollback(context.Background(), req); err != nil || p.RollbacksOf(s.InstanceID) != 2 {
		t.Fatalf("forgotten token: %v, %d rollbacks", err, p.RollbacksOf(s.InstanceID))
	}

	// A 5xx after applying names its request: the resent token's answer
	// carries the same ID, and the client adopts it.
	o := seed(t, p, false)
	if err := p.AddFault(memprovider.Fault{Action: memprovider.ActionRollback, Err: rollback.ErrInternal, AfterApply: true}); err != nil {
		t.Fatal(err)
	}
	calls := p.Calls(memprovider.ActionRollback)
	res, err = p.Rollback(context.Background(), o.Request())
	if err != nil || !res.Adopted || res.Attempts != 2 || p.RollbacksOf(o.InstanceID) != 1 || p.Calls(memprovider.ActionRollback)-calls != 2 {
		t.Fatalf("5xx after applying: %+v, %v, %d rollbacks", res, err, p.RollbacksOf(o.InstanceID))
	}
	if err := p.AddFault(memprovider.Fault{DropResponse: true, AfterApply: true, Err: rollback.ErrBusy}); err == nil {
		t.Error("AfterApply with DropResponse accepted")
	}
}

// A request that names only the disk (the SWAS way) finds its instance;
// the client's hooks see every call, named as the provider's.
func TestDiskOnlyRequestAndHooks(t *testing.T) {
	var calls []string
	hooks := rollback.Hooks{CallEnd: func(_ context.Context, c *rollback.CallInfo) {
		calls = append(calls, c.Provider+"."+c.Action)
	}}
	p, clk := newCloud(t, memprovider.WithClientOptions(rollback.WithHooks(hooks)))
	s := seed(t, p, false)
	req := rollback.Request{Region: s.Region, DiskID: s.DiskID, SnapshotID: s.SnapshotID}
	rep, err := rollback.Run(context.Background(), p, req, runOpts(clk))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Request.InstanceID != s.InstanceID || p.RollbacksOf(s.InstanceID) != 1 {
		t.Fatalf("report %+v, %d rollbacks", rep.Request, p.RollbacksOf(s.InstanceID))
	}
	res, err := p.Rollback(context.Background(), req) // the Roller alone, too
	if err != nil || res.InstanceID != s.InstanceID {
		t.Fatalf("Rollback by disk: %+v, %v", res, err)
	}
	if !strings.Contains(strings.Join(calls, " "), "mem.Rollback") {
		t.Errorf("hooks saw %v", calls)
	}
}

// BenchmarkRun is what one Run (check, stop, rollback, wait, start) costs
// a user's unit test on an auto-advancing clock.
func BenchmarkRun(b *testing.B) {
	clk := clock.NewAutoVirtual(time.Time{})
	p := memprovider.New(memprovider.WithClock(clk))
	o := runOpts(clk)
	o.StopIfRunning, o.StartAfter = true, true
	b.ReportAllocs()
	for b.Loop() {
		s, err := p.AddServer(memprovider.ServerSpec{Running: true})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := rollback.Run(context.Background(), p, s.Request(), o); err != nil {
			b.Fatal(err)
		}
	}
}

// The test's side: other actors, busy instances, snapshots in creation.
func TestWorld(t *testing.T) {
	p, clk := newCloud(t)
	ctx := context.Background()
	s := seed(t, p, true)
	if err := p.ActorStart(s.InstanceID); err == nil {
		t.Error("another actor started a running instance")
	} else if ae := (*memprovider.ActorError)(nil); !errors.As(err, &ae) || ae.Code != memprovider.CodeIncorrectInstanceState {
		t.Errorf("refusal %v", err)
	}
	if err := p.ActorStop(s.InstanceID); err != nil {
		t.Fatal(err)
	}
	if err := p.SetBusy(s.InstanceID, time.Minute); err == nil {
		t.Error("SetBusy on a stopping instance")
	}
	clk.Advance(p.Durations().Stop)
	if err := p.SetBusy(s.InstanceID, time.Minute); err != nil {
		t.Fatal(err)
	}
	in, _ := p.Instance(ctx, "", s.InstanceID)
	if !in.Busy || in.State != rollback.InstanceStopped || in.LatestOperation.Name != memprovider.OpMaintenance {
		t.Errorf("busy instance %+v", in)
	}
	if _, err := p.ActorRollback(s.InstanceID, s.SnapshotID); err == nil {
		t.Error("another actor rolled back a busy instance")
	}
	clk.Advance(time.Minute)
	rid, err := p.ActorRollback(s.InstanceID, s.SnapshotID)
	if err != nil || p.RollbacksOf(s.InstanceID) != 1 {
		t.Fatalf("actor rollback: %v", err)
	}
	if sn, _ := p.Snapshot(ctx, "", s.SnapshotID); sn.LatestOperation.RequestID != rid || sn.State != rollback.SnapshotRollingBack {
		t.Errorf("snapshot during another's rollback %+v", sn)
	}
	clk.Advance(p.Durations().Rollback)
	if sn, _ := p.Snapshot(ctx, "", s.SnapshotID); sn.LastRollbackAt.IsZero() || sn.State != rollback.SnapshotReady {
		t.Errorf("snapshot after another's rollback %+v", sn)
	}
	id, err := p.ActorCreateSnapshot(s.InstanceID, "theirs")
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(p.Durations().Snapshot / 2)
	if sn, _ := p.Snapshot(ctx, "", id); sn.State != rollback.SnapshotCreating || sn.Progress != 50 {
		t.Errorf("half-way snapshot %+v", sn)
	}
	c, err := p.AddSnapshot(memprovider.SnapshotSpec{InstanceID: s.InstanceID, Creating: true, Progress: 60})
	if err != nil || c.Progress != 60 {
		t.Fatalf("seeded creating snapshot %+v, %v", c, err)
	}
	clk.Advance(p.Durations().Snapshot * 4 / 10)
	if sn, _ := p.Snapshot(ctx, "", c.ID); sn.State != rollback.SnapshotReady || sn.Progress != 100 {
		t.Errorf("seeded snapshot after the rest of its time %+v", sn)
	}
	for _, e := range p.Journal() {
		if e.Actor != memprovider.OtherActor && e.Action != memprovider.ActionDescribeInstances && e.Action != memprovider.ActionDescribeSnapshots {
			t.Errorf("entry %+v", e)
		}
	}
	if p.Calls(memprovider.ActionRollback) != 0 || p.Close() != nil {
		t.Error("other actors' changes counted as calls")
	}
	if _, err := p.AddInstance(memprovider.InstanceSpec{Region: "elsewhere"}); err == nil {
		t.Error("seeded into a region not served")
	}
	q := memprovider.New(memprovider.WithRegions("eu-2"), memprovider.WithSnapshotQuota(1), memprovider.WithClock(clk))
	in2, err := q.AddInstance(memprovider.InstanceSpec{Region: "eu-2", DiskGB: 80})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.CreateSnapshot(ctx, "eu-2", in2.ID, in2.SystemDiskID, "one"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(q.Durations().Snapshot)
	if _, err := q.CreateSnapshot(ctx, "eu-2", in2.ID, "", "two"); !errors.Is(err, rollback.ErrQuotaExceeded) {
		t.Errorf("second snapshot with a quota of one: %v", err)
	}
	if d, err := q.Disk(ctx, "eu-2", in2.SystemDiskID); err != nil || d.SizeGB != 80 || d.InstanceID != in2.ID {
		t.Errorf("disk %+v, %v", d, err)
	}
}

// Reads that lag writes, up to most of the rollback's own duration, with
// and without a lost reply: never a second rollback. Past the read grace
// (10s) a Run may end unsure (ErrOutcomeUnknown, or a busy refusal that
// stays ambiguous: DESIGN.md's residual risks), never wrong.
func TestReadLagNeverRollsBackTwice(t *testing.T) {
	for _, lag := range []time.Duration{0, 5 * time.Second, 10 * time.Second, 20 * time.Second, 50 * time.Second} {
		for _, lose := range []bool{false, true} {
			t.Run(fmt.Sprintf("lag=%v,lost=%v", lag, lose), func(t *testing.T) {
				p, clk := newCloud(t, memprovider.WithReadLag(lag))
				s := seed(t, p, true)
				if lose {
					if err := p.LoseNextReply(memprovider.ActionRollback); err != nil {
						t.Fatal(err)
					}
				}
				o := runOpts(clk)
				o.StopIfRunning = true
				_, err := rollback.Run(context.Background(), p, s.Request(), o)
				if got := p.RollbacksOf(s.InstanceID); got != 1 {
					t.Fatalf("%d rollbacks applied", got)
				}
				if err != nil && !errors.Is(err, rollback.ErrOutcomeUnknown) && !rollback.IsAmbiguous(err) {
					t.Fatalf("a rollback that was applied reported as not applied: %v", err)
				}
				if err != nil && lag <= rollback.DefaultReadGrace {
					t.Fatalf("read lag within the read grace: %v", err)
				}
			})
		}
	}
}

// A rollback wait whose reads lag the write (by less than the read grace)
// keeps polling until the grace has passed, however many quick polls saw
// nothing: five polls in five seconds prove nothing about an 8s lag.
func TestRollbackWaitOutlastsReadLag(t *testing.T) {
	p, clk := newCloud(t, memprovider.WithReadLag(8*time.Second))
	s := seed(t, p, false)
	ctx := context.Background()
	res, err := p.Rollback(ctx, s.Request())
	if err != nil {
		t.Fatal(err)
	}
	// A bare Inspector: no priors, so the polls come every second.
	bare := struct{ rollback.Inspector }{p}
	out, err := rollback.WaitRollback(ctx, bare, s.Request().Region, res, rollback.WaitOptions{
		Clock: clk, MinDelay: time.Second, MaxDelay: time.Second, Learner: &rollback.Learner{}})
	if err != nil {
		t.Fatalf("wait under an 8s read lag: %v", err)
	}
	if out.Evidence == "" || p.RollbacksOf(s.InstanceID) != 1 {
		t.Fatalf("outcome %+v, %d rollbacks", out, p.RollbacksOf(s.InstanceID))
	}
}

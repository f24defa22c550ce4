package tencent_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

func TestRollbackStoppedInstance(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	in, sn := f.stopped()
	r := req(in, sn)
	r.DiskID = in.DiskID
	res, err := f.c.Rollback(context.Background(), r)
	if f.note(err) != nil {
		t.Fatal(err)
	}
	es := f.srv.Journal().Entries()
	apply := es[len(es)-1]
	if got := strings.Join(f.actions(), ","); got != "DescribeSnapshots,DescribeInstances,ApplyInstanceSnapshot" {
		t.Errorf("calls = %s", got)
	}
	if res.Provider != "tencent" || res.RequestID != apply.RequestID || res.Attempts != 1 || res.Adopted ||
		res.InstanceID != in.ID || res.DiskID != in.DiskID || res.ClientToken == "" || res.SentAt.IsZero() {
		t.Errorf("result = %+v", res)
	}
	if res.Before == nil || res.Before.ID != sn.ID || res.Before.State != rollback.SnapshotReady {
		t.Errorf("Before = %+v", res.Before)
	}
	if f.srv.RollbacksOf(in.ID) != 1 {
		t.Errorf("rollbacks = %d", f.srv.RollbacksOf(in.ID))
	}
	if !strings.Contains(f.logs.String(), res.ClientToken) || !strings.Contains(f.logs.String(), res.RequestID) {
		t.Error("logs lack the token or the request ID")
	}
	// The token comes from the operation key when given.
	f.clk.Advance(time.Hour)
	r.OperationKey = "ticket-42"
	res, err = f.c.Rollback(context.Background(), r)
	if f.note(err) != nil || res.ClientToken != provider.TokenFromKey("ticket-42") {
		t.Errorf("token from key: %v %+v", err, res)
	}
}

func TestRollbackPreflightRefusals(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	in, sn := f.stopped()
	running := f.instance(tencenttest.Instance{State: tencenttest.StateRunning})
	runningSnap := f.snapshot(tencenttest.Snapshot{InstanceID: running.ID})
	busy, busySnap := f.stopped()
	if _, err := f.srv.SetBusy(busy.ID, "ResetInstance", time.Hour); err != nil {
		t.Fatal(err)
	}
	creating := f.snapshot(tencenttest.Snapshot{InstanceID: in.ID, State: tencenttest.SnapshotCreating})
	other, otherSnap := f.stopped()
	failed := f.instance(tencenttest.Instance{State: tencenttest.StateLaunchFailed})
	failedSnap := f.snapshot(tencenttest.Snapshot{InstanceID: failed.ID})
	tests := []struct {
		name string
		r    rollback.Request
		kind error
	}{
		{"running", req(running, runningSnap), rollback.ErrInstanceState},
		{"busy", req(busy, busySnap), rollback.ErrBusy},
		{"snapshot creating", req(in, creating), rollback.ErrSnapshotState},
		{"snapshot of another instance", req(in, otherSnap), rollback.ErrSnapshotMismatch},
		{"launch failed", req(failed, failedSnap), rollback.ErrInstanceState},
		{"DiskID not the system disk", rollback.Request{Region: "ap-guangzhou", InstanceID: in.ID, SnapshotID: sn.ID, DiskID: other.DiskID}, rollback.ErrInvalidArgument},
		{"no such snapshot", rollback.Request{Region: "ap-guangzhou", InstanceID: in.ID, SnapshotID: "lhsnap-nothere1"}, rollback.ErrSnapshotNotFound},
		{"no such instance", rollback.Request{Region: "ap-guangzhou", InstanceID: "lhins-nothere1", SnapshotID: sn.ID}, rollback.ErrInstanceNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.c.Rollback(context.Background(), tt.r)
			f.note(err)
			if !errors.Is(err, tt.kind) {
				t.Fatalf("err = %v, want %v", err, tt.kind)
			}
			if e := asError(t, err); e.Provider != "tencent" || e.Op == "" {
				t.Errorf("error fields: %+v", e)
			}
		})
	}
	if n := f.srv.Journal().Count("ApplyInstanceSnapshot"); n != 0 {
		t.Errorf("%d ApplyInstanceSnapshot calls sent", n)
	}
	_ = other
}

func TestRollbackForcedStopAllowed(t *testing.T) {
	f := newFixture(t, fixtureOpts{cfg: func(c *tencent.Config) { c.AllowForcedStop = true }})
	in := f.instance(tencenttest.Instance{State: tencenttest.StateRunning})
	sn := f.snapshot(tencenttest.Snapshot{InstanceID: in.ID})
	if _, err := f.c.Rollback(context.Background(), req(in, sn)); f.note(err) != nil {
		t.Fatal(err)
	}
	if f.srv.Rollbacks() != 1 {
		t.Errorf("rollbacks = %d", f.srv.Rollbacks())
	}
}

func TestRollbackBadInputSendsNothing(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	good := rollback.Request{Region: "ap-guangzhou", InstanceID: "lhins-abc12345", SnapshotID: "lhsnap-abc12345"}
	tests := []struct {
		name  string
		edit  func(*rollback.Request)
		field string
	}{
		{"instance prefix", func(r *rollback.Request) { r.InstanceID = "ins-abc" }, "InstanceID"},
		{"no instance", func(r *rollback.Request) { r.InstanceID = "" }, "InstanceID"},
		{"snapshot prefix", func(r *rollback.Request) { r.SnapshotID = "snap-abc" }, "SnapshotID"},
		{"no snapshot", func(r *rollback.Request) { r.SnapshotID = "" }, "SnapshotID"},
		{"disk prefix", func(r *rollback.Request) { r.DiskID = "disk-1" }, "DiskID"},
		{"region not offered", func(r *rollback.Request) { r.Region = "ap-mumbai" }, "Region"},
		{"region malformed", func(r *rollback.Request) { r.Region = "AP GUANGZHOU" }, "Region"},
		{"token", func(r *rollback.Request) { r.ClientToken = "has space" }, "ClientToken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good
			tt.edit(&r)
			_, err := f.c.Rollback(context.Background(), r)
			f.note(err)
			e := asError(t, err)
			if !errors.Is(err, rollback.ErrInvalidArgument) || e.Field != tt.field || e.Provider != "tencent" {
				t.Errorf("err = %v (field %q)", err, e.Field)
			}
		})
	}
	if n := len(f.srv.Journal().Entries()); n != 0 {
		t.Errorf("%d requests reached the wire", n)
	}
}

func TestRollbackLostResponseIsAdopted(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	in, sn := f.stopped()
	f.srv.AddFault(tencenttest.Fault{Action: "ApplyInstanceSnapshot", DropResponse: true})
	res, err := f.c.Rollback(context.Background(), req(in, sn))
	if f.note(err) != nil {
		t.Fatal(err)
	}
	var applied string
	for _, e := range f.srv.Journal().Entries() {
		if e.Action == "ApplyInstanceSnapshot" {
			applied = e.RequestID
		}
	}
	if !res.Adopted || res.Attempts != 1 || res.RequestID != applied {
		t.Errorf("result = %+v, applied request %s", res, applied)
	}
	if f.srv.RollbacksOf(in.ID) != 1 || f.srv.Journal().Count("ApplyInstanceSnapshot") != 1 {
		t.Errorf("rollbacks = %d, sent = %d", f.srv.RollbacksOf(in.ID), f.srv.Journal().Count("ApplyInstanceSnapshot"))
	}
}

func TestRollbackResetBeforeApplyIsResent(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	in, sn := f.stopped()
	f.srv.AddFault(tencenttest.Fault{Action: "ApplyInstanceSnapshot", Reset: true})
	res, err := f.c.Rollback(context.Background(), req(in, sn))
	if f.note(err) != nil {
		t.Fatal(err)
	}
	if res.Adopted || res.Attempts != 2 || f.srv.Rollbacks() != 1 {
		t.Errorf("result = %+v, rollbacks %d", res, f.srv.Rollbacks())
	}
	// Between the two sends, state was read at once and again once the
	// read grace had passed (reads may lag the write).
	got := strings.Join(f.actions(), ",")
	want := "DescribeSnapshots,DescribeInstances,ApplyInstanceSnapshot,DescribeSnapshots,DescribeInstances,DescribeSnapshots,DescribeInstances,ApplyInstanceSnapshot"
	if got != want {
		t.Errorf("calls = %s\nwant    %s", got, want)
	}
}

func TestRollbackBusyAfterAmbiguousChecksState(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	in, sn := f.stopped()
	f.srv.AddFault(tencenttest.Fault{Action: "ApplyInstanceSnapshot", HTTPStatus: 502, Body: "<html>bad gateway</html>"})
	f.srv.AddFault(tencenttest.Fault{Action: "ApplyInstanceSnapshot", Nth: 2, Code: "UnsupportedOperation.LatestOperationUnfinished"})
	res, err := f.c.Rollback(context.Background(), req(in, sn))
	if f.note(err) != nil {
		t.Fatal(err)
	}
	if res.Attempts != 3 || f.srv.Rollbacks() != 1 {
		t.Errorf("result = %+v", res)
	}
	acts := f.actions()
	// Every resend is preceded by a state read.
	for i, a := range acts {
		if a == "ApplyInstanceSnapshot" && i > 2 && acts[i-1] != "DescribeInstances" {
			t.Errorf("resend at %d without a state check: %v", i, acts)
		}
	}
}

func TestRollbackAmbiguousUntilGivingUp(t *testing.T) {
	f := newFixture(t, fixtureOpts{opts: []rollback.Option{rollback.WithMaxAttempts(3)}})
	in, sn := f.stopped()
	f.srv.AddFault(tencenttest.Fault{Action: "ApplyInstanceSnapshot", Times: -1, Code: "InternalError", HTTPStatus: 500})
	_, err := f.c.Rollback(context.Background(), req(in, sn))
	f.note(err)
	e := asError(t, err)
	if !errors.Is(err, rollback.ErrInternal) || e.Ambiguous || e.Attempts != 3 || e.HTTPStatus != 500 || e.Code != "InternalError" {
		t.Errorf("err = %v (%+v)", err, e)
	}
	if !strings.Contains(e.Hint, "not applied") {
		t.Errorf("hint = %q", e.Hint)
	}
	if f.srv.Rollbacks() != 0 {
		t.Errorf("rollbacks = %d", f.srv.Rollbacks())
	}
}

func TestRollbackOutcomeUnknown(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fault   tencenttest.Fault
		applied int
	}{
		{"lost reply", tencenttest.Fault{Action: "ApplyInstanceSnapshot", DropResponse: true}, 1},
		{"reset", tencenttest.Fault{Action: "ApplyInstanceSnapshot", Reset: true}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, fixtureOpts{opts: []rollback.Option{rollback.WithMaxAttempts(2)}})
			in, sn := f.stopped()
			f.srv.AddFault(tc.fault)
			// The pre-flight reads pass; every read after that fails.
			f.srv.AddFault(tencenttest.Fault{Action: "DescribeSnapshots", Nth: 2, Times: -1, Code: "InternalError"})
			_, err := f.c.Rollback(context.Background(), req(in, sn))
			f.note(err)
			if !errors.Is(err, rollback.ErrOutcomeUnknown) {
				t.Fatalf("err = %v", err)
			}
			if errors.Is(err, rollback.ErrNetwork) || rollback.IsRetryable(err) || !rollback.IsAmbiguous(err) {
				t.Errorf("outcome-unknown error is retryable or not ambiguous: %v", err)
			}
			for _, want := range []string{"may have been applied", "DescribeSnapshots", sn.ID, in.ID} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q: %v", want, err)
				}
			}
			if got := f.srv.Rollbacks(); got != tc.applied {
				t.Errorf("rollbacks = %d, want %d", got, tc.applied)
			}
			if n := f.srv.Journal().Count("ApplyInstanceSnapshot"); n != 1 {
				t.Errorf("ApplyInstanceSnapshot sent %d times", n)
			}
		})
	}
}

func TestRollbackThrottledBacksOff(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	in, sn := f.stopped()
	f.srv.AddFault(tencenttest.Fault{Action: "ApplyInstanceSnapshot", Times: 2, Code: "RequestLimitExceeded"})
	start := f.clk.Now()
	res, err := f.c.Rollback(context.Background(), req(in, sn))
	if f.note(err) != nil {
		t.Fatal(err)
	}
	if res.Attempts != 3 || f.srv.Rollbacks() != 1 {
		t.Errorf("result = %+v", res)
	}
	// Throttling waits at least half of 2s, then of 4s.
	if waited := f.clk.Now().Sub(start); waited < 3*time.Second {
		t.Errorf("waited %s of clock time", waited)
	}
}

func TestClientPacesUnderTheCloudsLimit(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	in := f.instance(tencenttest.Instance{})
	for i := 0; i < 45; i++ {
		if _, err := f.c.Instance(context.Background(), "", in.ID); f.note(err) != nil {
			t.Fatal(err)
		}
	}
	for _, e := range f.srv.Journal().Entries() {
		if e.Code != "" {
			t.Fatalf("call answered %s", e.Code)
		}
	}
}

func TestCloudThrottlingIsRetried(t *testing.T) {
	f := newFixture(t, fixtureOpts{opts: []rollback.Option{rollback.WithoutRateLimit()}})
	in := f.instance(tencenttest.Instance{})
	for i := 0; i < 30; i++ {
		if _, err := f.c.Instance(context.Background(), "", in.ID); f.note(err) != nil {
			t.Fatal(err)
		}
	}
	throttled := 0
	for _, e := range f.srv.Journal().Entries() {
		if e.Code == "RequestLimitExceeded" {
			throttled++
		}
	}
	if throttled == 0 {
		t.Error("the emulator never throttled; the test proves nothing")
	}
}

func TestRollbackCancelledDuringSlowCall(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	in, sn := f.stopped()
	f.srv.AddFault(tencenttest.Fault{Action: "ApplyInstanceSnapshot", Latency: 20 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	start := time.Now()
	_, err := f.c.Rollback(ctx, req(in, sn))
	f.note(err)
	if elapsed := time.Since(start); elapsed > 10*time.Second { // under the 20s reply; generous for a loaded machine
		t.Errorf("returned after %s", elapsed)
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, rollback.ErrOutcomeUnknown) {
		t.Errorf("err = %v", err)
	}
}

func TestRollbackConcurrent(t *testing.T) {
	f := newFixture(t, fixtureOpts{emu: []tencenttest.Option{tencenttest.WithoutRateLimits()}})
	const n = 24
	reqs := make([]rollback.Request, n)
	for i := range reqs {
		in, sn := f.stopped()
		reqs[i] = req(in, sn)
	}
	// A few lost replies along the way.
	f.srv.AddFault(tencenttest.Fault{Action: "ApplyInstanceSnapshot", Nth: 3, Times: 3, DropResponse: true})
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.c.Rollback(context.Background(), reqs[i])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if f.note(err) != nil {
			t.Errorf("rollback %d: %v", i, err)
		}
		if got := f.srv.RollbacksOf(reqs[i].InstanceID); got != 1 {
			t.Errorf("instance %s rolled back %d times", reqs[i].InstanceID, got)
		}
	}
}

func TestRollbackReplySlowerThanTheTimeout(t *testing.T) {
	f := newFixture(t, fixtureOpts{opts: []rollback.Option{rollback.WithCallTimeout(50 * time.Millisecond)}})
	in, sn := f.stopped()
	f.srv.AddFault(tencenttest.Fault{Action: "ApplyInstanceSnapshot", Latency: 5 * time.Second})
	start := time.Now()
	res, err := f.c.Rollback(context.Background(), req(in, sn))
	if f.note(err) != nil {
		t.Fatal(err)
	}
	// The emulator drops a call its client gave up on, so state shows no
	// rollback and the resend is the one applied.
	if res.Attempts != 2 || res.Adopted || f.srv.Rollbacks() != 1 || time.Since(start) > 4500*time.Millisecond { // under the 5s reply
		t.Errorf("result = %+v after %s", res, time.Since(start))
	}
	if !strings.Contains(f.logs.String(), "HTTP attempt timed out") {
		t.Error("the per-attempt timeout is not in the logs")
	}
}

package aliyun_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/provider"
)

func TestRollbackFromSystemDiskSnapshot(t *testing.T) {
	e := newEnv(t, nil)
	start := e.clk.Now()
	res, err := e.c.Rollback(e.ctx, e.request())
	if err != nil {
		t.Fatal(err)
	}
	resets := e.entries(aliyuntest.ActionResetDisk)
	if len(resets) != 1 {
		t.Fatalf("%d ResetDisk calls", len(resets))
	}
	if res.Provider != "aliyun" || res.RequestID != resets[0].RequestID || res.Attempts != 1 || res.Adopted {
		t.Errorf("result = %+v", res)
	}
	if res.InstanceID != e.in.ID || res.DiskID != e.in.SystemDiskID {
		t.Errorf("instance %s disk %s", res.InstanceID, res.DiskID)
	}
	if res.ClientToken == "" || resets[0].Params["ClientToken"] != res.ClientToken {
		t.Errorf("token %q, sent %q", res.ClientToken, resets[0].Params["ClientToken"])
	}
	if res.Before == nil || res.Before.ID != e.snap.ID || res.Before.State != rollback.SnapshotReady || !res.Before.LastRollbackAt.IsZero() {
		t.Errorf("Before = %+v", res.Before)
	}
	if res.SentAt.Before(start) || !res.SentAt.Equal(resets[0].Time) {
		t.Errorf("SentAt %v, ResetDisk arrived at %v", res.SentAt, resets[0].Time)
	}
	// A system-disk snapshot names its instance: no ListDisks needed.
	if n := e.srv.Calls(aliyuntest.ActionListDisks); n != 0 {
		t.Errorf("%d ListDisks calls", n)
	}
	if e.srv.Rollbacks() != 1 {
		t.Errorf("rollbacks = %d", e.srv.Rollbacks())
	}
	// The rollback finishes on the emulator's clock; the snapshot records it.
	e.clk.Advance(e.srv.Durations().Rollback)
	after, err := e.c.Snapshot(e.ctx, e.srv.Region(), e.snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !after.LastRollbackAt.After(res.Before.LastRollbackAt) {
		t.Errorf("LastRollbackAt %v not after %v", after.LastRollbackAt, res.Before.LastRollbackAt)
	}
}

func TestRollbackDataDiskFindsInstance(t *testing.T) {
	e := newEnv(t, nil)
	in := aliyuntest.Must(e.srv.AddInstance(aliyuntest.InstanceSpec{Status: aliyuntest.StatusStopped, DataDiskIDs: []string{""}}))
	snap := aliyuntest.Must(e.srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: in.DataDiskIDs[0]}))
	req := rollback.Request{Region: e.srv.Region(), DiskID: in.DataDiskIDs[0], SnapshotID: snap.ID}
	res, err := e.c.Rollback(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.InstanceID != in.ID || e.srv.Calls(aliyuntest.ActionListDisks) != 1 {
		t.Errorf("instance %s, %d ListDisks calls", res.InstanceID, e.srv.Calls(aliyuntest.ActionListDisks))
	}
	// A given instance that does not own the disk is refused before sending.
	e.clk.Advance(e.srv.Durations().Rollback)
	req.InstanceID = e.in.ID
	_, err = e.c.Rollback(e.ctx, req)
	asError(t, err, rollback.ErrSnapshotMismatch)
	if e.srv.Rollbacks() != 1 {
		t.Errorf("rollbacks = %d", e.srv.Rollbacks())
	}
}

func TestRollbackPreflightSendsNothing(t *testing.T) {
	e := newEnv(t, nil)
	other := aliyuntest.Must(e.srv.AddInstance(aliyuntest.InstanceSpec{Status: aliyuntest.StatusStopped}))
	otherSnap := aliyuntest.Must(e.srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: other.SystemDiskID}))
	creating := aliyuntest.Must(e.srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: e.in.SystemDiskID, Status: aliyuntest.SnapshotProgressing}))
	cases := []struct {
		name string
		req  func(r *rollback.Request)
		kind error
	}{
		{"missing snapshot", func(r *rollback.Request) { r.SnapshotID = "s-missing" }, rollback.ErrSnapshotNotFound},
		{"snapshot not ready", func(r *rollback.Request) { r.SnapshotID = creating.ID }, rollback.ErrSnapshotState},
		{"snapshot of another disk", func(r *rollback.Request) { r.SnapshotID = otherSnap.ID }, rollback.ErrSnapshotMismatch},
		{"wrong instance", func(r *rollback.Request) { r.InstanceID = other.ID }, rollback.ErrSnapshotMismatch},
		{"other region", func(r *rollback.Request) { r.Region = "cn-beijing" }, rollback.ErrInvalidArgument},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := e.request()
			tc.req(&req)
			_, err := e.c.Rollback(e.ctx, req)
			asError(t, err, tc.kind)
		})
	}
	if n := e.srv.Calls(aliyuntest.ActionResetDisk); n != 0 {
		t.Errorf("%d ResetDisk calls sent", n)
	}
}

func TestRollbackRunningInstanceIsInstanceState(t *testing.T) {
	e := newEnv(t, nil)
	if err := e.srv.SetInstanceStatus(e.in.ID, aliyuntest.StatusRunning); err != nil {
		t.Fatal(err)
	}
	_, err := e.c.Rollback(e.ctx, e.request())
	re := asError(t, err, rollback.ErrInstanceState)
	if re.Code != "IncorrectInstanceStatus.ResetDisk" || re.HTTPStatus != 403 || !strings.Contains(re.Hint, "stop the instance") {
		t.Errorf("error = %+v", re)
	}
	if n := e.srv.Calls(aliyuntest.ActionResetDisk); n != 1 {
		t.Errorf("%d ResetDisk calls; a state refusal must not be retried", n)
	}
}

func TestBadInputSendsNothing(t *testing.T) {
	e := newEnv(t, nil)
	region := e.srv.Region()
	long := strings.Repeat("x", 65)
	rb := func(mut func(*rollback.Request)) func() error {
		return func() error {
			req := e.request()
			mut(&req)
			_, err := e.c.Rollback(e.ctx, req)
			return err
		}
	}
	cases := []struct {
		name, field string
		call        func() error
	}{
		{"disk prefix", "DiskID", rb(func(r *rollback.Request) { r.DiskID = "i-123" })},
		{"empty disk", "DiskID", rb(func(r *rollback.Request) { r.DiskID = "" })},
		{"snapshot prefix", "SnapshotID", rb(func(r *rollback.Request) { r.SnapshotID = "d-123" })},
		{"snapshot charset", "SnapshotID", rb(func(r *rollback.Request) { r.SnapshotID = "s-12/3" })},
		{"instance charset", "InstanceID", rb(func(r *rollback.Request) { r.InstanceID = "i 1" })},
		{"empty region", "Region", rb(func(r *rollback.Request) { r.Region = "" })},
		{"token with space", "ClientToken", rb(func(r *rollback.Request) { r.ClientToken = "a b" })},
		{"token too long", "ClientToken", rb(func(r *rollback.Request) { r.ClientToken = long })},
		{"token not ASCII", "ClientToken", rb(func(r *rollback.Request) { r.ClientToken = "tökén" })},
		{"Instance", "InstanceID", func() error { _, err := e.c.Instance(e.ctx, region, ""); return err }},
		{"Instances", "InstanceID", func() error { _, err := e.c.Instances(e.ctx, region, []string{"ok", "bad id"}); return err }},
		{"Snapshot", "SnapshotID", func() error { _, err := e.c.Snapshot(e.ctx, region, "snap-1"); return err }},
		{"Disk", "DiskID", func() error { _, err := e.c.Disk(e.ctx, region, "disk-1"); return err }},
		{"StopInstance", "Region", func() error { return e.c.StopInstance(e.ctx, "", e.in.ID) }},
		{"StartInstance", "InstanceID", func() error { return e.c.StartInstance(e.ctx, region, "") }},
		{"CreateSnapshot disk", "DiskID", func() error { _, err := e.c.CreateSnapshot(e.ctx, region, "", "s-1", "n"); return err }},
		{"CreateSnapshot nothing", "DiskID", func() error { _, err := e.c.CreateSnapshot(e.ctx, region, "", "", "n"); return err }},
		{"CreateSnapshot name", "Name", func() error {
			_, err := e.c.CreateSnapshot(e.ctx, region, "", e.in.SystemDiskID, strings.Repeat("n", 51))
			return err
		}},
	}
	var v provider.RequestValidator = e.c
	if err := v.ValidateRequest(e.request()); err != nil {
		t.Errorf("a good request refused: %v", err)
	}
	cases = append(cases, struct {
		name, field string
		call        func() error
	}{"ValidateRequest", "DiskID", func() error {
		return v.ValidateRequest(rollback.Request{Region: region, DiskID: "x", SnapshotID: "s-1"})
	}})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			re := asError(t, tc.call(), rollback.ErrInvalidArgument)
			if re.Field != tc.field {
				t.Errorf("Field = %q, want %q (%v)", re.Field, tc.field, re)
			}
		})
	}
	if n := e.srv.Calls(""); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

func TestOperationKeyGivesStableToken(t *testing.T) {
	e := newEnv(t, nil)
	req := e.request()
	req.OperationKey = "ticket-1234"
	res, err := e.c.Rollback(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.ClientToken != provider.TokenFromKey("ticket-1234") {
		t.Errorf("token %q", res.ClientToken)
	}
	// A restarted process repeating the same operation sends the same token:
	// SWAS answers with the first call and applies nothing.
	e.clk.Advance(e.srv.Durations().Rollback)
	again, err := e.c.Rollback(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if again.RequestID != res.RequestID || e.srv.Rollbacks() != 1 {
		t.Errorf("repeat: request %s (first %s), rollbacks %d", again.RequestID, res.RequestID, e.srv.Rollbacks())
	}
	// The same token for another rollback is refused.
	other := aliyuntest.Must(e.srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: e.in.SystemDiskID}))
	req.SnapshotID = other.ID
	_, err = e.c.Rollback(e.ctx, req)
	re := asError(t, err, rollback.ErrInvalidArgument)
	if re.Code != "IdempotentParameterMismatch" || !strings.Contains(re.Hint, "token") {
		t.Errorf("error = %+v", re)
	}
}

func TestRetriesReuseClientToken(t *testing.T) {
	e := newEnv(t, nil)
	e.srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionResetDisk, Code: "InternalError", Times: 2})
	var events []rollback.RetryEvent
	c := e.client(t, aliyun.Config{}, rollback.WithRetryHook(func(ev rollback.RetryEvent) { events = append(events, ev) }))
	res, err := c.Rollback(e.ctx, e.request())
	if err != nil {
		t.Fatal(err)
	}
	resets := e.entries(aliyuntest.ActionResetDisk)
	if len(resets) != 3 || res.Attempts != 3 || len(events) != 2 {
		t.Fatalf("%d calls, %d attempts, %d retry events", len(resets), res.Attempts, len(events))
	}
	for _, r := range resets {
		if r.Params["ClientToken"] != res.ClientToken {
			t.Errorf("attempt sent token %q, want %q", r.Params["ClientToken"], res.ClientToken)
		}
	}
	if e.srv.Rollbacks() != 1 || res.RequestID != resets[2].RequestID {
		t.Errorf("rollbacks %d, request %s", e.srv.Rollbacks(), res.RequestID)
	}
}

func TestLostResponseAppliesOnce(t *testing.T) {
	e := newEnv(t, nil)
	e.srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionResetDisk, DropResponse: true})
	res, err := e.c.Rollback(e.ctx, e.request())
	if err != nil {
		t.Fatal(err)
	}
	resets := e.entries(aliyuntest.ActionResetDisk)
	if len(resets) != 2 || !resets[0].Applied || resets[1].Applied {
		t.Fatalf("journal = %+v", resets)
	}
	if e.srv.Rollbacks() != 1 || res.Attempts != 2 {
		t.Errorf("rollbacks %d attempts %d", e.srv.Rollbacks(), res.Attempts)
	}
	// The resend got the lost reply's answer.
	if res.RequestID != resets[0].RequestID {
		t.Errorf("request %s, the applied call was %s", res.RequestID, resets[0].RequestID)
	}
}

func TestResetBeforeApplyAppliesOnce(t *testing.T) {
	e := newEnv(t, nil)
	e.srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionResetDisk, Reset: true})
	res, err := e.c.Rollback(e.ctx, e.request())
	if err != nil {
		t.Fatal(err)
	}
	resets := e.entries(aliyuntest.ActionResetDisk)
	if len(resets) != 2 || resets[0].Applied || !resets[1].Applied || e.srv.Rollbacks() != 1 || res.Attempts != 2 {
		t.Fatalf("journal %+v, rollbacks %d", resets, e.srv.Rollbacks())
	}
}

func TestSlowReplyRetriedAfterAttemptTimeout(t *testing.T) {
	e := newEnv(t, nil)
	e.srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionResetDisk, Latency: 400 * time.Millisecond})
	c := e.client(t, aliyun.Config{}, rollback.WithCallTimeout(50*time.Millisecond))
	res, err := c.Rollback(e.ctx, e.request())
	if err != nil {
		t.Fatalf("a per-attempt timeout was not retried: %v", err)
	}
	if res.Attempts != 2 {
		t.Errorf("attempts = %d", res.Attempts)
	}
	e.srv.Close() // wait for the slow call, which SWAS still processes
	if e.srv.Rollbacks() != 1 {
		t.Errorf("rollbacks = %d", e.srv.Rollbacks())
	}
}

func TestThrottlingBacksOffAndSucceeds(t *testing.T) {
	e := newEnv(t, nil)
	e.srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionResetDisk, Code: "Throttling.User", Times: 2})
	var delays []time.Duration
	c := e.client(t, aliyun.Config{}, rollback.WithRetryHook(func(ev rollback.RetryEvent) {
		if !errors.Is(ev.Err, rollback.ErrThrottled) {
			t.Errorf("retry for %v", ev.Err)
		}
		delays = append(delays, ev.Delay)
	}))
	start := e.clk.Now()
	if _, err := c.Rollback(e.ctx, e.request()); err != nil {
		t.Fatal(err)
	}
	if len(delays) != 2 || delays[0] < time.Second || delays[1] < 2*time.Second {
		t.Errorf("throttle delays = %v, want at least half of 2s and 4s", delays)
	}
	if waited := e.clk.Now().Sub(start); waited < 3*time.Second {
		t.Errorf("waited %v on the clock", waited)
	}
	if e.srv.Rollbacks() != 1 {
		t.Errorf("rollbacks = %d", e.srv.Rollbacks())
	}
}

func TestCancelDuringSlowCall(t *testing.T) {
	e := newEnv(t, nil)
	e.srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionResetDisk, Latency: 5 * time.Second})
	ctx, cancel := context.WithCancel(e.ctx)
	// The reads before ResetDisk take milliseconds; the ResetDisk reply 5s.
	stop := time.AfterFunc(100*time.Millisecond, cancel)
	defer stop.Stop()
	start := time.Now()
	_, err := e.c.Rollback(ctx, e.request())
	if elapsed := time.Since(start); elapsed > 4*time.Second { // under the 5s reply; generous for a loaded machine
		t.Errorf("returned after %v", elapsed)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	var re *rollback.Error
	if errors.As(err, &re) {
		t.Errorf("a cancellation came back as a provider error: %v", err)
	}
}

func TestDeadlineStaysDeadlineExceeded(t *testing.T) {
	e := newEnv(t, nil)
	e.srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionListSnapshots, Latency: 5 * time.Second})
	ctx, cancel := context.WithTimeout(e.ctx, 30*time.Millisecond)
	defer cancel()
	_, err := e.c.Rollback(ctx, e.request())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

package aliyuntest

import (
	"errors"
	"net/url"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	swas "github.com/aliyun/alibaba-cloud-sdk-go/services/swas-open"
)

func TestClientTokenDeduplication(t *testing.T) {
	f := newFixture(t)
	first, err := f.resetDisk(f.in.SystemDiskID, f.snap.ID, "op-42")
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.resetDisk(f.in.SystemDiskID, f.snap.ID, "op-42")
	if err != nil {
		t.Fatal(err)
	}
	if again.RequestId != first.RequestId {
		t.Errorf("resend answered %s, want the first answer %s", again.RequestId, first.RequestId)
	}
	if f.srv.Rollbacks() != 1 {
		t.Errorf("rollbacks = %d, want 1", f.srv.Rollbacks())
	}
	j := f.srv.Journal().Entries()
	if !j[0].Applied || j[1].Applied || j[1].RequestID != first.RequestId {
		t.Errorf("journal = %+v", j)
	}
	// Same token, other parameters.
	other := Must(f.srv.AddSnapshot(SnapshotSpec{DiskID: f.in.SystemDiskID}))
	_, err = f.resetDisk(f.in.SystemDiskID, other.ID, "op-42")
	serverError(t, err, "IdempotentParameterMismatch", 400)
	// Tokens are per action: the same token on StartInstance is new.
	f.clk.Advance(f.srv.Durations().Rollback)
	req := swas.CreateStartInstanceRequest()
	req.InstanceId, req.ClientToken = f.in.ID, "op-42"
	if _, err := f.sdk.StartInstance(req); err != nil {
		t.Fatal(err)
	}
}

func TestRefusedCallDoesNotConsumeToken(t *testing.T) {
	f := newFixture(t)
	if err := f.srv.SetInstanceStatus(f.in.ID, StatusRunning); err != nil {
		t.Fatal(err)
	}
	_, err := f.resetDisk(f.in.SystemDiskID, f.snap.ID, "retry-me")
	serverError(t, err, "IncorrectInstanceStatus.ResetDisk", 403)
	if err := f.srv.SetInstanceStatus(f.in.ID, StatusStopped); err != nil {
		t.Fatal(err)
	}
	if _, err := f.resetDisk(f.in.SystemDiskID, f.snap.ID, "retry-me"); err != nil {
		t.Fatalf("token refused after its first call failed: %v", err)
	}
	if f.srv.Rollbacks() != 1 {
		t.Errorf("rollbacks = %d", f.srv.Rollbacks())
	}
}

func TestThrottling(t *testing.T) {
	f := newFixture(t)
	var ids []string
	for range 11 {
		ids = append(ids, Must(f.srv.AddInstance(InstanceSpec{})).ID)
	}
	stop := func(id string) error {
		req := swas.CreateStopInstanceRequest()
		req.InstanceId = id
		_, err := f.sdk.StopInstance(req)
		return err
	}
	for i := range 10 {
		if err := stop(ids[i]); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
		f.clk.Advance(time.Second)
	}
	se := serverError(t, stop(ids[10]), "Throttling.User", 400)
	if se.Message() != "Request was denied due to user flow control." {
		t.Errorf("message = %q", se.Message())
	}
	if _, ok := f.srv.Instance(ids[10]); !ok || f.status(t, ids[10]) != StatusRunning {
		t.Error("a throttled call was applied")
	}
	// Other actions have their own window; reads have none.
	if _, err := f.sdk.ListInstances(swas.CreateListInstancesRequest()); err != nil {
		t.Fatal(err)
	}
	// The window slides: a minute after the first call there is room.
	f.clk.Advance(51 * time.Second)
	if err := stop(ids[10]); err != nil {
		t.Fatalf("after the window slid: %v", err)
	}
}

func TestCustomRateLimit(t *testing.T) {
	f := newFixture(t, WithoutRateLimits(), WithRateLimit(ActionListInstances, RateWindow{Limit: 1, Per: time.Second}))
	if _, err := f.sdk.ListInstances(swas.CreateListInstancesRequest()); err != nil {
		t.Fatal(err)
	}
	_, err := f.sdk.ListInstances(swas.CreateListInstancesRequest())
	serverError(t, err, "Throttling.User", 400)
}

func TestFaultCodeOnNthCall(t *testing.T) {
	f := newFixture(t)
	f.srv.AddFault(Fault{Action: ActionListInstances, Nth: 2, Times: 2, Code: "InternalError"})
	f.srv.AddFault(Fault{Action: ActionListDisks, Code: "ServiceUnavailable", Message: "maintenance", HTTPStatus: 502})
	list := func() error { _, err := f.sdk.ListInstances(swas.CreateListInstancesRequest()); return err }
	if err := list(); err != nil {
		t.Fatalf("call 1: %v", err)
	}
	serverError(t, list(), "InternalError", 500)
	serverError(t, list(), "InternalError", 500)
	if err := list(); err != nil {
		t.Fatalf("call 4: %v", err)
	}
	_, err := f.sdk.ListDisks(swas.CreateListDisksRequest())
	if se := serverError(t, err, "ServiceUnavailable", 502); se.Message() != "maintenance" {
		t.Errorf("message = %q", se.Message())
	}
	if f.srv.PendingFaults() != 0 {
		t.Errorf("%d faults still pending", f.srv.PendingFaults())
	}
	if e := f.srv.Journal().Entries()[1]; e.Fault == "" || e.Code != "InternalError" || e.Applied {
		t.Errorf("faulted entry = %+v", e)
	}
}

func TestFaultErrorInsteadOfApplying(t *testing.T) {
	f := newFixture(t)
	f.srv.AddFault(Fault{Action: ActionResetDisk, Code: "InternalError"})
	_, err := f.resetDisk(f.in.SystemDiskID, f.snap.ID, "t1")
	serverError(t, err, "InternalError", 500)
	if f.srv.Rollbacks() != 0 || f.status(t, f.in.ID) != StatusStopped {
		t.Fatal("a faulted call was applied")
	}
}

func TestFaultRawBody(t *testing.T) {
	f := newFixture(t)
	f.srv.AddFault(Fault{Action: ActionListInstances, Body: "<html>bad gateway</html>"})
	_, err := f.sdk.ListInstances(swas.CreateListInstancesRequest())
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) || se.HttpStatus() != 502 || se.ErrorCode() != "" || se.Message() != "<html>bad gateway</html>" {
		t.Fatalf("err = %v", err)
	}
}

func TestFaultResetBeforeApplying(t *testing.T) {
	f := newFixture(t)
	f.srv.AddFault(Fault{Action: ActionResetDisk, Reset: true})
	_, err := f.resetDisk(f.in.SystemDiskID, f.snap.ID, "t1")
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Fatalf("want a transport error, got %T %v", err, err)
	}
	if f.srv.Rollbacks() != 0 || f.status(t, f.in.ID) != StatusStopped {
		t.Fatal("a reset call was applied")
	}
	e := f.srv.Journal().Entries()[0]
	if e.HTTPStatus != 0 || e.Applied || e.Fault != "reset before apply" {
		t.Errorf("journal = %+v", e)
	}
	// The resend applies once.
	if _, err := f.resetDisk(f.in.SystemDiskID, f.snap.ID, "t1"); err != nil {
		t.Fatal(err)
	}
	if f.srv.Rollbacks() != 1 {
		t.Errorf("rollbacks = %d", f.srv.Rollbacks())
	}
}

func TestFaultResponseLostAfterApplying(t *testing.T) {
	f := newFixture(t)
	f.srv.AddFault(Fault{Action: ActionResetDisk, DropResponse: true})
	_, err := f.resetDisk(f.in.SystemDiskID, f.snap.ID, "t1")
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Fatalf("want a transport error, got %T %v", err, err)
	}
	if f.srv.Rollbacks() != 1 || f.status(t, f.in.ID) != StatusResetting {
		t.Fatal("the call was not applied")
	}
	lost := f.srv.Journal().Entries()[0]
	if lost.HTTPStatus != 0 || !lost.Applied {
		t.Errorf("journal = %+v", lost)
	}
	// The resend with the same token gets the lost answer, applied once.
	resp, err := f.resetDisk(f.in.SystemDiskID, f.snap.ID, "t1")
	if err != nil {
		t.Fatal(err)
	}
	if resp.RequestId != lost.RequestID || f.srv.Rollbacks() != 1 {
		t.Errorf("resend: request %s (lost one %s), rollbacks %d", resp.RequestId, lost.RequestID, f.srv.Rollbacks())
	}
}

func TestFaultLatency(t *testing.T) {
	f := newFixture(t)
	f.srv.AddFault(Fault{Action: ActionListInstances, Latency: 80 * time.Millisecond})
	start := time.Now()
	if _, err := f.sdk.ListInstances(swas.CreateListInstancesRequest()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Errorf("reply after %v, want at least 80ms", d)
	}
	if e := f.srv.Journal().Entries()[0]; e.Fault != "latency 80ms" || e.HTTPStatus != 200 {
		t.Errorf("journal = %+v", e)
	}
}

func TestFaultLatencyBeyondClientTimeoutStillApplies(t *testing.T) {
	f := newFixture(t)
	f.srv.AddFault(Fault{Action: ActionResetDisk, Latency: 300 * time.Millisecond})
	req := swas.CreateResetDiskRequest()
	req.DiskId, req.SnapshotId, req.ClientToken = f.in.SystemDiskID, f.snap.ID, "slow"
	c := newSDK(t, f.srv, sdkOpts{})
	c.SetReadTimeout(50 * time.Millisecond)
	if _, err := c.ResetDisk(req); err == nil {
		t.Fatal("the client did not time out")
	}
	deadline := time.Now().Add(5 * time.Second)
	for f.srv.Rollbacks() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if f.srv.Rollbacks() != 1 {
		t.Fatal("the slow call was not applied after its client gave up")
	}
}

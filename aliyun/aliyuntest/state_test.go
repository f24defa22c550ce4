package aliyuntest

import (
	"testing"
	"time"

	swas "github.com/aliyun/alibaba-cloud-sdk-go/services/swas-open"
)

func TestStopStartTransitions(t *testing.T) {
	f := newFixture(t, WithDurations(Durations{Stop: 10 * time.Second, Start: 20 * time.Second}))
	id := f.in.ID
	start := func() error {
		req := swas.CreateStartInstanceRequest()
		req.InstanceId = id
		_, err := f.sdk.StartInstance(req)
		return err
	}
	stop := func() error {
		req := swas.CreateStopInstanceRequest()
		req.InstanceId = id
		_, err := f.sdk.StopInstance(req)
		return err
	}
	serverError(t, stop(), "IncorrectInstanceStatus", 403) // already Stopped
	if err := start(); err != nil {
		t.Fatal(err)
	}
	if got := f.status(t, id); got != StatusStarting {
		t.Fatalf("after StartInstance: %s, want Starting", got)
	}
	serverError(t, start(), "IncorrectInstanceStatus", 403)
	f.clk.Advance(19 * time.Second)
	if got := f.status(t, id); got != StatusStarting {
		t.Fatalf("19s into a 20s start: %s", got)
	}
	f.clk.Advance(time.Second)
	if got := f.status(t, id); got != StatusRunning {
		t.Fatalf("after the start: %s, want Running", got)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := f.status(t, id); got != StatusStopping {
		t.Fatalf("after StopInstance: %s, want Stopping", got)
	}
	f.clk.Advance(10 * time.Second)
	if got := f.status(t, id); got != StatusStopped {
		t.Fatalf("after the stop: %s, want Stopped", got)
	}
	req := swas.CreateStopInstanceRequest()
	req.InstanceId = "0000nonexistent"
	_, err := f.sdk.StopInstance(req)
	serverError(t, err, "InvalidInstanceId.NotFound", 404)
}

func TestResetDiskLifecycle(t *testing.T) {
	f := newFixture(t, WithDurations(Durations{Rollback: time.Minute}))
	sent := f.clk.Now()
	if _, err := f.resetDisk(f.in.SystemDiskID, f.snap.ID, ""); err != nil {
		t.Fatal(err)
	}
	d, _ := f.srv.Disk(f.in.SystemDiskID)
	if got := f.status(t, f.in.ID); got != StatusResetting || d.Status != DiskReIniting {
		t.Fatalf("during rollback: instance %s disk %s", got, d.Status)
	}
	// Seen through the API too.
	lreq := swas.CreateListDisksRequest()
	lreq.DiskIds = jsonList(f.in.SystemDiskID)
	ld, err := f.sdk.ListDisks(lreq)
	if err != nil || len(ld.Disks) != 1 || ld.Disks[0].Status != DiskReIniting {
		t.Fatalf("ListDisks = %+v, %v", ld, err)
	}
	// A second rollback while one runs is refused.
	_, err = f.resetDisk(f.in.SystemDiskID, f.snap.ID, "")
	serverError(t, err, "IncorrectInstanceStatus.ResetDisk", 403)

	f.clk.Advance(90 * time.Second) // look late: the recorded time is still the completion time
	d, _ = f.srv.Disk(f.in.SystemDiskID)
	if got := f.status(t, f.in.ID); got != StatusStopped || d.Status != DiskInUse {
		t.Fatalf("after rollback: instance %s disk %s", got, d.Status)
	}
	sreq := swas.CreateListSnapshotsRequest()
	sreq.SnapshotIds = jsonList(f.snap.ID)
	ls, err := f.sdk.ListSnapshots(sreq)
	if err != nil || len(ls.Snapshots) != 1 {
		t.Fatalf("ListSnapshots = %+v, %v", ls, err)
	}
	if want := sent.Add(time.Minute).UTC().Format(timeFormat); ls.Snapshots[0].RollbackTime != want {
		t.Errorf("RollbackTime = %q, want %q", ls.Snapshots[0].RollbackTime, want)
	}
	if f.srv.Rollbacks() != 1 || f.srv.RollbacksOf(f.in.SystemDiskID) != 1 {
		t.Errorf("rollbacks = %d / %d, want 1", f.srv.Rollbacks(), f.srv.RollbacksOf(f.in.SystemDiskID))
	}
}

func TestFailedRollback(t *testing.T) {
	f := newFixture(t)
	f.srv.FailNextRollbacks(1)
	if _, err := f.resetDisk(f.in.SystemDiskID, f.snap.ID, ""); err != nil {
		t.Fatal(err)
	}
	if got := f.status(t, f.in.ID); got != StatusResetting {
		t.Fatalf("during a failing rollback: %s", got)
	}
	f.clk.Advance(f.srv.Durations().Rollback)
	sv, _ := f.srv.Snapshot(f.snap.ID)
	if got := f.status(t, f.in.ID); got != StatusStopped || !sv.RollbackTime.IsZero() {
		t.Fatalf("after a failed rollback: %s, RollbackTime %v", got, sv.RollbackTime)
	}
	// The next one succeeds.
	if _, err := f.resetDisk(f.in.SystemDiskID, f.snap.ID, ""); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(f.srv.Durations().Rollback)
	if sv, _ := f.srv.Snapshot(f.snap.ID); sv.RollbackTime.IsZero() {
		t.Error("second rollback left RollbackTime unset")
	}
}

func TestResetDiskRefusals(t *testing.T) {
	f := newFixture(t)
	other := Must(f.srv.AddInstance(InstanceSpec{Status: StatusStopped, DataDiskIDs: []string{""}}))
	otherSnap := Must(f.srv.AddSnapshot(SnapshotSpec{DiskID: other.SystemDiskID}))
	creating := Must(f.srv.AddSnapshot(SnapshotSpec{DiskID: other.DataDiskIDs[0], Status: SnapshotProgressing}))
	failed := Must(f.srv.AddSnapshot(SnapshotSpec{DiskID: other.DataDiskIDs[0], Status: SnapshotFailed}))
	running := Must(f.srv.AddInstance(InstanceSpec{Status: StatusRunning}))
	runningSnap := Must(f.srv.AddSnapshot(SnapshotSpec{DiskID: running.SystemDiskID}))
	cases := []struct {
		name, disk, snap, code string
		status                 int
	}{
		{"unknown disk", "d-doesnotexist", f.snap.ID, "InvalidDiskId.NotFound", 404},
		{"unknown snapshot", f.in.SystemDiskID, "s-doesnotexist", "InvalidSnapshotId.NotFound", 404},
		{"snapshot of another disk", f.in.SystemDiskID, otherSnap.ID, "InvalidSnapshotId.DiskMismatch", 403},
		{"snapshot still creating", other.DataDiskIDs[0], creating.ID, "InvalidSnapshotId.NotReady", 403},
		{"failed snapshot", other.DataDiskIDs[0], failed.ID, "InvalidSnapshotId.NotReady", 403},
		{"instance running", running.SystemDiskID, runningSnap.ID, "IncorrectInstanceStatus.ResetDisk", 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.resetDisk(tc.disk, tc.snap, "")
			serverError(t, err, tc.code, tc.status)
		})
	}
	if f.srv.Rollbacks() != 0 {
		t.Errorf("%d rollbacks applied by refused calls", f.srv.Rollbacks())
	}
	for _, e := range f.srv.Journal().Entries() {
		if e.Applied {
			t.Errorf("refused call journaled as applied: %+v", e)
		}
	}
}

func TestOtherRegionIsInvisible(t *testing.T) {
	srv := NewServer(WithRegions("cn-hangzhou", "cn-beijing"))
	defer srv.Close()
	in := Must(srv.AddInstance(InstanceSpec{Region: "cn-beijing", Status: StatusStopped}))
	snap := Must(srv.AddSnapshot(SnapshotSpec{DiskID: in.SystemDiskID}))
	hz := newSDK(t, srv, sdkOpts{region: "cn-hangzhou"})
	req := swas.CreateResetDiskRequest()
	req.DiskId, req.SnapshotId = in.SystemDiskID, snap.ID
	_, err := hz.ResetDisk(req)
	serverError(t, err, "InvalidDiskId.NotFound", 404)
	req = swas.CreateResetDiskRequest()
	req.DiskId, req.SnapshotId = in.SystemDiskID, snap.ID
	req.RegionId = "cn-beijing" // per-request region, as our provider sends it
	if _, err := hz.ResetDisk(req); err != nil {
		t.Fatal(err)
	}
}

func TestSnapshotCreationAndQuota(t *testing.T) {
	f := newFixture(t, WithDurations(Durations{CreateSnapshot: 100 * time.Second}), WithSnapshotQuota(2))
	create := func(name string) (*swas.CreateSnapshotResponse, error) {
		req := swas.CreateCreateSnapshotRequest()
		req.DiskId, req.SnapshotName = f.in.SystemDiskID, name
		return f.sdk.CreateSnapshot(req)
	}
	_, err := create("x")
	serverError(t, err, "InvalidParameter.SnapshotName", 400)
	resp, err := create("before-upgrade")
	if err != nil {
		t.Fatal(err)
	}
	get := func() swas.Snapshot {
		t.Helper()
		req := swas.CreateListSnapshotsRequest()
		req.SnapshotIds = jsonList(resp.SnapshotId)
		ls, err := f.sdk.ListSnapshots(req)
		if err != nil || len(ls.Snapshots) != 1 {
			t.Fatalf("ListSnapshots = %+v, %v", ls, err)
		}
		return ls.Snapshots[0]
	}
	if s := get(); s.Status != SnapshotProgressing || s.Progress != "0%" || s.SourceDiskId != f.in.SystemDiskID || s.InstanceId != f.in.ID || s.SourceDiskType != "System" {
		t.Fatalf("new snapshot = %+v", s)
	}
	f.clk.Advance(50 * time.Second)
	if s := get(); s.Progress != "50%" {
		t.Fatalf("halfway: %+v", s)
	}
	f.clk.Advance(50 * time.Second)
	if s := get(); s.Status != SnapshotAccomplished || s.Progress != "100%" {
		t.Fatalf("done: %+v", s)
	}
	// The fixture's snapshot and this one fill the quota of 2.
	_, err = create("one-too-many")
	serverError(t, err, "QuotaExceed.Snapshot", 403)

	if err := f.srv.SetInstanceBusy(f.in.ID, StatusUpgrading, time.Minute); err != nil {
		t.Fatal(err)
	}
	del := swas.CreateDeleteSnapshotRequest()
	del.SnapshotId = resp.SnapshotId
	if _, err := f.sdk.DeleteSnapshot(del); err != nil {
		t.Fatal(err)
	}
	_, err = create("while-upgrading")
	serverError(t, err, "IncorrectInstanceStatus", 403)
	f.clk.Advance(time.Minute)
	if got := f.status(t, f.in.ID); got != StatusStopped {
		t.Fatalf("after the busy spell: %s, want Stopped again", got)
	}
	if _, err := create("after-upgrade"); err != nil {
		t.Fatal(err)
	}
}

func TestDeleteProgressingSnapshotRefused(t *testing.T) {
	f := newFixture(t)
	sn := Must(f.srv.AddSnapshot(SnapshotSpec{DiskID: f.in.SystemDiskID, Status: SnapshotProgressing}))
	req := swas.CreateDeleteSnapshotRequest()
	req.SnapshotId = sn.ID
	_, err := f.sdk.DeleteSnapshot(req)
	serverError(t, err, "IncorrectSnapshotStatus", 403)
	req = swas.CreateDeleteSnapshotRequest()
	req.SnapshotId = "s-nope"
	_, err = f.sdk.DeleteSnapshot(req)
	serverError(t, err, "InvalidSnapshotId.NotFound", 404)
}

func TestSeededStatuses(t *testing.T) {
	f := newFixture(t)
	for _, st := range []string{StatusPending, StatusUpgrading, StatusDisabled, StatusResetting} {
		if err := f.srv.SetInstanceStatus(f.in.ID, st); err != nil {
			t.Fatal(err)
		}
		req := swas.CreateListInstanceStatusRequest()
		req.InstanceIds = jsonList(f.in.ID)
		resp, err := f.sdk.ListInstanceStatus(req)
		if err != nil || len(resp.InstanceStatuses) != 1 || resp.InstanceStatuses[0].Status != st {
			t.Fatalf("status %s: %+v, %v", st, resp, err)
		}
	}
	if err := f.srv.SetInstanceStatus(f.in.ID, "Sleeping"); err == nil {
		t.Error("SetInstanceStatus accepted an unknown status")
	}
	if err := f.srv.SetInstanceStatus("no-such-instance", StatusRunning); err == nil {
		t.Error("SetInstanceStatus accepted an unknown instance")
	}
}

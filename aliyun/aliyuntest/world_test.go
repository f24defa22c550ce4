package aliyuntest

import (
	"errors"
	"sync"
	"testing"
	"time"

	swas "github.com/aliyun/alibaba-cloud-sdk-go/services/swas-open"
)

// listed returns an instance's Status and a snapshot's RollbackTime as the
// SDK reads them.
func (f *fixture) listed(t *testing.T) (status, rollbackTime string) {
	t.Helper()
	st := swas.CreateListInstanceStatusRequest()
	st.InstanceIds = jsonList(f.in.ID)
	sresp, err := f.sdk.ListInstanceStatus(st)
	if err != nil || len(sresp.InstanceStatuses) != 1 {
		t.Fatalf("ListInstanceStatus = %+v, %v", sresp, err)
	}
	sq := swas.CreateListSnapshotsRequest()
	sq.SnapshotIds = jsonList(f.snap.ID)
	snaps, err := f.sdk.ListSnapshots(sq)
	if err != nil || len(snaps.Snapshots) != 1 {
		t.Fatalf("ListSnapshots = %+v, %v", snaps, err)
	}
	return sresp.InstanceStatuses[0].Status, snaps.Snapshots[0].RollbackTime
}

func TestHookBeforeLetsAnotherActorStartTheServer(t *testing.T) {
	f := newFixture(t)
	f.srv.Before(ActionResetDisk, 1, func() {
		if err := f.srv.ActorStartInstance(f.in.ID); err != nil {
			t.Error(err)
		}
	})
	_, err := f.resetDisk(f.in.SystemDiskID, f.snap.ID, "")
	serverError(t, err, "IncorrectInstanceStatus.ResetDisk", 403)
	if f.srv.Rollbacks() != 0 || f.srv.Calls(ActionStartInstance) != 0 {
		t.Errorf("rollbacks %d, StartInstance requests %d", f.srv.Rollbacks(), f.srv.Calls(ActionStartInstance))
	}
	var actor []Entry
	for _, e := range f.srv.Journal().Entries() {
		if e.Actor == OtherActor {
			actor = append(actor, e)
		}
	}
	if len(actor) != 1 || actor[0].Action != ActionStartInstance || !actor[0].Applied || !isUpperUUID(actor[0].RequestID) {
		t.Errorf("actor entries %+v", actor)
	}
}

func TestHookAfterSeesTheChangeAndCountsResends(t *testing.T) {
	f := newFixture(t)
	f.srv.AddFault(Fault{Action: ActionResetDisk, DropResponse: true})
	var (
		mu   sync.Mutex
		seen []string
	)
	note := func(s string) { mu.Lock(); seen = append(seen, s); mu.Unlock() }
	f.srv.After(ActionResetDisk, 1, func() { note("after 1: " + f.status(t, f.in.ID)) })
	f.srv.Before(ActionResetDisk, 2, func() { note("before 2") })
	if _, err := f.resetDisk(f.in.SystemDiskID, f.snap.ID, "tok-1"); err == nil {
		t.Fatal("the dropped reply arrived")
	}
	if _, err := f.resetDisk(f.in.SystemDiskID, f.snap.ID, "tok-1"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || seen[0] != "after 1: "+StatusResetting || seen[1] != "before 2" {
		t.Errorf("hooks ran %q", seen)
	}
	if f.srv.Rollbacks() != 1 {
		t.Errorf("rollbacks %d", f.srv.Rollbacks())
	}
}

func TestActorsFollowTheAPIRules(t *testing.T) {
	f := newFixture(t, WithSnapshotQuota(2))
	_, err := f.srv.ActorResetDisk(f.in.SystemDiskID, "s-nothere")
	var ae *ActorError
	if !errors.As(err, &ae) || ae.Code != "InvalidSnapshotId.NotFound" || ae.HTTPStatus != 404 || !isUpperUUID(ae.RequestID) {
		t.Fatalf("error %#v", err)
	}
	rid, err := f.srv.ActorResetDisk(f.in.SystemDiskID, f.snap.ID)
	if err != nil || !isUpperUUID(rid) {
		t.Fatal(rid, err)
	}
	if f.srv.RollbacksOf(f.in.SystemDiskID) != 1 || f.status(t, f.in.ID) != StatusResetting {
		t.Fatal("the actor's reset did not land")
	}
	if err := f.srv.ActorStartInstance(f.in.ID); err == nil {
		t.Fatal("started a Resetting server")
	}
	f.clk.Advance(DefaultDurations.Rollback)
	if v, _ := f.srv.Snapshot(f.snap.ID); !v.RollbackTime.Equal(f.clk.Now()) {
		t.Errorf("RollbackTime %v", v.RollbackTime)
	}
	sn, err := f.srv.ActorCreateSnapshot(f.in.SystemDiskID)
	if err != nil || sn.Status != SnapshotProgressing || sn.DiskID != f.in.SystemDiskID {
		t.Fatalf("snapshot %+v, %v", sn, err)
	}
	if _, err := f.srv.ActorCreateSnapshot(f.in.SystemDiskID); !errors.As(err, &ae) || ae.Code != "QuotaExceed.Snapshot" {
		t.Fatalf("over the quota: %v", err)
	}
	if err := f.srv.ActorStartInstance(f.in.ID); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(DefaultDurations.Start)
	if err := f.srv.ActorStopInstance(f.in.ID); err != nil {
		t.Fatal(err)
	}
	if f.srv.Calls("") != 0 {
		t.Errorf("%d requests counted for other actors' changes", f.srv.Calls(""))
	}
}

func TestReadLagHidesTheResetAndItsRollbackTime(t *testing.T) {
	f := newFixture(t, WithReadLag(10*time.Second))
	if _, err := f.resetDisk(f.in.SystemDiskID, f.snap.ID, ""); err != nil {
		t.Fatal(err)
	}
	if st, rt := f.listed(t); st != StatusStopped || rt != "" {
		t.Errorf("at once: %s %q, want Stopped and no rollback time (lagging)", st, rt)
	}
	if f.status(t, f.in.ID) != StatusResetting {
		t.Error("the test's view lags too")
	}
	f.clk.Advance(10 * time.Second)
	if st, _ := f.listed(t); st != StatusResetting {
		t.Errorf("after the lag: %s", st)
	}
	f.clk.Advance(DefaultDurations.Rollback - 10*time.Second)
	if st, rt := f.listed(t); st != StatusResetting || rt != "" {
		t.Errorf("at the end: %s %q, want Resetting and no rollback time yet", st, rt)
	}
	f.clk.Advance(10 * time.Second)
	if st, rt := f.listed(t); st != StatusStopped || rt == "" {
		t.Errorf("lag after the end: %s %q", st, rt)
	}
}

func TestTokenWindowForgetsOldTokens(t *testing.T) {
	f := newFixture(t, WithTokenWindow(time.Hour))
	first, err := f.resetDisk(f.in.SystemDiskID, f.snap.ID, "tok-w")
	if err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(DefaultDurations.Rollback)
	again, err := f.resetDisk(f.in.SystemDiskID, f.snap.ID, "tok-w")
	if err != nil || again.RequestId != first.RequestId || f.srv.Rollbacks() != 1 {
		t.Fatalf("resend inside the window: %v, %v, %d rollbacks", again, err, f.srv.Rollbacks())
	}
	f.clk.Advance(time.Hour - DefaultDurations.Rollback)
	late, err := f.resetDisk(f.in.SystemDiskID, f.snap.ID, "tok-w")
	if err != nil || late.RequestId == first.RequestId || f.srv.Rollbacks() != 2 {
		t.Fatalf("resend after the window: %v, %v, %d rollbacks", late, err, f.srv.Rollbacks())
	}
	f.srv.SetTokenWindow(0)
	f.clk.Advance(100 * time.Hour)
	if r, err := f.resetDisk(f.in.SystemDiskID, f.snap.ID, "tok-w"); err != nil || r.RequestId != late.RequestId {
		t.Fatalf("window 0 forgot the token: %v, %v", r, err)
	}
}

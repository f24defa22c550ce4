package tencenttest

import (
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	lh "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/lighthouse/v20200324"
)

// seedPageCodes are the twenty codes of the ApplyInstanceSnapshot page.
var seedPageCodes = []string{
	CodeFailedDescribeInstanceStatus, CodeSnapshotOperationFailed, CodeInternalDescribeInstanceStatus,
	CodeDiskSizeNotMatch, CodeInstanceIDMalformed, CodeSnapshotIDMalformed, CodeInstanceCreating,
	CodeInstanceOperationInProgress, CodeDiskNotFound, CodeInstanceIDNotFound, CodeSnapshotIDNotFound,
	CodeSnapshotNotFound, CodeNoPermission, CodeDiskBusy, CodeDiskLatestOperationUnfinished,
	CodeInvalidInstanceState, CodeInvalidSnapshotState, CodeLatestOperationUnfinished, CodeSnapshotBusy,
	CodeSystemBusy,
}

// faultOnly are the page's codes no state produces: the cloud failing to
// read an instance's status. AddFault injects them.
var faultOnly = map[string]bool{CodeFailedDescribeInstanceStatus: true, CodeInternalDescribeInstanceStatus: true}

// Every code of the page except the two internal failures comes from state,
// through the official SDK, with nothing applied.
func TestSeedPageCodesFromState(t *testing.T) {
	const limitedID, limitedKey = "AKIDlimited00000000000000000000000001", "limitedKey0000000000000000000001"
	e := newEnv(t, WithConcurrentRollbacks(1), WithCredentials(limitedID, limitedKey),
		WithDeniedActions(limitedID, "ApplyInstanceSnapshot"))
	seed := func(in Instance) (Instance, Snapshot) {
		i := e.instance(in)
		return i, e.snapshot(Snapshot{InstanceID: i.ID})
	}
	stopped, snap := seed(Instance{State: StateStopped})

	got := map[string]string{} // code -> case that produced it
	check := func(name, want string, err error) {
		t.Helper()
		if c := code(t, err); c != want {
			t.Errorf("%s: code = %s, want %s (%v)", name, c, want, err)
		}
		got[want] = name
	}
	apply := func(name, want, inst, snap string) {
		t.Helper()
		_, err := e.apply(inst, snap)
		check(name, want, err)
	}

	// The existing state rules (TestApplyInstanceSnapshotErrors has more).
	apply("malformed instance", CodeInstanceIDMalformed, "ins-1", snap.ID)
	apply("malformed snapshot", CodeSnapshotIDMalformed, stopped.ID, "snap-1")
	apply("unknown instance", CodeInstanceIDNotFound, "lhins-nothere", snap.ID)
	apply("unknown snapshot", CodeSnapshotIDNotFound, stopped.ID, "lhsnap-nothere")
	other, otherSnap := seed(Instance{State: StateStopped})
	apply("snapshot of another instance", CodeSnapshotNotFound, stopped.ID, otherSnap.ID)
	pending, pendingSnap := seed(Instance{State: StatePending})
	apply("instance being created", CodeInstanceCreating, pending.ID, pendingSnap.ID)
	stopping, stoppingSnap := seed(Instance{State: StateStopping})
	apply("instance stopping", CodeInstanceOperationInProgress, stopping.ID, stoppingSnap.ID)
	launchFailed, lfSnap := seed(Instance{State: StateLaunchFailed})
	apply("instance launch failed", CodeInvalidInstanceState, launchFailed.ID, lfSnap.ID)
	busy, busySnap := seed(Instance{State: StateStopped})
	if _, err := e.srv.SetBusy(busy.ID, "ResetInstance", time.Hour); err != nil {
		t.Fatal(err)
	}
	apply("instance busy", CodeLatestOperationUnfinished, busy.ID, busySnap.ID)
	grown, grownSnap := seed(Instance{State: StateStopped})
	if err := e.srv.SetDiskSize(grown.ID, 80); err != nil {
		t.Fatal(err)
	}
	apply("disk grew", CodeDiskSizeNotMatch, grown.ID, grownSnap.ID)
	creatingOf, _ := seed(Instance{State: StateStopped})
	creating := e.snapshot(Snapshot{InstanceID: creatingOf.ID, State: SnapshotCreating})
	apply("snapshot being created", CodeInvalidSnapshotState, creatingOf.ID, creating.ID)

	// The ones that came only from faults before.
	apply("disk being snapshotted", CodeDiskBusy, creatingOf.ID, e.snapshot(Snapshot{InstanceID: creatingOf.ID}).ID)
	reinstalled, oldDiskSnap := seed(Instance{State: StateStopped})
	if _, err := e.srv.ReplaceSystemDisk(reinstalled.ID); err != nil {
		t.Fatal(err)
	}
	apply("snapshot of a replaced disk", CodeDiskNotFound, reinstalled.ID, oldDiskSnap.ID)
	resizing, resizingSnap := seed(Instance{State: StateStopped})
	if err := e.srv.SetDiskBusy(resizing.ID, "ResizeDisks", time.Hour); err != nil {
		t.Fatal(err)
	}
	apply("disk operation in progress", CodeDiskLatestOperationUnfinished, resizing.ID, resizingSnap.ID)
	brokenOf := e.instance(Instance{State: StateStopped})
	broken := e.snapshot(Snapshot{InstanceID: brokenOf.ID, LatestOperation: OpCreateInstanceSnapshot, LatestOperationState: OperationFailed})
	apply("snapshot whose creation failed", CodeSnapshotOperationFailed, brokenOf.ID, broken.ID)

	req := lh.NewApplyInstanceSnapshotRequest()
	req.InstanceId, req.SnapshotId = common.StringPtr(stopped.ID), common.StringPtr(snap.ID)
	_, err := e.client(func(cred *common.Credential, _ *profile.ClientProfile, _ *string) {
		cred.SecretId, cred.SecretKey = limitedID, limitedKey
	}).ApplyInstanceSnapshot(req)
	check("policy without the action", CodeNoPermission, err)

	// One rollback in progress in the region (the limit is 1): the next is
	// refused as system busy, and its snapshot cannot be deleted meanwhile.
	if _, err := e.apply(other.ID, otherSnap.ID); err != nil {
		t.Fatal(err)
	}
	apply("too many rollbacks in the region", CodeSystemBusy, stopped.ID, snap.ID)
	del := lh.NewDeleteSnapshotsRequest()
	del.SnapshotIds = common.StringPtrs([]string{otherSnap.ID})
	_, err = e.sdk.DeleteSnapshots(del)
	check("deleting a snapshot being rolled back to", CodeSnapshotBusy, err)

	for _, c := range seedPageCodes {
		if _, ok := got[c]; !ok && !faultOnly[c] {
			t.Errorf("%s is produced by no state", c)
		}
	}
	if n := e.srv.Rollbacks(); n != 1 {
		t.Errorf("rollbacks = %d, want only the one that was allowed", n)
	}
	e.clk.Advance(time.Hour)
	if _, err := e.apply(stopped.ID, snap.ID); err != nil {
		t.Errorf("after the other rollback ended: %v", err)
	}
}

// An expired instance is isolated: DescribeInstances shows it SHUTDOWN with
// IsolatedTime, and a rollback answers UnsupportedOperation.InstanceExpired.
func TestExpiredInstanceIsIsolated(t *testing.T) {
	e := newEnv(t)
	now := e.clk.Now()
	in := e.instance(Instance{State: StateStopped, CreatedTime: now.AddDate(-1, 0, 0), ExpiredTime: now.Add(time.Hour)})
	sn := e.snapshot(Snapshot{InstanceID: in.ID})
	e.clk.Advance(2 * time.Hour)
	gi := e.describeInstance(in.ID)
	if *gi.InstanceState != StateShutdown || gi.IsolatedTime == nil || *gi.ExpiredTime != now.Add(time.Hour).UTC().Format(timeFormat) {
		t.Errorf("state %s, isolated %s, expired %s", *gi.InstanceState, deref(gi.IsolatedTime), deref(gi.ExpiredTime))
	}
	if _, err := e.apply(in.ID, sn.ID); code(t, err) != CodeInstanceExpired {
		t.Errorf("rollback of an expired instance: %v", err)
	}

	// Without an ExpiredTime a seeded instance is never already expired,
	// however old.
	old := e.instance(Instance{State: StateStopped, CreatedTime: now.AddDate(-3, 0, 0)})
	if _, err := e.apply(old.ID, e.snapshot(Snapshot{InstanceID: old.ID}).ID); err != nil {
		t.Errorf("rollback of an old instance: %v", err)
	}
}

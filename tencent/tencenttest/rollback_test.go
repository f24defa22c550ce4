package tencenttest

import (
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	lh "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/lighthouse/v20200324"
)

func TestRollbackOfStoppedInstance(t *testing.T) {
	e := newEnv(t, WithDurations(Durations{Rollback: time.Minute}))
	in := e.instance(Instance{State: StateStopped, LatestOperation: OpStopInstances, LatestOperationState: OperationSuccess, LatestOperationRequestID: "r-stop"})
	sn := e.snapshot(Snapshot{InstanceID: in.ID, LatestOperation: OpCreateInstanceSnapshot, LatestOperationState: OperationSuccess, LatestOperationRequestID: "r-create"})

	got := e.describeSnapshot(sn.ID)
	if *got.SnapshotState != SnapshotNormal || *got.Percent != 100 || *got.DiskId != in.DiskID || *got.DiskUsage != "SYSTEM_DISK" {
		t.Fatalf("seeded snapshot = %+v", got)
	}
	rid, err := e.apply(in.ID, sn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rid) != 36 || rid != lowerCase(rid) {
		t.Errorf("request ID %q is not a lower-case UUID", rid)
	}
	if e.srv.Rollbacks() != 1 || e.srv.RollbacksOf(in.ID) != 1 {
		t.Fatalf("rollbacks = %d / %d", e.srv.Rollbacks(), e.srv.RollbacksOf(in.ID))
	}

	gi := e.describeInstance(in.ID)
	if *gi.InstanceState != StateStopped {
		t.Errorf("instance state during rollback = %s", *gi.InstanceState)
	}
	wantOp(t, "instance", gi.LatestOperation, gi.LatestOperationState, gi.LatestOperationRequestId, OpApplyInstanceSnapshot, OperationOperating, rid)
	gs := e.describeSnapshot(sn.ID)
	if *gs.SnapshotState != SnapshotRollbacking || *gs.Percent != 0 {
		t.Errorf("snapshot during rollback = %s %d%%", *gs.SnapshotState, *gs.Percent)
	}
	wantOp(t, "snapshot", gs.LatestOperation, gs.LatestOperationState, gs.LatestOperationRequestId, OpRollbackInstanceSnapshot, OperationOperating, rid)

	e.clk.Advance(30 * time.Second)
	if p := *e.describeSnapshot(sn.ID).Percent; p != 50 {
		t.Errorf("percent half way = %d", p)
	}
	// A second rollback while the first runs is refused.
	if _, err := e.apply(in.ID, sn.ID); code(t, err) != CodeLatestOperationUnfinished {
		t.Errorf("second rollback: %v", err)
	}

	e.clk.Advance(30 * time.Second)
	gi = e.describeInstance(in.ID)
	wantOp(t, "instance", gi.LatestOperation, gi.LatestOperationState, gi.LatestOperationRequestId, OpApplyInstanceSnapshot, OperationSuccess, rid)
	gs = e.describeSnapshot(sn.ID)
	if *gs.SnapshotState != SnapshotNormal || *gs.Percent != 100 {
		t.Errorf("snapshot after rollback = %s %d%%", *gs.SnapshotState, *gs.Percent)
	}
	wantOp(t, "snapshot", gs.LatestOperation, gs.LatestOperationState, gs.LatestOperationRequestId, OpRollbackInstanceSnapshot, OperationSuccess, rid)
	if e.srv.Rollbacks() != 1 {
		t.Errorf("rollbacks = %d", e.srv.Rollbacks())
	}
}

func lowerCase(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func TestRollbackForceStopsRunningInstance(t *testing.T) {
	e := newEnv(t, WithDurations(Durations{Stop: 10 * time.Second, Rollback: 20 * time.Second}))
	in := e.instance(Instance{State: StateRunning})
	sn := e.snapshot(Snapshot{InstanceID: in.ID})
	rid, err := e.apply(in.ID, sn.ID)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		after time.Duration
		state string
		op    string
	}{
		{0, StateStopping, OperationOperating},
		{9 * time.Second, StateStopping, OperationOperating},
		{1 * time.Second, StateStopped, OperationOperating},
		{19 * time.Second, StateStopped, OperationOperating},
		{1 * time.Second, StateStopped, OperationSuccess},
	}
	for i, s := range steps {
		e.clk.Advance(s.after)
		gi := e.describeInstance(in.ID)
		if *gi.InstanceState != s.state {
			t.Errorf("step %d: state %s, want %s", i, *gi.InstanceState, s.state)
		}
		wantOp(t, "instance", gi.LatestOperation, gi.LatestOperationState, gi.LatestOperationRequestId, OpApplyInstanceSnapshot, s.op, rid)
	}
}

func TestInjectedRollbackFailure(t *testing.T) {
	e := newEnv(t)
	in := e.instance(Instance{State: StateStopped})
	sn := e.snapshot(Snapshot{InstanceID: in.ID})
	e.srv.FailNextRollbacks(1)
	rid, err := e.apply(in.ID, sn.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(DefaultDurations.Rollback)
	gi := e.describeInstance(in.ID)
	wantOp(t, "instance", gi.LatestOperation, gi.LatestOperationState, gi.LatestOperationRequestId, OpApplyInstanceSnapshot, OperationFailed, rid)
	gs := e.describeSnapshot(sn.ID)
	wantOp(t, "snapshot", gs.LatestOperation, gs.LatestOperationState, gs.LatestOperationRequestId, OpRollbackInstanceSnapshot, OperationFailed, rid)
	if *gs.SnapshotState != SnapshotNormal || *gi.InstanceState != StateStopped {
		t.Errorf("after failure: snapshot %s, instance %s", *gs.SnapshotState, *gi.InstanceState)
	}
	// Only the next one failed.
	rid2, err := e.apply(in.ID, sn.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(DefaultDurations.Rollback)
	gi = e.describeInstance(in.ID)
	wantOp(t, "instance", gi.LatestOperation, gi.LatestOperationState, gi.LatestOperationRequestId, OpApplyInstanceSnapshot, OperationSuccess, rid2)
}

func TestApplyInstanceSnapshotErrors(t *testing.T) {
	e := newEnv(t)
	stopped := e.instance(Instance{State: StateStopped})
	snap := e.snapshot(Snapshot{InstanceID: stopped.ID})
	other := e.instance(Instance{State: StateStopped})
	otherSnap := e.snapshot(Snapshot{InstanceID: other.ID})
	creating := e.snapshot(Snapshot{InstanceID: stopped.ID, State: SnapshotCreating})
	pending := e.instance(Instance{State: StatePending})
	pendingSnap := e.snapshot(Snapshot{InstanceID: pending.ID})
	failed := e.instance(Instance{State: StateLaunchFailed})
	failedSnap := e.snapshot(Snapshot{InstanceID: failed.ID})
	stopping := e.instance(Instance{State: StateStopping})
	stoppingSnap := e.snapshot(Snapshot{InstanceID: stopping.ID})
	busy := e.instance(Instance{State: StateStopped})
	busySnap := e.snapshot(Snapshot{InstanceID: busy.ID})
	if _, err := e.srv.SetBusy(busy.ID, "ResetInstance", time.Hour); err != nil {
		t.Fatal(err)
	}
	grown := e.instance(Instance{State: StateStopped, DiskSize: 50})
	grownSnap := e.snapshot(Snapshot{InstanceID: grown.ID})
	if err := e.srv.SetDiskSize(grown.ID, 80); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, inst, snap, code string
	}{
		{"malformed instance", "ins-1", snap.ID, CodeInstanceIDMalformed},
		{"malformed snapshot", stopped.ID, "snap-1", CodeSnapshotIDMalformed},
		{"unknown instance", "lhins-nothere", snap.ID, CodeInstanceIDNotFound},
		{"unknown snapshot", stopped.ID, "lhsnap-nothere", CodeSnapshotIDNotFound},
		{"snapshot of another instance", stopped.ID, otherSnap.ID, CodeSnapshotNotFound},
		{"snapshot creating", stopped.ID, creating.ID, CodeInvalidSnapshotState},
		{"instance pending", pending.ID, pendingSnap.ID, CodeInstanceCreating},
		{"instance launch failed", failed.ID, failedSnap.ID, CodeInvalidInstanceState},
		{"instance stopping", stopping.ID, stoppingSnap.ID, CodeInstanceOperationInProgress},
		{"instance busy", busy.ID, busySnap.ID, CodeLatestOperationUnfinished},
		{"disk grew", grown.ID, grownSnap.ID, CodeDiskSizeNotMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.apply(tt.inst, tt.snap)
			if got := code(t, err); got != tt.code {
				t.Errorf("code = %s, want %s (%v)", got, tt.code, err)
			}
		})
	}
	if _, err := e.apply("", snap.ID); code(t, err) != CodeMissingParameter {
		t.Errorf("missing InstanceId: %v", err)
	}
	if e.srv.Rollbacks() != 0 {
		t.Errorf("rollbacks = %d", e.srv.Rollbacks())
	}
	for _, en := range e.srv.Journal().Entries() {
		if en.Applied {
			t.Errorf("entry %d applied: %+v", en.Seq, en)
		}
	}
}

func TestStopStartLifecycle(t *testing.T) {
	e := newEnv(t, WithDurations(Durations{Stop: 5 * time.Second, Start: 8 * time.Second}))
	in := e.instance(Instance{State: StateRunning})
	stop := lh.NewStopInstancesRequest()
	stop.InstanceIds = common.StringPtrs([]string{in.ID})
	resp, err := e.sdk.StopInstances(stop)
	if err != nil {
		t.Fatal(err)
	}
	rid := *resp.Response.RequestId
	gi := e.describeInstance(in.ID)
	if *gi.InstanceState != StateStopping {
		t.Errorf("state = %s", *gi.InstanceState)
	}
	wantOp(t, "instance", gi.LatestOperation, gi.LatestOperationState, gi.LatestOperationRequestId, OpStopInstances, OperationOperating, rid)
	// Stopping again while stopping is refused as in progress.
	if _, err := e.sdk.StopInstances(stop); code(t, err) != CodeInstanceOperationInProgress {
		t.Errorf("second stop: %v", err)
	}
	e.clk.Advance(5 * time.Second)
	gi = e.describeInstance(in.ID)
	if *gi.InstanceState != StateStopped {
		t.Errorf("state = %s", *gi.InstanceState)
	}
	wantOp(t, "instance", gi.LatestOperation, gi.LatestOperationState, gi.LatestOperationRequestId, OpStopInstances, OperationSuccess, rid)
	if _, err := e.sdk.StopInstances(stop); code(t, err) != CodeInvalidInstanceState {
		t.Errorf("stop stopped: %v", err)
	}

	start := lh.NewStartInstancesRequest()
	start.InstanceIds = common.StringPtrs([]string{in.ID})
	resp2, err := e.sdk.StartInstances(start)
	if err != nil {
		t.Fatal(err)
	}
	gi = e.describeInstance(in.ID)
	if *gi.InstanceState != StateStarting {
		t.Errorf("state = %s", *gi.InstanceState)
	}
	e.clk.Advance(8 * time.Second)
	gi = e.describeInstance(in.ID)
	if *gi.InstanceState != StateRunning {
		t.Errorf("state = %s", *gi.InstanceState)
	}
	wantOp(t, "instance", gi.LatestOperation, gi.LatestOperationState, gi.LatestOperationRequestId, OpStartInstances, OperationSuccess, *resp2.Response.RequestId)

	// An unknown ID anywhere in the list rejects the whole call.
	stop.InstanceIds = common.StringPtrs([]string{in.ID, "lhins-missing1"})
	if _, err := e.sdk.StopInstances(stop); code(t, err) != CodeInstanceIDNotFound {
		t.Errorf("stop with unknown: %v", err)
	}
	if got := e.describeInstance(in.ID); *got.InstanceState != StateRunning {
		t.Errorf("partial stop applied: %s", *got.InstanceState)
	}
}

func TestSeededTransitionsRunTheirCourse(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		state, final, op string
		d                time.Duration
	}{
		{StatePending, StateRunning, OpCreateInstances, DefaultDurations.Launch},
		{StateStarting, StateRunning, OpStartInstances, DefaultDurations.Start},
		{StateStopping, StateStopped, OpStopInstances, DefaultDurations.Stop},
		{StateRebooting, StateRunning, OpRebootInstances, DefaultDurations.Reboot},
		{StateShutdown, StateShutdown, "", 0},
		{StateTerminating, StateTerminating, "", 0},
		{StateLaunchFailed, StateLaunchFailed, "", 0},
	}
	ids := make([]string, len(cases))
	for i, c := range cases {
		ids[i] = e.instance(Instance{State: c.state}).ID
	}
	for i, c := range cases {
		gi := e.describeInstance(ids[i])
		if *gi.InstanceState != c.state {
			t.Errorf("%s: seeded state shows %s", c.state, *gi.InstanceState)
		}
		if c.op != "" {
			wantOp(t, c.state, gi.LatestOperation, gi.LatestOperationState, gi.LatestOperationRequestId, c.op, OperationOperating, "")
		}
	}
	e.clk.Advance(2 * time.Minute)
	for i, c := range cases {
		gi := e.describeInstance(ids[i])
		if *gi.InstanceState != c.final {
			t.Errorf("%s: final state %s, want %s", c.state, *gi.InstanceState, c.final)
		}
		if c.op != "" {
			wantOp(t, c.state, gi.LatestOperation, gi.LatestOperationState, gi.LatestOperationRequestId, c.op, OperationSuccess, "")
		}
	}
}

func TestSetBusy(t *testing.T) {
	e := newEnv(t)
	in := e.instance(Instance{State: StateRunning})
	rid, err := e.srv.SetBusy(in.ID, "ResetInstance", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	gi := e.describeInstance(in.ID)
	wantOp(t, "instance", gi.LatestOperation, gi.LatestOperationState, gi.LatestOperationRequestId, "ResetInstance", OperationOperating, rid)
	e.clk.Advance(time.Minute)
	gi = e.describeInstance(in.ID)
	wantOp(t, "instance", gi.LatestOperation, gi.LatestOperationState, gi.LatestOperationRequestId, "ResetInstance", OperationSuccess, rid)
	if _, err := e.srv.SetBusy("lhins-nothere", "x", time.Second); err == nil {
		t.Error("SetBusy of an unknown instance succeeded")
	}
}

func TestCreateInstanceSnapshot(t *testing.T) {
	e := newEnv(t, WithSnapshotQuota(2), WithDurations(Durations{CreateSnapshot: 100 * time.Second}))
	in := e.instance(Instance{State: StateRunning})
	req := lh.NewCreateInstanceSnapshotRequest()
	req.InstanceId, req.SnapshotName = common.StringPtr(in.ID), common.StringPtr("before-upgrade")
	resp, err := e.sdk.CreateInstanceSnapshot(req)
	if err != nil {
		t.Fatal(err)
	}
	id, rid := *resp.Response.SnapshotId, *resp.Response.RequestId
	gs := e.describeSnapshot(id)
	if *gs.SnapshotState != SnapshotCreating || *gs.Percent != 0 || *gs.SnapshotName != "before-upgrade" || *gs.DiskId != in.DiskID {
		t.Errorf("new snapshot = %s %d%% %s %s", *gs.SnapshotState, *gs.Percent, *gs.SnapshotName, *gs.DiskId)
	}
	wantOp(t, "snapshot", gs.LatestOperation, gs.LatestOperationState, gs.LatestOperationRequestId, OpCreateInstanceSnapshot, OperationOperating, rid)
	gi := e.describeInstance(in.ID)
	wantOp(t, "instance", gi.LatestOperation, gi.LatestOperationState, gi.LatestOperationRequestId, OpCreateInstanceSnapshot, OperationOperating, rid)
	e.clk.Advance(25 * time.Second)
	if p := *e.describeSnapshot(id).Percent; p != 25 {
		t.Errorf("percent = %d", p)
	}
	e.clk.Advance(75 * time.Second)
	gs = e.describeSnapshot(id)
	if *gs.SnapshotState != SnapshotNormal || *gs.Percent != 100 {
		t.Errorf("done snapshot = %s %d%%", *gs.SnapshotState, *gs.Percent)
	}
	wantOp(t, "snapshot", gs.LatestOperation, gs.LatestOperationState, gs.LatestOperationRequestId, OpCreateInstanceSnapshot, OperationSuccess, rid)

	if _, err := e.sdk.CreateInstanceSnapshot(req); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(100 * time.Second)
	if _, err := e.sdk.CreateInstanceSnapshot(req); code(t, err) != CodeSnapshotQuotaLimitExceeded {
		t.Errorf("over quota: %v", err)
	}
	req.SnapshotName = common.StringPtr(string(make([]byte, 61)))
	long := ""
	for i := 0; i < 61; i++ {
		long += "名"
	}
	req.SnapshotName = common.StringPtr(long)
	if _, err := e.sdk.CreateInstanceSnapshot(req); code(t, err) != CodeSnapshotNameTooLong {
		t.Errorf("long name: %v", err)
	}

	// DeleteSnapshots frees the quota.
	del := lh.NewDeleteSnapshotsRequest()
	del.SnapshotIds = common.StringPtrs([]string{id})
	if _, err := e.sdk.DeleteSnapshots(del); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.srv.Snapshot(id); ok {
		t.Error("snapshot still there after DeleteSnapshots")
	}
	if _, err := e.sdk.DeleteSnapshots(del); code(t, err) != CodeSnapshotIDNotFound {
		t.Errorf("delete again: %v", err)
	}
}

func TestDeniedActions(t *testing.T) {
	e := newEnv(t)
	in := e.instance(Instance{State: StateStopped})
	req := lh.NewDescribeInstancesDeniedActionsRequest()
	req.InstanceIds = common.StringPtrs([]string{in.ID})
	resp, err := e.sdk.DescribeInstancesDeniedActions(req)
	if err != nil {
		t.Fatal(err)
	}
	set := resp.Response.InstanceDeniedActionSet
	if len(set) != 1 || len(set[0].DeniedActions) != 1 || *set[0].DeniedActions[0].Action != "StopInstances" {
		t.Errorf("denied = %s", resp.ToJsonString())
	}
}

func TestSeedingErrors(t *testing.T) {
	e := newEnv(t)
	in := e.instance(Instance{ID: "lhins-seed0001"})
	for _, bad := range []Instance{{ID: in.ID}, {ID: "i-123"}, {State: "BROKEN"}} {
		if _, err := e.srv.AddInstance(bad); err == nil {
			t.Errorf("AddInstance(%+v) succeeded", bad)
		}
	}
	for _, bad := range []Snapshot{{InstanceID: "lhins-none"}, {InstanceID: in.ID, State: SnapshotRollbacking}, {InstanceID: in.ID, ID: "s-1"}} {
		if _, err := e.srv.AddSnapshot(bad); err == nil {
			t.Errorf("AddSnapshot(%+v) succeeded", bad)
		}
	}
	if err := e.srv.SetInstanceState(in.ID, "NOPE"); err == nil {
		t.Error("SetInstanceState accepted an unknown state")
	}
	if err := e.srv.SetInstanceState("lhins-none", StateRunning); err == nil {
		t.Error("SetInstanceState accepted an unknown instance")
	}
}

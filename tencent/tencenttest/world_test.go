package tencenttest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	lh "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/lighthouse/v20200324"
)

func TestHookBeforeLetsAnotherActorStartTheInstance(t *testing.T) {
	e := newEnv(t)
	in := e.instance(Instance{State: StateStopped})
	sn := e.snapshot(Snapshot{InstanceID: in.ID})
	e.srv.Before("ApplyInstanceSnapshot", 1, func() {
		if err := e.srv.ActorStartInstance(in.ID); err != nil {
			t.Error(err)
		}
		e.clk.Advance(DefaultDurations.Start) // RUNNING when our call lands
	})
	if _, err := e.apply(in.ID, sn.ID); err != nil {
		t.Fatal(err)
	}
	// The instance was RUNNING when our apply came: the cloud forces it off.
	if got := deref(e.describeInstance(in.ID).InstanceState); got != StateStopping {
		t.Errorf("state %s, want STOPPING (a forced stop)", got)
	}
	var actors int
	for _, en := range e.srv.Journal().Entries() {
		if en.Actor == OtherActor {
			actors++
			if en.Action != "StartInstances" || !en.Applied || en.RequestID == "" {
				t.Errorf("actor entry %+v", en)
			}
		}
	}
	if actors != 1 || e.srv.Journal().Count("StartInstances") != 0 {
		t.Errorf("%d actor entries, %d StartInstances requests", actors, e.srv.Journal().Count("StartInstances"))
	}
}

func TestHookAfterSeesTheChangeBeforeTheReplyAndCountsResends(t *testing.T) {
	e := newEnv(t)
	in := e.instance(Instance{State: StateStopped})
	sn := e.snapshot(Snapshot{InstanceID: in.ID})
	e.srv.AddFault(Fault{Action: "ApplyInstanceSnapshot", Code: CodeInternalError})
	var (
		mu    sync.Mutex
		seen  []string
		opRID string
	)
	note := func(s string) { mu.Lock(); seen = append(seen, s); mu.Unlock() }
	e.srv.After("ApplyInstanceSnapshot", 1, func() { note("after 1") })
	e.srv.Before("ApplyInstanceSnapshot", 2, func() { note("before 2") })
	e.srv.After("ApplyInstanceSnapshot", 2, func() {
		got, _ := e.srv.Instance(in.ID)
		mu.Lock()
		opRID = got.LatestOperationRequestID
		mu.Unlock()
		note("after 2")
	})
	if _, err := e.apply(in.ID, sn.ID); code(t, err) != CodeInternalError {
		t.Fatal(err)
	}
	rid, err := e.apply(in.ID, sn.ID) // the resend is request 2
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 3 || seen[0] != "after 1" || seen[1] != "before 2" || seen[2] != "after 2" {
		t.Errorf("hooks ran %v", seen)
	}
	if opRID != rid {
		t.Errorf("After saw operation %q, the reply says %q", opRID, rid)
	}
	e.srv.After("ApplyInstanceSnapshot", 2, func() { t.Error("a hook for a past request ran") })
}

func TestActorsFollowTheAPIRules(t *testing.T) {
	e := newEnv(t)
	in := e.instance(Instance{State: StateRunning})
	if err := e.srv.ActorStartInstance(in.ID); err == nil {
		t.Fatal("started a RUNNING instance")
	} else {
		var ae *ActorError
		if !errors.As(err, &ae) || ae.Code != CodeInvalidInstanceState || ae.RequestID == "" {
			t.Fatalf("error %#v", err)
		}
	}
	if err := e.srv.ActorStopInstance(in.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.ActorStopInstance(in.ID); err == nil {
		t.Fatal("stopped a STOPPING instance")
	}
	e.clk.Advance(DefaultDurations.Stop)
	sn, err := e.srv.ActorCreateSnapshot(in.ID)
	if err != nil || sn.State != SnapshotCreating || sn.InstanceID != in.ID {
		t.Fatalf("snapshot %+v, %v", sn, err)
	}
	if _, err := e.srv.ActorApplySnapshot(in.ID, sn.ID); err == nil {
		t.Fatal("applied a CREATING snapshot")
	}
	e.clk.Advance(DefaultDurations.CreateSnapshot)
	rid, err := e.srv.ActorApplySnapshot(in.ID, sn.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := e.describeSnapshot(sn.ID)
	wantOp(t, "snapshot", got.LatestOperation, got.LatestOperationState, got.LatestOperationRequestId, OpRollbackInstanceSnapshot, OperationOperating, rid)
	gi := e.describeInstance(in.ID)
	wantOp(t, "instance", gi.LatestOperation, gi.LatestOperationState, gi.LatestOperationRequestId, OpApplyInstanceSnapshot, OperationOperating, rid)
	if e.srv.RollbacksOf(in.ID) != 1 || e.srv.Journal().Count("") != 2 {
		t.Errorf("rollbacks %d, requests %d (the two reads)", e.srv.RollbacksOf(in.ID), e.srv.Journal().Count(""))
	}
	if _, err := e.srv.ActorApplySnapshot("lhins-nothere", sn.ID); err == nil {
		t.Error("applied to an unknown instance")
	}
}

func TestReadLagHidesWritesAndEndsForTheLag(t *testing.T) {
	e := newEnv(t, WithReadLag(10*time.Second))
	in := e.instance(Instance{State: StateStopped, LatestOperation: OpStopInstances, LatestOperationState: OperationSuccess, LatestOperationRequestID: "old"})
	sn := e.snapshot(Snapshot{InstanceID: in.ID})
	rid, err := e.apply(in.ID, sn.ID)
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string, wantState, wantOpName, wantOpState, wantRID, wantSnap string) {
		t.Helper()
		gi := e.describeInstance(in.ID)
		if deref(gi.InstanceState) != wantState {
			t.Errorf("%s: state %s, want %s", when, deref(gi.InstanceState), wantState)
		}
		wantOp(t, when+" instance", gi.LatestOperation, gi.LatestOperationState, gi.LatestOperationRequestId, wantOpName, wantOpState, wantRID)
		if got := deref(e.describeSnapshot(sn.ID).SnapshotState); got != wantSnap {
			t.Errorf("%s: snapshot %s, want %s", when, got, wantSnap)
		}
	}
	check("at once", StateStopped, OpStopInstances, OperationSuccess, "old", SnapshotNormal)
	if v, _ := e.srv.Instance(in.ID); v.LatestOperationRequestID != rid {
		t.Errorf("the test's view lags too: %+v", v)
	}
	e.clk.Advance(10 * time.Second)
	check("after the lag", StateStopped, OpApplyInstanceSnapshot, OperationOperating, rid, SnapshotRollbacking)
	e.clk.Advance(DefaultDurations.Rollback - 10*time.Second)
	check("at the end", StateStopped, OpApplyInstanceSnapshot, OperationOperating, rid, SnapshotRollbacking)
	e.clk.Advance(10 * time.Second)
	check("lag after the end", StateStopped, OpApplyInstanceSnapshot, OperationSuccess, rid, SnapshotNormal)

	// Calls are decided on the real state: a second apply at once is
	// accepted although reads showed the first still running a moment ago.
	e.srv.SetReadLag(time.Hour)
	if _, err := e.apply(in.ID, sn.ID); err != nil {
		t.Fatal(err)
	}
	check("second apply", StateStopped, OpApplyInstanceSnapshot, OperationSuccess, rid, SnapshotNormal)
}

func TestReadLagOfAnotherActorsStop(t *testing.T) {
	e := newEnv(t, WithReadLag(30*time.Second))
	in := e.instance(Instance{State: StateRunning})
	if err := e.srv.ActorStopInstance(in.ID); err != nil {
		t.Fatal(err)
	}
	req := lh.NewDescribeInstancesRequest()
	req.InstanceIds = common.StringPtrs([]string{in.ID})
	resp, err := e.sdk.DescribeInstances(req)
	if err != nil {
		t.Fatal(err)
	}
	if got := deref(resp.Response.InstanceSet[0].InstanceState); got != StateRunning {
		t.Errorf("state %s right after another actor's stop, want RUNNING (lagging)", got)
	}
}

func TestHookAfterRunsBeforeADroppedReply(t *testing.T) {
	e := newEnv(t)
	in := e.instance(Instance{State: StateStopped})
	sn := e.snapshot(Snapshot{InstanceID: in.ID})
	e.srv.AddFault(Fault{Action: "ApplyInstanceSnapshot", DropResponse: true})
	state := make(chan string, 1)
	e.srv.After("ApplyInstanceSnapshot", 1, func() {
		got, _ := e.srv.Instance(in.ID)
		state <- got.LatestOperation + "/" + got.LatestOperationState
	})
	if _, err := e.apply(in.ID, sn.ID); err == nil {
		t.Fatal("the dropped reply arrived")
	}
	if state := <-state; state != OpApplyInstanceSnapshot+"/"+OperationOperating {
		t.Errorf("After saw %q", state)
	}
}

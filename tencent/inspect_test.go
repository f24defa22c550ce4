package tencent_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

func TestInstanceNormalized(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	tests := []struct {
		native string
		state  rollback.InstanceState
		busy   bool
	}{
		{tencenttest.StateRunning, rollback.InstanceRunning, false},
		{tencenttest.StateStopped, rollback.InstanceStopped, false},
		{tencenttest.StatePending, rollback.InstancePending, true},
		{tencenttest.StateStarting, rollback.InstanceStarting, true},
		{tencenttest.StateStopping, rollback.InstanceStopping, true},
		{tencenttest.StateRebooting, rollback.InstanceBusy, true},
		{tencenttest.StateLaunchFailed, rollback.InstanceUnavailable, false},
		{tencenttest.StateShutdown, rollback.InstanceUnavailable, false},
		{tencenttest.StateTerminating, rollback.InstanceUnavailable, false},
	}
	for _, tt := range tests {
		in := f.instance(tencenttest.Instance{State: tt.native, Name: "web"})
		got, err := f.c.Instance(context.Background(), "ap-guangzhou", in.ID)
		if f.note(err) != nil {
			t.Fatal(err)
		}
		if got.State != tt.state || got.NativeState != tt.native || got.Busy != tt.busy ||
			got.SystemDiskID != in.DiskID || got.ID != in.ID || got.Name != "web" || got.Provider != "tencent" || got.Region != "ap-guangzhou" {
			t.Errorf("%s: %+v", tt.native, got)
		}
	}
	// A rollback in progress, then done.
	in, sn := f.stopped()
	res, err := f.c.Rollback(context.Background(), req(in, sn))
	if f.note(err) != nil {
		t.Fatal(err)
	}
	got, _ := f.c.Instance(context.Background(), "", in.ID)
	wantOp := rollback.Operation{Kind: rollback.OpRollback, Name: "ApplyInstanceSnapshot", State: rollback.OperationRunning, NativeState: "OPERATING", RequestID: res.RequestID}
	if got.State != rollback.InstanceRollingBack || !got.Busy || got.LatestOperation != wantOp {
		t.Errorf("rolling back: %+v", got)
	}
	snap, _ := f.c.Snapshot(context.Background(), "", sn.ID)
	if snap.State != rollback.SnapshotRollingBack || snap.LatestOperation.Kind != rollback.OpRollback || snap.LatestOperation.RequestID != res.RequestID {
		t.Errorf("snapshot rolling back: %+v", snap)
	}
	f.clk.Advance(time.Hour)
	got, _ = f.c.Instance(context.Background(), "", in.ID)
	if got.State != rollback.InstanceStopped || got.Busy || got.LatestOperation.State != rollback.OperationSucceeded {
		t.Errorf("after: %+v", got)
	}
	// Missing.
	_, err = f.c.Instance(context.Background(), "", "lhins-nothere1")
	f.note(err)
	if !errors.Is(err, rollback.ErrInstanceNotFound) || asError(t, err).RequestID == "" {
		t.Errorf("missing: %v", err)
	}
}

func TestSnapshotNormalized(t *testing.T) {
	f := newFixture(t, fixtureOpts{emu: []tencenttest.Option{tencenttest.WithDurations(tencenttest.Durations{CreateSnapshot: 100 * time.Second})}})
	in := f.instance(tencenttest.Instance{})
	sn := f.snapshot(tencenttest.Snapshot{InstanceID: in.ID, Name: "nightly", State: tencenttest.SnapshotCreating, Percent: 40})
	got, err := f.c.Snapshot(context.Background(), "", sn.ID)
	if f.note(err) != nil {
		t.Fatal(err)
	}
	if got.State != rollback.SnapshotCreating || got.Progress != 40 || got.DiskID != in.DiskID || got.InstanceID != in.ID ||
		got.Name != "nightly" || got.NativeState != "CREATING" || got.CreatedAt.IsZero() {
		t.Errorf("creating: %+v", got)
	}
	f.clk.Advance(100 * time.Second)
	got, _ = f.c.Snapshot(context.Background(), "", sn.ID)
	if got.State != rollback.SnapshotReady || got.Progress != 100 || got.LatestOperation.Kind != rollback.OpCreateSnapshot || got.LatestOperation.State != rollback.OperationSucceeded {
		t.Errorf("ready: %+v", got)
	}
	_, err = f.c.Snapshot(context.Background(), "", "lhsnap-nothere1")
	f.note(err)
	if !errors.Is(err, rollback.ErrSnapshotNotFound) {
		t.Errorf("missing: %v", err)
	}
	_, err = f.c.Snapshot(context.Background(), "", "snap-1")
	if !errors.Is(err, rollback.ErrInvalidArgument) {
		t.Errorf("bad ID: %v", err)
	}
}

func TestInstancesBatched(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	var ids []string
	for i := 0; i < 250; i++ {
		ids = append(ids, f.instance(tencenttest.Instance{}).ID)
	}
	ask := append([]string{"lhins-absent01"}, ids...)
	ask = append(ask, ids[0]) // duplicates count once
	got, err := f.c.Instances(context.Background(), "", ask)
	if f.note(err) != nil {
		t.Fatal(err)
	}
	if len(got) != 250 {
		t.Fatalf("%d instances", len(got))
	}
	for i, in := range got {
		if in.ID != ids[i] {
			t.Fatalf("order: %d is %s", i, in.ID)
		}
	}
	if n := f.srv.Journal().Count("DescribeInstances"); n != 3 {
		t.Errorf("%d DescribeInstances calls for 251 IDs", n)
	}
	if _, err := f.c.Instances(context.Background(), "", []string{ids[0], "bad"}); !errors.Is(err, rollback.ErrInvalidArgument) {
		t.Errorf("bad ID: %v", err)
	}
}

package tencent_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

func TestStopStart(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	in := f.instance(tencenttest.Instance{State: tencenttest.StateRunning})
	ctx := context.Background()
	if err := f.c.StopInstance(ctx, "", in.ID); f.note(err) != nil {
		t.Fatal(err)
	}
	got, _ := f.c.Instance(ctx, "", in.ID)
	if got.State != rollback.InstanceStopping || got.LatestOperation.Kind != rollback.OpStop {
		t.Errorf("after stop: %+v", got)
	}
	err := f.c.StopInstance(ctx, "", in.ID)
	f.note(err)
	if !errors.Is(err, rollback.ErrBusy) {
		t.Errorf("stop while stopping: %v", err)
	}
	f.clk.Advance(time.Hour)
	if err := f.c.StartInstance(ctx, "", in.ID); f.note(err) != nil {
		t.Fatal(err)
	}
	got, _ = f.c.Instance(ctx, "", in.ID)
	if got.State != rollback.InstanceStarting || got.LatestOperation.Kind != rollback.OpStart {
		t.Errorf("after start: %+v", got)
	}
	f.clk.Advance(time.Hour)
	err = f.c.StartInstance(ctx, "", in.ID)
	f.note(err)
	if !errors.Is(err, rollback.ErrInstanceState) {
		t.Errorf("start running: %v", err)
	}
	if err := f.c.StopInstance(ctx, "", "lhins-nothere1"); !errors.Is(f.note(err), rollback.ErrInstanceNotFound) {
		t.Errorf("unknown: %v", err)
	}
}

func TestStopLostReplyIsAdopted(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	in := f.instance(tencenttest.Instance{State: tencenttest.StateRunning})
	f.srv.AddFault(tencenttest.Fault{Action: "StopInstances", DropResponse: true})
	if err := f.c.StopInstance(context.Background(), "", in.ID); f.note(err) != nil {
		t.Fatal(err)
	}
	if n := f.srv.Journal().Count("StopInstances"); n != 1 {
		t.Errorf("StopInstances sent %d times", n)
	}
}

func TestCreateSnapshot(t *testing.T) {
	f := newFixture(t, fixtureOpts{emu: []tencenttest.Option{tencenttest.WithSnapshotQuota(2)}})
	in := f.instance(tencenttest.Instance{State: tencenttest.StateStopped})
	ctx := context.Background()
	sn, err := f.c.CreateSnapshot(ctx, "", in.ID, in.DiskID, "before-upgrade")
	if f.note(err) != nil {
		t.Fatal(err)
	}
	if sn.State != rollback.SnapshotCreating || sn.Name != "before-upgrade" || sn.DiskID != in.DiskID || sn.LatestOperation.Kind != rollback.OpCreateSnapshot {
		t.Errorf("snapshot = %+v", sn)
	}
	f.clk.Advance(time.Hour)
	// A lost reply: the snapshot made by the lost call is found, not made twice.
	f.srv.AddFault(tencenttest.Fault{Action: "CreateInstanceSnapshot", DropResponse: true})
	sn2, err := f.c.CreateSnapshot(ctx, "", in.ID, "", "second")
	if f.note(err) != nil {
		t.Fatal(err)
	}
	if sn2.Name != "second" || sn2.ID == sn.ID || f.srv.Journal().Count("CreateInstanceSnapshot") != 2 {
		t.Errorf("adopted snapshot = %+v", sn2)
	}
	f.clk.Advance(time.Hour)
	_, err = f.c.CreateSnapshot(ctx, "", in.ID, "", "third")
	f.note(err)
	if !errors.Is(err, rollback.ErrQuotaExceeded) || !strings.Contains(err.Error(), "DeleteSnapshots") {
		t.Errorf("over quota: %v", err)
	}
	before := len(f.srv.Journal().Entries())
	if _, err := f.c.CreateSnapshot(ctx, "", in.ID, "", strings.Repeat("名", 61)); !errors.Is(err, rollback.ErrInvalidArgument) {
		t.Errorf("long name: %v", err)
	}
	if _, err := f.c.CreateSnapshot(ctx, "", "i-1", "", "x"); !errors.Is(err, rollback.ErrInvalidArgument) {
		t.Errorf("bad instance: %v", err)
	}
	if n := len(f.srv.Journal().Entries()); n != before {
		t.Errorf("bad input sent %d requests", n-before)
	}
	if _, err := f.c.CreateSnapshot(ctx, "", in.ID, "lhdisk-other001", "x"); !errors.Is(f.note(err), rollback.ErrInvalidArgument) {
		t.Errorf("other disk: %v", err)
	}
}

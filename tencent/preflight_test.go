package tencent_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

func TestRollbackWithPreflightMakesNoReadsOfItsOwn(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	in, sn := f.stopped()
	ctx := context.Background()
	inst, err := f.c.Instance(ctx, "ap-guangzhou", in.ID)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := f.c.Snapshot(ctx, "ap-guangzhou", sn.ID)
	if err != nil {
		t.Fatal(err)
	}
	before := len(f.actions())
	res, err := f.c.RollbackWithPreflight(ctx, req(in, sn), provider.Preflight{Instance: inst, Snapshot: snap})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.actions()[before:]; strings.Join(got, ",") != "ApplyInstanceSnapshot" {
		t.Errorf("calls after the preflight: %v, want only the rollback", got)
	}
	if res.Before != snap || f.srv.RollbacksOf(in.ID) != 1 {
		t.Errorf("result %+v, %d rollbacks", res, f.srv.RollbacksOf(in.ID))
	}
}

func TestRollbackWithPreflightStillChecks(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	in, sn := f.stopped()
	other, _ := f.stopped()
	ctx := context.Background()
	otherInst, _ := f.c.Instance(ctx, "ap-guangzhou", other.ID)
	snap, _ := f.c.Snapshot(ctx, "ap-guangzhou", sn.ID)
	// A preflight of another instance is not used: the right one is read.
	err := f.noteRes(f.c.RollbackWithPreflight(ctx, req(in, sn), provider.Preflight{Instance: otherInst, Snapshot: snap}))
	if err != nil {
		t.Fatal(err)
	}
	// A preflight showing a running instance is refused like a read one.
	in2, sn2 := f.stopped()
	inst2, _ := f.c.Instance(ctx, "ap-guangzhou", in2.ID)
	snap2, _ := f.c.Snapshot(ctx, "ap-guangzhou", sn2.ID)
	inst2.State, inst2.NativeState = rollback.InstanceRunning, tencenttest.StateRunning
	err = f.noteRes(f.c.RollbackWithPreflight(ctx, req(in2, sn2), provider.Preflight{Instance: inst2, Snapshot: snap2}))
	if !errors.Is(err, rollback.ErrInstanceState) || f.srv.RollbacksOf(in2.ID) != 0 {
		t.Errorf("err %v, %d rollbacks", err, f.srv.RollbacksOf(in2.ID))
	}
}

func (f *fixture) noteRes(res *rollback.Result, err error) error { return f.note(err) }

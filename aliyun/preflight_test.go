package aliyun_test

import (
	"errors"
	"testing"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/provider"
)

func TestRollbackWithPreflightMakesNoReadsOfItsOwn(t *testing.T) {
	e := newEnv(t, nil)
	snap, err := e.c.Snapshot(e.ctx, e.srv.Region(), e.snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Journal().Reset()
	res, err := e.c.RollbackWithPreflight(e.ctx, e.request(), provider.Preflight{Snapshot: snap})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, en := range e.srv.Journal().Entries() {
		actions = append(actions, en.Action)
	}
	if len(actions) != 1 || actions[0] != aliyuntest.ActionResetDisk {
		t.Errorf("calls %v, want only ResetDisk", actions)
	}
	if res.Before != snap || res.InstanceID != e.in.ID {
		t.Errorf("result %+v", res)
	}
}

func TestRollbackWithPreflightStillChecks(t *testing.T) {
	e := newEnv(t, nil)
	snap, _ := e.c.Snapshot(e.ctx, e.srv.Region(), e.snap.ID)
	snap.DiskID = "d-someotherdisk0000000"
	_, err := e.c.RollbackWithPreflight(e.ctx, e.request(), provider.Preflight{Snapshot: snap})
	if !errors.Is(err, rollback.ErrSnapshotMismatch) || e.srv.Calls(aliyuntest.ActionResetDisk) != 0 {
		t.Errorf("err %v, %d ResetDisk calls", err, e.srv.Calls(aliyuntest.ActionResetDisk))
	}
}

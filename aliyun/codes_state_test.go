package aliyun_test

import (
	"errors"
	"testing"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
)

// The ResetDisk page's codes that state produces (InternalError is the
// cloud failing: faults only, TestResetDiskSeedCodes) reach the caller as
// their sentinels, or are refused by Rollback's own reads before anything
// is sent.
func TestResetDiskSeedCodesFromState(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t, aliyun.Config{}, rollback.WithMaxAttempts(1))
	running := aliyuntest.Must(e.srv.AddInstance(aliyuntest.InstanceSpec{Status: aliyuntest.StatusRunning}))
	runningSnap := aliyuntest.Must(e.srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: running.SystemDiskID}))
	tests := []struct {
		name, code string
		kind       error
		req        rollback.Request
	}{
		// Rollback reads the snapshot first: its disk is not the one asked
		// for, so nothing is sent (aliyuntest's TestResetDiskRefusals has the
		// wire's InvalidDiskId.NotFound from the same state).
		{"unknown disk", "InvalidDiskId.NotFound", rollback.ErrSnapshotMismatch,
			rollback.Request{Region: e.srv.Region(), InstanceID: e.in.ID, DiskID: "d-doesnotexist0000000", SnapshotID: e.snap.ID}},
		{"unknown snapshot", "InvalidSnapshotId.NotFound", rollback.ErrSnapshotNotFound,
			rollback.Request{Region: e.srv.Region(), InstanceID: e.in.ID, DiskID: e.in.SystemDiskID, SnapshotID: "s-doesnotexist0000000"}},
		{"instance running", "IncorrectInstanceStatus.ResetDisk", rollback.ErrInstanceState,
			rollback.Request{Region: e.srv.Region(), InstanceID: running.ID, DiskID: running.SystemDiskID, SnapshotID: runningSnap.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sent := e.srv.Calls(aliyuntest.ActionResetDisk)
			_, err := c.Rollback(e.ctx, tt.req)
			if !errors.Is(err, tt.kind) {
				t.Fatalf("err = %v, want %v", err, tt.kind)
			}
			var re *rollback.Error
			if e.srv.Calls(aliyuntest.ActionResetDisk) > sent && (!errors.As(err, &re) || re.Code != tt.code) {
				t.Errorf("ResetDisk was sent and answered %v, want code %s", err, tt.code)
			}
		})
	}
	if e.srv.Rollbacks() != 0 {
		t.Errorf("rollbacks = %d", e.srv.Rollbacks())
	}
}

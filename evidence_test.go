package rollback_test

import (
	"errors"
	"testing"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/provider"
)

func TestPreconditions(t *testing.T) {
	ready := &rollback.Snapshot{ID: "s-1", DiskID: "d-1", InstanceID: "i-1", State: rollback.SnapshotReady}
	p := provider.Preconditions{Provider: "x", Op: "Apply"}
	snaps := []struct {
		name       string
		snap       *rollback.Snapshot
		disk, inst string
		want       error
	}{
		{"ready", ready, "d-1", "i-1", nil},
		{"unknown IDs are not compared", ready, "", "", nil},
		{"creating", &rollback.Snapshot{ID: "s-1", State: rollback.SnapshotCreating}, "", "", rollback.ErrSnapshotState},
		{"failed", &rollback.Snapshot{ID: "s-1", State: rollback.SnapshotFailed}, "", "", rollback.ErrSnapshotState},
		{"other disk", ready, "d-2", "", rollback.ErrSnapshotMismatch},
		{"other instance", ready, "", "i-2", rollback.ErrSnapshotMismatch},
	}
	for _, tt := range snaps {
		if err := p.CheckSnapshot(tt.snap, tt.disk, tt.inst); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	running := &rollback.Instance{ID: "i-1", State: rollback.InstanceRunning}
	insts := []struct {
		name string
		p    provider.Preconditions
		in   *rollback.Instance
		want error
	}{
		{"stopped", p, &rollback.Instance{ID: "i-1", State: rollback.InstanceStopped}, nil},
		{"running refused", p, running, rollback.ErrInstanceState},
		{"running allowed", provider.Preconditions{AllowRunning: true}, running, nil},
		{"busy", p, &rollback.Instance{ID: "i-1", State: rollback.InstanceStopped, Busy: true}, rollback.ErrBusy},
		{"starting", p, &rollback.Instance{ID: "i-1", State: rollback.InstanceStarting}, rollback.ErrBusy},
		{"unavailable", p, &rollback.Instance{ID: "i-1", State: rollback.InstanceUnavailable}, rollback.ErrInstanceState},
	}
	for _, tt := range insts {
		if err := tt.p.CheckInstance(tt.in); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

package rollback_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
)

func TestFileCheckpointsRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	store := rollback.FileCheckpoints{Dir: dir}
	ctx := context.Background()
	if cp, err := store.Load(ctx, "k1"); cp != nil || err != nil {
		t.Fatalf("empty store: %v, %v", cp, err)
	}
	want := &rollback.Checkpoint{
		Key:     "k1",
		Request: rollback.Request{Region: "cn-hangzhou", DiskID: "d-1", SnapshotID: "s-1", ClientToken: "rb-x"},
		Phase:   rollback.PhaseRollbackSent,
		Before:  &rollback.Snapshot{ID: "s-1", LastRollbackAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		Result:  &rollback.Result{Provider: "aliyun", RequestID: "R-1", Attempts: 2},
		Updated: time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC),
	}
	if err := store.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := store.Load(ctx, "k1")
	if err != nil || got.Phase != want.Phase || got.Result.RequestID != "R-1" || !got.Before.LastRollbackAt.Equal(want.Before.LastRollbackAt) {
		t.Fatalf("loaded %+v, %v", got, err)
	}
	// Atomic writes leave no temporary files behind, and keys do not
	// appear in file names.
	// (plus the key's lock file, kept for the next writer).
	entries := records(t, dir)
	if len(entries) != 1 || strings.Contains(entries[0], "k1") || strings.HasPrefix(entries[0], ".") {
		t.Errorf("files %v", entries)
	}
	if info, _ := os.Stat(dir); info.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v", info.Mode().Perm())
	}
}

func TestFileCheckpointsCorrupt(t *testing.T) {
	dir := t.TempDir()
	store := rollback.FileCheckpoints{Dir: dir}
	_ = store.Save(context.Background(), &rollback.Checkpoint{Key: "k"})
	entries, _ := os.ReadDir(dir)
	_ = os.WriteFile(filepath.Join(dir, entries[0].Name()), []byte("{not json"), 0o600)
	if _, err := store.Load(context.Background(), "k"); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("corrupt checkpoint: %v", err)
	}
}

func TestStepErrorMessage(t *testing.T) {
	err := &rollback.StepError{Step: rollback.StepStop, Err: &rollback.Error{Provider: "aliyun", Op: "StopInstance", Kind: rollback.ErrThrottled, Code: "Throttling.User"}}
	if got := err.Error(); got != "rollback: stop: aliyun StopInstance: throttled (Throttling.User)" {
		t.Errorf("Error() = %q", got)
	}
}

func TestFileCheckpointsSaveReportsFailure(t *testing.T) {
	dir := t.TempDir()
	store := rollback.FileCheckpoints{Dir: dir}
	cp := &rollback.Checkpoint{Key: "k"}
	if err := store.Save(context.Background(), cp); err != nil {
		t.Fatal(err)
	}
	// Put a non-empty directory where the checkpoint file goes: the temporary
	// file is written, then the rename fails, and Save must say so.
	entries, _ := os.ReadDir(dir)
	target := filepath.Join(dir, entries[0].Name())
	if err := os.Remove(target); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(target, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := store.Save(context.Background(), cp); err == nil {
		t.Error("Save reported success but the checkpoint was not written")
	}
	if left := records(t, dir); len(left) != 1 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// records lists dir's files other than FileCheckpoints' lock files.
func records(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".lock") {
			names = append(names, e.Name())
		}
	}
	return names
}

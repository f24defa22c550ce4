package rollback

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Phase is how far a Run has got, as recorded in a Checkpoint.
type Phase string

// Phases, in order.
const (
	PhaseChecked         Phase = "checked"          // checks passed; nothing changed yet
	PhaseStopped         Phase = "stopped"          // the instance is stopped
	PhaseBackedUp        Phase = "backed-up"        // the safety snapshot is ready
	PhaseRollbackSending Phase = "rollback-sending" // the rollback call may be on the wire
	PhaseRollbackSent    Phase = "rollback-sent"    // the cloud accepted the rollback
	PhaseRollbackDone    Phase = "rollback-done"    // the rollback finished
	PhaseDone            Phase = "done"             // everything asked for is done
)

// Checkpoint is what Run records about an operation so that a Run after a
// crash picks up where the last one stopped.
type Checkpoint struct {
	Key     string  `json:"key"`
	Request Request `json:"request"` // with the resolved ClientToken
	Phase   Phase   `json:"phase"`
	// Before is the snapshot as read before anything was changed: the
	// baseline a resumed Run's rollback wait compares against.
	Before           *Snapshot `json:"before,omitempty"`
	Result           *Result   `json:"result,omitempty"`
	SafetySnapshotID string    `json:"safety_snapshot_id,omitempty"`
	Updated          time.Time `json:"updated"`
}

// Matches reports whether req asks for the rollback this checkpoint
// records: same region and snapshot, and the same instance and disk where
// req names them (an earlier Run may have found IDs that req leaves out).
// Run refuses an operation key whose checkpoint does not match.
func (cp *Checkpoint) Matches(req Request) bool {
	same := func(a, b string) bool { return b == "" || a == b }
	return cp.Request.Region == req.Region && cp.Request.SnapshotID == req.SnapshotID &&
		same(cp.Request.InstanceID, req.InstanceID) && same(cp.Request.DiskID, req.DiskID)
}

// Checkpointer stores Checkpoints by operation key. Implementations must be
// safe for concurrent use by Runs of different keys.
type Checkpointer interface {
	// Load returns the checkpoint of key, or nil and no error when there is
	// none.
	Load(ctx context.Context, key string) (*Checkpoint, error)
	Save(ctx context.Context, cp *Checkpoint) error
}

// MemoryCheckpoints keeps checkpoints in memory: enough to resume within
// one process (a service handling a retried request, a fleet tool running
// again), not after a crash. The zero value is ready to use and unbounded;
// with Max set, the least recently saved checkpoints beyond Max are
// dropped. Safe for concurrent use.
type MemoryCheckpoints struct {
	Max int

	mu    sync.Mutex
	m     map[string]Checkpoint
	order []string // keys, least recently saved first
}

// CheckpointHolder is a provider that keeps checkpoints for the Runs made
// with it; both clients do, in memory, so that a second Run of the same
// operation through the same client is settled from its checkpoint, never
// from guesses about the cloud's state, and keys of unrelated clients (in
// tests, say) never meet.
type CheckpointHolder interface {
	Checkpoints() Checkpointer
}

// DefaultCheckpoints is where Run keeps the checkpoints of keyed rollbacks
// (Request.OperationKey or a caller's ClientToken) when neither RunOptions
// nor the provider (CheckpointHolder) gives a store. It holds the last
// 10,000.
var DefaultCheckpoints = &MemoryCheckpoints{Max: 10000}

// MemoryCheckpointsMax bounds the in-memory stores the clients keep.
const MemoryCheckpointsMax = 10000

// NoCheckpoints is a Checkpointer that keeps nothing: a Run with it resumes
// only from what the cloud shows (see RunOptions.Checkpoints).
var NoCheckpoints Checkpointer = noCheckpoints{}

type noCheckpoints struct{}

func (noCheckpoints) Load(context.Context, string) (*Checkpoint, error) { return nil, nil }
func (noCheckpoints) Save(context.Context, *Checkpoint) error           { return nil }

// Load implements Checkpointer.
func (m *MemoryCheckpoints) Load(_ context.Context, key string) (*Checkpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp, ok := m.m[key]
	if !ok {
		return nil, nil
	}
	return &cp, nil
}

// Save implements Checkpointer.
func (m *MemoryCheckpoints) Save(_ context.Context, cp *Checkpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = make(map[string]Checkpoint)
	}
	if _, ok := m.m[cp.Key]; ok {
		for i, k := range m.order {
			if k == cp.Key {
				m.order = append(m.order[:i], m.order[i+1:]...)
				break
			}
		}
	}
	m.m[cp.Key] = *cp
	m.order = append(m.order, cp.Key)
	for m.Max > 0 && len(m.order) > m.Max {
		delete(m.m, m.order[0])
		m.order = m.order[1:]
	}
	return nil
}

// FileCheckpoints keeps each checkpoint as a JSON file in Dir, written
// atomically (temporary file, fsync, rename), so a Run that crashes at any
// moment leaves either the old checkpoint or the new one.
type FileCheckpoints struct {
	Dir string
}

func (f FileCheckpoints) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(f.Dir, "rollback-"+hex.EncodeToString(sum[:12])+".json")
}

// Load implements Checkpointer.
func (f FileCheckpoints) Load(_ context.Context, key string) (*Checkpoint, error) {
	b, err := os.ReadFile(f.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("rollback: reading checkpoint: %w", err)
	}
	var cp Checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		return nil, fmt.Errorf("rollback: checkpoint %s is corrupt: %w", f.path(key), err)
	}
	if cp.Key != key {
		return nil, fmt.Errorf("rollback: checkpoint %s belongs to another operation", f.path(key))
	}
	return &cp, nil
}

// Save implements Checkpointer.
func (f FileCheckpoints) Save(_ context.Context, cp *Checkpoint) error {
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return fmt.Errorf("rollback: checkpoint directory: %w", err)
	}
	b, err := json.MarshalIndent(cp, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(f.Dir, ".checkpoint-*")
	if err != nil {
		return fmt.Errorf("rollback: writing checkpoint: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err = tmp.Write(b); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), f.path(cp.Key))
	}
	if err != nil {
		return fmt.Errorf("rollback: writing checkpoint: %w", err)
	}
	return nil
}

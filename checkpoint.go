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
	"strings"
	"sync"
	"time"

	"github.com/cloudsnap/rollback/provider"
)

type (
	// Checkpoint is what Run records about an operation so that a Run
	// after a crash picks up where the last one stopped (see
	// provider.Checkpoint).
	Checkpoint = provider.Checkpoint
	// Checkpointer stores Checkpoints by operation key and lets one Run at
	// a time own a key; package checkpointtest checks an implementation
	// (see provider.Checkpointer for the contract).
	Checkpointer = provider.Checkpointer
	// Lease is a claim on an operation key (Checkpointer.Acquire).
	Lease = provider.Lease
	// Phase is how far a Run has got, as recorded in a Checkpoint.
	Phase = provider.Phase
)

// Phases, in order.
const (
	PhaseChecked         = provider.PhaseChecked
	PhaseStopped         = provider.PhaseStopped
	PhaseBackedUp        = provider.PhaseBackedUp
	PhaseRollbackSending = provider.PhaseRollbackSending
	PhaseRollbackSent    = provider.PhaseRollbackSent
	PhaseRollbackDone    = provider.PhaseRollbackDone
	PhaseDone            = provider.PhaseDone
)

// CheckpointVersion is the version of the Checkpoint record this library
// writes; a record of another version is ErrCheckpointCorrupt.
const CheckpointVersion = provider.CheckpointVersion

// MemoryCheckpoints keeps checkpoints in memory, for one process: the
// default store (see provider.MemoryCheckpoints). It is volatile: a keyed
// Run that finds no checkpoint in it proves from the cloud that it never
// sent (see RunOptions).
type MemoryCheckpoints = provider.MemoryCheckpoints

// MemoryCheckpointsMax bounds the in-memory stores the clients keep.
const MemoryCheckpointsMax = provider.MemoryCheckpointsMax

// DefaultCheckpoints is where Run keeps the checkpoints of keyed rollbacks
// (Request.OperationKey or a caller's ClientToken) when neither RunOptions
// nor the provider (provider.Capabilities.Checkpoints) gives a store. It
// holds the last 10,000.
var DefaultCheckpoints = &MemoryCheckpoints{Max: 10000}

// NoCheckpoints is a Checkpointer that keeps nothing and claims nothing: a
// Run with it resumes only from what the cloud shows, and overlapping Runs
// of one key are not kept apart (see RunOptions.Checkpoints).
var NoCheckpoints Checkpointer = noCheckpoints{}

type noCheckpoints struct{}

func (noCheckpoints) Load(context.Context, string) (*Checkpoint, error)           { return nil, nil }
func (noCheckpoints) Acquire(context.Context, string, Lease) (*Checkpoint, error) { return nil, nil }
func (noCheckpoints) Save(context.Context, *Checkpoint) error                     { return nil }
func (noCheckpoints) Release(context.Context, string, string) error               { return nil }

// FileCheckpoints keeps each checkpoint as a JSON file in Dir, for Runs in
// any number of processes sharing the directory on one host (or a file
// system with working POSIX locks). Every Acquire, Save and Release reads
// and rewrites the record under an exclusive OS file lock
// (flock on the key's ".lock" file), writes atomically (temporary file,
// fsync, rename, fsync of the directory), so a crash at any moment leaves
// either the old record or the new one. On systems without flock the lock
// is in-process only.
type FileCheckpoints struct {
	Dir string
}

func (f FileCheckpoints) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(f.Dir, "rollback-"+hex.EncodeToString(sum[:12])+".json")
}

// Load implements Checkpointer.
func (f FileCheckpoints) Load(_ context.Context, key string) (*Checkpoint, error) {
	return f.read(key)
}

func (f FileCheckpoints) read(key string) (*Checkpoint, error) {
	b, err := os.ReadFile(f.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("rollback: reading checkpoint: %w", err)
	}
	return provider.DecodeCheckpoint(b, key, f.path(key))
}

// Acquire implements Checkpointer.
func (f FileCheckpoints) Acquire(_ context.Context, key string, l Lease) (*Checkpoint, error) {
	var got *Checkpoint
	err := f.locked(key, func() error {
		old, err := f.read(key)
		if err != nil {
			return err
		}
		cp, err := provider.CheckAcquire(old, key, l)
		if err != nil {
			return err
		}
		if old != nil {
			got = cp
		}
		return f.write(cp)
	})
	return got, err
}

// Save implements Checkpointer.
func (f FileCheckpoints) Save(_ context.Context, cp *Checkpoint) error {
	return f.locked(cp.Key, func() error {
		old, err := f.read(cp.Key)
		if err != nil {
			return err
		}
		if err := provider.CheckSave(old, cp); err != nil {
			return err
		}
		cp.Version = CheckpointVersion
		return f.write(cp)
	})
}

// Release implements Checkpointer.
func (f FileCheckpoints) Release(_ context.Context, key, owner string) error {
	return f.locked(key, func() error {
		cp, err := f.read(key)
		if err != nil || cp == nil || cp.Owner != owner || owner == "" {
			return err
		}
		if cp.Phase == "" {
			if err := os.Remove(f.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("rollback: removing checkpoint: %w", err)
			}
			return syncDir(f.Dir)
		}
		cp.Owner, cp.LeaseUntil = "", time.Time{}
		return f.write(cp)
	})
}

// locked runs fn holding the key's lock: an in-process mutex (flock does
// not exclude two descriptors of one process on every system) and the OS
// file lock.
func (f FileCheckpoints) locked(key string, fn func() error) error {
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return fmt.Errorf("rollback: checkpoint directory: %w", err)
	}
	lockPath := strings.TrimSuffix(f.path(key), ".json") + ".lock"
	mu := fileMutex(lockPath)
	mu.Lock()
	defer mu.Unlock()
	lf, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("rollback: checkpoint lock: %w", err)
	}
	defer lf.Close()
	if err := lockFile(lf); err != nil {
		return fmt.Errorf("rollback: checkpoint lock: %w", err)
	}
	defer unlockFile(lf)
	return fn()
}

// fileMutexes holds one mutex per lock file path, for the in-process part
// of FileCheckpoints' lock. Entries are never removed: one per key used.
var fileMutexes sync.Map

func fileMutex(path string) *sync.Mutex {
	m, _ := fileMutexes.LoadOrStore(path, new(sync.Mutex))
	return m.(*sync.Mutex)
}

// write replaces the record atomically and makes the rename durable.
func (f FileCheckpoints) write(cp *Checkpoint) error {
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
	if err == nil {
		err = syncDir(f.Dir)
	}
	if err != nil {
		return fmt.Errorf("rollback: writing checkpoint: %w", err)
	}
	return nil
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

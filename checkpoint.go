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

// CheckpointVersion is the version of the Checkpoint record that this
// library writes (Checkpoint.Version). Stores keep it with the record; a
// record of another version is ErrCheckpointCorrupt, so an older library
// never acts on a newer one's record.
const CheckpointVersion = 1

// Checkpoint is what Run records about an operation so that a Run after a
// crash picks up where the last one stopped.
type Checkpoint struct {
	Version int     `json:"version"`
	Key     string  `json:"key"`
	Request Request `json:"request"` // with the resolved ClientToken
	// Phase is how far the operation got; it only ever moves forward.
	// Empty means the record holds only a claim (Acquire) and nothing was
	// done yet.
	Phase Phase `json:"phase"`
	// Before is the snapshot as read before anything was changed: the
	// baseline a resumed Run's rollback wait compares against.
	Before           *Snapshot `json:"before,omitempty"`
	Result           *Result   `json:"result,omitempty"`
	SafetySnapshotID string    `json:"safety_snapshot_id,omitempty"`
	Updated          time.Time `json:"updated"`
	// Owner names the Run that holds the key, and LeaseUntil when its claim
	// ends unless renewed; both empty when no Run holds it.
	Owner      string    `json:"owner,omitempty"`
	LeaseUntil time.Time `json:"lease_until,omitempty"`
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

// Lease is a claim on an operation key (Checkpointer.Acquire).
type Lease struct {
	// Owner names the claimant uniquely (Run uses host, process and a random
	// part).
	Owner string
	// Now is the claimant's time: a stored lease ends when Now passes its
	// LeaseUntil. Run passes its own clock's time, so all Runs sharing a
	// store should share a clock (the wall clock in production).
	Now time.Time
	// TTL is how long the claim lasts unless renewed by a Save.
	TTL time.Duration
}

// Checkpointer stores Checkpoints by operation key, and lets one Run at a
// time own a key. Run relies on this contract for exactly-once across
// goroutines, processes and hosts; package checkpointtest checks it, and
// any implementation (a database, say) should run that suite.
//
//   - Acquire gives lease.Owner the key: it records the claim (Owner and
//     LeaseUntil = Now+TTL; a key with no checkpoint yet gets a record with
//     an empty Phase) and returns the stored checkpoint, nil when there is
//     none. It fails with an ErrKeyHeld *Error when another owner's lease
//     has not ended at lease.Now; a lease that has ended is taken over.
//     Acquiring a key one already holds renews the lease.
//   - Save stores cp (cp.Key, cp.Version set to CheckpointVersion) and
//     renews the claim to cp.LeaseUntil, atomically and only if no other
//     owner holds a lease that has not ended at cp.Updated and cp.Phase is
//     not before the stored phase; otherwise it writes nothing and returns
//     an error matching ErrCheckpointConflict (ErrKeyHeld too when another
//     owner holds the key). Compare-and-swap on these two checks is what
//     keeps a slow or stale Run from undoing a newer one's record.
//   - Release ends owner's claim and keeps the checkpoint (a record that
//     holds only a claim is removed). Releasing a key held by someone else,
//     or by no one, changes nothing and is not an error.
//   - Load returns the checkpoint of key, nil and no error when there is
//     none; it takes no claim. A record that cannot be read, or of another
//     Version, is an ErrCheckpointCorrupt error, never nil: a lost record
//     would let a Run roll back twice.
//
// Implementations must be safe for concurrent use, by any number of Runs of
// the same or different keys.
type Checkpointer interface {
	Load(ctx context.Context, key string) (*Checkpoint, error)
	Acquire(ctx context.Context, key string, lease Lease) (*Checkpoint, error)
	Save(ctx context.Context, cp *Checkpoint) error
	Release(ctx context.Context, key, owner string) error
}

// PhaseBefore reports whether phase a comes before phase b. The empty
// phase (a claim, nothing done) comes before every other; an unknown phase
// comes after every known one, so that nothing overwrites it.
func PhaseBefore(a, b Phase) bool { return phaseIndex(a) < phaseIndex(b) }

func phaseIndex(p Phase) int {
	if p == "" {
		return -1
	}
	for i, q := range phaseOrder {
		if p == q {
			return i
		}
	}
	return len(phaseOrder)
}

var phaseOrder = []Phase{PhaseChecked, PhaseStopped, PhaseBackedUp, PhaseRollbackSending, PhaseRollbackSent, PhaseRollbackDone, PhaseDone}

// checkWrite applies the compare-and-swap rules of Save to the stored
// record old (nil when none): it returns the error Save must return, or nil.
func checkWrite(old, cp *Checkpoint) error {
	if old == nil {
		return nil
	}
	if old.Owner != "" && old.Owner != cp.Owner && old.LeaseUntil.After(cp.Updated) {
		return keyHeld(old, true)
	}
	if PhaseBefore(cp.Phase, old.Phase) {
		return &Error{Kind: ErrCheckpointConflict, Op: "checkpoint",
			Message: fmt.Sprintf("operation %q is already at phase %q; refusing to record the earlier phase %q", clip(cp.Key), old.Phase, cp.Phase),
			Hint:    "another Run of this operation got further; nothing was written"}
	}
	return nil
}

// checkAcquire applies Acquire's rules to the stored record old (nil when
// none) and returns the record to store, or the ErrKeyHeld error.
func checkAcquire(old *Checkpoint, key string, l Lease) (*Checkpoint, error) {
	if old != nil && old.Owner != "" && old.Owner != l.Owner && old.LeaseUntil.After(l.Now) {
		return nil, keyHeld(old, false)
	}
	cp := &Checkpoint{Version: CheckpointVersion, Key: key, Updated: l.Now}
	if old != nil {
		c := *old
		cp = &c
	}
	cp.Owner, cp.LeaseUntil = l.Owner, l.Now.Add(l.TTL)
	return cp, nil
}

// keyHeld is the error for a key another Run holds. onWrite marks a refused
// Save, which is also ErrCheckpointConflict.
func keyHeld(old *Checkpoint, onWrite bool) error {
	e := &Error{Kind: ErrKeyHeld, Op: "checkpoint",
		Message: fmt.Sprintf("operation %q is held by another run (%s) until %s, at phase %q",
			clip(old.Key), old.Owner, old.LeaseUntil.UTC().Format(time.RFC3339), phaseName(old.Phase)),
		Hint: "that run may be rolling back right now: wait for it to finish, then run again with the same key to see its outcome; if it died, its claim ends at the time given"}
	if onWrite {
		return &conflictError{e}
	}
	return e
}

// conflictError is a refused Save because another Run holds the key: both
// ErrKeyHeld and ErrCheckpointConflict.
type conflictError struct{ held *Error }

func (c *conflictError) Error() string { return c.held.Error() }

func (c *conflictError) Is(target error) bool { return target == ErrCheckpointConflict }

// Unwrap returns the ErrKeyHeld *Error.
func (c *conflictError) Unwrap() error { return c.held }

func phaseName(p Phase) string {
	if p == "" {
		return "claimed"
	}
	return string(p)
}

// checkVersion refuses a loaded record this library cannot trust.
func checkVersion(cp *Checkpoint, key, where string) error {
	switch {
	case cp.Version != CheckpointVersion:
		return &Error{Kind: ErrCheckpointCorrupt, Op: "checkpoint",
			Message: fmt.Sprintf("checkpoint %s has version %d; this library reads version %d", where, cp.Version, CheckpointVersion),
			Hint:    "use the library version that wrote it, or remove the record if you are sure the operation is not running; nothing was sent"}
	case cp.Key != key:
		return &Error{Kind: ErrCheckpointCorrupt, Op: "checkpoint",
			Message: fmt.Sprintf("checkpoint %s belongs to another operation", where),
			Hint:    "nothing was sent"}
	}
	return nil
}

// MemoryCheckpoints keeps checkpoints in memory: enough to resume within
// one process (a service handling a retried request, a fleet tool running
// again), not after a crash. The zero value is ready to use and unbounded;
// with Max set, the least recently saved checkpoints beyond Max are
// dropped, never one whose key is held. Safe for concurrent use.
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

// NoCheckpoints is a Checkpointer that keeps nothing and claims nothing: a
// Run with it resumes only from what the cloud shows, and overlapping Runs
// of one key are not kept apart (see RunOptions.Checkpoints).
var NoCheckpoints Checkpointer = noCheckpoints{}

type noCheckpoints struct{}

func (noCheckpoints) Load(context.Context, string) (*Checkpoint, error)           { return nil, nil }
func (noCheckpoints) Acquire(context.Context, string, Lease) (*Checkpoint, error) { return nil, nil }
func (noCheckpoints) Save(context.Context, *Checkpoint) error                     { return nil }
func (noCheckpoints) Release(context.Context, string, string) error               { return nil }

// Load implements Checkpointer.
func (m *MemoryCheckpoints) Load(_ context.Context, key string) (*Checkpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp, ok := m.m[key]
	if !ok {
		return nil, nil
	}
	return cloneCheckpoint(&cp), nil
}

// Acquire implements Checkpointer.
func (m *MemoryCheckpoints) Acquire(_ context.Context, key string, l Lease) (*Checkpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var old *Checkpoint
	if cp, ok := m.m[key]; ok {
		old = &cp
	}
	cp, err := checkAcquire(old, key, l)
	if err != nil {
		return nil, err
	}
	m.put(cp)
	if old == nil {
		return nil, nil
	}
	return cloneCheckpoint(cp), nil
}

// Save implements Checkpointer.
func (m *MemoryCheckpoints) Save(_ context.Context, cp *Checkpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var old *Checkpoint
	if c, ok := m.m[cp.Key]; ok {
		old = &c
	}
	if err := checkWrite(old, cp); err != nil {
		return err
	}
	cp.Version = CheckpointVersion
	m.put(cloneCheckpoint(cp))
	return nil
}

// Release implements Checkpointer.
func (m *MemoryCheckpoints) Release(_ context.Context, key, owner string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp, ok := m.m[key]
	if !ok || cp.Owner != owner || owner == "" {
		return nil
	}
	if cp.Phase == "" {
		delete(m.m, key)
		m.order = removeKey(m.order, key)
		return nil
	}
	cp.Owner, cp.LeaseUntil = "", time.Time{}
	m.m[key] = cp
	return nil
}

// put stores cp as the most recently saved and drops the oldest unheld
// records beyond Max. Called with m.mu held.
func (m *MemoryCheckpoints) put(cp *Checkpoint) {
	if m.m == nil {
		m.m = make(map[string]Checkpoint)
	}
	if _, ok := m.m[cp.Key]; ok {
		m.order = removeKey(m.order, cp.Key)
	}
	m.m[cp.Key] = *cp
	m.order = append(m.order, cp.Key)
	for i := 0; m.Max > 0 && len(m.order) > m.Max && i < len(m.order); {
		k := m.order[i]
		if m.m[k].Owner != "" {
			i++ // held: a Run is using it
			continue
		}
		delete(m.m, k)
		m.order = append(m.order[:i], m.order[i+1:]...)
	}
}

func removeKey(keys []string, key string) []string {
	for i, k := range keys {
		if k == key {
			return append(keys[:i], keys[i+1:]...)
		}
	}
	return keys
}

// cloneCheckpoint copies cp deeply enough that neither copy's pointers
// reach the other's Result or Before.
func cloneCheckpoint(cp *Checkpoint) *Checkpoint {
	c := *cp
	if cp.Before != nil {
		b := *cp.Before
		c.Before = &b
	}
	if cp.Result != nil {
		r := *cp.Result
		c.Result = &r
	}
	return &c
}

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
	var cp Checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		return nil, &Error{Kind: ErrCheckpointCorrupt, Op: "checkpoint",
			Message: fmt.Sprintf("checkpoint %s is corrupt: %v", f.path(key), err),
			Hint:    "nothing was sent; check the operation's state in the console, then remove the file"}
	}
	if err := checkVersion(&cp, key, f.path(key)); err != nil {
		return nil, err
	}
	return &cp, nil
}

// Acquire implements Checkpointer.
func (f FileCheckpoints) Acquire(_ context.Context, key string, l Lease) (*Checkpoint, error) {
	var got *Checkpoint
	err := f.locked(key, func() error {
		old, err := f.read(key)
		if err != nil {
			return err
		}
		cp, err := checkAcquire(old, key, l)
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
		if err := checkWrite(old, cp); err != nil {
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

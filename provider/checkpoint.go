package provider

import (
	"context"
	"encoding/json"
	"fmt"
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

// Known reports whether p is one of the phases above (not empty, not a
// newer library's).
func (p Phase) Known() bool { i := phaseIndex(p); return i >= 0 && i < len(phaseOrder) }

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
			Message: fmt.Sprintf("operation %q is already at phase %q; refusing to record the earlier phase %q", Clip(cp.Key), old.Phase, cp.Phase),
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
			Clip(old.Key), old.Owner, old.LeaseUntil.UTC().Format(time.RFC3339), phaseName(old.Phase)),
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

// CheckAcquire applies Acquire's rules to the stored record (nil when the
// key has none) and returns the record to store, with lease's claim, or the
// ErrKeyHeld error when another owner's lease has not ended.
func CheckAcquire(stored *Checkpoint, key string, lease Lease) (*Checkpoint, error) {
	return checkAcquire(stored, key, lease)
}

// CheckSave applies Save's compare-and-swap rules to the stored record (nil
// when the key has none): nil when cp may replace it, else the error Save
// must return (ErrCheckpointConflict, and also ErrKeyHeld when another
// owner holds the key). The caller sets cp.Version to CheckpointVersion
// before it stores cp.
func CheckSave(stored, cp *Checkpoint) error { return checkWrite(stored, cp) }

// DecodeCheckpoint reads a stored record of key, as Save's caller wrote it
// with encoding/json. A record that is not JSON, of another Version or of
// another key is an ErrCheckpointCorrupt error that names it by where (a
// file, a table row), never nil: a lost record would let a Run roll back
// twice.
func DecodeCheckpoint(record []byte, key, where string) (*Checkpoint, error) {
	var cp Checkpoint
	if err := json.Unmarshal(record, &cp); err != nil {
		return nil, &Error{Kind: ErrCheckpointCorrupt, Op: "checkpoint",
			Message: fmt.Sprintf("checkpoint %s is corrupt: %v", where, err),
			Hint:    "nothing was sent; check the operation's state in the console, then remove the record"}
	}
	if err := checkVersion(&cp, key, where); err != nil {
		return nil, err
	}
	return &cp, nil
}

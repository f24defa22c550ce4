package rollback

import (
	"encoding/json"
	"fmt"
)

// The rules of the Checkpointer contract, exported for stores outside this
// module (a database, say): a store that reads the stored record under its
// own lock (a row lock, a transaction) and applies these gets exactly the
// decisions and errors of MemoryCheckpoints and FileCheckpoints, so Run and
// package checkpointtest see every store alike.

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

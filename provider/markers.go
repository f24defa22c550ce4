package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// OperationMarker is a provider that can leave a mark on the cloud resource
// before the first rollback call of a keyed operation and read it back.
// Run uses it only when its checkpoints would not outlive the process: the
// mark is then what tells a Run that lost its checkpoint whether its key
// got as far as sending.
type OperationMarker interface {
	// MarkOperation records on req's resource that the operation key is
	// about to send its rollback, with the baseline snapshot read before
	// it (what OperationMark gives back).
	MarkOperation(ctx context.Context, req Request, key string, before *Snapshot) error
	// OperationMark returns key's mark, or nil and no error when the
	// resource carries none.
	OperationMark(ctx context.Context, req Request, key string) (*Mark, error)
}

// Mark is an operation's mark as read back from the cloud.
type Mark struct {
	// Before is the baseline snapshot recorded with the mark.
	Before *Snapshot
	// At is when the mark was written (on the marking client's clock;
	// zero when unknown): the rollback was sent after it, so a reading
	// that shows nothing counts only once the read grace has passed since.
	At time.Time
}

// MarkName is the name a provider gives the mark of an operation key (a
// tag key, say): a fixed prefix and a hash of the key, so that the key
// itself, which may name a ticket or a customer, never leaves the process.
func MarkName(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "cloudsnap-rollback-" + hex.EncodeToString(sum[:10])
}

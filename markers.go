package rollback

import (
	"context"
	"fmt"
	"time"

	"github.com/cloudsnap/rollback/provider"
)

// Lost checkpoints. A keyed Run whose store does not outlive the process
// (the in-memory default, NoCheckpoints) finds no checkpoint after a crash
// or in a new pod, and a fresh key looks exactly like a lost one. Such a
// Run must still never roll back twice, so before anything changes it
// proves that no earlier Run of its key sent a rollback that may have
// landed: with a mark the provider left on the cloud resource
// (provider.OperationMarker), or from the snapshot never having been rolled back to
// at all. When neither can tell, it refuses with ErrOutcomeUnknown
// (RunOptions.AcceptRepeatRisk overrides).

// Marks are never removed by Run: a finished operation's mark is what stops
// a Run that lost its checkpoint from doing it again. Providers bound how
// many marks a resource keeps.

// volatile reports whether a store loses its checkpoints with the process.
// Stores that say nothing are taken to be durable (files, databases).
func volatile(c Checkpointer) bool {
	v, ok := c.(interface{ Volatile() bool })
	return ok && v.Volatile()
}

// Volatile reports that NoCheckpoints keeps nothing.
func (noCheckpoints) Volatile() bool { return true }

// rolledBackSince reports whether now shows a rollback to the snapshot that
// before did not: a newer rollback time (SWAS), or a rollback operation
// with another request ID (Lighthouse). It names the snapshot, so another
// snapshot's rollback never counts.
func rolledBackSince(before, now *Snapshot) bool {
	if before == nil || now == nil || before.ID != now.ID {
		return false
	}
	if !now.LastRollbackAt.IsZero() && now.LastRollbackAt.After(before.LastRollbackAt) {
		return true
	}
	op := now.LatestOperation
	return op.Kind == OpRollback && op.RequestID != "" && op.RequestID != before.LatestOperation.RequestID
}

// landedSinceMark judges the cloud against the baseline in the operation's
// mark: through the provider's witness when it has one (the evidence rules
// in evidence.go), else from snap alone.
func (r *runner) landedSinceMark(ctx context.Context, before *Snapshot, since time.Time, snap *Snapshot) (bool, string, error) {
	w := r.caps.Witness
	ok := w != nil
	if !ok {
		return rolledBackSince(before, snap), snap.LatestOperation.RequestID, nil
	}
	ev, err := w.WitnessRollback(ctx, r.req, before, since)
	if err != nil {
		return false, "", fmt.Errorf("rollback: an earlier Run of this operation sent its rollback (its mark is on the disk), and the state could not be read to tell whether it landed: %w", err)
	}
	switch ev.Verdict {
	case provider.OursLanded:
		return true, ev.RequestID, nil
	case provider.NothingLanded:
		return false, "", nil
	}
	return false, "", &Error{Provider: snap.Provider, Kind: ErrOutcomeUnknown, Ambiguous: true,
		Message: fmt.Sprintf("an earlier Run of operation %q sent its rollback (its mark is on the disk), and the state cannot tell whether it landed: %s", provider.Clip(r.keyGiven), ev.Detail),
		Hint:    "check the instance's disk before acting again; nothing was sent"}
}

// everRolledBack reports whether snap shows any rollback to it at all.
func everRolledBack(snap *Snapshot) bool {
	return !snap.LastRollbackAt.IsZero() || snap.LatestOperation.Kind == OpRollback
}

// marker returns the provider's provider.OperationMarker when this Run leaves a mark before sending: a keyed Run
// with a store that will not survive it, on a provider that can.
func (r *runner) marker() provider.OperationMarker {
	if !r.resuming || r.key == "" || !volatile(r.o.Checkpoints) {
		return nil
	}
	return r.caps.Marker
}

// guardLostCheckpoint runs before anything changes, for a keyed Run that
// found no checkpoint in a store that would not have kept one. It returns
// a Result when the provider's mark and the snapshot prove that an earlier
// Run of the key already rolled back (nothing is to be sent), an error
// when the Run must not go on, and nil, nil when it may.
func (r *runner) guardLostCheckpoint(ctx context.Context, inst *Instance, snap *Snapshot) (*Result, error) {
	if !r.resuming || r.loaded != nil || r.o.DryRun || !volatile(r.o.Checkpoints) {
		return nil, nil
	}
	if m := r.marker(); m != nil {
		mark, err := m.OperationMark(ctx, r.req, r.key)
		if err != nil {
			return nil, fmt.Errorf("rollback: reading this operation's mark, which tells whether an earlier Run of it sent a rollback: %w", err)
		}
		if mark == nil || mark.Before == nil {
			return nil, nil // no earlier Run of this key got as far as sending
		}
		before := mark.Before
		r.before = before
		landed, requestID, err := r.landedSinceMark(ctx, before, mark.At, snap)
		if err != nil || !landed {
			return nil, err // marked, nothing landed: the send below repeats it (same token)
		}
		return &Result{Provider: snap.Provider, RequestID: requestID, ClientToken: r.req.ClientToken,
			Adopted: true, InstanceID: inst.ID, DiskID: r.req.DiskID, Before: before}, nil
	}
	if r.o.AcceptRepeatRisk {
		return nil, nil
	}
	if !everRolledBack(snap) {
		// Never rolled back to, as far as this reading shows. Reads may
		// lag writes: the provider's witness reads again once its read
		// grace has passed since this Run started (a crashed Run's
		// rollback was sent before that), and only "nothing landed" lets
		// the Run go on.
		w := r.caps.Witness
		ok := w != nil
		if !ok {
			return nil, nil
		}
		ev, err := w.WitnessRollback(ctx, r.req, snap, r.start)
		if err != nil {
			return nil, err
		}
		if ev.Verdict == provider.NothingLanded {
			return nil, nil
		}
		snap = &Snapshot{Provider: snap.Provider, ID: snap.ID, LatestOperation: Operation{Kind: OpRollback, RequestID: ev.RequestID}}
	}
	last := "at an unknown time"
	if !snap.LastRollbackAt.IsZero() {
		last = "at " + snap.LastRollbackAt.UTC().Format(time.RFC3339)
	} else if id := snap.LatestOperation.RequestID; id != "" {
		last = "by request " + id
	}
	return nil, &Error{Provider: snap.Provider, Kind: ErrOutcomeUnknown,
		Message: fmt.Sprintf("operation %q has no checkpoint here, and snapshot %s was already rolled back to (%s): that may have been an earlier Run of this operation, whose checkpoint was lost with its process",
			provider.Clip(r.keyGiven), snap.ID, last),
		Hint: "nothing was changed; check the instance: if this operation already rolled it back, you are done. Keep checkpoints where they outlive the process (RunOptions.Checkpoints: FileCheckpoints or a database) so this never needs asking, or, if you are sure this operation never ran, set RunOptions.AcceptRepeatRisk"}
}

// markBeforeSend leaves this Run's mark before its first rollback call.
// Without it a Run that lost its checkpoint could not tell; so a mark that
// cannot be written stops the Run before it sends.
func (r *runner) markBeforeSend(ctx context.Context) error {
	m := r.marker()
	if m == nil {
		return nil
	}
	if err := m.MarkOperation(ctx, r.req, r.key, r.before); err != nil {
		return fmt.Errorf("rollback: marking the operation before sending, so that a Run that loses its checkpoint cannot roll back twice (nothing was sent; allow tagging, or keep checkpoints that outlive the process): %w", err)
	}
	return nil
}

package provider

import (
	"context"
	"fmt"
	"time"
)

// Verdict is what a reading of the cloud proves about this operation's
// rollback since its baseline (see Evidence).
type Verdict int

// Verdicts. Only OursLanded may be taken for success, and only
// NothingLanded permits a resend; CannotTell permits neither.
const (
	// NothingLanded: the cloud positively shows that no rollback to the
	// snapshot has landed since the baseline, read at least the read grace
	// after the last attempt that may have landed.
	NothingLanded Verdict = iota
	// OursLanded: the cloud shows a rollback that names the operation's
	// snapshot and is newer than the baseline.
	OursLanded
	// CannotTell: something that may be this rollback, or that changed the
	// target although it is not provably ours (another actor's rollback of
	// another snapshot, a reset under way that names no snapshot), is all
	// the cloud shows. Neither success nor a resend is safe: the outcome is
	// ErrOutcomeUnknown.
	CannotTell
	// Settling: a change that may be this rollback is under way and names
	// no snapshot yet (SWAS: the instance Resetting, with no new
	// RollbackTime). Only a single reading says so; a witness reads again
	// until it settles, and WitnessRollback never returns it. A change that
	// settles without evidence of ours (a reset that failed, or was
	// another's) is CannotTell.
	Settling
)

func (v Verdict) String() string {
	switch v {
	case NothingLanded:
		return "nothing landed"
	case OursLanded:
		return "ours landed"
	case CannotTell:
		return "cannot tell"
	case Settling:
		return "settling"
	}
	return "verdict(?)"
}

// Evidence is a witness's reading.
type Evidence struct {
	Verdict Verdict
	// RequestID is the request that started the landed rollback, when the
	// cloud reports one (Lighthouse); empty otherwise (SWAS records only a
	// rollback time).
	RequestID string
	// Detail says what was seen, for messages and reports.
	Detail string
}

// RollbackWitness is a provider that can tell, from the cloud alone,
// whether an operation's rollback has landed since a baseline. Both
// clients implement it; Run consults it before it resends anything for a
// checkpoint at PhaseRollbackSending or later, whatever the instance has
// done since (been started, stopped or snapshotted by someone else).
//
// Contract. before is the snapshot as read before the operation's first
// rollback call (Checkpoint.Before, Result.Before). The verdict is
//   - OursLanded only on evidence that names req's snapshot and is newer
//     than before: on Lighthouse the snapshot's own
//     RollbackInstanceSnapshot operation with a request ID other than
//     before's (the instance's ApplyInstanceSnapshot counts only when its
//     request ID is the snapshot's); on SWAS the snapshot's RollbackTime
//     later than before's;
//   - NothingLanded only on a reading made at least the provider's read
//     grace (Options.ReadGrace) after since, the time of the last call that
//     may have landed; WitnessRollback waits on the provider's clock until
//     then if it must;
//   - CannotTell otherwise, also for a change that may have been ours and
//     settled without evidence (a SWAS reset that failed). Someone else's
//     rollback of another snapshot is never OursLanded.
//
// A change still under way (Settling) is read again, every read grace,
// for up to DefaultRollbackTimeout.
//
// A rollback to the same snapshot by another actor after the baseline
// cannot be told from ours (Lighthouse has no client token, SWAS records
// only a time); it is taken as ours, and leaves the disk where the
// operation wanted it.
type RollbackWitness interface {
	WitnessRollback(ctx context.Context, req Request, before *Snapshot, since time.Time) (Evidence, error)
}

// DefaultReadGrace is how long after a call that may have landed a
// provider client waits before it trusts a reading that shows nothing:
// clouds' reads can lag their writes. A resend (and a verdict of
// NothingLanded) needs a reading made at least this long after the last
// ambiguous attempt. Resends are rare and a rollback takes minutes, so the
// wait costs little; a cloud whose reads lag longer than the grace could
// still be resent to on Lighthouse (SWAS resends carry the same token).
const DefaultReadGrace = 10 * time.Second

// Preconditions are the checks made before a rollback is sent, one set
// for every provider: a provider's Rollback runs them before the first
// attempt (and, where the cloud would act on a changed instance, before
// every resend). The zero value refuses a running instance.
type Preconditions struct {
	Provider, Op string
	// AllowRunning lets a running instance through (Lighthouse with
	// AllowForcedStop: the cloud forces it off).
	AllowRunning bool
	// RunningHint says what to do about a refused running instance;
	// StateHint about any other state that is not stopped.
	RunningHint, StateHint string
}

func (p Preconditions) refuse(kind error, field, msg, hint string) *Error {
	if hint != "" {
		hint += "; "
	}
	return &Error{Provider: p.Provider, Op: p.Op, Kind: kind, Field: field, Message: msg, Hint: hint + "nothing was sent"}
}

// CheckSnapshot refuses a snapshot that is not ready (ErrSnapshotState)
// or that was not taken from diskID or instanceID (ErrSnapshotMismatch);
// an empty ID, on either side, is not compared.
func (p Preconditions) CheckSnapshot(snap *Snapshot, diskID, instanceID string) error {
	switch snap.State {
	case SnapshotReady:
	case SnapshotCreating:
		return p.refuse(ErrSnapshotState, "", fmt.Sprintf("snapshot %s is still being created (%d%%)", snap.ID, snap.Progress),
			"wait until it is ready (rollback.WaitSnapshot)")
	default:
		return p.refuse(ErrSnapshotState, "", fmt.Sprintf("snapshot %s is %s, not ready", snap.ID, DescribeState(string(snap.State), snap.NativeState)),
			"wait until it is created, or its rollback ends")
	}
	if snap.DiskID != "" && diskID != "" && snap.DiskID != diskID {
		return p.refuse(ErrSnapshotMismatch, "SnapshotID", fmt.Sprintf("snapshot %s was taken from disk %s, not %s", snap.ID, snap.DiskID, diskID),
			"pick a snapshot of this disk")
	}
	if snap.InstanceID != "" && instanceID != "" && snap.InstanceID != instanceID {
		return p.refuse(ErrSnapshotMismatch, "SnapshotID", fmt.Sprintf("snapshot %s belongs to instance %s, not %s", snap.ID, snap.InstanceID, instanceID),
			"pick a snapshot of this instance")
	}
	return nil
}

// CheckInstance refuses an instance with an operation in progress
// (ErrBusy, worth waiting) or in a state a rollback must not meet
// (ErrInstanceState): anything but stopped, or running when AllowRunning.
func (p Preconditions) CheckInstance(inst *Instance) error {
	if inst.Busy || inst.State.Transitional() {
		msg := fmt.Sprintf("instance %s is %s", inst.ID, DescribeState(string(inst.State), inst.NativeState))
		if lo := inst.LatestOperation; lo.State == OperationRunning {
			msg += fmt.Sprintf(" with %s %s (request %s)", lo.Name, lo.NativeState, lo.RequestID)
		}
		return p.refuse(ErrBusy, "", msg, "wait until the operation ends")
	}
	switch inst.State {
	case InstanceStopped:
		return nil
	case InstanceRunning:
		if p.AllowRunning {
			return nil
		}
		return p.refuse(ErrInstanceState, "", fmt.Sprintf("instance %s is running (%s)", inst.ID, inst.NativeState), p.RunningHint)
	}
	return p.refuse(ErrInstanceState, "", fmt.Sprintf("instance %s is %s; a rollback needs it stopped", inst.ID, DescribeState(string(inst.State), inst.NativeState)), p.StateHint)
}

// DefaultRollbackTimeout bounds a rollback's wait (rollback.RunOptions'
// RollbackTimeout) and how long the engine reads a change still under way
// before it says CannotTell.
const DefaultRollbackTimeout = 30 * time.Minute

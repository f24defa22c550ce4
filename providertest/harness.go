package providertest

import (
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
)

// Target is a seeded instance, its system disk and a ready snapshot of
// that disk.
type Target struct {
	InstanceID, DiskID, SnapshotID string
}

// Durations are how long the emulator's (or fake's) operations take on its
// clock. The suite uses them to judge waits, never wall time.
type Durations struct {
	Stop, Start, Rollback, Snapshot time.Duration
}

// Call is a kind of call counted by Harness.Calls.
type Call string

// Call kinds.
const (
	CallRollback Call = "rollback"
	CallStop     Call = "stop"
	CallStart    Call = "start"
	CallSnapshot Call = "snapshot"
	// CallDescribe is every read: of instances, disks, snapshots and
	// tags/marks.
	CallDescribe Call = "describe"
)

// Harness is one provider client over a fresh emulator or fake, with the
// few knobs every scenario needs. Everything else a scenario may want is
// an optional interface below; a harness that lacks one has the scenarios
// that need it skipped, with a message naming the interface.
type Harness interface {
	// Provider is the client under test, built with the Factory's clock
	// and options.
	Provider() rollback.Provider
	// Request returns the provider's minimal request for tg, Region
	// included (SWAS names the disk, Lighthouse the instance).
	Request(tg Target) rollback.Request
	// NewTarget seeds an idle instance, running or stopped, and a ready
	// snapshot of its system disk.
	NewTarget(t testing.TB, running bool) Target
	// Durations says how long the operations take.
	Durations() Durations
	// Rollbacks counts the rollbacks applied to tg's disk, by anyone.
	Rollbacks(tg Target) int
	// Calls counts the calls of a kind that the client under test made
	// (received by the emulator, whatever their outcome; not other
	// actors' changes).
	Calls(kind Call) int
}

// Factory builds a Harness on a fresh emulator or fake whose timed state
// changes read clk; opts go to the provider client, after its own
// rollback.WithClock(clk), and the client must honour the ones the suite
// passes (rollback.WithRateLimit, WithMaxAttempts, WithReadGrace). It
// registers its cleanup with t.Cleanup.
type Factory func(t *testing.T, clk clock.Clock, opts ...rollback.Option) Harness

// Optional knobs. Implement the ones the emulator can provide.

// SnapshotCreator seeds a snapshot of tg's disk that is still being
// created.
type SnapshotCreator interface {
	CreatingSnapshot(t testing.TB, tg Target) (snapshotID string)
}

// BusyMaker puts an operation in progress on tg's instance for d (an
// upgrade, a reboot: anything but a rollback, stop or start).
type BusyMaker interface {
	MakeBusy(t testing.TB, tg Target, d time.Duration)
}

// RollbackFailer makes the next rollback call accepted, and the rollback
// then fail in the cloud.
type RollbackFailer interface {
	FailNextRollback()
}

// ReplyDropper applies the next rollback call, then drops the connection
// without a reply: the client cannot tell whether it landed.
type ReplyDropper interface {
	LoseNextRollbackReply()
}

// Refuser answers the next rollback call with the cloud's own error for
// kind, without applying it, and reports whether it can produce that kind.
// The suite asks for rollback.ErrInternal (a 5xx or InternalError reply:
// an ambiguous attempt that did not land), rollback.ErrThrottled and
// rollback.ErrPermissionDenied.
type Refuser interface {
	RefuseNextRollback(kind error) bool
}

// RollbackHooker runs f once, just after the emulator handled the n-th
// rollback call of the client under test (counted from 1 since the
// harness was built, resends included) and before its reply leaves. f
// runs on the emulator's goroutine and may use the other knobs.
type RollbackHooker interface {
	AfterRollbackCall(n int, f func())
}

// TokenForgetter makes the cloud forget every client token it has seen,
// as real clouds do after a while: an earlier request is no longer
// deduplicated. A cloud without tokens implements it with an empty body
// (it has nothing to forget); a harness that cannot make its cloud forget
// leaves it out.
type TokenForgetter interface {
	ForgetTokens()
}

// OtherActor changes tg as someone else would (the console, another tool),
// outside the client under test: its calls are not counted by Calls. The
// methods return the cloud's refusal, if any.
type OtherActor interface {
	// OtherActorStart starts tg's instance.
	OtherActorStart(tg Target) error
	// OtherActorRollback rolls tg's disk back to another ready snapshot
	// of it (seeded for the purpose), not tg.SnapshotID. It counts in
	// Rollbacks.
	OtherActorRollback(tg Target) error
}

// ReadLagger makes reads lag writes by d from now on: for d after a
// change, reads show the state from before it.
type ReadLagger interface {
	SetReadLag(d time.Duration)
}

// AbsentTargets returns IDs that are well-formed for the provider but name
// nothing in the emulator.
type AbsentTargets interface {
	AbsentTarget() Target
}

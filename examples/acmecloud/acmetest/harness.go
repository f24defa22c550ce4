package acmetest

import (
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/provider"

	"example.com/acmecloud/acme"
)

// Target is a seeded server, its system disk and an available snapshot of
// it: the conformance suite's Target, field for field.
type Target struct {
	InstanceID, DiskID, SnapshotID string
}

// SuiteDurations are the emulator's durations in the conformance suite's
// terms, field for field.
type SuiteDurations struct {
	Stop, Start, Rollback, Snapshot time.Duration
}

// Call kinds counted by Harness.Calls, as the conformance suite names
// them.
const (
	CallRollback = "rollback"
	CallStop     = "stop"
	CallStart    = "start"
	CallSnapshot = "snapshot"
	CallDescribe = "describe"
)

// Harness is an acme.Client over a fresh emulator, with the seeding and
// fault knobs of the library's conformance suite (its Env, and the
// optional knobs of providertest): adapting it is a matter of converting
// Target and SuiteDurations.
type Harness struct {
	Server *Server
	Client *acme.Client
}

// NewHarness starts an emulator on clk and a client of it with
// WithClock(clk) and opts; both are closed when t ends.
func NewHarness(t testing.TB, clk clock.Clock, opts ...provider.Option) *Harness {
	t.Helper()
	srv := NewServer(WithClock(clk))
	c, err := acme.New(acme.Config{Region: DefaultRegion, Endpoint: srv.URL, KeyID: DefaultKeyID, Secret: DefaultSecret},
		append([]provider.Option{rollback.WithClock(clk)}, opts...)...)
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		srv.Close()
	})
	return &Harness{Server: srv, Client: c}
}

// Name returns "acme".
func (h *Harness) Name() string { return acme.Name }

// Provider returns the client under test.
func (h *Harness) Provider() provider.Provider { return h.Client }

// Region returns the emulator's region.
func (h *Harness) Region() string { return DefaultRegion }

// Durations says how long the emulator's operations take.
func (h *Harness) Durations() SuiteDurations {
	d := h.Server.dur
	return SuiteDurations{Stop: d.Stop, Start: d.Start, Rollback: d.Restore, Snapshot: d.CreateSnapshot}
}

// Request names the server and the snapshot: Acme restores the system
// disk.
func (h *Harness) Request(tg Target) provider.Request {
	return provider.Request{Region: DefaultRegion, InstanceID: tg.InstanceID, SnapshotID: tg.SnapshotID}
}

// NewTarget seeds a server, running or stopped, and an available snapshot
// of its system disk.
func (h *Harness) NewTarget(t testing.TB, running bool) Target {
	t.Helper()
	state := acme.StateStopped
	if running {
		state = acme.StateRunning
	}
	sv, err := h.Server.AddServer(ServerSpec{State: state})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := h.Server.AddSnapshot(SnapshotSpec{ServerID: sv.ID})
	if err != nil {
		t.Fatal(err)
	}
	return Target{InstanceID: sv.ID, DiskID: sv.DiskID, SnapshotID: snap}
}

// OtherDiskSnapshot seeds another server and returns a snapshot of its
// disk.
func (h *Harness) OtherDiskSnapshot(t testing.TB) string { return h.NewTarget(t, false).SnapshotID }

// CreatingSnapshot seeds a snapshot of tg's disk still being created.
func (h *Harness) CreatingSnapshot(t testing.TB, tg Target) string {
	t.Helper()
	id, err := h.Server.AddSnapshot(SnapshotSpec{ServerID: tg.InstanceID, State: acme.SnapshotCreating, Progress: 20})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// MakeBusy puts tg's server in maintenance for d.
func (h *Harness) MakeBusy(t testing.TB, tg Target, d time.Duration) {
	t.Helper()
	if err := h.Server.SetBusy(tg.InstanceID, d); err != nil {
		t.Fatal(err)
	}
}

// FailNextRollback makes the next accepted restore fail in the cloud.
func (h *Harness) FailNextRollback() { h.Server.FailNextRestores(1) }

// LoseNextRollbackResponse applies the next restore and drops its reply.
func (h *Harness) LoseNextRollbackResponse() { h.Server.DropNextReply("RestoreSnapshot") }

// LoseNextRollbackReply is LoseNextRollbackResponse by providertest's
// name.
func (h *Harness) LoseNextRollbackReply() { h.LoseNextRollbackResponse() }

// ServerErrorNextRollback answers the next restore with InternalError
// (HTTP 500) without applying it.
func (h *Harness) ServerErrorNextRollback() {
	h.Server.FailNext("RestoreSnapshot", acme.CodeInternalError, 1)
}

// refusals are Acme's codes for the library's sentinels.
var refusals = map[error]string{
	provider.ErrInternal: acme.CodeInternalError, provider.ErrThrottled: acme.CodeThrottled,
	provider.ErrPermissionDenied: acme.CodeAccessDenied, provider.ErrUnauthenticated: acme.CodeAuthFailed,
	provider.ErrBusy: acme.CodeServerBusy, provider.ErrInstanceState: acme.CodeInvalidServerState,
	provider.ErrSnapshotState: acme.CodeSnapshotNotReady, provider.ErrQuotaExceeded: acme.CodeQuotaExceeded,
	provider.ErrInstanceNotFound: acme.CodeServerNotFound, provider.ErrSnapshotNotFound: acme.CodeSnapshotNotFound,
	provider.ErrSnapshotMismatch: acme.CodeSnapshotMismatch, provider.ErrInvalidArgument: acme.CodeInvalidParameter,
}

// RefuseNextRollback answers the next restore with Acme's code for kind (a
// rollback sentinel), without applying it; false when Acme has none.
func (h *Harness) RefuseNextRollback(kind error) bool {
	code, ok := refusals[kind]
	if ok {
		h.Server.FailNext(ActionRestoreSnapshot, code, 1)
	}
	return ok
}

// AfterRollbackCall runs f just after the n-th restore call was handled,
// before its reply leaves.
func (h *Harness) AfterRollbackCall(n int, f func()) { h.Server.After("RestoreSnapshot", n, f) }

// Rollbacks counts the restores of tg's server, by anyone.
func (h *Harness) Rollbacks(tg Target) int { return h.Server.RestoresOf(tg.InstanceID) }

// Calls counts the client's calls of a kind, whatever their outcome.
func (h *Harness) Calls(kind string) int {
	j := h.Server.Journal()
	switch kind {
	case CallDescribe:
		return j.Count("DescribeServers") + j.Count("DescribeSnapshots")
	case CallRollback:
		return j.Count("RestoreSnapshot")
	case CallStop:
		return j.Count("StopServer")
	case CallStart:
		return j.Count("StartServer")
	case CallSnapshot:
		return j.Count("CreateSnapshot")
	}
	return 0
}

// ForgetTokens does nothing: Acme has no client tokens.
func (h *Harness) ForgetTokens() {}

// OtherActorStart starts tg's server as someone else would.
func (h *Harness) OtherActorStart(t testing.TB, tg Target) {
	t.Helper()
	if err := h.Server.ActorStart(tg.InstanceID); err != nil {
		t.Fatal(err)
	}
}

// OtherActorRollback restores tg's server from another available snapshot
// of it, seeded for the purpose, as someone else would.
func (h *Harness) OtherActorRollback(tg Target) error {
	other, err := h.Server.AddSnapshot(SnapshotSpec{ServerID: tg.InstanceID})
	if err != nil {
		return err
	}
	_, err = h.Server.ActorRestore(tg.InstanceID, other)
	return err
}

// SetReadLag makes the emulator's reads lag its writes by d.
func (h *Harness) SetReadLag(d time.Duration) { h.Server.SetReadLag(d) }

// AbsentTarget returns well-formed IDs that name nothing.
func (h *Harness) AbsentTarget() Target {
	return Target{InstanceID: "srv-ffffffff", DiskID: "vol-ffffffff", SnapshotID: "snap-ffffffff"}
}

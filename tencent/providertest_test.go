package tencent_test

import (
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/providertest"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// TestConformance runs the provider-neutral suite against the Lighthouse
// client over its emulator.
func TestConformance(t *testing.T) { providertest.Run(t, newConformanceHarness) }

// conformanceHarness is the Lighthouse client over a fresh emulator, with
// every optional knob of providertest.
type conformanceHarness struct {
	srv *tencenttest.Server
	p   *tencent.Client
}

func newConformanceHarness(t *testing.T, clk clock.Clock, opts ...rollback.Option) providertest.Harness {
	t.Helper()
	srv := tencenttest.NewServer(tencenttest.WithClock(clk))
	t.Cleanup(srv.Close)
	p, err := tencent.New(tencent.Config{
		Region: tencenttest.DefaultRegion, Endpoint: srv.URL,
		SecretID: tencenttest.DefaultSecretID, SecretKey: tencenttest.DefaultSecretKey,
	}, append([]rollback.Option{rollback.WithClock(clk)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return &conformanceHarness{srv: srv, p: p}
}

func (h *conformanceHarness) Provider() rollback.Provider { return h.p }

// Request names the instance only: the Lighthouse way, its system disk.
func (h *conformanceHarness) Request(tg providertest.Target) rollback.Request {
	return rollback.Request{Region: tencenttest.DefaultRegion, InstanceID: tg.InstanceID, SnapshotID: tg.SnapshotID}
}

func (h *conformanceHarness) NewTarget(t testing.TB, running bool) providertest.Target {
	t.Helper()
	state := tencenttest.StateStopped
	if running {
		state = tencenttest.StateRunning
	}
	in, err := h.srv.AddInstance(tencenttest.Instance{State: state})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := h.srv.AddSnapshot(tencenttest.Snapshot{InstanceID: in.ID})
	if err != nil {
		t.Fatal(err)
	}
	return providertest.Target{InstanceID: in.ID, DiskID: in.DiskID, SnapshotID: snap.ID}
}

func (h *conformanceHarness) Durations() providertest.Durations {
	d := tencenttest.DefaultDurations
	return providertest.Durations{Stop: d.Stop, Start: d.Start, Rollback: d.Rollback, Snapshot: d.CreateSnapshot}
}

func (h *conformanceHarness) Rollbacks(tg providertest.Target) int {
	return h.srv.RollbacksOf(tg.InstanceID)
}

var conformanceActions = map[providertest.Call][]string{
	providertest.CallRollback: {"ApplyInstanceSnapshot"},
	providertest.CallStop:     {"StopInstances"},
	providertest.CallStart:    {"StartInstances"},
	providertest.CallSnapshot: {"CreateInstanceSnapshot"},
	providertest.CallDescribe: {"DescribeInstances", "DescribeSnapshots"},
}

func (h *conformanceHarness) Calls(kind providertest.Call) int {
	n := 0
	for _, a := range conformanceActions[kind] {
		n += h.srv.Journal().Count(a)
	}
	return n
}

func (h *conformanceHarness) CreatingSnapshot(t testing.TB, tg providertest.Target) string {
	t.Helper()
	s, err := h.srv.AddSnapshot(tencenttest.Snapshot{InstanceID: tg.InstanceID, State: "CREATING", Percent: 20})
	if err != nil {
		t.Fatal(err)
	}
	return s.ID
}

func (h *conformanceHarness) MakeBusy(t testing.TB, tg providertest.Target, d time.Duration) {
	t.Helper()
	if _, err := h.srv.SetBusy(tg.InstanceID, "ResetInstance", d); err != nil {
		t.Fatal(err)
	}
}

func (h *conformanceHarness) FailNextRollback() { h.srv.FailNextRollbacks(1) }

func (h *conformanceHarness) LoseNextRollbackReply() {
	h.srv.AddFault(tencenttest.Fault{Action: "ApplyInstanceSnapshot", DropResponse: true})
}

// conformanceRefusals are Lighthouse's codes for the kinds the suite asks
// for.
var conformanceRefusals = map[error]tencenttest.Fault{
	rollback.ErrInternal:         {HTTPStatus: 500, Code: "InternalError"},
	rollback.ErrThrottled:        {Code: "RequestLimitExceeded"},
	rollback.ErrPermissionDenied: {Code: "UnauthorizedOperation.NoPermission"},
}

func (h *conformanceHarness) RefuseNextRollback(kind error) bool {
	f, ok := conformanceRefusals[kind]
	f.Action = "ApplyInstanceSnapshot"
	if ok {
		h.srv.AddFault(f)
	}
	return ok
}

func (h *conformanceHarness) AfterRollbackCall(n int, f func()) {
	h.srv.After("ApplyInstanceSnapshot", n, f)
}

// ForgetTokens has nothing to do: Lighthouse has no client tokens.
func (h *conformanceHarness) ForgetTokens() {}

func (h *conformanceHarness) OtherActorStart(tg providertest.Target) error {
	return h.srv.ActorStartInstance(tg.InstanceID)
}

func (h *conformanceHarness) OtherActorRollback(tg providertest.Target) error {
	other, err := h.srv.AddSnapshot(tencenttest.Snapshot{InstanceID: tg.InstanceID})
	if err != nil {
		return err
	}
	_, err = h.srv.ActorApplySnapshot(tg.InstanceID, other.ID)
	return err
}

func (h *conformanceHarness) SetReadLag(d time.Duration) { h.srv.SetReadLag(d) }

func (h *conformanceHarness) AbsentTarget() providertest.Target {
	return providertest.Target{InstanceID: "lhins-absent00", DiskID: "lhdisk-absent00", SnapshotID: "lhsnap-absent00"}
}

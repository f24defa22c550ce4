package aliyun_test

import (
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/providertest"
)

// TestConformance runs the provider-neutral suite against the SWAS client
// over its emulator.
func TestConformance(t *testing.T) { providertest.Run(t, newConformanceHarness) }

// conformanceHarness is the SWAS client over a fresh emulator, with every
// optional knob of providertest.
type conformanceHarness struct {
	srv *aliyuntest.Server
	p   *aliyun.Client
}

func newConformanceHarness(t *testing.T, clk clock.Clock, opts ...rollback.Option) providertest.Harness {
	t.Helper()
	srv := aliyuntest.NewServer(aliyuntest.WithClock(clk))
	t.Cleanup(srv.Close)
	p, err := aliyun.New(aliyun.Config{
		Region: aliyuntest.DefaultRegion, Endpoint: srv.URL,
		AccessKeyID: aliyuntest.DefaultAccessKeyID, AccessKeySecret: aliyuntest.DefaultAccessKeySecret,
	}, append([]rollback.Option{rollback.WithClock(clk)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return &conformanceHarness{srv: srv, p: p}
}

func (h *conformanceHarness) Provider() rollback.Provider { return h.p }

// Request names the disk only: the SWAS way, the instance found from it.
func (h *conformanceHarness) Request(tg providertest.Target) rollback.Request {
	return rollback.Request{Region: aliyuntest.DefaultRegion, DiskID: tg.DiskID, SnapshotID: tg.SnapshotID}
}

func (h *conformanceHarness) NewTarget(t testing.TB, running bool) providertest.Target {
	status := aliyuntest.StatusStopped
	if running {
		status = aliyuntest.StatusRunning
	}
	in := aliyuntest.Must(h.srv.AddInstance(aliyuntest.InstanceSpec{Status: status}))
	snap := aliyuntest.Must(h.srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: in.SystemDiskID}))
	return providertest.Target{InstanceID: in.ID, DiskID: in.SystemDiskID, SnapshotID: snap.ID}
}

func (h *conformanceHarness) Durations() providertest.Durations {
	d := h.srv.Durations()
	return providertest.Durations{Stop: d.Stop, Start: d.Start, Rollback: d.Rollback, Snapshot: d.CreateSnapshot}
}

func (h *conformanceHarness) Rollbacks(tg providertest.Target) int {
	return h.srv.RollbacksOf(tg.DiskID)
}

var conformanceActions = map[providertest.Call][]string{
	providertest.CallRollback: {aliyuntest.ActionResetDisk},
	providertest.CallStop:     {aliyuntest.ActionStopInstance},
	providertest.CallStart:    {aliyuntest.ActionStartInstance},
	providertest.CallSnapshot: {aliyuntest.ActionCreateSnapshot},
	providertest.CallDescribe: {aliyuntest.ActionListInstances, aliyuntest.ActionListInstanceStatus,
		aliyuntest.ActionListDisks, aliyuntest.ActionListSnapshots, aliyuntest.ActionListTagResources},
}

func (h *conformanceHarness) Calls(kind providertest.Call) int {
	n := 0
	for _, a := range conformanceActions[kind] {
		n += h.srv.Calls(a)
	}
	return n
}

func (h *conformanceHarness) CreatingSnapshot(t testing.TB, tg providertest.Target) string {
	return aliyuntest.Must(h.srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: tg.DiskID, Status: "Progressing"})).ID
}

func (h *conformanceHarness) MakeBusy(t testing.TB, tg providertest.Target, d time.Duration) {
	h.srv.SetInstanceBusy(tg.InstanceID, "Upgrading", d)
}

func (h *conformanceHarness) FailNextRollback() { h.srv.FailNextRollbacks(1) }

func (h *conformanceHarness) LoseNextRollbackReply() {
	h.srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionResetDisk, DropResponse: true})
}

// conformanceRefusals are SWAS's codes for the kinds the suite asks for.
var conformanceRefusals = map[error]aliyuntest.Fault{
	rollback.ErrInternal:         {HTTPStatus: 500, Code: "InternalError"},
	rollback.ErrThrottled:        {HTTPStatus: 400, Code: "Throttling.User"},
	rollback.ErrPermissionDenied: {HTTPStatus: 403, Code: "Forbidden.RAM"},
}

func (h *conformanceHarness) RefuseNextRollback(kind error) bool {
	f, ok := conformanceRefusals[kind]
	f.Action = aliyuntest.ActionResetDisk
	if ok {
		h.srv.AddFault(f)
	}
	return ok
}

func (h *conformanceHarness) AfterRollbackCall(n int, f func()) {
	h.srv.After(aliyuntest.ActionResetDisk, n, f)
}

func (h *conformanceHarness) ForgetTokens() { h.srv.SetTokenWindow(time.Nanosecond) }

func (h *conformanceHarness) OtherActorStart(tg providertest.Target) error {
	return h.srv.ActorStartInstance(tg.InstanceID)
}

func (h *conformanceHarness) OtherActorRollback(tg providertest.Target) error {
	other := aliyuntest.Must(h.srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: tg.DiskID}))
	_, err := h.srv.ActorResetDisk(tg.DiskID, other.ID)
	return err
}

func (h *conformanceHarness) SetReadLag(d time.Duration) { h.srv.SetReadLag(d) }

func (h *conformanceHarness) AbsentTarget() providertest.Target {
	return providertest.Target{InstanceID: "ace0706b2ac4454d984295a94213ba3b", DiskID: "d-absent0000000000000000", SnapshotID: "s-absent0000000000000000"}
}

// TestConformanceMinimal runs the suite with the least a provider and a
// harness can offer: the Provider interface alone (no batch reads,
// witness, pre-flight, validator, priors or checkpoints of its own) and
// the six required harness methods, on SWAS (whose client tokens make a
// resend safe without a witness; a cloud with neither could roll back twice). What needs more is skipped; the rest
// must pass, so the suite never assumes what it does not require.
func TestConformanceMinimal(t *testing.T) {
	providertest.Run(t, func(t *testing.T, clk clock.Clock, opts ...rollback.Option) providertest.Harness {
		h := newConformanceHarness(t, clk, opts...).(*conformanceHarness)
		return minimalHarness{h}
	})
}

// bareProvider hides every method beyond rollback.Provider.
type bareProvider struct{ rollback.Provider }

type minimalHarness struct{ h *conformanceHarness }

func (m minimalHarness) Provider() rollback.Provider { return bareProvider{m.h.p} }

// Request names the instance too: without a DiskInspector, Run cannot
// find it from the disk.
func (m minimalHarness) Request(tg providertest.Target) rollback.Request {
	req := m.h.Request(tg)
	req.InstanceID = tg.InstanceID
	return req
}
func (m minimalHarness) NewTarget(t testing.TB, running bool) providertest.Target {
	return m.h.NewTarget(t, running)
}
func (m minimalHarness) Durations() providertest.Durations    { return m.h.Durations() }
func (m minimalHarness) Rollbacks(tg providertest.Target) int { return m.h.Rollbacks(tg) }
func (m minimalHarness) Calls(kind providertest.Call) int     { return m.h.Calls(kind) }

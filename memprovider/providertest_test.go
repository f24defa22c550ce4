package memprovider_test

import (
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/memprovider"
	"github.com/cloudsnap/rollback/providertest"
)

// The provider-neutral suite runs over the in-memory provider twice:
// without client tokens (exactly once from evidence, as on Lighthouse) and
// with them (as on SWAS).
func TestConformance(t *testing.T) { providertest.Run(t, memFactory()) }

func TestConformanceClientTokens(t *testing.T) {
	providertest.Run(t, memFactory(memprovider.WithClientTokens()))
}

// memHarness has every optional knob of providertest.
type memHarness struct{ p *memprovider.Provider }

func memFactory(mopts ...memprovider.Option) providertest.Factory {
	return func(t *testing.T, clk clock.Clock, opts ...rollback.Option) providertest.Harness {
		all := append([]memprovider.Option{memprovider.WithClock(clk), memprovider.WithClientOptions(opts...)}, mopts...)
		return &memHarness{p: memprovider.New(all...)}
	}
}

func (h *memHarness) Provider() rollback.Provider { return h.p }

func (h *memHarness) Request(tg providertest.Target) rollback.Request {
	return rollback.Request{Region: h.p.Region(), InstanceID: tg.InstanceID, SnapshotID: tg.SnapshotID}
}

func (h *memHarness) NewTarget(t testing.TB, running bool) providertest.Target {
	t.Helper()
	s, err := h.p.AddServer(memprovider.ServerSpec{Running: running})
	if err != nil {
		t.Fatal(err)
	}
	return providertest.Target{InstanceID: s.InstanceID, DiskID: s.DiskID, SnapshotID: s.SnapshotID}
}

func (h *memHarness) Durations() providertest.Durations {
	d := h.p.Durations()
	return providertest.Durations{Stop: d.Stop, Start: d.Start, Rollback: d.Rollback, Snapshot: d.Snapshot}
}

func (h *memHarness) Rollbacks(tg providertest.Target) int { return h.p.RollbacksOf(tg.InstanceID) }

func (h *memHarness) Calls(kind providertest.Call) int {
	if kind == providertest.CallDescribe {
		return h.p.Calls(memprovider.ActionDescribeInstances) + h.p.Calls(memprovider.ActionDescribeSnapshots) +
			h.p.Calls(memprovider.ActionDescribeDisks)
	}
	return h.p.Calls(map[providertest.Call]string{
		providertest.CallRollback: memprovider.ActionRollback, providertest.CallStop: memprovider.ActionStopInstance,
		providertest.CallStart: memprovider.ActionStartInstance, providertest.CallSnapshot: memprovider.ActionCreateSnapshot,
	}[kind])
}

func (h *memHarness) CreatingSnapshot(t testing.TB, tg providertest.Target) string {
	t.Helper()
	s, err := h.p.AddSnapshot(memprovider.SnapshotSpec{InstanceID: tg.InstanceID, Creating: true, Progress: 20})
	if err != nil {
		t.Fatal(err)
	}
	return s.ID
}

func (h *memHarness) MakeBusy(t testing.TB, tg providertest.Target, d time.Duration) {
	t.Helper()
	if err := h.p.SetBusy(tg.InstanceID, d); err != nil {
		t.Fatal(err)
	}
}

func (h *memHarness) FailNextRollback() { h.p.FailNextRollbacks(1) }

func (h *memHarness) LoseNextRollbackReply() {
	if err := h.p.LoseNextReply(memprovider.ActionRollback); err != nil {
		panic(err)
	}
}

func (h *memHarness) RefuseNextRollback(kind error) bool {
	return h.p.FailNext(memprovider.ActionRollback, 1, kind) == nil
}

func (h *memHarness) AfterRollbackCall(n int, f func()) { h.p.After(memprovider.ActionRollback, n, f) }

func (h *memHarness) ForgetTokens() { h.p.ForgetTokens() }

func (h *memHarness) OtherActorStart(tg providertest.Target) error {
	return h.p.ActorStart(tg.InstanceID)
}

// OtherActorRollback rolls tg back to another snapshot of its disk.
func (h *memHarness) OtherActorRollback(tg providertest.Target) error {
	other, err := h.p.AddSnapshot(memprovider.SnapshotSpec{InstanceID: tg.InstanceID})
	if err != nil {
		return err
	}
	_, err = h.p.ActorRollback(tg.InstanceID, other.ID)
	return err
}

func (h *memHarness) SetReadLag(d time.Duration) { h.p.SetReadLag(d) }

func (h *memHarness) AbsentTarget() providertest.Target {
	return providertest.Target{InstanceID: "ins-absent", DiskID: "disk-absent", SnapshotID: "snap-absent"}
}

package conformance

import (
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/memprovider"
)

// memEnv runs the suite over the in-memory provider: no HTTP, the same
// state machine and faults as the emulators. It runs twice: without client
// tokens (exactly-once from evidence, as on Lighthouse) and with them (as
// on SWAS).
type memEnv struct{ p *memprovider.Provider }

func memFactory(mopts ...memprovider.Option) Factory {
	return func(t *testing.T, clk clock.Clock, opts ...rollback.Option) Env {
		all := append([]memprovider.Option{memprovider.WithClock(clk), memprovider.WithClientOptions(opts...)}, mopts...)
		return &memEnv{p: memprovider.New(all...)}
	}
}

func TestMem(t *testing.T) { RunSuite(t, memFactory()) }

func TestMemClientTokens(t *testing.T) { RunSuite(t, memFactory(memprovider.WithClientTokens())) }

func (e *memEnv) Name() string                { return memprovider.Name }
func (e *memEnv) Provider() rollback.Provider { return e.p }
func (e *memEnv) Region() string              { return e.p.Region() }

func (e *memEnv) Durations() Durations {
	d := e.p.Durations()
	return Durations{Stop: d.Stop, Start: d.Start, Rollback: d.Rollback, Snapshot: d.Snapshot}
}

func (e *memEnv) Request(tg Target) rollback.Request {
	return rollback.Request{Region: e.Region(), InstanceID: tg.InstanceID, SnapshotID: tg.SnapshotID}
}

func (e *memEnv) NewTarget(t *testing.T, running bool) Target {
	t.Helper()
	s, err := e.p.AddServer(memprovider.ServerSpec{Running: running})
	if err != nil {
		t.Fatal(err)
	}
	return Target{InstanceID: s.InstanceID, DiskID: s.DiskID, SnapshotID: s.SnapshotID}
}

func (e *memEnv) OtherDiskSnapshot(t *testing.T) string { return e.NewTarget(t, false).SnapshotID }

func (e *memEnv) CreatingSnapshot(t *testing.T, tg Target) string {
	t.Helper()
	s, err := e.p.AddSnapshot(memprovider.SnapshotSpec{InstanceID: tg.InstanceID, Creating: true, Progress: 20})
	if err != nil {
		t.Fatal(err)
	}
	return s.ID
}

func (e *memEnv) MakeBusy(t *testing.T, tg Target, d time.Duration) {
	t.Helper()
	if err := e.p.SetBusy(tg.InstanceID, d); err != nil {
		t.Fatal(err)
	}
}

func (e *memEnv) FailNextRollback() { e.p.FailNextRollbacks(1) }

func (e *memEnv) LoseNextRollbackResponse() {
	if err := e.p.LoseNextReply(memprovider.ActionRollback); err != nil {
		panic(err)
	}
}

func (e *memEnv) Rollbacks(tg Target) int { return e.p.RollbacksOf(tg.InstanceID) }

func (e *memEnv) Calls(kind string) int {
	if kind == CallDescribe {
		return e.p.Calls(memprovider.ActionDescribeInstances) + e.p.Calls(memprovider.ActionDescribeSnapshots) +
			e.p.Calls(memprovider.ActionDescribeDisks)
	}
	return e.p.Calls(map[string]string{
		CallRollback: memprovider.ActionRollback, CallStop: memprovider.ActionStopInstance,
		CallStart: memprovider.ActionStartInstance, CallSnapshot: memprovider.ActionCreateSnapshot,
	}[kind])
}

func (e *memEnv) ForgetTokens() { e.p.ForgetTokens() }

func (e *memEnv) OtherActorStart(t *testing.T, tg Target) {
	t.Helper()
	if err := e.p.ActorStart(tg.InstanceID); err != nil {
		t.Fatal(err)
	}
}

package conformance

import (
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

type tencentEnv struct {
	srv *tencenttest.Server
	p   *tencent.Client
}

func newTencent(t *testing.T, clk clock.Clock, opts ...rollback.Option) Env {
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
	return &tencentEnv{srv: srv, p: p}
}

func TestTencent(t *testing.T) { RunSuite(t, newTencent) }

func (e *tencentEnv) Name() string                { return "tencent" }
func (e *tencentEnv) Provider() rollback.Provider { return e.p }
func (e *tencentEnv) Region() string              { return tencenttest.DefaultRegion }

func (e *tencentEnv) Durations() Durations {
	d := tencenttest.DefaultDurations
	return Durations{Stop: d.Stop, Start: d.Start, Rollback: d.Rollback, Snapshot: d.CreateSnapshot}
}

// Request names the instance only: the Lighthouse way, its system disk.
func (e *tencentEnv) Request(tg Target) rollback.Request {
	return rollback.Request{Region: e.Region(), InstanceID: tg.InstanceID, SnapshotID: tg.SnapshotID}
}

func (e *tencentEnv) NewTarget(t *testing.T, running bool) Target {
	t.Helper()
	state := "STOPPED"
	if running {
		state = "RUNNING"
	}
	in, err := e.srv.AddInstance(tencenttest.Instance{State: state})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := e.srv.AddSnapshot(tencenttest.Snapshot{InstanceID: in.ID})
	if err != nil {
		t.Fatal(err)
	}
	return Target{InstanceID: in.ID, DiskID: in.DiskID, SnapshotID: snap.ID}
}

func (e *tencentEnv) OtherDiskSnapshot(t *testing.T) string {
	return e.NewTarget(t, false).SnapshotID
}

func (e *tencentEnv) CreatingSnapshot(t *testing.T, tg Target) string {
	t.Helper()
	s, err := e.srv.AddSnapshot(tencenttest.Snapshot{InstanceID: tg.InstanceID, State: "CREATING", Percent: 20})
	if err != nil {
		t.Fatal(err)
	}
	return s.ID
}

func (e *tencentEnv) MakeBusy(t *testing.T, tg Target, d time.Duration) {
	t.Helper()
	if _, err := e.srv.SetBusy(tg.InstanceID, "ResetInstance", d); err != nil {
		t.Fatal(err)
	}
}

func (e *tencentEnv) FailNextRollback() { e.srv.FailNextRollbacks(1) }

func (e *tencentEnv) LoseNextRollbackResponse() {
	e.srv.AddFault(tencenttest.Fault{Action: "ApplyInstanceSnapshot", DropResponse: true})
}

func (e *tencentEnv) Rollbacks(tg Target) int { return e.srv.RollbacksOf(tg.InstanceID) }

func (e *tencentEnv) Calls(kind string) int {
	if kind == CallDescribe {
		return e.srv.Journal().Count("DescribeInstances") + e.srv.Journal().Count("DescribeSnapshots")
	}
	action := map[string]string{
		CallRollback: "ApplyInstanceSnapshot", CallStop: "StopInstances",
		CallStart: "StartInstances", CallSnapshot: "CreateInstanceSnapshot",
	}[kind]
	return e.srv.Journal().Count(action)
}

func (e *tencentEnv) ForgetTokens() {} // Lighthouse has no tokens

func (e *tencentEnv) OtherActorStart(t *testing.T, tg Target) {
	t.Helper()
	if err := e.srv.ActorStartInstance(tg.InstanceID); err != nil {
		t.Fatal(err)
	}
}

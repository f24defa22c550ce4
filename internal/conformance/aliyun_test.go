package conformance

import (
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/clock"
)

type aliyunEnv struct {
	srv *aliyuntest.Server
	p   *aliyun.Client
}

func newAliyun(t *testing.T, clk clock.Clock, opts ...rollback.Option) Env {
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
	return &aliyunEnv{srv: srv, p: p}
}

func TestAliyun(t *testing.T) { RunSuite(t, newAliyun) }

func (e *aliyunEnv) Name() string                { return "aliyun" }
func (e *aliyunEnv) Provider() rollback.Provider { return e.p }
func (e *aliyunEnv) Region() string              { return aliyuntest.DefaultRegion }

func (e *aliyunEnv) Durations() Durations {
	d := e.srv.Durations()
	return Durations{Stop: d.Stop, Start: d.Start, Rollback: d.Rollback, Snapshot: d.CreateSnapshot}
}

// Request names the disk only: the SWAS way, the instance found from it.
func (e *aliyunEnv) Request(tg Target) rollback.Request {
	return rollback.Request{Region: e.Region(), DiskID: tg.DiskID, SnapshotID: tg.SnapshotID}
}

func (e *aliyunEnv) NewTarget(t *testing.T, running bool) Target {
	status := aliyuntest.StatusStopped
	if running {
		status = aliyuntest.StatusRunning
	}
	in := aliyuntest.Must(e.srv.AddInstance(aliyuntest.InstanceSpec{Status: status}))
	snap := aliyuntest.Must(e.srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: in.SystemDiskID}))
	return Target{InstanceID: in.ID, DiskID: in.SystemDiskID, SnapshotID: snap.ID}
}

func (e *aliyunEnv) OtherDiskSnapshot(t *testing.T) string {
	return e.NewTarget(t, false).SnapshotID
}

func (e *aliyunEnv) CreatingSnapshot(t *testing.T, tg Target) string {
	return aliyuntest.Must(e.srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: tg.DiskID, Status: "Progressing"})).ID
}

func (e *aliyunEnv) MakeBusy(t *testing.T, tg Target, d time.Duration) {
	t.Helper()
	if err := e.srv.SetInstanceBusy(tg.InstanceID, "Upgrading", d); err != nil {
		t.Fatal(err)
	}
}

func (e *aliyunEnv) FailNextRollback() { e.srv.FailNextRollbacks(1) }

func (e *aliyunEnv) LoseNextRollbackResponse() {
	e.srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionResetDisk, DropResponse: true})
}

func (e *aliyunEnv) Rollbacks(tg Target) int { return e.srv.RollbacksOf(tg.DiskID) }

func (e *aliyunEnv) Calls(kind string) int {
	if kind == CallDescribe {
		return e.srv.Calls(aliyuntest.ActionListInstances) + e.srv.Calls(aliyuntest.ActionListInstanceStatus) +
			e.srv.Calls(aliyuntest.ActionListDisks) + e.srv.Calls(aliyuntest.ActionListSnapshots)
	}
	action := map[string]string{
		CallRollback: aliyuntest.ActionResetDisk, CallStop: aliyuntest.ActionStopInstance,
		CallStart: aliyuntest.ActionStartInstance, CallSnapshot: aliyuntest.ActionCreateSnapshot,
	}[kind]
	return e.srv.Calls(action)
}

func (e *aliyunEnv) ForgetTokens() { e.srv.SetTokenWindow(time.Nanosecond) }

func (e *aliyunEnv) OtherActorStart(t *testing.T, tg Target) {
	t.Helper()
	if err := e.srv.ActorStartInstance(tg.InstanceID); err != nil {
		t.Fatal(err)
	}
}

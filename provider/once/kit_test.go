package once_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/invoke"
	"github.com/cloudsnap/rollback/provider/once"
	"github.com/cloudsnap/rollback/provider/sdkhttp"
)

func TestNewEngineAndOn(t *testing.T) {
	clk := clock.NewAutoVirtual(time.Time{})
	o := provider.ResolveOptions(func(o *provider.Options) { o.Clock, o.ReadGrace = clk, 3*time.Second })
	mapErr := func(_ string, err error) error { return err }
	e := once.NewEngine("third", o, mapErr)
	if e.Provider != "third" || e.Clock != clk || e.Grace != 3*time.Second || e.Logger != o.Logger || e.MapError == nil {
		t.Fatalf("NewEngine = %+v", e)
	}
	inv := &invoke.Invoker{Provider: "third", Options: o, MapError: mapErr}
	pool := &sdkhttp.Pool[int]{New: func(*sdkhttp.Binder) (int, error) { return 7, nil }}
	var got invoke.Target
	inv.Options.Hooks.CallStart = func(ctx context.Context, c *provider.CallInfo) context.Context {
		got = invoke.Target{Region: c.Region, InstanceID: c.InstanceID}
		return ctx
	}
	out, err := once.Do(context.Background(), e, once.On(inv, pool, invoke.Target{Region: "r-1", InstanceID: "i-1"}), once.Mutation[int]{
		Op: "Apply",
		Send: func(_ context.Context, c int) (string, error) {
			if c != 7 {
				return "", errors.New("not the pool's client")
			}
			return "req-1", nil
		},
		Witness: func(context.Context) (provider.Evidence, error) { return provider.Evidence{}, nil },
	})
	if err != nil || out.RequestID != "req-1" || out.Sent != 1 {
		t.Fatalf("Do through On = %+v, %v", out, err)
	}
	if got.Region != "r-1" || got.InstanceID != "i-1" {
		t.Errorf("the hooks saw %+v, want the target given to On", got)
	}
}

func TestLatest(t *testing.T) {
	rb := func(rid string) provider.Operation {
		return provider.Operation{Kind: provider.OpRollback, Name: "Rollback", NativeState: "SUCCESS", RequestID: rid}
	}
	base := once.Baseline{Snapshot: rb("old"), Instance: rb("old-i"), HaveInstance: true}
	for _, tc := range []struct {
		name     string
		snap     once.SnapshotRollback
		inst     provider.Operation
		base     once.Baseline
		want     provider.Verdict
		readInst bool
	}{
		{name: "new rollback on the snapshot", snap: once.SnapshotRollback{Op: rb("new")}, base: base, want: provider.OursLanded},
		{name: "it names our instance", snap: once.SnapshotRollback{Op: rb("new"), NamesInstance: true, InstanceID: "i-1"}, base: base, want: provider.OursLanded},
		{name: "it names another", snap: once.SnapshotRollback{Op: rb("new"), NamesInstance: true, InstanceID: "i-2"}, base: base, want: provider.CannotTell},
		{name: "it names none", snap: once.SnapshotRollback{Op: rb("new"), NamesInstance: true}, base: base, want: provider.CannotTell},
		{name: "the baseline's", snap: once.SnapshotRollback{Op: rb("old")}, inst: rb("old-i"), base: base, want: provider.NothingLanded, readInst: true},
		{name: "no request ID", snap: once.SnapshotRollback{Op: rb("")}, base: base, want: provider.NothingLanded, readInst: true},
		{name: "foreign rollback on the instance", snap: once.SnapshotRollback{}, inst: rb("other"), base: base, want: provider.CannotTell, readInst: true},
		{name: "instance's not a rollback", inst: provider.Operation{Kind: provider.OpStart, RequestID: "other"}, base: base, want: provider.NothingLanded, readInst: true},
		{name: "baseline without the instance", inst: rb("other"), base: once.Baseline{Snapshot: rb("old")}, want: provider.NothingLanded, readInst: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.snap.SnapshotID = "snap-1"
			read := false
			ev, in, err := once.Latest(context.Background(), "i-1", tc.base,
				func(context.Context) (once.SnapshotRollback, error) { return tc.snap, nil },
				func(context.Context) (*provider.Instance, error) {
					read = true
					return &provider.Instance{ID: "i-1", LatestOperation: tc.inst}, nil
				})
			if err != nil || ev.Verdict != tc.want || read != tc.readInst || (in != nil) != tc.readInst {
				t.Fatalf("Latest = %v (%s), instance %v, read %v, %v; want %v, read %v", ev.Verdict, ev.Detail, in, read, err, tc.want, tc.readInst)
			}
			if tc.want == provider.CannotTell && tc.readInst && !strings.Contains(ev.Detail, "another rollback") {
				t.Errorf("detail %q", ev.Detail)
			}
		})
	}
	bad := errors.New("read failed")
	if _, _, err := once.Latest(context.Background(), "i-1", base,
		func(context.Context) (once.SnapshotRollback, error) { return once.SnapshotRollback{}, bad }, nil); !errors.Is(err, bad) {
		t.Errorf("a failed snapshot read: %v", err)
	}
}

// The check reuses the instance the witness read, and reads it itself
// only when the witness did not.
func TestLatestRollbackCheckReusesWitnessRead(t *testing.T) {
	reads := 0
	refuse := errors.New("running")
	state := provider.InstanceStopped
	w, check := once.LatestRollback("i-1", once.Baseline{HaveInstance: true},
		func(context.Context) (once.SnapshotRollback, error) {
			return once.SnapshotRollback{SnapshotID: "snap-1"}, nil
		},
		func(context.Context) (*provider.Instance, error) {
			reads++
			return &provider.Instance{ID: "i-1", State: state}, nil
		},
		func(in *provider.Instance) error {
			if in.State != provider.InstanceStopped {
				return refuse
			}
			return nil
		})
	ctx := context.Background()
	if ev, err := w(ctx); err != nil || ev.Verdict != provider.NothingLanded || reads != 1 {
		t.Fatalf("witness: %+v, %v, %d reads", ev, err, reads)
	}
	if err := check(ctx); err != nil || reads != 1 {
		t.Fatalf("check after a witness: %v, %d reads; want no second read", err, reads)
	}
	state = provider.InstanceRunning
	if err := check(ctx); !errors.Is(err, refuse) || reads != 2 {
		t.Fatalf("check without a witness: %v, %d reads; want a fresh read and a refusal", err, reads)
	}
}

func TestReached(t *testing.T) {
	in := &provider.Instance{ID: "i-1", State: provider.InstanceStopping, NativeState: "STOPPING",
		LatestOperation: provider.Operation{Name: "StopInstances", RequestID: "req-1"}}
	read := func(context.Context) (*provider.Instance, error) { return in, nil }
	w := once.Reached(read, "StopInstances", provider.InstanceStopping, provider.InstanceStopped)
	if ev, err := w(context.Background()); err != nil || ev.Verdict != provider.OursLanded || ev.RequestID != "req-1" {
		t.Fatalf("stopping: %+v, %v", ev, err)
	}
	in.LatestOperation.Name = "RebootInstances"
	if ev, _ := w(context.Background()); ev.Verdict != provider.OursLanded || ev.RequestID != "" {
		t.Fatalf("another latest operation: %+v; want landed without its request ID", ev)
	}
	in.State = provider.InstanceRunning
	if ev, _ := w(context.Background()); ev.Verdict != provider.NothingLanded {
		t.Fatalf("running: %+v", ev)
	}
	bad := errors.New("read failed")
	if _, err := once.Reached(func(context.Context) (*provider.Instance, error) { return nil, bad }, "x")(context.Background()); !errors.Is(err, bad) {
		t.Fatalf("a failed read: %v", err)
	}
}

func TestNewSnapshot(t *testing.T) {
	old := &provider.Snapshot{ID: "snap-old", Name: "nightly"}
	listed := []*provider.Snapshot{old}
	list := func(context.Context) ([]*provider.Snapshot, error) { return listed, nil }
	var got string
	w := once.NewSnapshot([]*provider.Snapshot{old}, "nightly", list, func(sn *provider.Snapshot) { got = sn.ID })
	if ev, err := w(context.Background()); err != nil || ev.Verdict != provider.NothingLanded || got != "" {
		t.Fatalf("only the old one: %+v, %v, found %q", ev, err, got)
	}
	listed = append(listed, &provider.Snapshot{ID: "snap-other", Name: "manual"},
		&provider.Snapshot{ID: "snap-new", Name: "nightly", LatestOperation: provider.Operation{RequestID: "req-1"}})
	if ev, err := w(context.Background()); err != nil || ev.Verdict != provider.OursLanded || ev.RequestID != "req-1" || got != "snap-new" {
		t.Fatalf("a new one of the name: %+v, %v, found %q", ev, err, got)
	}
	any := once.NewSnapshot([]*provider.Snapshot{old}, "", list, nil)
	if ev, _ := any(context.Background()); ev.Verdict != provider.OursLanded || ev.Detail != "new snapshot snap-other" {
		t.Fatalf("no name: %+v; want the first new one", ev)
	}
	bad := errors.New("list failed")
	if _, err := once.NewSnapshot(nil, "", func(context.Context) ([]*provider.Snapshot, error) { return nil, bad }, nil)(context.Background()); !errors.Is(err, bad) {
		t.Fatalf("a failed list: %v", err)
	}
}

func TestRecord(t *testing.T) {
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))
	res := &provider.Result{}
	got, err := once.Record(context.Background(), log, res, once.Outcome{RequestID: "req-1", Sent: 2, Adopted: true}, nil)
	if err != nil || got != res || res.Attempts != 2 || res.RequestID != "req-1" || !res.Adopted {
		t.Fatalf("success: %+v, %v", got, err)
	}
	if !strings.Contains(logs.String(), "rollback accepted") || !strings.Contains(logs.String(), "request_id=req-1") {
		t.Errorf("logs: %s", logs.String())
	}
	res, bad := &provider.Result{}, errors.New("refused")
	if got, err := once.Record(context.Background(), log, res, once.Outcome{Sent: 1}, bad); got != nil || !errors.Is(err, bad) || res.Attempts != 1 {
		t.Fatalf("failure: %+v, %v, attempts %d", got, err, res.Attempts)
	}
	if !strings.Contains(logs.String(), "rollback failed") {
		t.Errorf("logs: %s", logs.String())
	}
	if _, err := once.Record(context.Background(), nil, &provider.Result{}, once.Outcome{}, nil); err != nil {
		t.Fatalf("no logger: %v", err)
	}
}

package providertest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/provider"
)

// Optional capabilities: each scenario is skipped when the provider lacks
// the capability, and says so.

func skipWithout(t *testing.T, has bool, iface string) {
	t.Helper()
	if !has {
		t.Skipf("the provider is no rollback.%s", iface)
	}
}

// batchInstancesAgree: a batched read returns what single reads return,
// once per instance, and leaves out instances that do not exist.
func batchInstancesAgree(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	c := capabilitiesOf(h.Provider())
	skipWithout(t, c.batch != nil, "BatchInspector")
	tgs := []Target{h.NewTarget(t, false), h.NewTarget(t, true), h.NewTarget(t, false)}
	if b, ok := h.(BusyMaker); ok {
		b.MakeBusy(t, tgs[2], time.Hour) // a busy one too, when the harness can
	}
	ids := []string{tgs[0].InstanceID, tgs[1].InstanceID, tgs[2].InstanceID}
	if a, ok := h.(AbsentTargets); ok {
		ids = append(ids, a.AbsentTarget().InstanceID)
	}
	ctx, reg := context.Background(), region(h, tgs[0])
	got, err := c.batch.Instances(ctx, reg, ids)
	if err != nil {
		t.Fatalf("Instances: %v", err)
	}
	byID := map[string]*rollback.Instance{}
	for _, in := range got {
		if byID[in.ID] != nil {
			t.Errorf("instance %s returned twice", in.ID)
		}
		byID[in.ID] = in
	}
	if len(got) != len(tgs) {
		t.Errorf("%d instances returned for %d that exist", len(got), len(tgs))
	}
	for _, tg := range tgs {
		one, err := h.Provider().Instance(ctx, reg, tg.InstanceID)
		if err != nil {
			t.Fatalf("Instance %s: %v", tg.InstanceID, err)
		}
		if !reflect.DeepEqual(byID[tg.InstanceID], one) {
			t.Errorf("batched read of %s:\n  %+v\nsingle read:\n  %+v", tg.InstanceID, byID[tg.InstanceID], one)
		}
	}
}

// batchSnapshotsAgree: the same for snapshots.
func batchSnapshotsAgree(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	c := capabilitiesOf(h.Provider())
	skipWithout(t, c.batchSnaps != nil, "BatchSnapshotInspector")
	tgs := []Target{h.NewTarget(t, false), h.NewTarget(t, false)}
	ids := []string{tgs[0].SnapshotID, tgs[1].SnapshotID}
	if a, ok := h.(AbsentTargets); ok {
		ids = append(ids, a.AbsentTarget().SnapshotID)
	}
	ctx, reg := context.Background(), region(h, tgs[0])
	got, err := c.batchSnaps.Snapshots(ctx, reg, ids)
	if err != nil {
		t.Fatalf("Snapshots: %v", err)
	}
	if len(got) != len(tgs) {
		t.Errorf("%d snapshots returned for %d that exist", len(got), len(tgs))
	}
	for _, s := range got {
		one, err := h.Provider().Snapshot(ctx, reg, s.ID)
		if err != nil {
			t.Fatalf("Snapshot %s: %v", s.ID, err)
		}
		if !reflect.DeepEqual(s, one) {
			t.Errorf("batched read of %s:\n  %+v\nsingle read:\n  %+v", s.ID, s, one)
		}
	}
}

// diskReads: a disk names its instance and is its system disk.
func diskReads(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	c := capabilitiesOf(h.Provider())
	skipWithout(t, c.disks != nil, "DiskInspector")
	tg := h.NewTarget(t, false)
	ctx, reg := context.Background(), region(h, tg)
	d, err := c.disks.Disk(ctx, reg, tg.DiskID)
	if err != nil {
		t.Fatalf("Disk: %v", err)
	}
	if d.ID != tg.DiskID || d.InstanceID != tg.InstanceID || !d.System || d.Busy || d.Region != reg {
		t.Errorf("disk %+v, want system disk %s of %s in %s, idle", d, tg.DiskID, tg.InstanceID, reg)
	}
	if a, ok := h.(AbsentTargets); ok {
		_, err := c.disks.Disk(ctx, reg, a.AbsentTarget().DiskID)
		wantErr(t, err, rollback.ErrDiskNotFound)
	}
}

// absentResources: reads of resources that do not exist are the typed
// not-found errors, and a Run to a missing snapshot sends nothing.
func absentResources(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	absent := need[AbsentTargets](t, h).AbsentTarget()
	tg := h.NewTarget(t, false)
	ctx, reg := context.Background(), region(h, tg)
	_, err := h.Provider().Instance(ctx, reg, absent.InstanceID)
	wantErr(t, err, rollback.ErrInstanceNotFound)
	_, err = h.Provider().Snapshot(ctx, reg, absent.SnapshotID)
	wantErr(t, err, rollback.ErrSnapshotNotFound)
	req := h.Request(tg)
	req.SnapshotID = absent.SnapshotID
	_, err = rollback.Run(ctx, h.Provider(), req, opts(clk))
	wantErr(t, err, rollback.ErrSnapshotNotFound)
	if n := sent(h); n != 0 {
		t.Errorf("%d changing calls for a snapshot that does not exist", n)
	}
}

// preflightMakesNoReads: given the state its caller has just read, the
// rollback makes no reads of its own, and its baseline is that state.
func preflightMakesNoReads(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	c := capabilitiesOf(h.Provider())
	skipWithout(t, c.preflight != nil, "PreflightRoller")
	tg := h.NewTarget(t, false)
	ctx, reg := context.Background(), region(h, tg)
	inst, err := h.Provider().Instance(ctx, reg, tg.InstanceID)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := h.Provider().Snapshot(ctx, reg, tg.SnapshotID)
	if err != nil {
		t.Fatal(err)
	}
	reads := h.Calls(CallDescribe)
	res, err := c.preflight.RollbackWithPreflight(ctx, h.Request(tg), provider.Preflight{Instance: inst, Snapshot: snap})
	if err != nil {
		t.Fatalf("RollbackWithPreflight: %v", err)
	}
	if n := h.Calls(CallDescribe) - reads; n != 0 {
		t.Errorf("%d reads made despite the pre-flight state", n)
	}
	wantRollbacks(t, h, tg, 1)
	if res.Before != snap || res.InstanceID != tg.InstanceID {
		t.Errorf("result %+v: want the pre-flight snapshot as its baseline and instance %s", res, tg.InstanceID)
	}
}

// preflightStillChecks: the pre-flight state goes through the same
// checks as a read one: a snapshot of another disk, or a running
// instance, is refused and nothing is sent.
func preflightStillChecks(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	c := capabilitiesOf(h.Provider())
	skipWithout(t, c.preflight != nil, "PreflightRoller")
	tg, other := h.NewTarget(t, false), h.NewTarget(t, false)
	ctx, reg := context.Background(), region(h, tg)
	inst, _ := h.Provider().Instance(ctx, reg, tg.InstanceID)
	own, err := h.Provider().Snapshot(ctx, reg, tg.SnapshotID)
	if err != nil {
		t.Fatal(err)
	}
	// The snapshot as read, but taken from the other target's disk.
	foreign := *own
	foreign.DiskID, foreign.InstanceID = other.DiskID, other.InstanceID
	_, err = c.preflight.RollbackWithPreflight(ctx, h.Request(tg), provider.Preflight{Instance: inst, Snapshot: &foreign})
	wantErr(t, err, rollback.ErrSnapshotMismatch)
	running := *inst
	running.State, running.NativeState = rollback.InstanceRunning, "running (pre-flight)"
	_, err = c.preflight.RollbackWithPreflight(ctx, h.Request(tg), provider.Preflight{Instance: &running, Snapshot: own})
	// A provider may take the instance from the pre-flight (and refuse
	// it) or read it itself (SWAS reads only the snapshot).
	if err != nil && !errors.Is(err, rollback.ErrInstanceState) {
		t.Errorf("a pre-flight showing a running instance: %v, want ErrInstanceState or a rollback of the instance as read", err)
	}
	if err != nil {
		wantRollbacks(t, h, tg, 0)
		if n := h.Calls(CallRollback); n != 0 {
			t.Errorf("%d rollback calls despite the refusals", n)
		}
	}
	if h.Rollbacks(other) != 0 {
		t.Error("the other disk was rolled back")
	}
}

// badRequestsSendNothing: a request with a field missing or malformed is
// ErrInvalidArgument, naming the field, before anything is sent, from
// Run, from the Roller and from the provider's own validator.
func badRequestsSendNothing(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	c := capabilitiesOf(h.Provider())
	tg := h.NewTarget(t, false)
	good := h.Request(tg)
	cases := []struct {
		name, field string
		edit        func(*rollback.Request)
		validator   bool // only a RequestValidator is sure to catch it
	}{
		{"empty region", "Region", func(r *rollback.Request) { r.Region = "" }, false},
		{"empty snapshot", "SnapshotID", func(r *rollback.Request) { r.SnapshotID = "" }, false},
		{"malformed snapshot", "SnapshotID", func(r *rollback.Request) { r.SnapshotID = "not a snapshot/../id" }, true},
		{"malformed token", "ClientToken", func(r *rollback.Request) { r.ClientToken = "has spaces\n" }, false},
	}
	for _, tc := range cases {
		if tc.validator && c.validator == nil {
			continue
		}
		req := good
		tc.edit(&req)
		_, runErr := rollback.Run(context.Background(), h.Provider(), req, opts(clk))
		_, rollErr := h.Provider().Rollback(context.Background(), req)
		errs := map[string]error{"Run": runErr, "Rollback": rollErr}
		if c.validator != nil {
			errs["ValidateRequest"] = c.validator.ValidateRequest(req)
		}
		for who, err := range errs {
			var e *rollback.Error
			if !errors.Is(err, rollback.ErrInvalidArgument) || !errors.As(err, &e) || e.Field != tc.field {
				t.Errorf("%s, %s: %v; want ErrInvalidArgument naming %s", tc.name, who, err, tc.field)
			}
		}
	}
	if c.validator != nil {
		if err := c.validator.ValidateRequest(good); err != nil {
			t.Errorf("ValidateRequest refused a good request: %v", err)
		}
	}
	if n := sent(h) + h.Calls(CallDescribe); n != 0 {
		t.Errorf("%d calls sent for bad requests; want none", n)
	}
}

// witnessVerdicts: nothing landed before a rollback, ours landed after
// it, and another actor's rollback of another snapshot is never ours.
func witnessVerdicts(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk, rollback.WithReadGrace(witnessGrace))
	c := capabilitiesOf(h.Provider())
	skipWithout(t, c.witness != nil, "RollbackWitness")
	tg := h.NewTarget(t, false)
	ctx, req := context.Background(), h.Request(tg)
	before, err := h.Provider().Snapshot(ctx, req.Region, tg.SnapshotID)
	if err != nil {
		t.Fatal(err)
	}
	verdict := func(since time.Time) provider.Evidence {
		t.Helper()
		ev, err := c.witness.WitnessRollback(ctx, req, before, since)
		if err != nil {
			t.Fatalf("WitnessRollback: %v", err)
		}
		return ev
	}
	since := clk.Now()
	if ev := verdict(since); ev.Verdict != provider.NothingLanded {
		t.Errorf("before any rollback: %v (%s), want nothing landed", ev.Verdict, ev.Detail)
	}
	if clk.Now().Sub(since) < witnessGrace {
		t.Errorf("nothing landed judged %v after the last attempt; a reading must wait out the read grace", clk.Now().Sub(since))
	}
	res, err := h.Provider().Rollback(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rollback.WaitRollback(ctx, h.Provider(), req.Region, res, rollback.WaitOptions{Clock: clk, Learner: &rollback.Learner{}}); err != nil {
		t.Fatal(err)
	}
	if ev := verdict(res.SentAt); ev.Verdict != provider.OursLanded {
		t.Errorf("after our rollback: %v (%s), want ours landed", ev.Verdict, ev.Detail)
	}
	if _, ok := h.(OtherActor); !ok {
		return
	}
	tg2 := h.NewTarget(t, false)
	req2 := h.Request(tg2)
	before, err = h.Provider().Snapshot(ctx, req2.Region, tg2.SnapshotID)
	if err != nil {
		t.Fatal(err)
	}
	since = clk.Now()
	if err := need[OtherActor](t, h).OtherActorRollback(tg2); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour) // it ends
	ev, err := c.witness.WitnessRollback(ctx, req2, before, since)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Verdict == provider.OursLanded {
		t.Errorf("another actor's rollback of another snapshot judged ours (%s)", ev.Detail)
	}
}

// witnessGrace is the read grace the witness's client is built with
// (rollback.WithReadGrace): a reading that shows nothing proves nothing
// until it has passed.
const witnessGrace = 42 * time.Second

// operationMarks: a key has no mark until one is written; a mark reads
// back with its baseline and names only its key; marking sends no
// rollback.
func operationMarks(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	c := capabilitiesOf(h.Provider())
	skipWithout(t, c.marker != nil, "OperationMarker")
	tg := h.NewTarget(t, false)
	ctx, req := context.Background(), h.Request(tg)
	before, err := h.Provider().Snapshot(ctx, req.Region, tg.SnapshotID)
	if err != nil {
		t.Fatal(err)
	}
	const key = "ticket-4711 for customer Example Corp"
	if m, err := c.marker.OperationMark(ctx, req, key); err != nil || m != nil {
		t.Fatalf("mark before marking: %+v, %v; want none", m, err)
	}
	marked := clk.Now()
	if err := c.marker.MarkOperation(ctx, req, key, before); err != nil {
		t.Fatalf("MarkOperation: %v", err)
	}
	m, err := c.marker.OperationMark(ctx, req, key)
	if err != nil || m == nil || m.Before == nil {
		t.Fatalf("mark after marking: %+v, %v", m, err)
	}
	if m.Before.ID != before.ID || !m.Before.LastRollbackAt.Equal(before.LastRollbackAt) ||
		m.Before.LatestOperation.RequestID != before.LatestOperation.RequestID {
		t.Errorf("mark's baseline %+v, want %+v", m.Before, before)
	}
	if !m.At.IsZero() && (m.At.Before(marked.Add(-time.Second)) || m.At.After(clk.Now().Add(time.Second))) {
		t.Errorf("mark written at %v, outside [%v, %v]", m.At, marked, clk.Now())
	}
	if m, err := c.marker.OperationMark(ctx, req, "another key"); err != nil || m != nil {
		t.Errorf("another key's mark: %+v, %v; want none", m, err)
	}
	if h.Calls(CallRollback) != 0 || h.Rollbacks(tg) != 0 {
		t.Error("marking sent a rollback")
	}
}

// priorsSane: every prior a provider declares is a window that makes
// sense, and a provider that declares priors has at least one.
func priorsSane(t *testing.T, f Factory) {
	h := f(t, auto())
	c := capabilitiesOf(h.Provider())
	skipWithout(t, c.priors != nil, "WaitPriors")
	ops := []string{"rollback", "snapshot"}
	for _, w := range []rollback.InstanceWait{rollback.UntilStopped, rollback.UntilRunning, rollback.UntilIdle} {
		ops = append(ops, "instance-"+w.Name)
	}
	var have []string
	for _, op := range ops {
		lo, hi, ok := c.priors.WaitPrior(op)
		if !ok {
			continue
		}
		have = append(have, op)
		if lo < 0 || hi <= 0 || lo > hi || hi > 24*time.Hour {
			t.Errorf("prior for %s: [%v, %v], want 0 <= lo <= hi, 0 < hi <= 24h", op, lo, hi)
		}
	}
	if len(have) == 0 {
		t.Errorf("WaitPriors gives no prior for any of %s", strings.Join(ops, ", "))
	}
	if _, _, ok := c.priors.WaitPrior("no-such-operation"); ok {
		t.Error("a prior for an operation that does not exist")
	}
}

// ownCheckpoints: a provider that keeps checkpoints keeps those of the
// Runs made with it, so a second Run of a key resumes from them.
func ownCheckpoints(t *testing.T, f Factory) {
	clk := auto()
	h := f(t, clk)
	c := capabilitiesOf(h.Provider())
	skipWithout(t, c.checkpointing != nil, "Capabilities.Checkpoints")
	store := c.checkpointing
	if store == nil {
		t.Fatal("Checkpoints() is nil")
	}
	tg := h.NewTarget(t, false)
	req := h.Request(tg)
	req.OperationKey = "held-by-the-client"
	mustRun(t, h, req, opts(clk)) // no RunOptions.Checkpoints
	cp, err := store.Load(context.Background(), req.OperationKey)
	if err != nil || cp == nil || cp.Phase != rollback.PhaseDone {
		t.Fatalf("the client's checkpoint: %+v, %v; want done", cp, err)
	}
	rep := mustRun(t, h, req, opts(clk))
	if !rep.Resumed || h.Calls(CallRollback) != 1 {
		t.Errorf("second Run: resumed %v, %d rollback calls", rep.Resumed, h.Calls(CallRollback))
	}
}

// quotasKept: every quota a provider declares (Capabilities.Quotas) is a
// positive window on a mutating kind, and the client's own pace of each
// mutating call, as it hands it to a shared rollback.Limiter, keeps to the
// declared quota of the call's kind: no more calls at once, and no faster.
func quotasKept(t *testing.T, f Factory) {
	clk := auto()
	rec := &limitRecorder{}
	h := f(t, clk, rollback.WithLimiter(rec))
	quotas := h.Provider().Capabilities().Quotas
	if len(quotas) == 0 {
		t.Skip("the provider declares no Capabilities.Quotas")
	}
	for k, q := range quotas {
		if !slices.Contains(provider.MutatingKinds, k) {
			t.Errorf("quota for %q, which is no mutating kind (provider.MutatingKinds)", k)
		}
		if q.Calls <= 0 || q.Per <= 0 || q.Per > 24*time.Hour {
			t.Errorf("quota for %s: %d per %v, want > 0 calls per (0, 24h]", k, q.Calls, q.Per)
		}
	}
	rec.h = h
	tg := h.NewTarget(t, true)
	o := opts(clk)
	o.StopIfRunning, o.StartAfter, o.SafetySnapshot = true, true, true
	mustRun(t, h, h.Request(tg), o)
	kinds := map[Call]provider.OperationKind{CallStop: provider.OpStop, CallStart: provider.OpStart,
		CallRollback: provider.OpRollback, CallSnapshot: provider.OpCreateSnapshot}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.calls) == 0 {
		t.Error("the provider declares quotas but its client paces no mutating call")
	}
	for i, c := range rec.calls {
		// The kind of call i is the counter that moved before the next
		// wait (or the end of the run): the call waited, then was sent.
		next := rec.counts(h)
		if i+1 < len(rec.calls) {
			next = rec.calls[i+1].before
		}
		for call, kind := range kinds {
			if next[call] == c.before[call] {
				continue
			}
			q, ok := quotas[kind]
			if !ok {
				continue
			}
			if c.Calls > q.Calls || float64(c.Calls)/c.Per.Seconds() > float64(q.Calls)/q.Per.Seconds()*(1+1e-9) {
				t.Errorf("%s (%s) is paced at %d per %v, beyond the declared quota of %d per %v", c.Op, kind, c.Calls, c.Per, q.Calls, q.Per)
			}
		}
	}
}

// limitRecorder is a rollback.Limiter that lets every call through and
// records the pace the client asked for, with the harness's counts of
// mutating calls at that moment.
type limitRecorder struct {
	mu    sync.Mutex
	h     Harness
	calls []recordedCall
}

type recordedCall struct {
	provider.LimitedCall
	before map[Call]int
}

func (r *limitRecorder) counts(h Harness) map[Call]int {
	m := map[Call]int{}
	for _, c := range []Call{CallStop, CallStart, CallRollback, CallSnapshot} {
		m[c] = h.Calls(c)
	}
	return m
}

func (r *limitRecorder) Wait(ctx context.Context, c provider.LimitedCall) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.h != nil {
		r.calls = append(r.calls, recordedCall{c, r.counts(r.h)})
	}
	return ctx.Err()
}

package memprovider

import (
	"time"

	"github.com/cloudsnap/rollback/provider"
)

// The state machine, the emulators' in miniature: every resource has a
// stable state word, the latest operation that touched it and, while one
// runs, its activity. Nothing changes on a goroutine: every read settles
// activities whose end has passed on the provider's clock, so time may be
// virtual and runs are deterministic.

// Native instance states (Instance.NativeState).
const (
	StateRunning     = "Running"
	StateStopped     = "Stopped"
	StateStarting    = "Starting"
	StateStopping    = "Stopping"
	StateRollingBack = "RollingBack"
)

// Native snapshot states (Snapshot.NativeState).
const (
	SnapshotReady       = "Ready"
	SnapshotCreating    = "Creating"
	SnapshotRollingBack = "RollingBack"
)

// Operation names (Operation.Name) the provider records.
const (
	OpRollback       = "Rollback"
	OpStop           = "StopInstance"
	OpStart          = "StartInstance"
	OpCreateSnapshot = "CreateSnapshot"
	OpMaintenance    = "Maintenance" // SetBusy
)

// Native operation states (Operation.NativeState).
const (
	OperationOperating = "Operating"
	OperationSuccess   = "Success"
	OperationFailed    = "Failed"
)

// activity is an operation in progress.
type activity struct {
	start, end time.Time
	via        string // the state shown until end
	final      string // the state after end; "" keeps the current one
	failed     bool
	lag        time.Duration // read lag in force when it began: its end shows this much later
	onEnd      func(end time.Time, failed bool)
}

// fields are what reads show of a resource and what read lag holds back.
type fields struct {
	state      string
	op         op
	percent    int       // snapshots
	rollbackAt time.Time // snapshots: the last successful rollback to it
}

// op is a latest operation.
type op struct {
	name, state, requestID string
}

// lagged is a change that reads do not show yet: until then they show the
// fields as they were just before at.
type lagged struct {
	at, until time.Time
	f         fields
}

// resource is what instances and snapshots share.
type resource struct {
	f    fields
	act  *activity
	lags []lagged
}

// settle folds an activity that has ended into the stored fields.
func (r *resource) settle(now time.Time) {
	a := r.act
	if a == nil || now.Before(a.end) {
		return
	}
	if a.lag > 0 {
		r.lags = append(r.lags, lagged{at: a.end, until: a.end.Add(a.lag), f: r.viewAt(a.end.Add(-time.Nanosecond))})
	}
	if a.final != "" {
		r.f.state = a.final
	}
	r.f.op.state = OperationSuccess
	if a.failed {
		r.f.op.state = OperationFailed
	}
	r.act = nil
	if a.onEnd != nil {
		a.onEnd(a.end, a.failed)
	}
}

// view is the real state at now.
func (r *resource) view(now time.Time) fields {
	r.settle(now)
	if r.act == nil {
		return r.f
	}
	return r.viewAt(now)
}

// viewAt is the view at t while the activity runs.
func (r *resource) viewAt(t time.Time) fields {
	f := r.f
	f.op.state = OperationOperating
	f.state = r.act.via
	if total := r.act.end.Sub(r.act.start); f.state == SnapshotCreating && total > 0 {
		f.percent = min(99, f.percent+int(float64(100-f.percent)*float64(t.Sub(r.act.start))/float64(total)))
	}
	return f
}

// shown is what reads show at now: the real view, or the fields from
// before the oldest change that read lag still hides.
func (r *resource) shown(now time.Time) fields {
	f := r.view(now)
	kept := r.lags[:0]
	var oldest *lagged
	for _, l := range r.lags {
		if now.Before(l.until) {
			kept = append(kept, l)
		}
	}
	r.lags = kept
	for i := range kept {
		if oldest == nil || kept[i].at.Before(oldest.at) {
			oldest = &kept[i]
		}
	}
	if oldest != nil {
		return oldest.f
	}
	return f
}

// busy reports an operation in progress.
func (r *resource) busy(now time.Time) bool {
	r.settle(now)
	return r.act != nil
}

// change records, when reads lag, the fields as they are before a change.
func (r *resource) change(now time.Time, lag time.Duration) {
	if lag > 0 {
		r.lags = append(r.lags, lagged{at: now, until: now.Add(lag), f: r.view(now)})
	}
}

// begin starts an operation.
func (r *resource) begin(name, rid string, now time.Time, d time.Duration, via, final string, failed bool, lag time.Duration) *activity {
	r.change(now, lag)
	r.f.op = op{name: name, state: OperationOperating, requestID: rid}
	r.act = &activity{start: now, end: now.Add(d), via: via, final: final, failed: failed, lag: lag}
	return r.act
}

type instance struct {
	resource
	seq          int
	id, region   string
	name         string
	diskID       string
	diskSize     int
	marks        map[string]markRecord
	markOrder    []string
	rollbackedBy int // rollbacks applied to it
}

type snapshot struct {
	resource
	seq        int
	id, region string
	name       string
	instanceID string
	diskID     string
	created    time.Time
}

// markRecord is an operation mark kept on an instance's disk.
type markRecord struct {
	before provider.Snapshot
	at     time.Time
}

var instanceStates = map[string]provider.InstanceState{
	StateRunning:     provider.InstanceRunning,
	StateStopped:     provider.InstanceStopped,
	StateStarting:    provider.InstanceStarting,
	StateStopping:    provider.InstanceStopping,
	StateRollingBack: provider.InstanceRollingBack,
}

var snapshotStates = map[string]provider.SnapshotState{
	SnapshotReady:       provider.SnapshotReady,
	SnapshotCreating:    provider.SnapshotCreating,
	SnapshotRollingBack: provider.SnapshotRollingBack,
}

var opKinds = map[string]provider.OperationKind{
	OpRollback:       provider.OpRollback,
	OpStop:           provider.OpStop,
	OpStart:          provider.OpStart,
	OpCreateSnapshot: provider.OpCreateSnapshot,
}

var opStates = map[string]provider.OperationState{
	OperationOperating: provider.OperationRunning,
	OperationSuccess:   provider.OperationSucceeded,
	OperationFailed:    provider.OperationFailed,
}

func (o op) normalize() provider.Operation {
	if o.name == "" {
		return provider.Operation{}
	}
	kind, ok := opKinds[o.name]
	if !ok {
		kind = provider.OpOther
	}
	return provider.Operation{Kind: kind, Name: o.name, State: opStates[o.state], NativeState: o.state, RequestID: o.requestID}
}

// normalize renders fields of in as a rollback.Instance.
func (in *instance) normalize(f fields) *provider.Instance {
	st, ok := instanceStates[f.state]
	if !ok {
		st = provider.InstanceUnknown
	}
	return &provider.Instance{
		Provider: Name, Region: in.region, ID: in.id, Name: in.name,
		State: st, NativeState: f.state, Busy: f.op.state == OperationOperating,
		SystemDiskID: in.diskID, LatestOperation: f.op.normalize(),
	}
}

func (sn *snapshot) normalize(f fields) *provider.Snapshot {
	st, ok := snapshotStates[f.state]
	if !ok {
		st = provider.SnapshotUnknown
	}
	return &provider.Snapshot{
		Provider: Name, Region: sn.region, ID: sn.id, Name: sn.name,
		DiskID: sn.diskID, InstanceID: sn.instanceID, State: st, NativeState: f.state,
		Progress: f.percent, CreatedAt: sn.created, LastRollbackAt: f.rollbackAt,
		LatestOperation: f.op.normalize(),
	}
}

package tencenttest

import "time"

// Instance states (InstanceState), as Lighthouse reports them.
const (
	StatePending      = "PENDING"
	StateLaunchFailed = "LAUNCH_FAILED"
	StateRunning      = "RUNNING"
	StateStopped      = "STOPPED"
	StateStarting     = "STARTING"
	StateStopping     = "STOPPING"
	StateRebooting    = "REBOOTING"
	StateShutdown     = "SHUTDOWN"
	StateTerminating  = "TERMINATING"
)

// Snapshot states (SnapshotState).
const (
	SnapshotNormal      = "NORMAL"
	SnapshotCreating    = "CREATING"
	SnapshotRollbacking = "ROLLBACKING"
)

// Operation states (LatestOperationState).
const (
	OperationOperating = "OPERATING"
	OperationSuccess   = "SUCCESS"
	OperationFailed    = "FAILED"
)

// Operation names (LatestOperation) the emulator records.
const (
	OpApplyInstanceSnapshot    = "ApplyInstanceSnapshot"
	OpRollbackInstanceSnapshot = "RollbackInstanceSnapshot"
	OpCreateInstanceSnapshot   = "CreateInstanceSnapshot"
	OpStopInstances            = "StopInstances"
	OpStartInstances           = "StartInstances"
	OpRebootInstances          = "RebootInstances"
	OpCreateInstances          = "CreateInstances"
)

// operation is a resource's LatestOperation* triple.
type operation struct {
	name, state, requestID string
}

// phase is a state a resource shows until a time.
type phase struct {
	until time.Time
	state string
}

// activity is an operation in progress. State is never updated by a
// goroutine: every read settles activities whose end has passed on the
// emulator clock, so time can be virtual.
type activity struct {
	start, end time.Time
	phases     []phase // the states shown before end, in order
	final      string  // the state after end; "" keeps the current one
	failed     bool    // the operation ends FAILED instead of SUCCESS
	// startPercent is where Percent starts (snapshots).
	startPercent int64
	// lag is the read lag in effect when the operation began: its end is
	// shown to reads this much later (see WithReadLag).
	lag time.Duration
}

// lagView is what reads show of a resource until a change made at at
// becomes visible at until: the fields as they were just before it.
type lagView struct {
	at, until time.Time
	state     string
	op        operation
	percent   int64 // snapshots only
}

// resource is what instances and snapshots share: a state, the latest
// operation and, while one runs, its activity.
type resource struct {
	state string
	op    operation
	act   *activity
	lags  []lagView // changes not yet visible to reads
}

// settle folds a finished activity into the stored state.
func (r *resource) settle(now time.Time) {
	if r.act == nil || now.Before(r.act.end) {
		return
	}
	if r.act.lag > 0 {
		// Reads go on showing the operation running until end+lag.
		st, op := r.viewAt(r.act.end.Add(-time.Nanosecond))
		r.lags = append(r.lags, lagView{at: r.act.end, until: r.act.end.Add(r.act.lag), state: st, op: op, percent: 99})
	}
	if r.act.final != "" {
		r.state = r.act.final
	}
	r.op.state = OperationSuccess
	if r.act.failed {
		r.op.state = OperationFailed
	}
	r.act = nil
}

// view returns the state and operation shown at now (after settle).
func (r *resource) view(now time.Time) (string, operation) {
	r.settle(now)
	if r.act == nil {
		return r.state, r.op
	}
	return r.viewAt(now)
}

// viewAt is the view at t while the activity runs (t before its end).
func (r *resource) viewAt(t time.Time) (string, operation) {
	op := r.op
	op.state = OperationOperating
	for _, p := range r.act.phases {
		if t.Before(p.until) {
			return p.state, op
		}
	}
	if r.act.final != "" {
		return r.act.final, op
	}
	return r.state, op
}

// lagged returns the view reads show at now instead of the real one, if a
// change is still hidden by the read lag: the oldest such change wins, so
// reads show the fields from before it.
func (r *resource) lagged(now time.Time) (lagView, bool) {
	r.settle(now)
	kept := r.lags[:0]
	for _, l := range r.lags {
		if now.Before(l.until) {
			kept = append(kept, l)
		}
	}
	r.lags = kept
	if len(kept) == 0 {
		r.lags = nil
		return lagView{}, false
	}
	first := kept[0]
	for _, l := range kept[1:] {
		if l.at.Before(first.at) {
			first = l
		}
	}
	return first, true
}

// busy reports an operation in progress at now.
func (r *resource) busy(now time.Time) bool {
	r.settle(now)
	return r.act != nil
}

// begin starts an operation named name, requested by requestID, showing
// phases and ending at end in final.
func (r *resource) begin(name, requestID string, start, end time.Time, phases []phase, final string, failed bool) {
	r.op = operation{name: name, state: OperationOperating, requestID: requestID}
	r.act = &activity{start: start, end: end, phases: phases, final: final, failed: failed}
}

// percent is a snapshot's progress at now: 100 when idle, else linear over
// the activity from its starting percentage.
func (r *resource) percent(now time.Time, idle int64) int64 {
	r.settle(now)
	if r.act == nil {
		return idle
	}
	total := r.act.end.Sub(r.act.start)
	if total <= 0 {
		return 100
	}
	done := now.Sub(r.act.start)
	p := r.act.startPercent + int64(float64(100-r.act.startPercent)*float64(done)/float64(total))
	if p > 99 {
		p = 99 // 100 only once finished
	}
	return p
}

type instance struct {
	resource
	seq                 int // creation order, for listing
	id, region, name    string
	uuid                string
	diskID, diskType    string
	diskSize            int64
	privateIP, publicIP string
	created             time.Time
	expires             time.Time // isolated from then on (IsolatedTime)
	// An operation on the system disk itself (SetDiskBusy).
	diskOp      string
	diskOpUntil time.Time
}

// expired reports whether the instance is past its ExpiredTime: isolated,
// shut down until renewed.
func (in *instance) expired(now time.Time) bool { return !now.Before(in.expires) }

type snapshot struct {
	resource
	seq        int
	id, region string
	name       string
	instanceID string // the instance whose system disk it was taken from
	diskID     string
	diskSize   int64
	percent    int64 // when idle
	created    time.Time
}

// transitional instance states and where they lead, with the duration
// (from Durations) and the operation that causes them.
func (s *Server) transition(state string) (final, op string, d time.Duration, ok bool) {
	switch state {
	case StatePending:
		return StateRunning, OpCreateInstances, s.dur.Launch, true
	case StateStarting:
		return StateRunning, OpStartInstances, s.dur.Start, true
	case StateStopping:
		return StateStopped, OpStopInstances, s.dur.Stop, true
	case StateRebooting:
		return StateRunning, OpRebootInstances, s.dur.Reboot, true
	}
	return "", "", 0, false
}

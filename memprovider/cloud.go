package memprovider

import (
	"cmp"
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/emulator"
	"github.com/cloudsnap/rollback/provider/invoke"
)

// The cloud half of the Provider: actions applied to the state under p.mu,
// behind the same faults, hooks, quotas and journal as the emulators' HTTP
// handlers. The client half (client.go) calls them one attempt at a time.

// Actions, as journaled, counted by Calls and matched by Fault.Action.
const (
	ActionRollback          = "Rollback"
	ActionStopInstance      = "StopInstance"
	ActionStartInstance     = "StartInstance"
	ActionCreateSnapshot    = "CreateSnapshot"
	ActionDescribeInstances = "DescribeInstances"
	ActionDescribeSnapshots = "DescribeSnapshots"
	ActionDescribeDisks     = "DescribeDisks"
	ActionMark              = "Mark"
	ActionReadMark          = "ReadMark"
)

// mutating actions change state: they count against the quota and are
// paced by the client.
var mutating = map[string]bool{
	ActionRollback: true, ActionStopInstance: true, ActionStartInstance: true,
	ActionCreateSnapshot: true, ActionMark: true,
}

// MaxBatch is how many IDs one DescribeInstances or DescribeSnapshots call
// takes.
const MaxBatch = 100

// MaxMarks is how many operation marks an instance keeps (the newest).
const MaxMarks = 10

// cloudError is an error reply: a code from Codes and a message.
type cloudError struct {
	Code, Message, RequestID string
	network                  bool // no reply at all (reset, lost, timed out)
}

func (e *cloudError) Error() string {
	if e.network {
		return "memprovider: " + e.Message
	}
	return fmt.Sprintf("memprovider: %s: %s (request %s)", e.Code, e.Message, e.RequestID)
}

func errf(code, format string, args ...any) *cloudError {
	return &cloudError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// handler applies an action with p.mu held and reports whether it changed
// state.
type handler func(now time.Time, rid string) (applied bool, e *cloudError)

// serve is one attempt of action, as a cloud would answer it: hooks,
// journal, faults, quota, then the handler.
func (p *Provider) serve(ctx context.Context, action string, t invoke.Target, h handler) (string, error) {
	if err := ctx.Err(); err != nil {
		// An HTTP client sends nothing once its context has ended (a hook
		// may end it as the attempt starts): the cloud never hears of it.
		return "", err
	}
	region := t.Region
	n := p.hooks.Count(action)
	p.hooks.RunBefore(action, n)
	// After hooks run once the call is handled, refused or applied, before
	// the client sees the reply (as the emulators' do).
	defer p.hooks.RunAfter(action, n)
	rid := p.newRequestID()
	entry := emulator.Entry{Time: p.clk.Now(), Action: action, Region: region, RequestID: rid, HTTPStatus: 200, Params: params(t)}
	defer func() { p.journal.Add(entry) }()
	fail := func(e *cloudError) (string, error) {
		e.RequestID = rid
		if e.network {
			entry.HTTPStatus, e.RequestID = 0, ""
		} else {
			entry.HTTPStatus, entry.Code = statusOf(e.Code), e.Code
		}
		return "", e
	}
	f, hit := p.faults.Next(action)
	if hit {
		entry.Fault = f.String()
	}
	if hit && f.Latency > 0 {
		d := min(f.Latency, p.opts.CallTimeout)
		if err := clock.Sleep(ctx, p.clk, d); err != nil {
			entry.HTTPStatus = 0
			return "", err // the caller gave up: nothing applied
		}
		if f.Latency >= p.opts.CallTimeout {
			// The attempt timed out before the cloud acted: nothing
			// applied, and the client cannot know that.
			return fail(&cloudError{network: true, Message: fmt.Sprintf("%s timed out after %s", action, d)})
		}
	}
	if mutating[action] && !p.quota.Allow(action, p.window) {
		return fail(errf(CodeThrottling, "%s: more than %d calls in %s", action, p.window.Limit, p.window.Per))
	}
	if hit && f.Reset {
		return fail(&cloudError{network: true, Message: action + ": connection reset"})
	}
	if hit && f.Code != "" && !f.DropResponse { // DropResponse with a Code: AfterApply
		return fail(&cloudError{Code: f.Code, Message: cmp.Or(f.Message, "injected fault")})
	}
	p.mu.Lock()
	if !p.regions[region] {
		p.mu.Unlock()
		return fail(errf(CodeInvalidRegion, "region %q is not served; served: %v", region, p.regionList()))
	}
	applied, e := h(p.clk.Now(), rid)
	p.mu.Unlock()
	entry.Applied = applied
	if e != nil {
		return fail(e)
	}
	if hit && f.DropResponse && f.Code != "" {
		return fail(&cloudError{Code: f.Code, Message: cmp.Or(f.Message, "injected fault after the call was applied")})
	}
	if hit && f.DropResponse {
		return fail(&cloudError{network: true, Message: action + ": connection closed without a reply"})
	}
	return rid, nil
}

// params are what the journal records of a call: the IDs it names.
func params(t invoke.Target) map[string]string {
	m := map[string]string{}
	for k, v := range map[string]string{"InstanceId": t.InstanceID, "DiskId": t.DiskID, "SnapshotId": t.SnapshotID} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

func (p *Provider) newRequestID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reqSeq++
	return fmt.Sprintf("req-%06d", p.reqSeq)
}

// regionList names the served regions, sorted (p.mu held).
func (p *Provider) regionList() []string {
	out := make([]string, 0, len(p.regions))
	for r := range p.regions {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// lookupInstance finds an instance of region (p.mu held).
func (p *Provider) lookupInstance(region, id string) (*instance, *cloudError) {
	in, ok := p.instances[id]
	if !ok || in.region != region {
		return nil, errf(CodeInstanceNotFound, "instance %s does not exist in %s", id, region)
	}
	return in, nil
}

func (p *Provider) lookupSnapshot(region, id string) (*snapshot, *cloudError) {
	sn, ok := p.snapshots[id]
	if !ok || sn.region != region {
		return nil, errf(CodeSnapshotNotFound, "snapshot %s does not exist in %s", id, region)
	}
	return sn, nil
}

func (p *Provider) lookupDisk(region, id string) (*instance, *cloudError) {
	in, ok := p.disks[id]
	if !ok || in.region != region {
		return nil, errf(CodeDiskNotFound, "disk %s does not exist in %s", id, region)
	}
	return in, nil
}

// ready refuses an instance with an operation in progress or in a state
// other than want.
func ready(in *instance, now time.Time, want ...string) *cloudError {
	f := in.view(now)
	if in.busy(now) {
		return errf(CodeOperationInProgress, "instance %s is %s: its operation %s (request %s) has not finished", in.id, f.state, f.op.name, f.op.requestID)
	}
	for _, w := range want {
		if f.state == w {
			return nil
		}
	}
	return errf(CodeIncorrectInstanceState, "instance %s is %s; this operation needs it %v", in.id, f.state, want)
}

// applyRollback rolls in's system disk back to sn: the instance must be
// stopped and idle, the snapshot ready and of its disk.
func (p *Provider) applyRollback(in *instance, sn *snapshot, now time.Time, rid string) (bool, *cloudError) {
	if e := ready(in, now, StateStopped); e != nil {
		return false, e
	}
	if f := sn.view(now); f.state != SnapshotReady {
		return false, errf(CodeIncorrectSnapshotState, "snapshot %s is %s; a rollback needs it %s", sn.id, f.state, SnapshotReady)
	}
	if sn.diskID != in.diskID {
		return false, errf(CodeSnapshotMismatch, "snapshot %s was taken from disk %s, not from disk %s of instance %s", sn.id, sn.diskID, in.diskID, in.id)
	}
	failed := p.failRollbacks > 0
	if failed {
		p.failRollbacks--
	}
	in.begin(OpRollback, rid, now, p.dur.Rollback, StateRollingBack, StateStopped, failed, p.readLag)
	a := sn.begin(OpRollback, rid, now, p.dur.Rollback, SnapshotRollingBack, SnapshotReady, failed, p.readLag)
	a.onEnd = func(end time.Time, failed bool) {
		if !failed {
			sn.f.rollbackAt = end
		}
	}
	in.rollbackedBy++
	return true, nil
}

// applyStartStop moves in from one stable state to another through via.
func (p *Provider) applyStartStop(in *instance, now time.Time, rid, name, from, via, to string, d time.Duration) (bool, *cloudError) {
	if e := ready(in, now, from); e != nil {
		return false, e
	}
	in.begin(name, rid, now, d, via, to, false, p.readLag)
	return true, nil
}

// applyCreateSnapshot starts a snapshot of in's system disk.
func (p *Provider) applyCreateSnapshot(in *instance, name string, now time.Time, rid string) (*snapshot, *cloudError) {
	if e := ready(in, now, StateRunning, StateStopped); e != nil {
		return nil, e
	}
	if p.snapQuota > 0 {
		n := 0
		for _, sn := range p.snapshots {
			if sn.diskID == in.diskID {
				n++
			}
		}
		if n >= p.snapQuota {
			return nil, errf(CodeQuotaExceeded, "disk %s already has %d snapshots; the quota is %d", in.diskID, n, p.snapQuota)
		}
	}
	sn := p.newSnapshot(in, name, now, SnapshotCreating)
	a := sn.begin(OpCreateSnapshot, rid, now, p.dur.Snapshot, SnapshotCreating, SnapshotReady, false, p.readLag)
	a.onEnd = func(time.Time, bool) { sn.f.percent = 100 }
	return sn, nil
}

// newSnapshot adds a snapshot of in's disk (p.mu held).
func (p *Provider) newSnapshot(in *instance, name string, now time.Time, state string) *snapshot {
	p.seq++
	sn := &snapshot{
		seq: p.seq, id: fmt.Sprintf("snap-%06d", p.seq), region: in.region, name: name,
		instanceID: in.id, diskID: in.diskID, created: now,
	}
	sn.f.state = state
	sn.f.percent = 100
	if state == SnapshotCreating {
		sn.f.percent = 0
	}
	p.snapshots[sn.id] = sn
	return sn
}

// snapshotsOf lists the snapshots of in's disk, oldest first (p.mu held).
func (p *Provider) snapshotsOf(in *instance) []*snapshot {
	var out []*snapshot
	for _, sn := range p.snapshots {
		if sn.diskID == in.diskID {
			out = append(out, sn)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// statusOf is the HTTP status a cloud would give a code, for the journal.
func statusOf(code string) int {
	switch code {
	case CodeInternalError:
		return 500
	case CodeServiceUnavailable:
		return 503
	case CodeThrottling:
		return 429
	case CodeInstanceNotFound, CodeDiskNotFound, CodeSnapshotNotFound:
		return 404
	case CodeUnauthenticated:
		return 401
	case CodeForbidden:
		return 403
	}
	return 400
}

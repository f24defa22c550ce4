package temporal

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/provider"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// Activities are the steps of a rollback, run by a worker over one
// provider client. Register them with Register (their names are prefixed
// with the provider's name, so one worker can serve both clouds).
//
// Each activity is one step that is safe to run again: reads and waits
// trivially; Stop and Start read the instance first and do not ask twice;
// Rollback decides from the baseline it is given (or heartbeated) whether an
// earlier attempt already landed before it sends anything.
type Activities struct {
	// Provider is the cloud client (*aliyun.Client, *tencent.Client). Its own
	// retry layer retries transient faults within one activity attempt.
	Provider rollback.Provider
	// Wait paces the waits (its Timeout is set per step). Set Wait.Clock to
	// the emulator's clock in tests; Align to have concurrent waits poll
	// together (NewActivities sets 1s when Batch is on).
	Wait rollback.WaitOptions
	// ResendGrace is how long Rollback waits, when an earlier attempt may
	// have sent the rollback and the cloud shows no trace of it, before it
	// reads once more and only then sends (0: 10s). It covers the cloud's
	// read-after-write lag.
	ResendGrace time.Duration
	// Logger gets one line per step (nil: none).
	Logger *slog.Logger

	read rollback.Inspector // Provider, or a coalescing reader over it
}

// ActivityOptions configures NewActivities.
type ActivityOptions struct {
	Wait        rollback.WaitOptions
	ResendGrace time.Duration
	Logger      *slog.Logger
	// Batch merges reads made by concurrent activities of this worker
	// within BatchWindow into one batched call (100 IDs per call), as
	// rollback.RunBatch does, and aligns the waits' polls on a grid so that
	// they coincide. Turn it on for workers that run fleets.
	Batch       bool
	BatchWindow time.Duration // 0: Wait.Align/8, at least 10ms
}

// NewActivities returns the activities over p.
func NewActivities(p rollback.Provider, o ActivityOptions) *Activities {
	a := &Activities{Provider: p, Wait: o.Wait, ResendGrace: o.ResendGrace, Logger: o.Logger}
	if o.Batch {
		if a.Wait.Align <= 0 {
			a.Wait.Align = time.Second
		}
		w := o.BatchWindow
		if w <= 0 {
			w = max(a.Wait.Align/8, 10*time.Millisecond)
		}
		a.read = NewCoalescer(p, a.clock(), w)
	}
	return a
}

func (a *Activities) reader() rollback.Inspector {
	if a.read != nil {
		return a.read
	}
	return a.Provider
}

// provider is Provider with its reads going through reader(), keeping the
// optional interfaces rollback.Run looks for.
func (a *Activities) provider() rollback.Provider {
	if a.read == nil {
		return a.Provider
	}
	return readThrough{Provider: a.Provider, read: a.read}
}

func (a *Activities) clock() clock.Clock { return clock.Or(a.Wait.Clock) }

func (a *Activities) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

func (a *Activities) begin(ctx context.Context, name string) error {
	info := activity.GetInfo(ctx)
	a.logger().Debug("activity", "activity", name, "attempt", info.Attempt, "workflow", info.WorkflowExecution.ID)
	return nil
}

// CheckInput is the input of Check.
type CheckInput struct {
	Request rollback.Request
	Options Options
}

// Check validates the request and reads the snapshot and the instance, as
// rollback.Run does before it changes anything: it is rollback.Run in dry
// run, so the typed errors and the plan are Run's own. It sends nothing
// but reads. The report's Request has the IDs found and the client token
// derived from the operation key.
func (a *Activities) Check(ctx context.Context, in CheckInput) (*rollback.Report, error) {
	if err := a.begin(ctx, "Check"); err != nil {
		return nil, err
	}
	o := in.Options.runOptions()
	o.DryRun = true
	o.Checkpoints = rollback.NoCheckpoints // the workflow's history is the checkpoint
	o.Clock = a.clock()
	o.Wait = a.Wait
	rep, err := rollback.Run(ctx, a.provider(), in.Request, o)
	return rep, activityError(ctx, rollback.StepCheck, err)
}

// InstanceInput names an instance.
type InstanceInput struct {
	Region, InstanceID string
}

// Stop asks the cloud to stop a running instance. An instance already
// stopped or stopping is left alone, so a retried Stop never asks twice.
// WaitInstance waits for the stop.
func (a *Activities) Stop(ctx context.Context, in InstanceInput) (*rollback.Instance, error) {
	if err := a.begin(ctx, "Stop"); err != nil {
		return nil, err
	}
	inst, err := a.reader().Instance(ctx, in.Region, in.InstanceID)
	if err != nil {
		return nil, activityError(ctx, rollback.StepStop, err)
	}
	if inst.State == rollback.InstanceStopped || inst.State == rollback.InstanceStopping {
		return inst, nil
	}
	return inst, activityError(ctx, rollback.StepStop, a.Provider.StopInstance(ctx, in.Region, in.InstanceID))
}

// Start asks the cloud to start the instance, unless it is already running
// or starting. WaitInstance waits for it.
func (a *Activities) Start(ctx context.Context, in InstanceInput) (*rollback.Instance, error) {
	if err := a.begin(ctx, "Start"); err != nil {
		return nil, err
	}
	inst, err := a.reader().Instance(ctx, in.Region, in.InstanceID)
	if err != nil {
		return nil, activityError(ctx, rollback.StepStart, err)
	}
	if inst.State == rollback.InstanceRunning || inst.State == rollback.InstanceStarting {
		return inst, nil
	}
	return inst, activityError(ctx, rollback.StepStart, a.Provider.StartInstance(ctx, in.Region, in.InstanceID))
}

// SnapshotInput names the disk to snapshot.
type SnapshotInput struct {
	Region, InstanceID, DiskID, Name string
}

// SafetySnapshot starts a snapshot of the disk about to be rolled back and
// returns it (usually still creating; WaitSnapshot waits for it). The new
// snapshot is heartbeated at once, so an attempt retried after its
// worker died returns it instead of creating another. Neither cloud takes
// a token for it: only a reply lost on the wire can leave one extra
// snapshot, which costs a snapshot slot and loses nothing.
func (a *Activities) SafetySnapshot(ctx context.Context, in SnapshotInput) (*rollback.Snapshot, error) {
	if err := a.begin(ctx, "SafetySnapshot"); err != nil {
		return nil, err
	}
	var made rollback.Snapshot
	if activity.HasHeartbeatDetails(ctx) && activity.GetHeartbeatDetails(ctx, &made) == nil && made.ID != "" {
		return &made, nil
	}
	s, err := a.Provider.CreateSnapshot(ctx, in.Region, in.InstanceID, in.DiskID, in.Name)
	if err != nil {
		return nil, activityError(ctx, rollback.StepSafetySnapshot, err)
	}
	activity.RecordHeartbeat(ctx, s)
	return s, nil
}

// RollbackInput is the input of Rollback.
type RollbackInput struct {
	// Request is the checked request: IDs resolved, ClientToken derived
	// from the OperationKey (stable across attempts and workers).
	Request rollback.Request
	// Baseline is the snapshot as read before anything was sent for this
	// operation (Check's). An attempt decides from it whether an earlier
	// attempt's rollback has landed. Nil: the first attempt reads it and
	// heartbeats it before sending.
	Baseline *rollback.Snapshot
	// AllowRunning lets a running instance be rolled back (Lighthouse then
	// forces it off). The workflow never sets it: it stops the instance.
	AllowRunning bool
	// BusyTimeout bounds waiting out an operation in progress before
	// deciding (0: rollback.DefaultBusyTimeout).
	BusyTimeout time.Duration
}

// rollbackBeat is Rollback's heartbeat: what a retried attempt resumes
// from.
type rollbackBeat struct {
	Baseline *rollback.Snapshot
	Sending  bool // an attempt got as far as sending
}

// Rollback sends the rollback exactly once across attempts, workers and
// crashes:
//
//   - Every attempt first reads the snapshot and the instance and looks for
//     this operation's own rollback, newer than the baseline: on Lighthouse
//     the snapshot's rollback operation with a request ID other than the
//     baseline's; on SWAS a snapshot rollback time newer than the
//     baseline's. Found: the result is adopted, nothing is sent.
//   - An instance busy (most likely an earlier attempt's rollback still
//     running) is waited out, up to BusyTimeout, and the cloud read again.
//   - When an earlier attempt may have sent (its heartbeat says so) and
//     nothing shows, it waits ResendGrace for the cloud's reads to catch up
//     and looks again before sending.
//   - It sends with the operation's token (SWAS deduplicates it) through
//     the provider, whose own retry layer handles lost replies by reading
//     state before any resend.
func (a *Activities) Rollback(ctx context.Context, in RollbackInput) (*rollback.Result, error) {
	if err := a.begin(ctx, "Rollback"); err != nil {
		return nil, err
	}
	res, err := a.rollback(ctx, in)
	return res, activityError(ctx, rollback.StepRollback, err)
}

func (a *Activities) rollback(ctx context.Context, in RollbackInput) (*rollback.Result, error) {
	req := in.Request
	if req.ClientToken == "" || req.InstanceID == "" {
		return nil, provider.InvalidArgument(providerName(a.Provider), "Rollback", "Request",
			"must be checked first (ClientToken and InstanceID set); run Check")
	}
	if v, ok := a.Provider.(provider.RequestValidator); ok {
		if err := v.ValidateRequest(req); err != nil {
			return nil, err
		}
	}
	var beat rollbackBeat
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &beat)
	}
	baseline := in.Baseline
	if beat.Baseline != nil {
		baseline = beat.Baseline
	}
	r := a.reader()
	snap, err := r.Snapshot(ctx, req.Region, req.SnapshotID)
	if err != nil {
		return nil, err
	}
	if baseline == nil {
		baseline = snap
	}
	beat.Baseline = baseline
	inst, err := r.Instance(ctx, req.Region, req.InstanceID)
	if err != nil {
		return nil, err
	}
	if res, err := landed(req, baseline, snap, inst); res != nil || err != nil {
		return res, err
	}
	if inst.Busy || inst.State.Transitional() || snap.State == rollback.SnapshotRollingBack {
		// A rollback still running (an earlier attempt's, most likely) or
		// another operation: wait it out, then look again.
		wo := a.Wait
		wo.Clock = a.clock()
		wo.Timeout = in.BusyTimeout
		if wo.Timeout <= 0 {
			wo.Timeout = rollback.DefaultBusyTimeout
		}
		wo.OnPoll = func(rollback.Poll) { activity.RecordHeartbeat(ctx, beat) }
		if _, err := rollback.WaitInstance(ctx, r, req.Region, req.InstanceID, rollback.UntilIdle, wo); err != nil {
			return nil, err
		}
		if snap, inst, err = a.look(ctx, req); err != nil {
			return nil, err
		}
		if res, err := landed(req, baseline, snap, inst); res != nil || err != nil {
			return res, err
		}
	}
	if beat.Sending {
		// An earlier attempt may have sent and the cloud may not show it
		// yet: give its reads time to catch up, then look once more.
		if err := clock.Sleep(ctx, a.clock(), a.resendGrace()); err != nil {
			return nil, err
		}
		if snap, inst, err = a.look(ctx, req); err != nil {
			return nil, err
		}
		if res, err := landed(req, baseline, snap, inst); res != nil || err != nil {
			return res, err
		}
	}
	if inst.Busy || inst.State.Transitional() || snap.State == rollback.SnapshotRollingBack {
		return nil, temporal.NewApplicationError(
			fmt.Sprintf("instance %s is %s with an operation this rollback cannot yet tell its own; retrying later",
				inst.ID, inst.State), TypeRetryLater)
	}
	if inst.State == rollback.InstanceRunning && !in.AllowRunning {
		return nil, &rollback.Error{Provider: inst.Provider, Op: "Rollback", Kind: rollback.ErrInstanceState,
			Message: fmt.Sprintf("instance %s is running", inst.ID),
			Hint:    "the workflow stops it first with StopIfRunning; nothing was sent"}
	}
	beat.Sending = true
	activity.RecordHeartbeat(ctx, beat)
	var res *rollback.Result
	if pr, ok := a.Provider.(provider.PreflightRoller); ok {
		res, err = pr.RollbackWithPreflight(ctx, req, provider.Preflight{Instance: inst, Snapshot: snap})
	} else {
		res, err = a.Provider.Rollback(ctx, req)
	}
	if err != nil {
		return nil, err
	}
	res.Before = baseline
	return res, nil
}

// look reads the snapshot and the instance.
func (a *Activities) look(ctx context.Context, req rollback.Request) (*rollback.Snapshot, *rollback.Instance, error) {
	snap, err := a.reader().Snapshot(ctx, req.Region, req.SnapshotID)
	if err != nil {
		return nil, nil, err
	}
	inst, err := a.reader().Instance(ctx, req.Region, req.InstanceID)
	return snap, inst, err
}

func (a *Activities) resendGrace() time.Duration {
	if a.ResendGrace > 0 {
		return a.ResendGrace
	}
	return 10 * time.Second
}

// landed looks for this operation's rollback, newer than baseline, in what
// the cloud shows now. A failed one is ErrRollbackFailed: it was ours and
// it must not be sent again.
func landed(req rollback.Request, baseline, snap *rollback.Snapshot, inst *rollback.Instance) (*rollback.Result, error) {
	adopt := func(requestID string) *rollback.Result {
		return &rollback.Result{Provider: snap.Provider, RequestID: requestID, ClientToken: req.ClientToken,
			Adopted: true, InstanceID: inst.ID, DiskID: req.DiskID, Before: baseline}
	}
	op := snap.LatestOperation
	if op.Kind == rollback.OpRollback && op.RequestID != "" && op.RequestID != baseline.LatestOperation.RequestID {
		if op.State == rollback.OperationFailed {
			return nil, &rollback.Error{Provider: snap.Provider, Op: "Rollback", Kind: rollback.ErrRollbackFailed,
				RequestID: op.RequestID,
				Message:   fmt.Sprintf("an earlier attempt's rollback of instance %s to snapshot %s failed", inst.ID, snap.ID),
				Hint:      "check the instance before trying again with a new operation key"}
		}
		return adopt(op.RequestID), nil
	}
	if !snap.LastRollbackAt.IsZero() && snap.LastRollbackAt.After(baseline.LastRollbackAt) {
		return adopt(""), nil
	}
	return nil, nil
}

// WaitInput is the input of the wait activities.
type WaitInput struct {
	Region string
	// ID is the instance (WaitInstance) or snapshot (WaitSnapshot).
	ID string
	// Until is the instance wait: "stopped", "running" or "idle".
	Until string
	// Result is the accepted rollback (WaitRollback).
	Result  *rollback.Result
	Timeout time.Duration
}

// WaitProgress is what the wait activities heartbeat, and what a retried
// attempt (another worker, after a crash) resumes from: the deadline stays
// the first attempt's.
type WaitProgress struct {
	What    string
	Started time.Time // the first attempt's start, on the activities' clock
	Polls   int
	State   string
	Native  string
	Percent int
}

// waitOpts returns the wait options of one wait attempt and its progress:
// the remaining time of the first attempt's limit, and a heartbeat per
// poll.
func (a *Activities) waitOpts(ctx context.Context, what string, timeout time.Duration) (rollback.WaitOptions, *WaitProgress) {
	clk := a.clock()
	var p WaitProgress
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &p)
	}
	if p.Started.IsZero() {
		p.Started = clk.Now()
	}
	p.What = what
	wo := a.Wait
	wo.Clock = clk
	wo.Timeout = timeout - clk.Now().Sub(p.Started)
	if wo.Timeout <= 0 {
		wo.Timeout = time.Nanosecond // one last look
	}
	base := p.Polls
	user := wo.OnPoll
	wo.OnPoll = func(poll rollback.Poll) {
		if user != nil {
			user(poll)
		}
		p.Polls = base + poll.Attempt
		p.State, p.Native, p.Percent = poll.State, poll.Native, poll.Percent
		activity.RecordHeartbeat(ctx, p)
	}
	activity.RecordHeartbeat(ctx, p)
	return wo, &p
}

var instanceWaits = map[string]rollback.InstanceWait{
	"stopped": rollback.UntilStopped,
	"running": rollback.UntilRunning,
	"idle":    rollback.UntilIdle,
}

// WaitInstance waits until the instance is stopped, running or idle,
// heartbeating every poll.
func (a *Activities) WaitInstance(ctx context.Context, in WaitInput) (*rollback.Instance, error) {
	if err := a.begin(ctx, "WaitInstance"); err != nil {
		return nil, err
	}
	w, ok := instanceWaits[in.Until]
	if !ok {
		return nil, activityError(ctx, "", provider.InvalidArgument("", "WaitInstance", "Until",
			"is %q; want stopped, running or idle", in.Until))
	}
	wo, _ := a.waitOpts(ctx, "instance "+in.ID+" "+in.Until, in.Timeout)
	inst, err := rollback.WaitInstance(ctx, a.reader(), in.Region, in.ID, w, wo)
	return inst, activityError(ctx, "", err)
}

// WaitSnapshot waits until the snapshot is ready, heartbeating every poll.
func (a *Activities) WaitSnapshot(ctx context.Context, in WaitInput) (*rollback.Snapshot, error) {
	if err := a.begin(ctx, "WaitSnapshot"); err != nil {
		return nil, err
	}
	wo, _ := a.waitOpts(ctx, "snapshot "+in.ID+" ready", in.Timeout)
	s, err := rollback.WaitSnapshot(ctx, a.reader(), in.Region, in.ID, wo)
	return s, activityError(ctx, rollback.StepSafetySnapshot, err)
}

// WaitRollback waits until the rollback has finished, heartbeating every
// poll; it judges as rollback.WaitRollback does, against the result's
// baseline (Result.Before).
func (a *Activities) WaitRollback(ctx context.Context, in WaitInput) (*rollback.RollbackOutcome, error) {
	if err := a.begin(ctx, "WaitRollback"); err != nil {
		return nil, err
	}
	if in.Result == nil {
		return nil, activityError(ctx, rollback.StepWaitRollback,
			provider.InvalidArgument("", "WaitRollback", "Result", "is missing"))
	}
	wo, _ := a.waitOpts(ctx, "rollback of "+in.Result.InstanceID, in.Timeout)
	out, err := rollback.WaitRollback(ctx, a.reader(), in.Region, in.Result, wo)
	return out, activityError(ctx, rollback.StepWaitRollback, err)
}

func providerName(p any) string {
	if n, ok := p.(interface{ Name() string }); ok {
		return n.Name()
	}
	return ""
}

package temporal

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/provider"
	"go.temporal.io/sdk/activity"
)

// Activities are the steps of a rollback, run by a worker over one
// provider client. Register them with Register (their names are prefixed
// with the provider's name, so one worker can serve both clouds).
//
// Each activity is one step that is safe to run again: reads and waits
// trivially; Stop and Start read the instance first and do not ask twice;
// Rollback is rollback.Run's rollback step over a checkpoint kept in its
// heartbeats, so the library's evidence rules decide whether an earlier
// attempt already landed before anything is sent.
type Activities struct {
	// Provider is the cloud client (*aliyun.Client, *tencent.Client). Its own
	// retry layer retries transient faults within one activity attempt.
	Provider rollback.Provider
	// Wait paces the waits (its Timeout is set per step). Set Wait.Clock to
	// the emulator's clock in tests; Align to have concurrent waits poll
	// together (NewActivities sets 1s when Batch is on).
	Wait rollback.WaitOptions
	// Logger gets one line per step (nil: none).
	Logger *slog.Logger

	read rollback.Inspector // Provider, or a coalescing reader over it
}

// ActivityOptions configures NewActivities.
type ActivityOptions struct {
	Wait   rollback.WaitOptions
	Logger *slog.Logger
	// Batch merges reads made by concurrent activities of this worker
	// within BatchWindow into one batched call (100 IDs per call), as
	// rollback.RunBatch does, and aligns the waits' polls on a grid so that
	// they coincide. Turn it on for workers that run fleets.
	Batch       bool
	BatchWindow time.Duration // 0: Wait.Align/8, at least 10ms
}

// NewActivities returns the activities over p.
func NewActivities(p rollback.Provider, o ActivityOptions) *Activities {
	a := &Activities{Provider: p, Wait: o.Wait, Logger: o.Logger}
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
// optional interfaces rollback.Run looks for. It always wraps, so that a
// provider without a RollbackWitness cannot tell (readThrough) instead of
// being resent to by a retried attempt.
func (a *Activities) provider() rollback.Provider {
	return readThrough{Provider: a.Provider, read: a.reader()}
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
	defer keepAlive(ctx, nil)()
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
	defer keepAlive(ctx, nil)()
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
	stop := keepAlive(ctx, nil)
	s, err := a.Provider.CreateSnapshot(ctx, in.Region, in.InstanceID, in.DiskID, in.Name)
	stop()
	if err != nil {
		return nil, activityError(ctx, rollback.StepSafetySnapshot, err)
	}
	activity.RecordHeartbeat(ctx, s)
	return s, nil
}

// RollbackInput is the input of Rollback.
type RollbackInput struct {
	// Request is the checked request: IDs resolved, OperationKey set and
	// ClientToken derived from it (stable across attempts and workers).
	Request rollback.Request
	// Baseline is the snapshot as read before anything was sent for this
	// operation (Check's): the evidence rules judge every attempt against
	// it. Required.
	Baseline *rollback.Snapshot
	// BusyTimeout bounds waiting out an operation in progress before
	// deciding, and RollbackTimeout a rollback in progress (most likely an
	// earlier attempt's); 0: rollback's defaults.
	BusyTimeout, RollbackTimeout time.Duration
}

// Rollback sends the rollback exactly once across attempts, workers and
// crashes, by running rollback.Run's rollback step (Run with NoWait) with
// a Checkpointer kept in the activity's heartbeats (see beatStore): the
// library's own exactly-once rules decide, not a copy of them.
//
//   - The first attempt starts from a checkpoint at PhaseChecked with the
//     workflow's baseline, so Run checks (waiting out a busy instance),
//     records PhaseRollbackSending and sends with the operation's token.
//   - A retried attempt (its worker died, its heartbeat timed out, its
//     completion was lost) starts from the last checkpoint that reached
//     Temporal, moved to at least PhaseRollbackSending: heartbeats are
//     throttled and an attempt's last ones can be lost, so a retry always
//     assumes the earlier attempt may have sent. Run then asks the
//     provider's witness (provider.RollbackWitness) against the baseline,
//     reading at least the read grace after now: ours landed is adopted
//     and not resent; nothing landed is checked and sent; cannot tell is
//     ErrOutcomeUnknown, and nothing is sent.
//
// The instance must be stopped (the workflow stops it first): Run without
// StopIfRunning refuses a running one with ErrInstanceState.
func (a *Activities) Rollback(ctx context.Context, in RollbackInput) (*rollback.Result, error) {
	if err := a.begin(ctx, "Rollback"); err != nil {
		return nil, err
	}
	res, err := a.rollback(ctx, in)
	return res, activityError(ctx, rollback.StepRollback, err)
}

func (a *Activities) rollback(ctx context.Context, in RollbackInput) (*rollback.Result, error) {
	req := in.Request
	if req.OperationKey == "" || req.ClientToken == "" || req.InstanceID == "" {
		return nil, provider.InvalidArgument(providerName(a.Provider), "Rollback", "Request",
			"must be checked first (OperationKey, ClientToken and InstanceID set); run Check")
	}
	if in.Baseline == nil {
		return nil, provider.InvalidArgument(providerName(a.Provider), "Rollback", "Baseline",
			"is missing; pass the snapshot as Check read it, before anything was sent")
	}
	store := newBeatStore(ctx, a.clock(), req, in.Baseline)
	defer keepAlive(ctx, store.details)()
	wo := a.Wait
	user := wo.OnPoll
	wo.OnPoll = func(p rollback.Poll) {
		if user != nil {
			user(p)
		}
		activity.RecordHeartbeat(ctx, store.details())
	}
	rep, err := rollback.Run(ctx, a.provider(), req, rollback.RunOptions{
		NoWait:          true,
		BusyTimeout:     in.BusyTimeout,
		RollbackTimeout: in.RollbackTimeout,
		Wait:            wo,
		Clock:           a.clock(),
		Checkpoints:     store,
		Logger:          a.Logger,
	})
	if err != nil {
		return nil, err
	}
	if rep.Result == nil {
		return nil, fmt.Errorf("rollback: Run returned no result for operation %q", req.OperationKey)
	}
	return rep.Result, nil
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

// waitOpts returns the wait options of one wait attempt and its
// heartbeat: the remaining time of the first attempt's limit, and a
// heartbeat per poll. The heartbeat goes on between polls too (keepAlive)
// until stop is called.
func (a *Activities) waitOpts(ctx context.Context, what string, timeout time.Duration) (wo rollback.WaitOptions, stop func()) {
	clk := a.clock()
	var p WaitProgress
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &p)
	}
	if p.Started.IsZero() {
		p.Started = clk.Now()
	}
	p.What = what
	wo = a.Wait
	wo.Clock = clk
	wo.Timeout = timeout - clk.Now().Sub(p.Started)
	if wo.Timeout <= 0 {
		wo.Timeout = time.Nanosecond // one last look
	}
	var mu sync.Mutex
	details := func() any {
		mu.Lock()
		defer mu.Unlock()
		return p
	}
	base := p.Polls
	user := wo.OnPoll
	wo.OnPoll = func(poll rollback.Poll) {
		if user != nil {
			user(poll)
		}
		mu.Lock()
		p.Polls = base + poll.Attempt
		p.State, p.Native, p.Percent = poll.State, poll.Native, poll.Percent
		mu.Unlock()
		activity.RecordHeartbeat(ctx, details())
	}
	activity.RecordHeartbeat(ctx, details())
	return wo, keepAlive(ctx, details)
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
	wo, stop := a.waitOpts(ctx, "instance "+in.ID+" "+in.Until, in.Timeout)
	defer stop()
	inst, err := rollback.WaitInstance(ctx, a.reader(), in.Region, in.ID, w, wo)
	return inst, activityError(ctx, "", err)
}

// WaitSnapshot waits until the snapshot is ready, heartbeating every poll.
func (a *Activities) WaitSnapshot(ctx context.Context, in WaitInput) (*rollback.Snapshot, error) {
	if err := a.begin(ctx, "WaitSnapshot"); err != nil {
		return nil, err
	}
	wo, stop := a.waitOpts(ctx, "snapshot "+in.ID+" ready", in.Timeout)
	defer stop()
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
	wo, stop := a.waitOpts(ctx, "rollback of "+in.Result.InstanceID, in.Timeout)
	defer stop()
	out, err := rollback.WaitRollback(ctx, a.reader(), in.Region, in.Result, wo)
	return out, activityError(ctx, rollback.StepWaitRollback, err)
}

func providerName(p any) string { return provider.CapabilitiesOf(p).Name }

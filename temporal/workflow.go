package temporal

import (
	"errors"
	"fmt"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/provider"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Names of the workflows, the query and the signal.
const (
	WorkflowName      = "rollback.Rollback"
	FleetWorkflowName = "rollback.Fleet"
	// QueryProgress returns a Progress (RollbackWorkflow) or a FleetSummary
	// (FleetWorkflow).
	QueryProgress = "progress"
	// SignalCancel asks the workflow to stop cleanly: what is in flight and
	// mutating (a stop, a snapshot, the rollback call) finishes; a wait is
	// abandoned; nothing more is sent. The failure's report says what was
	// sent. The signal's value is a reason (string, may be empty).
	SignalCancel = "cancel"
)

// Options are rollback.RunOptions as a workflow takes them: the same
// fields, meanings and defaults, without the parts that cannot travel in a
// workflow's history (callbacks, clock, checkpoint store: the history is
// the checkpoint).
type Options struct {
	StopIfRunning      bool
	SafetySnapshot     bool
	SafetySnapshotName string
	NoWait             bool
	StartAfter         bool
	DryRun             bool
	// Step limits (0: rollback's defaults).
	BusyTimeout, StopTimeout, StartTimeout, SnapshotTimeout, RollbackTimeout time.Duration
}

func (o Options) runOptions() rollback.RunOptions {
	return rollback.RunOptions{StopIfRunning: o.StopIfRunning, SafetySnapshot: o.SafetySnapshot,
		SafetySnapshotName: o.SafetySnapshotName, NoWait: o.NoWait, StartAfter: o.StartAfter, DryRun: o.DryRun,
		BusyTimeout: o.BusyTimeout, StopTimeout: o.StopTimeout, StartTimeout: o.StartTimeout,
		SnapshotTimeout: o.SnapshotTimeout, RollbackTimeout: o.RollbackTimeout}
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.BusyTimeout, rollback.DefaultBusyTimeout)
	def(&o.StopTimeout, rollback.DefaultStopTimeout)
	def(&o.StartTimeout, rollback.DefaultStartTimeout)
	def(&o.SnapshotTimeout, rollback.DefaultSnapshotTimeout)
	def(&o.RollbackTimeout, rollback.DefaultRollbackTimeout)
	return o
}

// WorkflowInput is the input of RollbackWorkflow.
type WorkflowInput struct {
	// Provider names the cloud (rollback.ProviderAliyun, ProviderTencent):
	// the workers' activities for it run the steps.
	Provider string
	// Request is the rollback. Its OperationKey is the workflow ID (empty:
	// the workflow ID is used); the client token derives from it.
	Request rollback.Request
	Options Options
	// QueuePrefix names the task queues (empty: DefaultQueuePrefix); see
	// ReadQueue and ActionQueue.
	QueuePrefix string
}

// Progress is what QueryProgress returns: the report so far.
type Progress struct {
	Step            rollback.Step // the step under way ("" before and after)
	Report          *rollback.Report
	CancelRequested bool
	CancelReason    string `json:",omitempty"`
}

// Failure travels with a failed workflow (as the details of its
// ApplicationError or CanceledError): the error as ErrorDetails and the
// report as far as the workflow got, so what was sent is never hidden.
type Failure struct {
	ErrorDetails
	Report *rollback.Report
}

// ReportOf returns the report carried by a failed workflow's error.
func ReportOf(err error) (*rollback.Report, bool) {
	var f Failure
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) && ae.HasDetails() && ae.Details(&f) == nil && f.Report != nil {
		return f.Report, true
	}
	var ce *temporal.CanceledError
	if errors.As(err, &ce) && ce.HasDetails() && ce.Details(&f) == nil && f.Report != nil {
		return f.Report, true
	}
	return nil, false
}

// StartOptions returns the client.StartWorkflowOptions fields that make a
// rollback's workflow ID its operation key and refuse a second start of the
// same key, whether the first is running or finished: Temporal's refusal
// is the cross-host "one key, one actor". See Start.
func workflowID(in WorkflowInput) string { return in.Request.OperationKey }

// RollbackWorkflow runs one rollback with rollback.Run's steps, options and
// report: check, wait out a busy instance, stop if running, safety snapshot,
// rollback (exactly once), wait, start after. Each step is an activity of
// the provider's workers; mutating ones go to their own rate-limited task
// queues. It fails with a non-retryable ApplicationError whose type names
// the rollback sentinel (KindOf maps it back) and whose details carry the
// report (ReportOf).
func RollbackWorkflow(ctx workflow.Context, in WorkflowInput) (*rollback.Report, error) {
	w := newRun(ctx, in)
	if err := workflow.SetQueryHandler(ctx, QueryProgress, func() (Progress, error) {
		return Progress{Step: w.step, Report: w.rep, CancelRequested: w.cancelled, CancelReason: w.reason}, nil
	}); err != nil {
		return nil, err
	}
	sig := workflow.GetSignalChannel(ctx, SignalCancel)
	workflow.Go(ctx, func(ctx workflow.Context) {
		var reason string
		sig.Receive(ctx, &reason)
		w.cancelled, w.reason = true, reason
		if w.cancelWait != nil {
			w.cancelWait()
		}
	})
	err := w.run(ctx)
	w.rep.Duration = workflow.Now(ctx).Sub(w.rep.Started)
	if err != nil {
		return nil, w.failure(ctx, err)
	}
	return w.rep, nil
}

// wfRun carries one RollbackWorkflow.
type wfRun struct {
	in         WorkflowInput
	o          Options
	rep        *rollback.Report
	step       rollback.Step
	stepT0     time.Time
	failedStep rollback.Step
	cancelled  bool
	reason     string
	cancelWait func()
}

func newRun(ctx workflow.Context, in WorkflowInput) *wfRun {
	now := workflow.Now(ctx)
	o := in.Options.withDefaults()
	if o.SafetySnapshot && o.SafetySnapshotName == "" {
		// The name rollback.Run would give, fixed once in the history.
		o.SafetySnapshotName = "pre-rollback-" + now.UTC().Format("20060102T150405Z")
	}
	if in.Request.OperationKey == "" {
		in.Request.OperationKey = workflow.GetInfo(ctx).WorkflowExecution.ID
	}
	return &wfRun{in: in, o: o, rep: &rollback.Report{Provider: in.Provider, DryRun: o.DryRun, Request: in.Request, Started: now}}
}

func (w *wfRun) run(ctx workflow.Context) error {
	id := workflow.GetInfo(ctx).WorkflowExecution.ID
	if w.in.Request.OperationKey != id {
		w.begin(ctx, rollback.StepCheck)
		return w.fail(ctx, provider.InvalidArgument(w.in.Provider, "", "OperationKey",
			"%q is not the workflow ID %q; start the workflow with the operation key as its ID (one key, one workflow)",
			w.in.Request.OperationKey, id))
	}
	if w.in.Provider == "" {
		w.begin(ctx, rollback.StepCheck)
		return w.fail(ctx, provider.InvalidArgument("", "", "Provider", "is empty; name the cloud (aliyun or tencent)"))
	}
	inst, snap, err := w.check(ctx)
	if err != nil || w.o.DryRun {
		return err
	}
	if err := w.cancelPoint(ctx); err != nil {
		return err
	}
	req := w.rep.Request
	if inst.State == rollback.InstanceRunning {
		if err := w.act(ctx, rollback.StepStop, "Stop", InstanceInput{Region: req.Region, InstanceID: inst.ID}, nil); err != nil {
			return err
		}
		var got rollback.Instance
		if err := w.wait(ctx, "WaitInstance", WaitInput{Region: req.Region, ID: inst.ID, Until: "stopped", Timeout: w.o.StopTimeout}, &got); err != nil {
			return err
		}
		w.end(ctx, "done", "instance is "+string(got.State), "")
		if err := w.cancelPoint(ctx); err != nil {
			return err
		}
	}
	if w.o.SafetySnapshot {
		var s rollback.Snapshot
		in := SnapshotInput{Region: req.Region, InstanceID: req.InstanceID, DiskID: req.DiskID, Name: w.o.SafetySnapshotName}
		if err := w.act(ctx, rollback.StepSafetySnapshot, "SafetySnapshot", in, &s); err != nil {
			if errors.Is(KindOf(err), rollback.ErrQuotaExceeded) {
				err = fmt.Errorf("%w; delete an old snapshot, or run without a safety snapshot", err)
			}
			return err
		}
		w.rep.SafetySnapshotID = s.ID
		if err := w.wait(ctx, "WaitSnapshot", WaitInput{Region: req.Region, ID: s.ID, Timeout: w.o.SnapshotTimeout}, nil); err != nil {
			return err
		}
		w.end(ctx, "done", "safety snapshot "+s.ID+" is ready", "")
		if err := w.cancelPoint(ctx); err != nil {
			return err
		}
	}
	var res rollback.Result
	if err := w.act(ctx, rollback.StepRollback, "Rollback", RollbackInput{Request: req, Baseline: snap,
		BusyTimeout: w.o.BusyTimeout, RollbackTimeout: w.o.RollbackTimeout}, &res); err != nil {
		return err
	}
	w.rep.Result = &res
	detail := "accepted after 1 call"
	if res.Attempts != 1 {
		detail = fmt.Sprintf("accepted after %d calls", res.Attempts)
	}
	if res.Adopted {
		detail += "; an earlier attempt had landed"
	}
	w.end(ctx, "done", detail, res.RequestID)
	if w.o.NoWait {
		w.begin(ctx, rollback.StepWaitRollback)
		w.end(ctx, "skipped", "not waiting (Options.NoWait)", "")
		return nil
	}
	if err := w.cancelPoint(ctx); err != nil {
		return err
	}
	w.begin(ctx, rollback.StepWaitRollback)
	var out rollback.RollbackOutcome
	if err := w.wait(ctx, "WaitRollback", WaitInput{Region: req.Region, Result: &res, Timeout: w.o.RollbackTimeout}, &out); err != nil {
		return err
	}
	w.rep.Outcome, w.rep.InstanceAfter = &out, out.Instance
	w.end(ctx, "done", "rollback finished ("+out.Evidence+")", res.RequestID)
	if !w.o.StartAfter {
		return nil
	}
	if err := w.cancelPoint(ctx); err != nil {
		return err
	}
	var last rollback.Instance
	if err := w.act(ctx, rollback.StepStart, "Start", InstanceInput{Region: req.Region, InstanceID: res.InstanceID}, &last); err != nil {
		return err
	}
	var got rollback.Instance
	if err := w.wait(ctx, "WaitInstance", WaitInput{Region: req.Region, ID: res.InstanceID, Until: "running", Timeout: w.o.StartTimeout}, &got); err != nil {
		return err
	}
	w.rep.InstanceAfter = &got
	w.end(ctx, "done", "instance is "+string(got.State), "")
	return nil
}

// check runs the Check activity (and, for a busy instance, waits it out
// and checks again). It returns the instance and the baseline snapshot.
func (w *wfRun) check(ctx workflow.Context) (*rollback.Instance, *rollback.Snapshot, error) {
	var chk rollback.Report
	w.begin(ctx, rollback.StepCheck)
	if err := w.exec(ctx, "Check", CheckInput{Request: w.in.Request, Options: w.o}, &chk, false); err != nil {
		return nil, nil, w.fail(ctx, err)
	}
	w.adopt(ctx, &chk)
	inst := chk.InstanceBefore
	if w.o.DryRun || !(inst.Busy || inst.State.Transitional()) {
		return inst, chk.Snapshot, nil
	}
	// rollback.Run's wait-idle: wait the operation out, then decide again.
	limit := w.o.BusyTimeout
	if inst.State == rollback.InstanceRollingBack {
		limit = w.o.RollbackTimeout // most likely this operation's own
	}
	w.begin(ctx, rollback.StepWaitIdle)
	if err := w.wait(ctx, "WaitInstance", WaitInput{Region: chk.Request.Region, ID: inst.ID, Until: "idle", Timeout: limit}, nil); err != nil {
		return nil, nil, err
	}
	w.end(ctx, "done", "instance is idle", "")
	w.begin(ctx, rollback.StepCheck)
	var again rollback.Report
	if err := w.exec(ctx, "Check", CheckInput{Request: w.in.Request, Options: w.o}, &again, false); err != nil {
		return nil, nil, w.fail(ctx, err)
	}
	w.adopt(ctx, &again)
	if in := again.InstanceBefore; in.Busy || in.State.Transitional() {
		return nil, nil, w.fail(ctx, &rollback.Error{Provider: in.Provider, Kind: rollback.ErrBusy,
			Message: fmt.Sprintf("instance %s is busy again (%s)", in.ID, in.State),
			Hint:    "another operation is running on it; try again later"})
	}
	return again.InstanceBefore, chk.Snapshot, nil
}

// adopt takes the Check report's findings (and, in a dry run, its steps).
func (w *wfRun) adopt(ctx workflow.Context, chk *rollback.Report) {
	w.rep.Request, w.rep.Plan = chk.Request, chk.Plan
	w.rep.Snapshot, w.rep.InstanceBefore = chk.Snapshot, chk.InstanceBefore
	if w.o.DryRun {
		w.rep.Steps = append(w.rep.Steps, chk.Steps...)
		return
	}
	w.end(ctx, "done", fmt.Sprintf("snapshot %s (%s) of disk %s; instance %s is %s", chk.Snapshot.ID, chk.Snapshot.State,
		chk.Request.DiskID, chk.InstanceBefore.ID, chk.InstanceBefore.State), "")
}

// act runs a step's mutating activity on its rate-limited queue. It runs
// on a disconnected context: once asked, a stop, snapshot or rollback call
// finishes and is reported, even when the workflow is being cancelled.
func (w *wfRun) act(ctx workflow.Context, step rollback.Step, name string, in, out any) error {
	w.begin(ctx, step)
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	if err := w.exec(dctx, name, in, out, true); err != nil {
		return w.fail(ctx, err)
	}
	return nil
}

// wait runs a wait activity that the cancel signal (or the workflow's
// cancellation) abandons.
func (w *wfRun) wait(ctx workflow.Context, name string, in WaitInput, out any) error {
	wctx, cancel := workflow.WithCancel(ctx)
	w.cancelWait = cancel
	defer func() { w.cancelWait = nil }()
	if w.cancelled {
		cancel()
	}
	err := w.exec(wctx, name, in, out, false)
	if err == nil {
		return nil
	}
	if w.cancelled || ctx.Err() != nil {
		return w.cancelledErr(ctx)
	}
	if w.step == rollback.StepWaitIdle && errors.Is(KindOf(err), rollback.ErrTimeout) {
		err = &rollback.Error{Provider: w.in.Provider, Kind: rollback.ErrBusy,
			Message: fmt.Sprintf("instance %s stayed busy for %s (%s)", in.ID, in.Timeout, errText(err)),
			Hint:    "another operation is still running on it; try again later or raise Options.BusyTimeout"}
	}
	return w.fail(ctx, err)
}

// exec runs one activity of the workflow's provider.
func (w *wfRun) exec(ctx workflow.Context, name string, in, out any, mutating bool) error {
	ctx = workflow.WithActivityOptions(ctx, activityOptions(w.in, name, mutating, w.timeoutOf(in)))
	return workflow.ExecuteActivity(ctx, ActivityName(w.in.Provider, name), in).Get(ctx, out)
}

func (w *wfRun) timeoutOf(in any) time.Duration {
	switch in := in.(type) {
	case WaitInput:
		return in.Timeout
	case RollbackInput:
		return max(in.BusyTimeout, in.RollbackTimeout)
	}
	return 0
}

// cancelPoint ends the workflow between steps when cancellation was asked.
func (w *wfRun) cancelPoint(ctx workflow.Context) error {
	if w.cancelled || ctx.Err() != nil {
		return w.cancelledErr(ctx)
	}
	return nil
}

type cancelledError struct{ msg string }

func (e *cancelledError) Error() string { return e.msg }

func (w *wfRun) cancelledErr(ctx workflow.Context) error {
	msg := "cancelled"
	if w.reason != "" {
		msg += ": " + w.reason
	}
	if w.rep.Result != nil {
		msg += fmt.Sprintf("; the rollback was already sent (request %s) and may still be running", w.rep.Result.RequestID)
	} else {
		msg += "; the rollback was not sent"
	}
	if w.step != "" {
		w.rep.Steps = append(w.rep.Steps, rollback.StepReport{Step: w.step, Started: w.stepT0,
			Duration: workflow.Now(ctx).Sub(w.stepT0), Outcome: "failed", Err: msg})
		w.failedStep, w.step = w.step, ""
	}
	return &cancelledError{msg: msg}
}

func (w *wfRun) begin(ctx workflow.Context, step rollback.Step) {
	w.step, w.stepT0 = step, workflow.Now(ctx)
}

// end records the step under way.
func (w *wfRun) end(ctx workflow.Context, outcome, detail, requestID string) {
	w.rep.Steps = append(w.rep.Steps, rollback.StepReport{Step: w.step, Started: w.stepT0, Duration: workflow.Now(ctx).Sub(w.stepT0),
		Outcome: outcome, Detail: detail, RequestID: requestID})
	w.step = ""
}

// fail records the failed step once and returns err.
func (w *wfRun) fail(ctx workflow.Context, err error) error {
	if w.step == "" {
		return err // recorded already
	}
	w.rep.Steps = append(w.rep.Steps, rollback.StepReport{Step: w.step, Started: w.stepT0,
		Duration: workflow.Now(ctx).Sub(w.stepT0), Outcome: "failed", Err: errText(err)})
	w.failedStep, w.step = w.step, ""
	return err
}

// errText is an error's message without Temporal's wrapping.
func errText(err error) string {
	if d, ok := DetailsOf(err); ok {
		return d.Message
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae.Message()
	}
	return err.Error()
}

// failure turns the run's error into the workflow's: non-retryable, typed
// by the sentinel, with the report.
func (w *wfRun) failure(ctx workflow.Context, err error) error {
	var ce *cancelledError
	if errors.As(err, &ce) {
		f := Failure{ErrorDetails: ErrorDetails{Kind: TypeCancelled, Step: w.failedStep, Message: ce.msg}, Report: w.rep}
		if ctx.Err() != nil {
			return temporal.NewCanceledError(f)
		}
		return temporal.NewNonRetryableApplicationError(ce.msg, TypeCancelled, nil, f)
	}
	d, ok := DetailsOf(err)
	if !ok {
		d = details(w.failedStep, err)
	}
	if k := KindOf(err); k != nil {
		d.Kind = sentinelName(k)
	}
	if d.Step == "" {
		d.Step = w.failedStep
	}
	if !ok || d.Message == "" {
		d.Message = errText(err)
	}
	msg := "rollback: " + string(d.Step) + ": " + d.Message
	return temporal.NewNonRetryableApplicationError(msg, d.Kind, nil, Failure{ErrorDetails: d, Report: w.rep})
}

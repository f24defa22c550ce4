package rollback

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/provider"
)

// RunOptions configures Run. The zero value checks, rolls back and waits for
// the rollback to finish, and refuses to touch a running instance.
type RunOptions struct {
	// StopIfRunning stops a running instance first and waits until it is
	// stopped. Without it a running instance is an ErrInstanceState error:
	// Run never lets Lighthouse force an instance off silently.
	StopIfRunning bool
	// SafetySnapshot snapshots the current disk first and waits until the
	// snapshot is ready, so the rollback itself can be undone. Its ID is in
	// Report.SafetySnapshotID.
	SafetySnapshot bool
	// SafetySnapshotName names it (default "pre-rollback-<UTC time>").
	SafetySnapshotName string
	// NoWait returns as soon as the cloud has accepted the rollback.
	NoWait bool
	// StartAfter starts the instance once the rollback has finished and
	// waits until it runs.
	StartAfter bool
	// DryRun makes every check and reports the plan, changing nothing.
	DryRun bool

	// Step limits (0: the defaults in parentheses). BusyTimeout bounds
	// waiting out an operation already in progress (10m); StopTimeout and
	// StartTimeout the stop and start (10m); SnapshotTimeout the safety
	// snapshot (30m); RollbackTimeout the rollback (30m).
	BusyTimeout, StopTimeout, StartTimeout, SnapshotTimeout, RollbackTimeout time.Duration
	// Wait paces every wait; its Timeout is replaced by the step limits.
	Wait WaitOptions
	// Clock times the Run and paces its waits (nil: Wait.Clock, else the
	// wall clock).
	Clock clock.Clock

	// Progress receives typed progress events; Logger gets the same as
	// structured logs (nil: none).
	Progress func(Event)
	Logger   *slog.Logger

	// Hooks observe the Run and its steps (see Hooks; the zero value:
	// none). The calls are observed through the client's WithHooks.
	Hooks Hooks

	// Checkpoints records progress under the operation key (the request's
	// OperationKey, or its ClientToken when the caller set one), so that
	// another Run of the same operation resumes where the last one stopped:
	// what is done is skipped, a rollback already sent is waited for, never
	// resent. nil means the provider's own in-memory store (both clients
	// keep one, declared in their Capabilities), which lasts as long as
	// the client; to resume after a crash, give a store that outlives the
	// process (FileCheckpoints).
	//
	// A Run that finds no checkpoint (NoCheckpoints, or a new process)
	// resumes from what the cloud shows, which cannot always tell: a
	// rollback still running is waited for; on SWAS a resent token is
	// deduplicated, but whether the earlier rollback succeeded is then
	// unknown (ErrOutcomeUnknown); on Lighthouse, which has no token, a
	// rollback is recognised as done only while it is the instance's latest
	// operation: once the instance has been started since, it would be sent
	// again.
	Checkpoints Checkpointer
	// LeaseTTL is how long this Run's claim on its operation key lasts
	// unless renewed (0: DefaultLeaseTTL). A keyed Run claims its key in the
	// store before anything else and renews the claim with every checkpoint
	// and every poll; another Run of the same key meanwhile fails at once
	// with ErrKeyHeld and changes nothing. A Run that crashed holds its key
	// until the claim ends.
	LeaseTTL time.Duration
	// AcceptRepeatRisk lets a keyed Run go ahead when its checkpoint may
	// have been lost and nothing can rule out that an earlier Run of the
	// same key already rolled back: its store does not outlive the process
	// (the in-memory default), the provider leaves no mark, and the snapshot
	// was rolled back to before. Without it such a Run changes nothing and
	// returns ErrOutcomeUnknown. A Run with a store that outlives the
	// process (FileCheckpoints, a database) never needs it.
	AcceptRepeatRisk bool
}

// DefaultLeaseTTL is RunOptions.LeaseTTL's default: long enough that a Run
// queued behind a rate limit keeps its claim, short enough that a crashed
// Run's key is free again within minutes.
const DefaultLeaseTTL = 5 * time.Minute

// Default step limits of RunOptions.
const (
	DefaultBusyTimeout     = 10 * time.Minute
	DefaultStopTimeout     = 10 * time.Minute
	DefaultStartTimeout    = 10 * time.Minute
	DefaultSnapshotTimeout = 30 * time.Minute
	DefaultRollbackTimeout = provider.DefaultRollbackTimeout
)

func (o RunOptions) withDefaults() RunOptions {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.BusyTimeout, DefaultBusyTimeout)
	def(&o.StopTimeout, DefaultStopTimeout)
	def(&o.StartTimeout, DefaultStartTimeout)
	def(&o.SnapshotTimeout, DefaultSnapshotTimeout)
	def(&o.RollbackTimeout, DefaultRollbackTimeout)
	def(&o.LeaseTTL, DefaultLeaseTTL)
	if o.Clock == nil {
		o.Clock = o.Wait.Clock
	}
	o.Clock = clock.Or(o.Clock)
	o.Wait.Clock = o.Clock
	if o.Wait.Learner == nil {
		o.Wait.Learner = learnerFor(o.Checkpoints) // nil: DefaultLearner
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Report says what Run did (or, in a dry run, would do).
type Report struct {
	Provider string
	// Request is the request as run: IDs found on the way and the client
	// token filled in.
	Request Request
	DryRun  bool
	// Plan lists the changes Run makes, in order (filled in by every run;
	// a dry run stops there).
	Plan    []string
	Resumed bool // picked up an earlier Run's work
	Steps   []StepReport
	// Result is the accepted rollback call.
	Result *Result
	// Outcome is how the rollback wait ended.
	Outcome          *RollbackOutcome
	SafetySnapshotID string
	// Snapshot is the rollback's snapshot as checked; InstanceBefore and
	// InstanceAfter the instance at the start and at the end.
	Snapshot                      *Snapshot
	InstanceBefore, InstanceAfter *Instance
	Started                       time.Time
	Duration                      time.Duration
}

// StepReport is one step of a Report.
type StepReport struct {
	Step      Step
	Started   time.Time
	Duration  time.Duration
	Outcome   string // "done", "skipped" or "failed"
	Detail    string
	RequestID string
	Err       string `json:",omitempty"`
}

// StepError is the error of a failed Run step. errors.Is and errors.As see
// the step's own error through it.
type StepError struct {
	Step Step
	Err  error
}

func (e *StepError) Error() string {
	return "rollback: " + string(e.Step) + ": " + strings.TrimPrefix(e.Err.Error(), "rollback: ")
}

// Unwrap returns the step's error.
func (e *StepError) Unwrap() error { return e.Err }

// Run is the safe rollback: checks, optional stop and safety snapshot,
// rollback (exactly once), wait, optional start. See RunOptions.
//
// Before changing anything it checks that the snapshot exists, is ready and
// belongs to the requested disk and instance (ErrSnapshotMismatch
// otherwise), and that the instance may be rolled back: a running instance
// is stopped only with StopIfRunning (else ErrInstanceState); an operation
// already in progress is waited out for up to BusyTimeout (else ErrBusy).
//
// The returned Report is filled in as far as Run got, also on error.
func Run(ctx context.Context, p Provider, req Request, opts RunOptions) (*Report, error) {
	return runWith(ctx, p, p, req, opts)
}

// runWith is Run with reads and waits going through read.
func runWith(ctx context.Context, p Provider, read Inspector, req Request, opts RunOptions) (*Report, error) {
	r := &runner{p: p, caps: p.Capabilities(), read: read, o: opts.withDefaults()}
	if r.o.Checkpoints == nil {
		r.o.Checkpoints = DefaultCheckpoints
		if c := r.caps.Checkpoints; c != nil {
			r.o.Checkpoints = c
		}
	}
	r.clk = r.o.Clock
	r.start = r.clk.Now()
	r.rep = &Report{Provider: providerName(r.caps), DryRun: r.o.DryRun, Started: r.start}
	ctx = r.hookRunStart(ctx, req)
	ctx = provider.ContextWithRetryHook(ctx, r.onRetry)
	r.ctx = ctx
	err := r.run(ctx, req)
	if r.owner != "" {
		// The claim ends with the Run, whatever happened; the checkpoint
		// stays. A cancelled ctx must not keep the key held.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if rerr := r.o.Checkpoints.Release(rctx, r.key, r.owner); rerr != nil && err == nil {
			err = fmt.Errorf("rollback: releasing the operation key: %w", rerr)
		}
		cancel()
	}
	r.rep.Duration = r.clk.Now().Sub(r.start)
	r.hookRunEnd(err)
	return r.rep, err
}

// runner carries one Run.
type runner struct {
	p     Provider
	caps  provider.Capabilities // p's, read once
	read  Inspector             // reads and waits go through it: p, or RunBatch's coalescer
	o     RunOptions
	clk   clock.Clock
	start time.Time
	rep   *Report

	hookCtx  context.Context // as Hooks.RunStart returned it (hooks.go)
	runInfo  *RunInfo        // nil when no Run or step hook is set
	stepInfo *StepInfo       // the step open in the hooks

	req      Request
	key      string      // checkpoint key; "" when the rollback has no stable name
	keyGiven string      // the caller's key or token it comes from, for messages
	resuming bool        // the token names an operation that may have run before
	cp       *Checkpoint // this Run's checkpoint, saved as it goes
	loaded   *Checkpoint // an earlier Run's, as loaded at the start; nil if none
	before   *Snapshot   // baseline for the rollback wait
	step     Step
	stepT0   time.Time

	ctx     context.Context // the Run's, for renewing the claim from callbacks
	owner   string          // this Run's claim on key; "" when it holds none
	renewed time.Time       // when the claim was last renewed
	lost    error           // the claim was lost (another Run took the key over)
}

func (r *runner) run(ctx context.Context, req Request) error {
	if err := r.checkRequest(ctx, req); err != nil {
		return r.fail(StepCheck, err)
	}
	if r.cp != nil && r.cp.Phase == PhaseDone {
		return r.alreadyDone(ctx)
	}
	// A dry run never resumes: resuming waits, and may start the instance.
	if r.cp != nil && !r.o.DryRun && phaseAtLeast(r.cp.Phase, PhaseRollbackSent) && r.cp.Result != nil {
		// Nothing is resent: the wait compares against the checkpoint's
		// baseline, and an old rollback time is no answer.
		return r.finish(ctx, r.cp.Result, false)
	}
	if r.cp != nil && !r.o.DryRun && phaseAtLeast(r.cp.Phase, PhaseRollbackSending) {
		// The rollback may be on the wire or landed: decide from the
		// recorded baseline before anything else, whatever the instance
		// has done since (started, stopped, snapshotted).
		res, err := r.witnessEarlier(ctx)
		if err != nil {
			return r.fail(StepRollback, err)
		}
		if res != nil {
			return r.finish(ctx, res, false)
		}
	}
	inst, snap, err := r.check(ctx)
	if err != nil {
		return r.fail(StepCheck, err)
	}
	if res, err := r.guardLostCheckpoint(ctx, inst, snap); err != nil || res != nil {
		if err != nil {
			return r.fail(StepCheck, err)
		}
		r.skip(StepRollback, "this operation's mark shows an earlier Run of it already rolled back; not resent")
		if err := r.save(ctx, PhaseRollbackSent, res); err != nil {
			return r.fail(StepRollback, err)
		}
		return r.finish(ctx, res, false)
	}
	res, err := r.prepareAndRollback(ctx, inst, snap)
	if err != nil || res == nil {
		return err
	}
	return r.finish(ctx, res, r.resuming)
}

// ValidateRequest checks req as Run does before anything else, without
// calling the cloud: the region, the snapshot ID and the provider's own
// rules (ID formats, required fields). Programs that take requests from
// users (a CLI, a service, a CSV of servers) call it to reject bad input
// at once; Run calls it anyway.
func ValidateRequest(p Provider, req Request) error { return validate(p.Capabilities(), req) }

func validate(caps provider.Capabilities, req Request) error {
	if err := provider.CheckRegion(req.Region); err != nil {
		return err
	}
	if err := provider.CheckID("SnapshotID", req.SnapshotID, "", "a snapshot ID"); err != nil {
		return err
	}
	if v := caps.Validator; v != nil {
		return v.ValidateRequest(req)
	}
	return nil
}

// checkRequest validates the request, resolves the token and loads the
// checkpoint.
func (r *runner) checkRequest(ctx context.Context, req Request) error {
	r.begin(StepCheck, "")
	if err := validate(r.caps, req); err != nil {
		return err
	}
	switch {
	case req.OperationKey != "":
		r.key, r.keyGiven, r.resuming = req.OperationKey, req.OperationKey, true
	case req.ClientToken != "":
		r.key, r.keyGiven, r.resuming = "token:"+req.ClientToken, req.ClientToken, true
	}
	token, err := provider.ResolveToken(req)
	if err != nil {
		return err
	}
	req.ClientToken = token
	r.req = req
	r.rep.Request = req
	if r.key == "" || r.o.Checkpoints == nil {
		return nil
	}
	cp, err := r.claim(ctx)
	if err != nil || cp == nil || cp.Phase == "" {
		return err
	}
	if !cp.Matches(req) {
		field, key := "OperationKey", r.keyGiven
		if req.OperationKey == "" {
			field = "ClientToken"
		}
		return provider.InvalidArgument("", "", field, "%q was used for another rollback (snapshot %s of instance %s in %s); use a new one",
			provider.Clip(key), cp.Request.SnapshotID, cp.Request.InstanceID, cp.Request.Region)
	}
	r.cp, r.loaded, r.rep.Resumed = cp, cp.Clone(), true
	r.req = cp.Request
	r.rep.Request = cp.Request
	r.before = cp.Before
	r.rep.SafetySnapshotID = cp.SafetySnapshotID
	return nil
}

// check reads the snapshot and the instance and decides whether the
// rollback may go ahead. It waits out operations in progress.
func (r *runner) check(ctx context.Context) (*Instance, *Snapshot, error) {
	req := &r.req
	snap, err := r.read.Snapshot(ctx, req.Region, req.SnapshotID)
	if err != nil {
		return nil, nil, err
	}
	r.rep.Snapshot = snap
	if r.before == nil {
		r.before = snap
	}
	if err := r.resolveIDs(ctx, snap); err != nil {
		return nil, nil, err
	}
	inst, err := r.read.Instance(ctx, req.Region, req.InstanceID)
	if err != nil {
		return nil, nil, err
	}
	r.rep.InstanceBefore = inst
	if req.DiskID == "" {
		req.DiskID = inst.SystemDiskID
	}
	r.rep.Request = *req
	if err := r.checkOwnership(snap, inst); err != nil {
		return nil, nil, err
	}
	if err := r.checkSnapshotReady(snap); err != nil {
		return nil, nil, err
	}
	busy := inst.State.Transitional() || inst.Busy
	if !busy {
		if err := r.decide(inst); err != nil {
			return nil, nil, err
		}
	}
	r.end(EventStepFinished, fmt.Sprintf("snapshot %s (%s) of disk %s; instance %s is %s",
		snap.ID, snap.State, req.DiskID, inst.ID, provider.DescribeState(string(inst.State), inst.NativeState)), "")
	if !busy {
		return inst, snap, nil
	}
	inst, err = r.waitIdle(ctx, inst)
	if err != nil {
		return nil, nil, err
	}
	return inst, snap, nil
}

// decide says whether the instance, now settled, may be rolled back.
func (r *runner) decide(inst *Instance) error {
	switch inst.State {
	case InstanceStopped:
		return nil
	case InstanceRunning:
		if r.o.StopIfRunning {
			return nil
		}
		return &Error{Provider: inst.Provider, Kind: ErrInstanceState,
			Message: fmt.Sprintf("instance %s is running", inst.ID),
			Hint:    "stop it first, or let Run stop it with RunOptions.StopIfRunning (the rollback command: -stop)"}
	}
	return &Error{Provider: inst.Provider, Kind: ErrInstanceState,
		Message: fmt.Sprintf("instance %s is %s; a rollback needs it stopped", inst.ID, provider.DescribeState(string(inst.State), inst.NativeState))}
}

// resolveIDs finds the instance of the disk when the request names only the
// disk (SWAS): a system-disk snapshot names it; otherwise the disk does.
func (r *runner) resolveIDs(ctx context.Context, snap *Snapshot) error {
	req := &r.req
	if req.InstanceID != "" {
		return nil
	}
	if req.DiskID == "" || snap.DiskID == req.DiskID {
		req.InstanceID = snap.InstanceID
	}
	if di := r.caps.Disks; di != nil && req.InstanceID == "" && req.DiskID != "" {
		d, err := di.Disk(ctx, req.Region, req.DiskID)
		if err != nil {
			return err
		}
		req.InstanceID = d.InstanceID
	}
	if req.InstanceID == "" {
		return provider.InvalidArgument("", "", "InstanceID", "is empty and could not be found from the disk or the snapshot; set it")
	}
	return nil
}

func (r *runner) checkOwnership(snap *Snapshot, inst *Instance) error {
	req := r.req
	mismatch := func(format string, args ...any) error {
		return &Error{Provider: snap.Provider, Kind: ErrSnapshotMismatch, Message: fmt.Sprintf(format, args...),
			Hint: "pick a snapshot of this disk; nothing was changed"}
	}
	if snap.DiskID != "" && req.DiskID != "" && snap.DiskID != req.DiskID {
		return mismatch("snapshot %s was taken from disk %s, not %s", snap.ID, snap.DiskID, req.DiskID)
	}
	if snap.InstanceID != "" && snap.InstanceID != inst.ID {
		return mismatch("snapshot %s belongs to instance %s, not %s", snap.ID, snap.InstanceID, inst.ID)
	}
	return nil
}

func (r *runner) checkSnapshotReady(snap *Snapshot) error {
	switch snap.State {
	case SnapshotReady, SnapshotRollingBack: // rolling back: waited out with the instance
		return nil
	case SnapshotCreating:
		return &Error{Provider: snap.Provider, Kind: ErrSnapshotState,
			Message: fmt.Sprintf("snapshot %s is still being created (%d%%)", snap.ID, snap.Progress),
			Hint:    "wait until it is ready (rollback.WaitSnapshot) and run again"}
	}
	return &Error{Provider: snap.Provider, Kind: ErrSnapshotState,
		Message: fmt.Sprintf("snapshot %s is %s and cannot be used", snap.ID, provider.DescribeState(string(snap.State), snap.NativeState))}
}

// waitIdle waits out an operation in progress on the instance, then decides
// whether the settled instance may be rolled back. A rollback in progress
// when this Run resumes an operation is waited for as long as a rollback
// may take: it is most likely this operation's own. A dry run does not wait
// (and so cannot decide: the plan says so).
func (r *runner) waitIdle(ctx context.Context, inst *Instance) (*Instance, error) {
	if !inst.State.Transitional() && !inst.Busy {
		return inst, nil
	}
	limit := r.o.BusyTimeout
	if inst.State == InstanceRollingBack && r.resuming {
		limit = r.o.RollbackTimeout
	}
	r.begin(StepWaitIdle, inst.ID)
	if r.o.DryRun {
		r.end(EventStepSkipped, fmt.Sprintf("instance %s is %s; a real run would wait for it", inst.ID, provider.DescribeState(string(inst.State), inst.NativeState)), "")
		return inst, nil
	}
	got, err := WaitInstance(ctx, r.read, r.req.Region, inst.ID, UntilIdle, r.waitOpts(limit, inst.ID))
	if err != nil {
		if errors.Is(err, ErrTimeout) {
			err = &Error{Provider: inst.Provider, Kind: ErrBusy, Err: err,
				Message: fmt.Sprintf("instance %s stayed busy for %s", inst.ID, limit),
				Hint:    "another operation is still running on it; try again later or raise RunOptions.BusyTimeout"}
		}
		return nil, r.fail(StepWaitIdle, err)
	}
	if err := r.decide(got); err != nil {
		return nil, r.fail(StepWaitIdle, err)
	}
	r.end(EventStepFinished, "instance is "+provider.DescribeState(string(got.State), got.NativeState), "")
	return got, nil
}

// prepareAndRollback plans, stops, backs up and sends the rollback. It
// returns a nil Result and no error for a dry run.
func (r *runner) prepareAndRollback(ctx context.Context, inst *Instance, snap *Snapshot) (*Result, error) {
	needStop := inst.State == InstanceRunning
	r.rep.Plan = r.plan(inst, needStop)
	if r.o.DryRun {
		return nil, nil
	}
	if err := r.save(ctx, PhaseChecked, nil); err != nil {
		return nil, r.fail(StepCheck, err)
	}
	if needStop {
		if err := r.stop(ctx, inst); err != nil {
			return nil, err
		}
	}
	if r.o.SafetySnapshot {
		if err := r.safetySnapshot(ctx); err != nil {
			return nil, err
		}
	}
	return r.rollback(ctx)
}

func (r *runner) plan(inst *Instance, needStop bool) []string {
	req := r.req
	var plan []string
	if inst.State.Transitional() || inst.Busy {
		// Only a dry run gets here with a busy instance.
		plan = append(plan, fmt.Sprintf("wait until instance %s is idle (now %s), then check its state again",
			inst.ID, provider.DescribeState(string(inst.State), inst.NativeState)))
		if r.o.StopIfRunning {
			plan = append(plan, fmt.Sprintf("stop instance %s if it is running, and wait until it is stopped", inst.ID))
		}
	}
	if needStop {
		plan = append(plan, fmt.Sprintf("stop instance %s and wait until it is stopped", inst.ID))
	}
	if r.o.SafetySnapshot {
		if r.rep.SafetySnapshotID != "" {
			plan = append(plan, fmt.Sprintf("wait for safety snapshot %s of disk %s", r.rep.SafetySnapshotID, req.DiskID))
		} else {
			plan = append(plan, fmt.Sprintf("snapshot disk %s as %q and wait until the snapshot is ready", req.DiskID, r.safetyName()))
		}
	}
	plan = append(plan, fmt.Sprintf("roll back disk %s of instance %s to snapshot %s (%s)", req.DiskID, inst.ID, req.SnapshotID, operationName(inst.Provider, req.ClientToken)))
	if !r.o.NoWait {
		plan = append(plan, "wait until the rollback has finished")
	}
	if r.o.StartAfter {
		plan = append(plan, fmt.Sprintf("start instance %s and wait until it runs", inst.ID))
	}
	return plan
}

func (r *runner) stop(ctx context.Context, inst *Instance) error {
	r.begin(StepStop, inst.ID)
	if err := r.p.StopInstance(ctx, r.req.Region, inst.ID); err != nil {
		return r.fail(StepStop, err)
	}
	got, err := WaitInstance(ctx, r.read, r.req.Region, inst.ID, UntilStopped, r.waitOpts(r.o.StopTimeout, inst.ID))
	if err != nil {
		return r.fail(StepStop, err)
	}
	r.end(EventStepFinished, "instance is "+provider.DescribeState(string(got.State), got.NativeState), "")
	return r.save(ctx, PhaseStopped, nil)
}

func (r *runner) safetyName() string {
	if r.o.SafetySnapshotName != "" {
		return r.o.SafetySnapshotName
	}
	return "pre-rollback-" + r.start.UTC().Format("20060102T150405Z")
}

func (r *runner) safetySnapshot(ctx context.Context) error {
	r.begin(StepSafetySnapshot, r.req.DiskID)
	id := r.rep.SafetySnapshotID
	if id == "" {
		s, err := r.p.CreateSnapshot(ctx, r.req.Region, r.req.InstanceID, r.req.DiskID, r.safetyName())
		if err != nil {
			if errors.Is(err, ErrQuotaExceeded) {
				err = &StepError{Step: StepSafetySnapshot, Err: fmt.Errorf("%w; delete an old snapshot, or run without a safety snapshot", err)}
				r.end(EventStepFailed, "", "")
				return err
			}
			return r.fail(StepSafetySnapshot, err)
		}
		id = s.ID
		r.rep.SafetySnapshotID = id
		if err := r.save(ctx, PhaseStopped, nil); err != nil { // remember the ID at once
			return r.fail(StepSafetySnapshot, err)
		}
	}
	if _, err := WaitSnapshot(ctx, r.read, r.req.Region, id, r.waitOpts(r.o.SnapshotTimeout, id)); err != nil {
		return r.fail(StepSafetySnapshot, err)
	}
	r.end(EventStepFinished, "safety snapshot "+id+" is ready", "")
	return r.save(ctx, PhaseBackedUp, nil)
}

// rollback sends the rollback. Whether an earlier Run of the operation
// already sent one was settled before: from its checkpoint (witnessEarlier)
// or, without one, from its mark (guardLostCheckpoint). A rollback to this
// snapshot that the cloud merely shows is never taken for ours: another
// actor could have made it.
func (r *runner) rollback(ctx context.Context) (*Result, error) {
	r.begin(StepRollback, r.req.DiskID)
	if err := r.save(ctx, PhaseRollbackSending, nil); err != nil {
		return nil, r.fail(StepRollback, err)
	}
	if err := r.markBeforeSend(ctx); err != nil {
		return nil, r.fail(StepRollback, err)
	}
	res, err := r.send(ctx)
	if err != nil {
		// The checkpoint stays at rollback-sending, whatever the error
		// says: phases never move back, and a resumed Run asks the
		// provider's witness (witnessEarlier) before it resends.
		return nil, r.fail(StepRollback, err)
	}
	if r.before != nil {
		res.Before = r.before // the baseline from before anything changed
	}
	r.rep.Result = res
	detail := "accepted after 1 call"
	if res.Attempts != 1 {
		detail = fmt.Sprintf("accepted after %d calls", res.Attempts)
	}
	if res.Adopted {
		detail += "; an earlier attempt had landed"
	}
	r.end(EventStepFinished, detail, res.RequestID)
	return res, r.save(ctx, PhaseRollbackSent, res)
}

// send makes the rollback call. A provider.PreflightRoller gets the instance and the
// snapshot read just now through r.read, so that in a batch those reads are
// batched too instead of being made again by every item.
func (r *runner) send(ctx context.Context) (*Result, error) {
	pr := r.caps.Preflight
	if pr == nil {
		return r.p.Rollback(ctx, r.req)
	}
	var pf provider.Preflight
	var err error
	if pf.Snapshot, err = r.read.Snapshot(ctx, r.req.Region, r.req.SnapshotID); err != nil {
		return nil, err
	}
	if pf.Instance, err = r.read.Instance(ctx, r.req.Region, r.req.InstanceID); err != nil {
		return nil, err
	}
	return pr.RollbackWithPreflight(ctx, r.req, pf)
}

// finish waits for the rollback and starts the instance if asked. resent
// says that this Run sent the rollback with a token an earlier Run of the
// operation may have used (see waitRollback).
func (r *runner) finish(ctx context.Context, res *Result, resent bool) error {
	r.rep.Result = res
	if r.o.NoWait {
		r.skip(StepWaitRollback, "not waiting (RunOptions.NoWait)")
		return r.save(ctx, PhaseRollbackSent, res)
	}
	r.begin(StepWaitRollback, res.InstanceID)
	wo := r.waitOpts(r.o.RollbackTimeout, res.InstanceID)
	out, err := waitRollback(ctx, r.read, r.req.Region, res, wo, resent)
	r.rep.Outcome = out
	if err != nil {
		return r.fail(StepWaitRollback, err)
	}
	r.rep.InstanceAfter = out.Instance
	r.end(EventStepFinished, "rollback finished ("+out.Evidence+")", res.RequestID)
	if err := r.save(ctx, PhaseRollbackDone, res); err != nil {
		return err
	}
	if r.o.StartAfter {
		if err := r.startInstance(ctx, res.InstanceID, out.Instance); err != nil {
			return err
		}
	}
	return r.save(ctx, PhaseDone, res)
}

// startInstance starts the instance and waits until it runs. last is the
// instance as the rollback wait left it: a Run resumed after a crash in
// this step finds it starting or running already, and waits for that
// instead of asking again (the cloud refuses to start a running instance).
func (r *runner) startInstance(ctx context.Context, id string, last *Instance) error {
	r.begin(StepStart, id)
	if last == nil || (last.State != InstanceRunning && last.State != InstanceStarting) {
		if err := r.p.StartInstance(ctx, r.req.Region, id); err != nil {
			return r.fail(StepStart, err)
		}
	}
	got, err := WaitInstance(ctx, r.read, r.req.Region, id, UntilRunning, r.waitOpts(r.o.StartTimeout, id))
	if err != nil {
		return r.fail(StepStart, err)
	}
	r.rep.InstanceAfter = got
	r.end(EventStepFinished, "instance is "+provider.DescribeState(string(got.State), got.NativeState), "")
	return nil
}

// alreadyDone reports a finished operation without touching anything.
func (r *runner) alreadyDone(ctx context.Context) error {
	r.end(EventStepFinished, "operation already done (checkpoint)", "")
	r.rep.Result = r.cp.Result
	if r.cp.Result != nil {
		if in, err := r.read.Instance(ctx, r.req.Region, r.cp.Result.InstanceID); err == nil {
			r.rep.InstanceAfter = in
		}
	}
	return nil
}

// waitOpts derives a step's wait options, turning polls into events.
func (r *runner) waitOpts(limit time.Duration, resource string) WaitOptions {
	wo := r.o.Wait
	wo.Timeout = limit
	user := wo.OnPoll
	step := r.step
	wo.OnPoll = func(p Poll) {
		r.renew()
		if user != nil {
			user(p)
		}
		r.emit(Event{Kind: EventState, Step: step, Resource: resource, State: p.State, NativeState: p.Native,
			Percent: p.Percent, Attempt: p.Attempt, Err: p.Err, Message: "waiting for " + p.What})
	}
	return wo
}

// claim takes the operation key for this Run and returns its checkpoint
// (nil when none). A dry run changes nothing, so it only reads.
func (r *runner) claim(ctx context.Context) (*Checkpoint, error) {
	if r.o.DryRun {
		return r.o.Checkpoints.Load(ctx, r.key)
	}
	owner := newOwner()
	now := r.clk.Now()
	cp, err := r.o.Checkpoints.Acquire(ctx, r.key, Lease{Owner: owner, Now: now, TTL: r.o.LeaseTTL})
	if err != nil {
		return nil, err
	}
	r.owner, r.renewed = owner, now
	return cp, nil
}

// save records a checkpoint, when the Run has a key and a store, and
// renews the Run's claim. Phases only move forward: a resumed Run that
// repeats a step keeps the later phase.
func (r *runner) save(ctx context.Context, phase Phase, res *Result) error {
	if r.key == "" || r.o.Checkpoints == nil {
		return nil
	}
	if r.lost != nil {
		return r.lost
	}
	if r.cp == nil {
		r.cp = &Checkpoint{Key: r.key}
	}
	if provider.PhaseBefore(r.cp.Phase, phase) || r.cp.Phase == "" {
		r.cp.Phase = phase
	}
	r.cp.Request, r.cp.Before = r.req, r.before
	if res != nil {
		r.cp.Result = res
	}
	r.cp.SafetySnapshotID = r.rep.SafetySnapshotID
	now := r.clk.Now()
	r.cp.Updated, r.cp.Owner = now, r.owner
	if r.owner != "" {
		r.cp.LeaseUntil = now.Add(r.o.LeaseTTL)
	}
	if err := r.o.Checkpoints.Save(ctx, r.cp); err != nil {
		if errors.Is(err, ErrKeyHeld) {
			r.lost = err
		}
		return fmt.Errorf("rollback: saving checkpoint: %w", err)
	}
	r.renewed = now
	return nil
}

// renew extends the Run's claim while it waits, once a quarter of the
// lease has passed. A claim found lost is remembered: the next step's save
// fails with it, before anything more is sent.
func (r *runner) renew() {
	if r.owner == "" || r.lost != nil || r.clk.Now().Sub(r.renewed) < r.o.LeaseTTL/4 {
		return
	}
	var err error
	if r.cp == nil || r.cp.Phase == "" {
		_, err = r.o.Checkpoints.Acquire(r.ctx, r.key, Lease{Owner: r.owner, Now: r.clk.Now(), TTL: r.o.LeaseTTL})
	} else {
		err = r.save(r.ctx, r.cp.Phase, nil)
	}
	if err != nil && errors.Is(err, ErrKeyHeld) {
		r.lost = err
	}
	r.renewed = r.clk.Now() // a failed renewal is not retried on every poll
}

// newOwner names a Run's claim: host and process for people reading a
// checkpoint, and a random part so that two Runs never share a name.
func newOwner() string {
	host, _ := os.Hostname()
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%x", host, os.Getpid(), b)
}

func (r *runner) onRetry(ev RetryEvent) {
	r.renew()
	r.emit(Event{Kind: EventRetry, Step: r.step, Attempt: ev.Attempt, Delay: ev.Delay, Err: ev.Err,
		Message: "retrying " + ev.Op})
}

func (r *runner) emit(ev Event) {
	now := r.clk.Now()
	ev.Time, ev.Elapsed = now, now.Sub(r.start)
	if ev.Step == "" {
		ev.Step = r.step
	}
	if !r.stepT0.IsZero() {
		ev.StepElapsed = now.Sub(r.stepT0)
	}
	if ev.Kind != EventState {
		ev.Percent = -1
	}
	ev.log(context.Background(), r.o.Logger)
	if r.o.Progress != nil {
		r.o.Progress(ev)
	}
}

func (r *runner) begin(step Step, resource string) {
	r.step, r.stepT0 = step, r.clk.Now()
	r.emit(Event{Kind: EventStepStarted, Resource: resource, Message: "step " + string(step) + " started"})
	r.hookStepStart(resource)
}

func (r *runner) end(kind EventKind, detail, requestID string) {
	outcome := map[EventKind]string{EventStepFinished: "done", EventStepSkipped: "skipped", EventStepFailed: "failed"}[kind]
	r.rep.Steps = append(r.rep.Steps, StepReport{Step: r.step, Started: r.stepT0, Duration: r.clk.Now().Sub(r.stepT0),
		Outcome: outcome, Detail: detail, RequestID: requestID})
	r.emit(Event{Kind: kind, RequestID: requestID, Message: detail})
	r.hookStepEnd(outcome, requestID, nil)
}

func (r *runner) skip(step Step, detail string) {
	r.step, r.stepT0 = step, r.clk.Now()
	r.end(EventStepSkipped, detail, "")
}

// fail records the failed step and wraps its error. Context errors pass
// through unwrapped in meaning: errors.Is still sees them.
func (r *runner) fail(step Step, err error) error {
	var se *StepError
	if errors.As(err, &se) {
		return err // already recorded by the step that failed
	}
	if r.step != step {
		r.step, r.stepT0 = step, r.clk.Now()
	}
	r.rep.Steps = append(r.rep.Steps, StepReport{Step: step, Started: r.stepT0, Duration: r.clk.Now().Sub(r.stepT0),
		Outcome: "failed", Err: err.Error()})
	r.emit(Event{Kind: EventStepFailed, Err: err, Message: "step " + string(step) + " failed"})
	r.hookStepEnd("failed", "", err)
	return &StepError{Step: step, Err: err}
}

func phaseAtLeast(p, min Phase) bool {
	return p.Known() && !provider.PhaseBefore(p, min) // unknown or empty phases are at least nothing
}

package rollback

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/provider"
)

// WaitOptions paces and bounds a wait. The zero value is ready to use.
type WaitOptions struct {
	// Timeout bounds the wait (0: DefaultWaitTimeout). The last poll falls
	// on the deadline.
	Timeout time.Duration
	// MinDelay is the first pause between polls (0: DefaultPollMinDelay);
	// MaxDelay caps the pauses of a wait that knows nothing about when the
	// operation will end (0: DefaultPollMaxDelay).
	MinDelay, MaxDelay time.Duration
	// Expected is how long the operation is expected to take, if known;
	// polls then gather around that moment.
	Expected time.Duration
	// Learner remembers how long operations took so that later waits poll
	// where they are likely to end; nil means DefaultLearner. Use a
	// Learner of your own to keep separate histories.
	Learner *Learner
	// Clock paces the wait (nil: the wall clock). Give it the emulator's
	// clock in tests.
	Clock clock.Clock
	// OnPoll is called after every poll.
	OnPoll func(Poll)
	// Align, when set, puts every poll on a multiple of Align on the clock
	// (unjittered), so that many waits running at once poll together and a
	// batching reader can serve them with one call. RunBatch sets it.
	Align time.Duration

	// ReadGrace is how long the cloud's reads may lag its writes (0:
	// DefaultReadGrace): a rollback wait that has seen no sign of an
	// accepted rollback gives up with ErrOutcomeUnknown only once this
	// much time has passed since it was sent, however many polls saw
	// nothing before.
	ReadGrace time.Duration

	// prior is the provider's window for the operation (provider.WaitPriors), used
	// while the Learner knows nothing of it.
	prior estimate
}

func (o WaitOptions) withDefaults() WaitOptions {
	if o.Timeout <= 0 {
		o.Timeout = DefaultWaitTimeout
	}
	if o.MinDelay <= 0 {
		o.MinDelay = DefaultPollMinDelay
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = DefaultPollMaxDelay
	}
	if o.MaxDelay < o.MinDelay {
		o.MaxDelay = o.MinDelay
	}
	if o.Learner == nil {
		o.Learner = DefaultLearner
	}
	if o.ReadGrace <= 0 {
		o.ReadGrace = DefaultReadGrace
	}
	o.Clock = clock.Or(o.Clock)
	return o
}

// Poll is what one poll of a wait saw.
type Poll struct {
	What    string        // what is waited for, e.g. "instance lhins-1 stopped"
	Attempt int           // 1-based poll number
	Elapsed time.Duration // since the wait began
	State   string        // the normalized state seen ("" if the read failed)
	Native  string        // the cloud's own word for it
	Percent int           // progress reported by the cloud, or -1
	Err     error         // a read that failed but is worth repeating
}

// TimeoutError is returned when a wait runs past its limit. errors.Is
// matches ErrTimeout and, through Unwrap, the last read error if there was
// one.
type TimeoutError struct {
	What      string        // what was waited for
	Waited    time.Duration // how long
	Polls     int
	LastState string // the last normalized state seen, "" if none
	LastErr   error  // the last read error, if the last read failed
	// Last is the last thing read: *Instance or *Snapshot.
	Last any
}

func (e *TimeoutError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rollback: timed out after %s waiting for %s", e.Waited.Round(time.Millisecond), e.What)
	if e.LastState != "" {
		fmt.Fprintf(&b, "; last state %s", e.LastState)
	}
	if e.LastErr != nil {
		fmt.Fprintf(&b, "; last error: %v", e.LastErr)
	}
	fmt.Fprintf(&b, " (%d polls); it may still finish: check before acting again", e.Polls)
	return b.String()
}

// Is matches ErrTimeout.
func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

// Unwrap returns the last read error.
func (e *TimeoutError) Unwrap() error { return e.LastErr }

// verdict is a poll's conclusion.
type verdict int

const (
	pending verdict = iota
	done
	failed
)

// observation is what a poll function reports.
type observation[T any] struct {
	value   T
	state   string // normalized
	native  string
	percent int // -1 when none
	verdict verdict
	err     error // with failed: why
}

// pollUntil runs the wait loop: read, judge, pace, repeat. kind names the
// operation for the learner ("" learns nothing). A read error that is worth
// retrying keeps the wait going; any other ends it.
func pollUntil[T any](ctx context.Context, o WaitOptions, what, kind string, read func(ctx context.Context) (observation[T], error)) (T, error) {
	o = o.withDefaults()
	clk := o.Clock
	start := clk.Now()
	pc := newPacer(o, kind)
	pc.origin = start
	if err := clock.Sleep(ctx, clk, pc.first()); err != nil {
		var zero T
		return zero, err
	}
	var (
		zero     T
		last     observation[T]
		haveLast bool
		lastErr  error
		prev     time.Duration // when the operation was last seen pending
	)
	for attempt := 1; ; attempt++ {
		obs, err := read(ctx)
		elapsed := clk.Now().Sub(start)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return zero, interruptedWait(ctxErr, lastErr)
		}
		poll := Poll{What: what, Attempt: attempt, Elapsed: elapsed, Percent: -1}
		switch {
		case err != nil && !IsRetryable(err):
			return zero, err
		case err != nil:
			lastErr = err
			poll.Err = err
		default:
			last, haveLast, lastErr = obs, true, nil
			poll.State, poll.Native, poll.Percent = obs.state, obs.native, obs.percent
			if obs.percent >= 0 {
				pc.observe(elapsed, obs.percent)
			}
		}
		if o.OnPoll != nil {
			o.OnPoll(poll)
		}
		if err == nil {
			switch obs.verdict {
			case done:
				if kind != "" && elapsed > 0 {
					// It ended between the last two polls (or, when the
					// first poll came after a pause, between the start and
					// now): learn that interval, not the moment we noticed,
					// or every lag would be learned as part of the
					// operation. A wait whose very first, immediate read
					// finds it done learns nothing: it ended before the
					// wait began.
					o.Learner.ObserveRange(kind, prev, elapsed)
				}
				return obs.value, nil
			case pending:
				prev = elapsed
			case failed:
				return obs.value, obs.err
			}
		}
		delay, ok := pc.next(elapsed)
		if !ok {
			te := &TimeoutError{What: what, Waited: elapsed, Polls: attempt, LastErr: lastErr}
			if haveLast {
				te.LastState, te.Last = provider.DescribeState(last.state, last.native), last.value
			}
			return zero, te
		}
		if err := pc.sleep(ctx, clk, start, elapsed, delay); err != nil {
			return zero, interruptedWait(err, lastErr)
		}
	}
}

func interruptedWait(ctxErr, last error) error {
	if last == nil {
		return ctxErr
	}
	return &InterruptedError{Ctx: ctxErr, Last: last}
}

// InstanceWait says which instance states end a wait successfully and which
// mean "keep waiting"; any other state ends it with ErrInstanceState, and a
// state this library does not know is never "keep waiting".
type InstanceWait struct {
	// Name describes the goal in messages ("stopped").
	Name    string
	Target  []InstanceState
	Pending []InstanceState
	// Idle also requires that no operation is in progress (Instance.Busy
	// false) before a target state counts.
	Idle bool
	// FailedOp ends the wait with ErrInstanceState when the instance's
	// latest operation is of this kind and failed (Lighthouse reports it).
	FailedOp OperationKind
}

// Common instance waits.
var (
	// UntilStopped follows a stop request.
	UntilStopped = InstanceWait{Name: "stopped", Target: []InstanceState{InstanceStopped},
		Pending: []InstanceState{InstanceRunning, InstanceStopping, InstanceBusy}, Idle: true, FailedOp: OpStop}
	// UntilRunning follows a start request.
	UntilRunning = InstanceWait{Name: "running", Target: []InstanceState{InstanceRunning},
		Pending: []InstanceState{InstanceStopped, InstanceStarting, InstancePending, InstanceBusy}, Idle: true, FailedOp: OpStart}
	// UntilIdle waits out whatever operation is in progress.
	UntilIdle = InstanceWait{Name: "idle (running or stopped)", Target: []InstanceState{InstanceRunning, InstanceStopped},
		Pending: []InstanceState{InstancePending, InstanceStopping, InstanceStarting, InstanceRollingBack, InstanceBusy}, Idle: true}
)

// judge applies the wait's rules to one reading.
func (w InstanceWait) judge(in *Instance) (verdict, error) {
	op := in.LatestOperation
	if w.FailedOp != "" && op.Kind == w.FailedOp && op.State == OperationFailed {
		return failed, &Error{Provider: in.Provider, Kind: ErrInstanceState,
			Message: fmt.Sprintf("instance %s: %s failed (request %s); state %s", in.ID, op.Name, op.RequestID, provider.DescribeState(string(in.State), in.NativeState))}
	}
	if slices.Contains(w.Target, in.State) && !(w.Idle && in.Busy) {
		return done, nil
	}
	if slices.Contains(w.Pending, in.State) || slices.Contains(w.Target, in.State) {
		return pending, nil
	}
	return failed, &Error{Provider: in.Provider, Kind: ErrInstanceState,
		Message: fmt.Sprintf("instance %s is %s while waiting for it to be %s", in.ID, provider.DescribeState(string(in.State), in.NativeState), w.Name)}
}

// kindFor names an instance wait for the learner.
func (w InstanceWait) kindFor(p Inspector) string {
	return providerName(p) + "/instance-" + w.Name
}

// WaitInstance polls the instance until w is met, a state outside w's sets
// appears (ErrInstanceState), the instance disappears (ErrInstanceNotFound)
// or the wait times out (*TimeoutError, ErrTimeout).
func WaitInstance(ctx context.Context, p Inspector, region, instanceID string, w InstanceWait, o WaitOptions) (*Instance, error) {
	what := fmt.Sprintf("instance %s to be %s", instanceID, w.Name)
	o.prior = priorOf(p, "instance-"+w.Name)
	return pollUntil(ctx, o, what, w.kindFor(p), func(ctx context.Context) (observation[*Instance], error) {
		in, err := p.Instance(ctx, region, instanceID)
		if err != nil {
			return observation[*Instance]{}, err
		}
		v, verr := w.judge(in)
		return observation[*Instance]{value: in, state: string(in.State), native: in.NativeState, percent: -1, verdict: v, err: verr}, nil
	})
}

// WaitSnapshot polls the snapshot until it is ready. A failed or unknown
// state ends the wait with ErrSnapshotState; the cloud's progress paces the
// polls.
func WaitSnapshot(ctx context.Context, p Inspector, region, snapshotID string, o WaitOptions) (*Snapshot, error) {
	what := fmt.Sprintf("snapshot %s to be ready", snapshotID)
	o.prior = priorOf(p, "snapshot")
	return pollUntil(ctx, o, what, providerName(p)+"/snapshot", func(ctx context.Context) (observation[*Snapshot], error) {
		s, err := p.Snapshot(ctx, region, snapshotID)
		if err != nil {
			return observation[*Snapshot]{}, err
		}
		obs := observation[*Snapshot]{value: s, state: string(s.State), native: s.NativeState, percent: s.Progress}
		switch s.State {
		case SnapshotReady:
			obs.verdict = done
		case SnapshotCreating, SnapshotRollingBack:
			obs.verdict = pending
		default:
			obs.verdict = failed
			obs.err = &Error{Provider: s.Provider, Kind: ErrSnapshotState,
				Message: fmt.Sprintf("snapshot %s is %s while waiting for it to be ready", s.ID, provider.DescribeState(string(s.State), s.NativeState))}
		}
		return obs, nil
	})
}

// RollbackOutcome is the end of a rollback wait.
type RollbackOutcome struct {
	Instance *Instance
	Snapshot *Snapshot
	// Evidence says how the end was recognised, for reports.
	Evidence string
}

// WaitRollback waits until the rollback described by res has finished. It
// returns ErrRollbackFailed (at once, not at the timeout) when the cloud
// reports that the rollback failed, and ErrOutcomeUnknown when the instance
// shows no sign of the rollback at all.
//
// How the end is recognised: a rollback operation carrying res.RequestID on
// the instance or the snapshot gives the answer directly (Lighthouse).
// Otherwise the instance must leave the rolling-back state, and then the
// snapshot's LastRollbackAt must be newer than in res.Before (SWAS): if it is
// not, the rollback failed.
func WaitRollback(ctx context.Context, p Inspector, region string, res *Result, o WaitOptions) (*RollbackOutcome, error) {
	return waitRollback(ctx, p, region, res, o, false)
}

// waitRollback is WaitRollback; resent says that res's token may have been
// sent before by an earlier Run of the same operation (see
// rollbackTracker.judgeSnapshot).
func waitRollback(ctx context.Context, p Inspector, region string, res *Result, o WaitOptions, resent bool) (*RollbackOutcome, error) {
	if res == nil || res.InstanceID == "" {
		return nil, provider.InvalidArgument("", "", "Result", "has no InstanceID; pass the Result that Rollback returned")
	}
	snapID := ""
	if res.Before != nil {
		snapID = res.Before.ID
	}
	what := fmt.Sprintf("rollback of instance %s to snapshot %s to finish", res.InstanceID, snapID)
	o = o.withDefaults()
	tr := &rollbackTracker{res: res, resent: resent, clk: o.Clock, grace: o.ReadGrace}
	o.prior = priorOf(p, "rollback")
	// Look once at the start: the pacer may put the first poll late, and a
	// rollback that fails before it would leave nothing to tell it from one
	// that never ran (SWAS records only successes). A failed read changes
	// nothing; the polls read again.
	if in, err := p.Instance(ctx, region, res.InstanceID); err == nil {
		tr.judgeInstance(in)
	}
	return pollUntil(ctx, o, what, providerName(p)+"/rollback", func(ctx context.Context) (observation[*RollbackOutcome], error) {
		in, err := p.Instance(ctx, region, res.InstanceID)
		if err != nil {
			return observation[*RollbackOutcome]{}, err
		}
		v, verr, evidence := tr.judgeInstance(in)
		out := &RollbackOutcome{Instance: in, Evidence: evidence}
		obs := observation[*RollbackOutcome]{value: out, state: string(in.State), native: in.NativeState, percent: -1, verdict: v, err: verr}
		if v != pending || !tr.needSnapshot || snapID == "" {
			return obs, nil
		}
		// The instance has settled but did not say how the rollback ended:
		// the snapshot tells.
		s, err := p.Snapshot(ctx, region, snapID)
		if err != nil {
			return observation[*RollbackOutcome]{}, err
		}
		out.Snapshot = s
		obs.verdict, obs.err, out.Evidence = tr.judgeSnapshot(s)
		return obs, nil
	})
}

// rollbackTracker carries what a rollback wait has seen across polls.
type rollbackTracker struct {
	res          *Result
	resent       bool // the token may have been used by an earlier Run
	sawRolling   bool
	needSnapshot bool
	quietPolls   int // polls with no sign of the rollback at all
	clk          clock.Clock
	grace        time.Duration // WaitOptions.ReadGrace
}

// quietLimit is how many polls may show no sign of an accepted rollback
// before the wait gives up with ErrOutcomeUnknown (and only once the read
// grace has passed since the rollback was sent: quick polls of a lagging
// read prove nothing).
const quietLimit = 5

// quiet reports whether the wait has seen nothing for long enough to give
// up: quietLimit polls, the read grace after the send.
func (t *rollbackTracker) quiet() bool {
	if t.quietPolls < quietLimit {
		return false
	}
	return t.res.SentAt.IsZero() || t.clk == nil || t.clk.Now().Sub(t.res.SentAt) >= t.grace
}

func (t *rollbackTracker) judgeInstance(in *Instance) (verdict, error, string) {
	t.needSnapshot = false
	if v, err, ok := t.judgeOperation(in.Provider, in.LatestOperation, "instance "+in.ID); ok {
		return v, err, "instance operation " + in.LatestOperation.Name
	}
	switch {
	case in.State == InstanceRollingBack:
		t.sawRolling = true
		return pending, nil, ""
	case in.State.Transitional() || in.Busy:
		return pending, nil, ""
	case in.State == InstanceUnavailable || in.State == InstanceUnknown:
		return failed, &Error{Provider: in.Provider, Kind: ErrInstanceState,
			Message: fmt.Sprintf("instance %s became %s during the rollback", in.ID, provider.DescribeState(string(in.State), in.NativeState))}, ""
	}
	t.needSnapshot = true
	return pending, nil, ""
}

// judgeOperation reads an operation that names our request.
func (t *rollbackTracker) judgeOperation(provider string, op Operation, where string) (verdict, error, bool) {
	if op.Kind != OpRollback || t.res.RequestID == "" || op.RequestID != t.res.RequestID {
		return pending, nil, false
	}
	switch op.State {
	case OperationSucceeded:
		return done, nil, true
	case OperationFailed:
		return failed, &Error{Provider: provider, Kind: ErrRollbackFailed, RequestID: op.RequestID,
			Message: fmt.Sprintf("%s reports %s %s", where, op.Name, op.NativeState),
			Hint:    "the disk may be partly restored: check the instance, then retry the rollback or restore the safety snapshot"}, true
	case OperationRunning:
		t.sawRolling = true
		return pending, nil, true
	}
	return pending, nil, false
}

func (t *rollbackTracker) judgeSnapshot(s *Snapshot) (verdict, error, string) {
	if v, err, ok := t.judgeOperation(s.Provider, s.LatestOperation, "snapshot "+s.ID); ok {
		return v, err, "snapshot operation " + s.LatestOperation.Name
	}
	if s.State == SnapshotRollingBack {
		t.sawRolling = true
		return pending, nil, ""
	}
	var before time.Time
	if t.res.Before != nil {
		before = t.res.Before.LastRollbackAt
	}
	if !s.LastRollbackAt.IsZero() && s.LastRollbackAt.After(before) {
		return done, nil, "snapshot rollback time " + s.LastRollbackAt.UTC().Format(time.RFC3339)
	}
	if t.sawRolling {
		return failed, &Error{Provider: s.Provider, Kind: ErrRollbackFailed, RequestID: t.res.RequestID,
			Message: fmt.Sprintf("instance %s finished rolling back but snapshot %s records no new rollback", t.res.InstanceID, s.ID),
			Hint:    "the disk may be unchanged or partly restored: check the instance before retrying"}, ""
	}
	t.quietPolls++
	if t.quiet() && t.resent {
		// The cloud accepted a token it had seen before and applied nothing
		// new: an earlier Run's call with this token was the one applied.
		// Whether it succeeded cannot be read: the snapshot's rollback time
		// may be that rollback's or an older one's.
		why := "the cloud applied nothing new for this operation"
		if s.Provider == ProviderAliyun {
			why = "the cloud deduplicated this operation's client token"
		}
		return failed, &Error{Provider: s.Provider, Kind: ErrOutcomeUnknown, RequestID: t.res.RequestID,
			Message: fmt.Sprintf("%s: an earlier run already rolled instance %s back to snapshot %s, and whether that rollback succeeded cannot be told without its checkpoint (the snapshot was last rolled back to at %s)",
				why, t.res.InstanceID, s.ID, s.LastRollbackAt.UTC().Format(time.RFC3339)),
			Hint: "check the instance's disk; to resume after a crash, keep checkpoints that outlive the process (RunOptions.Checkpoints)"}, ""
	}
	if t.quiet() {
		return failed, &Error{Provider: s.Provider, Kind: ErrOutcomeUnknown, RequestID: t.res.RequestID,
			Message: fmt.Sprintf("the rollback was accepted (request %s) but instance %s never showed it and snapshot %s records no new rollback", t.res.RequestID, t.res.InstanceID, s.ID),
			Hint:    "check the instance's disk before acting again"}, ""
	}
	return pending, nil, ""
}

// providerName returns the provider's name when it reports one.
func providerName(p any) string {
	caps, ok := p.(provider.Capabilities)
	if !ok {
		caps = provider.CapabilitiesOf(p)
	}
	if n := caps.Name; n != "" {
		return n
	}
	return "provider"
}

package rollback

import (
	"context"
	"time"

	"github.com/cloudsnap/rollback/provider"
)

// Hooks observe a client's API calls and Run's steps, for tracing and
// metrics (the nested module github.com/cloudsnap/rollback/otel turns them
// into OpenTelemetry spans and metrics). Every field is optional, and the
// zero value observes nothing and costs nothing: the call path checks one
// function pointer and moves on.
//
// A client reports its calls to the Hooks given with WithHooks; Run reports
// itself and its steps to RunOptions.Hooks. Give both the same Hooks.
//
// The info structs are filled in as the call goes: the start hooks see the
// fields that are known then, the end hooks see them all. The pointer passed
// to a start hook is the one passed to the matching end hook, so a hook may
// keep per-call state keyed by it, but must not keep it after the end hook
// returns. Nothing in them holds a credential or a signature: the errors
// are the library's redacted ones. An error's text may still quote a
// (redacted) URL or the cloud's message, so an exporter should record
// Kind and the cloud's code (ErrorDetail), not Err.Error(), as the otel
// module does.
//
// Hooks are called synchronously on the calling goroutine and must be quick
// and safe for concurrent use (a client serves many goroutines).
type Hooks struct {
	// CallStart is called before the first attempt of a logical call (one
	// API action, all its retries included). The context it returns is the
	// one the attempts, the SDK's HTTP requests and CallEnd get: a tracer
	// puts its span there. Returning ctx unchanged is fine.
	CallStart func(ctx context.Context, c *CallInfo) context.Context
	// CallEnd is called once when the call has succeeded or given up.
	CallEnd func(ctx context.Context, c *CallInfo)
	// AttemptStart is called just before an attempt is sent, after its wait
	// for a rate-limit slot; its context goes to that attempt.
	AttemptStart func(ctx context.Context, c *CallInfo, a *AttemptInfo) context.Context
	// AttemptEnd is called when the attempt's fate is known: with the
	// retry delay and reason when another attempt follows.
	AttemptEnd func(ctx context.Context, c *CallInfo, a *AttemptInfo)

	// RunStart is called when Run starts; the context it returns is the one
	// every step, call and RunEnd of that Run gets (so calls made by the
	// Run carry it, or a child of it).
	RunStart func(ctx context.Context, r *RunInfo) context.Context
	// RunEnd is called once when Run returns.
	RunEnd func(ctx context.Context, r *RunInfo)
	// StepStart and StepEnd bracket each step of Run (check, wait for idle,
	// stop, safety snapshot, rollback, wait, start). They get the Run's
	// context: Run's steps are sequential, so an adapter that keeps the
	// current step in a value it put there in RunStart can parent the
	// step's calls to it.
	StepStart func(ctx context.Context, s *StepInfo)
	StepEnd   func(ctx context.Context, s *StepInfo)
}

// RunInfo describes one Run.
type RunInfo struct {
	Provider string
	// Request is the request as given (IDs found later are in Report).
	Request Request
	DryRun  bool
	Start   time.Time

	// Known at the end.
	Duration time.Duration
	Report   *Report
	Err      error
	Kind     error // the sentinel of Err, or the context's error
}

// Outcome is "succeeded", "failed" or, for a dry run that passed its
// checks, "dry_run": a label of small cardinality for metrics.
func (r *RunInfo) Outcome() string {
	switch {
	case r.Err != nil:
		return "failed"
	case r.DryRun:
		return "dry_run"
	}
	return "succeeded"
}

// StepInfo describes one step of a Run.
type StepInfo struct {
	Step     Step
	Resource string // what the step acts on, when it started on one
	Start    time.Time

	// Known at the end.
	Duration  time.Duration
	Outcome   string // "done", "skipped" or "failed"
	RequestID string
	Err       error
}

// WithHooks reports the client's API calls to h (see Hooks).
func WithHooks(h Hooks) Option {
	return func(o *provider.Options) {
		o.Hooks = provider.CallHooks{CallStart: h.CallStart, CallEnd: h.CallEnd, AttemptStart: h.AttemptStart, AttemptEnd: h.AttemptEnd}
	}
}

type (
	// CallInfo describes one logical API call (Hooks.CallStart, CallEnd).
	CallInfo = provider.CallInfo
	// AttemptInfo describes one attempt of a call (Hooks.AttemptStart,
	// AttemptEnd).
	AttemptInfo = provider.AttemptInfo
)

// ErrorKind is the sentinel of err for CallInfo.Kind and its kin: KindOf,
// or the context's error, or nil.
func ErrorKind(err error) error { return provider.ErrorKind(err) }

// ErrorDetail returns the cloud's error code, request ID and HTTP status of
// err, where it carries them.
func ErrorDetail(err error) (code, requestID string, status int) { return provider.ErrorDetail(err) }

// runHooks: Run's side of Hooks, kept out of run.go's step logic.

func (r *runner) hookRunStart(ctx context.Context, req Request) context.Context {
	h := &r.o.Hooks
	r.hookCtx = ctx
	if h.RunStart == nil && h.RunEnd == nil && h.StepStart == nil && h.StepEnd == nil {
		return ctx
	}
	r.runInfo = &RunInfo{Provider: r.rep.Provider, Request: req, DryRun: r.o.DryRun, Start: r.start}
	if h.RunStart != nil {
		ctx = h.RunStart(ctx, r.runInfo)
	}
	r.hookCtx = ctx
	return ctx
}

func (r *runner) hookRunEnd(err error) {
	ri := r.runInfo
	if ri == nil {
		return
	}
	if r.stepInfo != nil { // a step left open by an early return
		r.hookStepEnd("failed", "", err)
	}
	ri.Duration, ri.Report, ri.Err, ri.Kind = r.rep.Duration, r.rep, err, ErrorKind(err)
	if r.o.Hooks.RunEnd != nil {
		r.o.Hooks.RunEnd(r.hookCtx, ri)
	}
}

func (r *runner) hookStepStart(resource string) {
	if r.runInfo == nil {
		return
	}
	if r.stepInfo != nil {
		r.hookStepEnd("done", "", nil)
	}
	r.stepInfo = &StepInfo{Step: r.step, Resource: resource, Start: r.stepT0}
	if r.o.Hooks.StepStart != nil {
		r.o.Hooks.StepStart(r.hookCtx, r.stepInfo)
	}
}

// hookStepEnd ends the open step, opening it first when the step failed
// before it began (fail of a step that had no begin).
func (r *runner) hookStepEnd(outcome, requestID string, err error) {
	if r.runInfo == nil {
		return
	}
	s := r.stepInfo
	if s == nil || s.Step != r.step {
		r.hookStepStart("")
		s = r.stepInfo
	}
	r.stepInfo = nil
	s.Duration, s.Outcome, s.RequestID, s.Err = r.clk.Now().Sub(s.Start), outcome, requestID, err
	if r.o.Hooks.StepEnd != nil {
		r.o.Hooks.StepEnd(r.hookCtx, s)
	}
}

package rollback

import (
	"context"
	"log/slog"
	"time"
)

// Step names a step of Run.
type Step string

// The steps of Run, in order.
const (
	StepCheck          Step = "check"           // validate, read snapshot and instance
	StepWaitIdle       Step = "wait-idle"       // wait out an operation already in progress
	StepStop           Step = "stop"            // stop the instance and wait until stopped
	StepSafetySnapshot Step = "safety-snapshot" // snapshot the current disk and wait until ready
	StepRollback       Step = "rollback"        // send the rollback (exactly once)
	StepWaitRollback   Step = "wait-rollback"   // wait until the rollback has finished
	StepStart          Step = "start"           // start the instance and wait until running
)

// EventKind says what an Event reports.
type EventKind string

// Event kinds.
const (
	EventStepStarted  EventKind = "step-started"
	EventStepFinished EventKind = "step-finished"
	EventStepSkipped  EventKind = "step-skipped"
	EventStepFailed   EventKind = "step-failed"
	EventState        EventKind = "state" // a poll saw a state (and maybe a percentage)
	EventRetry        EventKind = "retry" // a provider call is being retried
)

// Event is one piece of progress from Run, for a progress display. The same
// information goes to the Run's logger as structured logs.
type Event struct {
	Kind EventKind
	Step Step
	Time time.Time // on the Run's clock
	// Elapsed is the time since Run began; StepElapsed since the step began.
	Elapsed, StepElapsed time.Duration
	Resource             string // the instance or snapshot concerned
	State                string // normalized state (EventState)
	NativeState          string
	Percent              int    // progress reported by the cloud, or -1
	RequestID            string // of the call that finished the step, when there is one
	Attempt              int    // poll or retry number
	Delay                time.Duration
	Message              string
	Err                  error
}

// log writes the event to l as one structured line.
func (e Event) log(ctx context.Context, l *slog.Logger) {
	level := slog.LevelInfo
	switch e.Kind {
	case EventState, EventRetry:
		level = slog.LevelDebug
	case EventStepFailed:
		level = slog.LevelError
	}
	if !l.Enabled(ctx, level) {
		// The default logger discards, and most keep Debug off: a fleet
		// emits a state event per poll per server, whose attributes would
		// be garbage.
		return
	}
	attrs := []slog.Attr{slog.String("event", string(e.Kind)), slog.String("step", string(e.Step)),
		slog.Duration("elapsed", e.Elapsed)}
	if e.StepElapsed > 0 {
		attrs = append(attrs, slog.Duration("step_elapsed", e.StepElapsed))
	}
	if e.Resource != "" {
		attrs = append(attrs, slog.String("resource", e.Resource))
	}
	if e.State != "" {
		attrs = append(attrs, slog.String("state", e.State), slog.String("native_state", e.NativeState))
	}
	if e.Percent >= 0 {
		attrs = append(attrs, slog.Int("percent", e.Percent))
	}
	if e.RequestID != "" {
		attrs = append(attrs, slog.String("request_id", e.RequestID))
	}
	if e.Attempt > 0 {
		attrs = append(attrs, slog.Int("attempt", e.Attempt))
	}
	if e.Delay > 0 {
		attrs = append(attrs, slog.Duration("delay", e.Delay))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("error", e.Err.Error()))
	}
	msg := e.Message
	if msg == "" {
		msg = string(e.Kind)
	}
	l.LogAttrs(ctx, level, msg, attrs...)
}

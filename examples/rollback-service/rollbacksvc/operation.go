package rollbacksvc

import (
	"sync"
	"time"

	"github.com/cloudsnap/rollback"
)

// operation is one idempotency key's rollback, as this process runs it.
type operation struct {
	key      string  // the caller's idempotency key
	storeKey string  // key, scoped by caller: the Run's operation key
	body     Request // as first received, normalized

	mu        sync.Mutex
	run       int           // how many times it was started (a retryable failure runs again)
	checked   chan struct{} // closed once the checks are over (or the run ended)
	done      chan struct{} // closed when the run ends
	state     string
	step      rollback.Step
	started   time.Time
	ended     time.Time
	events    []Event
	last      *Event
	lastState string // of the last state event kept, to keep changes only
	report    *rollback.Report
	err       error
	maxEvents int
}

func newOperation(key string, body Request, maxEvents int) *operation {
	return &operation{key: key, body: body, maxEvents: maxEvents}
}

// begin readies the operation for a run.
func (op *operation) begin(now time.Time) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.run++
	op.checked, op.done = make(chan struct{}), make(chan struct{})
	op.state, op.started, op.ended = StateRunning, now, time.Time{}
	op.report, op.err, op.lastState = nil, nil, ""
}

// event records a Run event: every step change, and state changes of
// polls; the latest event of any kind is kept apart.
func (op *operation) event(ev rollback.Event) {
	e := Event{Time: ev.Time, Kind: ev.Kind, Step: ev.Step, ElapsedMS: ev.Elapsed.Milliseconds(), Resource: ev.Resource,
		State: ev.State, Message: ev.Message, RequestID: ev.RequestID}
	if ev.Percent >= 0 && ev.Kind == rollback.EventState {
		p := ev.Percent
		e.Percent = &p
	}
	if ev.Err != nil {
		e.Error = ev.Err.Error()
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	op.step, op.last = ev.Step, &e
	keep := true
	if ev.Kind == rollback.EventState {
		keep = ev.State != op.lastState
		op.lastState = ev.State
	} else {
		op.lastState = ""
	}
	if keep {
		op.events = append(op.events, e)
		if len(op.events) > op.maxEvents {
			op.events = op.events[len(op.events)-op.maxEvents:]
		}
	}
	// The checks are over once another step begins. Not at the check
	// step's end: Run decides about a running instance after it, and
	// then fails the check step (or ends the run for a key already done);
	// finish closes it then, with the error in place.
	if ev.Step != rollback.StepCheck {
		closeOnce(op.checked)
	}
}

// finish records how the run ended.
func (op *operation) finish(rep *rollback.Report, err error, now time.Time) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.report, op.err, op.ended = rep, err, now
	op.state = StateSucceeded
	if err != nil {
		op.state = StateFailed
	}
	closeOnce(op.checked)
	close(op.done)
}

func closeOnce(ch chan struct{}) {
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// failedChecks reports whether the run ended in its checks, before it
// changed anything: a POST answers that with the error's own status.
func (op *operation) failedChecks() bool {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.err != nil && checksOnly(op.report)
}

// checksOnly reports whether a failed run got no further than its checks.
func checksOnly(rep *rollback.Report) bool {
	if rep == nil {
		return true
	}
	for _, s := range rep.Steps {
		if s.Outcome == "failed" && s.Step != rollback.StepCheck {
			return false
		}
	}
	return true
}

// status is a snapshot of the operation for a reply.
func (op *operation) status() *Status {
	op.mu.Lock()
	defer op.mu.Unlock()
	st := &Status{Key: op.key, State: op.state, Request: op.body, Step: op.step, Started: op.started, Ended: op.ended,
		Events: append([]Event(nil), op.events...), Last: op.last, Report: op.report}
	if op.err != nil {
		st.Error, _ = describe(op.err)
	}
	return st
}

// brief is the operation's status without its events and report; nil for
// a nil operation.
func (op *operation) brief() *Status {
	if op == nil {
		return nil
	}
	full := op.status()
	return &Status{Key: full.Key, State: full.State, Request: full.Request, Step: full.Step, Started: full.Started, Ended: full.Ended}
}

// outcome returns the state and the error of the run.
func (op *operation) outcome() (string, error) {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.state, op.err
}

// channels returns the current run's signals.
func (op *operation) channels() (checked, done <-chan struct{}) {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.checked, op.done
}

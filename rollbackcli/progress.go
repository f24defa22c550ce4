package rollbackcli

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/internal/cli"
)

// progress prints Run's events on stderr: one live, rewritten line on a
// terminal; plain lines otherwise (logs, CI), where only state changes are
// printed so that polls do not flood the output. When nothing has been
// heard for a while (a call the cloud does not answer, a rate-limit wait)
// it says what it is waiting for, and keeps saying it.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	live    bool
	prefix  string // e.g. "[aliyun]  " in the demo
	width   int    // of the live line last written
	last    string // last state line printed in plain mode
	retries bool   // print retries (off with -v: the log has them)

	// The heartbeat. now is the clock the run's times are on.
	now         func() time.Time
	start       time.Time // of the run
	deadline    time.Time // when -timeout ends it (zero: none)
	news        time.Time // last event, or last heartbeat
	lastEvent   time.Time
	lastWasBeat bool
	step        rollback.Step
	resource    string

	quit, exited chan struct{}
}

// Heartbeat timing: the first "still waiting" after quietFirst of silence,
// then every quietRepeat.
const (
	quietFirst  = 5 * time.Second
	quietRepeat = 15 * time.Second
)

func newProgress(w io.Writer, prefix string, now func() time.Time) *progress {
	t := now()
	return &progress{w: w, live: cli.IsTerminal(w), prefix: prefix, retries: true, now: now, start: t, news: t, lastEvent: t}
}

// run starts the heartbeat on ticks until stop; tests call beat instead.
func (p *progress) run(ticks <-chan time.Time) {
	p.quit, p.exited = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.exited)
		for {
			select {
			case <-p.quit:
				return
			case <-ticks:
				p.beat()
			}
		}
	}()
}

// stepWaits says what each step waits for, for the heartbeat.
var stepWaits = map[rollback.Step]string{
	rollback.StepCheck:          "the cloud to answer the checks' reads",
	rollback.StepWaitIdle:       "the instance's current operation to end",
	rollback.StepStop:           "the instance to stop",
	rollback.StepSafetySnapshot: "the safety snapshot",
	rollback.StepRollback:       "the cloud to accept the rollback call (or a rate-limit slot)",
	rollback.StepWaitRollback:   "the rollback to finish",
	rollback.StepStart:          "the instance to start",
}

// beat prints a "still waiting" line if nothing was heard for a while.
func (p *progress) beat() {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	quiet := quietFirst
	if p.lastWasBeat {
		quiet = quietRepeat
	}
	if now.Sub(p.news) < quiet {
		return
	}
	what := stepWaits[p.step]
	if what == "" {
		what = "the cloud's first reply"
	}
	if p.resource != "" {
		what += " (" + p.resource + ")"
	}
	msg := fmt.Sprintf("%7s  %-15s still waiting for %s: nothing heard for %s", fmtDur(now.Sub(p.start)), p.step, what, fmtDur(now.Sub(p.lastEvent)))
	if !p.deadline.IsZero() {
		msg += fmt.Sprintf("; gives up in %s (-timeout)", fmtDur(p.deadline.Sub(now)))
	}
	p.news, p.lastWasBeat = now, true
	p.line(msg, true)
}

// note records an event for the heartbeat without printing it.
func (p *progress) note(ev rollback.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.noteLocked(ev)
}

func (p *progress) noteLocked(ev rollback.Event) {
	p.news, p.lastEvent, p.lastWasBeat = p.now(), p.now(), false
	if ev.Step != "" {
		p.step = ev.Step
	}
	if ev.Resource != "" {
		p.resource = ev.Resource
	}
}

func (p *progress) event(ev rollback.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.noteLocked(ev)
	elapsed := fmtDur(ev.Elapsed)
	switch ev.Kind {
	case rollback.EventStepStarted:
		p.line(strings.TrimRight(fmt.Sprintf("%7s  %-15s started %s", elapsed, ev.Step, ev.Resource), " "), false)
	case rollback.EventStepFinished, rollback.EventStepSkipped:
		mark := "done"
		if ev.Kind == rollback.EventStepSkipped {
			mark = "skipped"
		}
		msg := fmt.Sprintf("%7s  %-15s %s in %s", elapsed, ev.Step, mark, fmtDur(ev.StepElapsed))
		if ev.Message != "" {
			msg += ": " + ev.Message
		}
		p.line(msg, true)
	case rollback.EventStepFailed:
		p.line(fmt.Sprintf("%7s  %-15s FAILED after %s", elapsed, ev.Step, fmtDur(ev.StepElapsed)), true)
	case rollback.EventState:
		state := ev.State
		// The cloud's own word helps when it says more than ours; but a
		// Lighthouse instance that is rolling back reads STOPPED (the
		// operation, not the state, says it is busy), which only confuses.
		if ev.NativeState != "" && !strings.EqualFold(ev.NativeState, ev.State) && ev.State != string(rollback.InstanceRollingBack) {
			state += " (" + ev.NativeState + ")"
		}
		if ev.Err != nil {
			state = "read failed, retrying: " + ev.Err.Error()
		}
		if ev.Percent >= 0 {
			state += fmt.Sprintf(" %d%%", ev.Percent)
		}
		msg := fmt.Sprintf("%7s  %-15s %s: %s (%s, poll %d)", elapsed, ev.Step, ev.Resource, state, fmtDur(ev.StepElapsed), ev.Attempt)
		if p.live {
			p.line(msg, false)
			return
		}
		key := string(ev.Step) + ev.Resource + state
		if key != p.last {
			p.last = key
			p.line(msg, true)
		}
	case rollback.EventRetry:
		if p.retries {
			p.line(fmt.Sprintf("%7s  %-15s retry %d in %s: %v", elapsed, ev.Step, ev.Attempt, fmtDur(ev.Delay), ev.Err), true)
		}
	}
}

// line writes msg: on a terminal it rewrites the live line, and keep
// leaves it standing; elsewhere every line stands.
func (p *progress) line(msg string, keep bool) {
	msg = p.prefix + msg
	if !p.live {
		fmt.Fprintln(p.w, msg)
		return
	}
	pad := ""
	if n := p.width - len(msg); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	if keep {
		fmt.Fprintf(p.w, "\r%s%s\n", msg, pad)
		p.width = 0
		return
	}
	fmt.Fprintf(p.w, "\r%s%s", msg, pad)
	p.width = len(msg)
}

// done stops the heartbeat and ends a live line left open.
func (p *progress) done() {
	if p.quit != nil {
		close(p.quit)
		<-p.exited
		p.quit = nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live && p.width > 0 {
		fmt.Fprintln(p.w)
		p.width = 0
	}
}

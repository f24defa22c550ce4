package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cloudsnap/rollback"
)

// progress prints Run's events on stderr: one live, rewritten line on a
// terminal; plain lines otherwise (logs, CI), where only state changes are
// printed so that polls do not flood the output.
type progress struct {
	mu     sync.Mutex
	w      io.Writer
	live   bool
	prefix string // e.g. "[aliyun] " in the demo
	width  int    // of the live line last written
	last   string // last state line printed in plain mode
}

func newProgress(w io.Writer, prefix string) *progress {
	return &progress{w: w, live: isTerminal(w), prefix: prefix}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progress) event(ev rollback.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	elapsed := fmtDur(ev.Elapsed)
	switch ev.Kind {
	case rollback.EventStepStarted:
		p.line(strings.TrimSpace(fmt.Sprintf("%7s  %-15s started %s", elapsed, ev.Step, ev.Resource)), false)
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
		if ev.NativeState != "" && !strings.EqualFold(ev.NativeState, ev.State) {
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
		p.line(fmt.Sprintf("%7s  %-15s retry %d in %s: %v", elapsed, ev.Step, ev.Attempt, fmtDur(ev.Delay), ev.Err), true)
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

// done ends a live line left open.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live && p.width > 0 {
		fmt.Fprintln(p.w)
		p.width = 0
	}
}

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

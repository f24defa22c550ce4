package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
)

// progress shows the fleet on stderr: on a terminal, one summary line
// rewritten in place (rows by step, elapsed, ETA) with failures printed
// above it; elsewhere, a line per step and state change of each row.
type progress struct {
	mu     sync.Mutex
	w      io.Writer
	live   bool
	clk    clock.Clock
	start  time.Time
	rows   []row
	models map[string]model

	step      []rollback.Step // each row's current step; "" until it starts
	state     []string        // each row's last state, to print changes only
	over      []bool          // each row has ended
	ended     int
	failed    int
	remaining map[string]int // rows not ended, by provider
	width     int            // of the live line on screen
	drawn     time.Time      // wall time of the last redraw

	quit, exited chan struct{}
}

func newProgress(w io.Writer, clk clock.Clock, rows []row, models map[string]model) *progress {
	p := &progress{w: w, live: isTerminal(w), clk: clk, start: clk.Now(), rows: rows, models: models,
		step: make([]rollback.Step, len(rows)), state: make([]string, len(rows)), over: make([]bool, len(rows)), remaining: map[string]int{}}
	for _, r := range rows {
		p.remaining[r.Provider]++
	}
	if p.live {
		// Rate-limit waits send no events for minutes: keep the clock moving.
		p.quit, p.exited = make(chan struct{}), make(chan struct{})
		go p.tick()
	}
	return p
}

func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	info, err := file.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

func (p *progress) tick() {
	defer close(p.exited)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-p.quit:
			return
		case <-t.C:
			p.mu.Lock()
			p.redraw()
			p.mu.Unlock()
		}
	}
}

// close stops the ticker and ends the live line.
func (p *progress) close() {
	if p.quit != nil {
		close(p.quit)
		<-p.exited
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live && p.width > 0 {
		fmt.Fprintln(p.w)
		p.width = 0
	}
}

// event takes row i's Run events.
func (p *progress) event(i int, ev rollback.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev.Kind {
	case rollback.EventStepStarted:
		p.step[i], p.state[i] = ev.Step, ""
		p.plain(i, string(ev.Step)+" started")
	case rollback.EventStepFinished, rollback.EventStepSkipped:
		word := "done"
		if ev.Kind == rollback.EventStepSkipped {
			word = "skipped"
		}
		p.plain(i, fmt.Sprintf("%s %s in %s", ev.Step, word, fmtDur(ev.StepElapsed)))
	case rollback.EventState:
		state := ev.State
		if ev.Err != nil {
			state = "read failed, retrying"
		}
		if state != p.state[i] {
			p.state[i] = state
			p.plain(i, fmt.Sprintf("%s: %s", ev.Step, state))
		}
	case rollback.EventRetry:
		p.plain(i, fmt.Sprintf("%s: retry %d in %s: %v", ev.Step, ev.Attempt, fmtDur(ev.Delay), ev.Err))
	}
	p.maybeRedraw()
}

// done takes row i's end.
func (p *progress) done(i int, res rollback.BatchResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ended++
	p.over[i] = true
	p.remaining[p.rows[i].Provider]--
	o := outcomeOf(res)
	if res.Err != nil {
		p.failed++
		p.stand(i, fmt.Sprintf("%s: %s", o.name, oneLine(res.Err)))
	} else {
		p.plain(i, o.name+" in "+fmtDur(o.duration))
	}
	p.maybeRedraw()
}

// plain prints a row's line in plain mode.
func (p *progress) plain(i int, msg string) {
	if !p.live {
		p.stand(i, msg)
	}
}

// stand prints a line that stays, above the live line if there is one.
func (p *progress) stand(i int, msg string) {
	r := p.rows[i]
	line := fmt.Sprintf("%8s  line %-4d %-7s %s  %s", fmtDur(p.clk.Now().Sub(p.start)), r.Line, r.Provider, r.target(), msg)
	if p.live {
		fmt.Fprintf(p.w, "\r%-*s\n", p.width, line)
		p.width = 0
		p.redraw()
		return
	}
	fmt.Fprintln(p.w, line)
}

func (p *progress) maybeRedraw() {
	if p.live && time.Since(p.drawn) >= 100*time.Millisecond {
		p.redraw()
	}
}

// redraw rewrites the live line: "3m12s  120/300 done, 2 failed | rollback 90, wait-rollback 80 | ETA ~8m".
func (p *progress) redraw() {
	if !p.live {
		return
	}
	p.drawn = time.Now()
	counts := map[rollback.Step]int{}
	queued := 0
	for i, s := range p.step {
		switch {
		case p.over[i]:
		case s == "":
			queued++
		default:
			counts[s]++
		}
	}
	var parts []string
	for _, s := range []rollback.Step{rollback.StepCheck, rollback.StepWaitIdle, rollback.StepStop, rollback.StepSafetySnapshot,
		rollback.StepRollback, rollback.StepWaitRollback, rollback.StepStart} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, counts[s]))
		}
	}
	if queued > 0 {
		parts = append(parts, fmt.Sprintf("queued %d", queued))
	}
	var eta time.Duration
	for prov, n := range p.remaining {
		eta = max(eta, p.models[prov].estimate(n))
	}
	line := fmt.Sprintf("%8s  %d/%d done", fmtDur(p.clk.Now().Sub(p.start)), p.ended-p.failed, len(p.rows))
	if p.failed > 0 {
		line += fmt.Sprintf(", %d failed", p.failed)
	}
	if len(parts) > 0 {
		line += " | " + strings.Join(parts, ", ")
	}
	if eta > 0 {
		line += " | ETA ~" + fmtETA(eta)
	}
	fmt.Fprintf(p.w, "\r%-*s", p.width, line)
	p.width = len(line)
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

func oneLine(err error) string {
	return strings.Join(strings.Fields(trimPrefix(err.Error())), " ")
}

// trimPrefix drops the library's "rollback: " from a message.
func trimPrefix(msg string) string { return strings.TrimPrefix(msg, "rollback: ") }

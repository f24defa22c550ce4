package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/internal/cli"
)

// progress shows the fleet on stderr: on a terminal, one summary line
// rewritten in place (rows by step, elapsed, ETA) with failures printed
// above it; elsewhere (a log, CI) the same summary as a line of its own
// every plainEvery, and failures as they happen: a line per event of each
// row was thousands of lines for a fleet.
type progress struct {
	mu     sync.Mutex
	w      io.Writer
	live   bool
	clk    clock.Clock
	start  time.Time
	rows   []row
	models map[string]model

	step      []rollback.Step // each row's current step; "" until it starts
	over      []bool          // each row has ended
	ended     int
	failed    int
	remaining map[string]int // rows not ended, by provider
	width     int            // of the live line on screen
	drawn     time.Time      // wall time of the last redraw

	quit, exited chan struct{}
	stopTicker   func()
}

// plainEvery is how often the summary line is printed when stderr is not a
// terminal; on a terminal the live line is redrawn every second.
const plainEvery = 10 * time.Second

func newProgress(w io.Writer, clk clock.Clock, rows []row, models map[string]model) *progress {
	live := isTerminal(w)
	every := time.Second
	if !live {
		every = plainEvery
	}
	t := time.NewTicker(every)
	p := newProgressTicks(w, live, clk, rows, models, t.C)
	p.stopTicker = t.Stop
	return p
}

// newProgressTicks is newProgress with its ticks given (tests drive them).
func newProgressTicks(w io.Writer, live bool, clk clock.Clock, rows []row, models map[string]model, ticks <-chan time.Time) *progress {
	p := &progress{w: w, live: live, clk: clk, start: clk.Now(), rows: rows, models: models,
		step: make([]rollback.Step, len(rows)), over: make([]bool, len(rows)), remaining: map[string]int{}}
	for _, r := range rows {
		p.remaining[r.Provider]++
	}
	// Rate-limit waits send no events for minutes: keep the clock moving,
	// and say how the fleet is doing even when nothing happens.
	p.quit, p.exited = make(chan struct{}), make(chan struct{})
	go p.tickLoop(ticks)
	return p
}

var isTerminal = cli.IsTerminal

func (p *progress) tickLoop(ticks <-chan time.Time) {
	defer close(p.exited)
	for {
		select {
		case <-p.quit:
			return
		case <-ticks:
			p.tick()
		}
	}
}

// tick redraws the live line, or prints the summary as a line.
func (p *progress) tick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live {
		p.redraw()
		return
	}
	fmt.Fprintln(p.w, p.summaryLine())
}

// close stops the ticker and ends the live line; elsewhere it prints the
// last summary.
func (p *progress) close() {
	if p.quit != nil {
		close(p.quit)
		<-p.exited
		p.quit = nil
	}
	if p.stopTicker != nil {
		p.stopTicker()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live && p.width > 0 {
		fmt.Fprintln(p.w)
		p.width = 0
	}
	if !p.live {
		fmt.Fprintln(p.w, p.summaryLine())
	}
}

// event takes row i's Run events: they move the row between steps.
func (p *progress) event(i int, ev rollback.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ev.Kind == rollback.EventStepStarted {
		p.step[i] = ev.Step
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
	}
	p.maybeRedraw()
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

// redraw rewrites the live line.
func (p *progress) redraw() {
	if !p.live {
		return
	}
	p.drawn = time.Now()
	line := p.summaryLine()
	fmt.Fprintf(p.w, "\r%-*s", p.width, line)
	p.width = len(line)
}

// summaryLine says how the fleet is doing:
// "3m12s  120/300 done, 2 failed, 178 running | rollback 90, wait-rollback 80, queued 8 | ETA ~8m".
func (p *progress) summaryLine() string {
	counts := map[rollback.Step]int{}
	queued, running := 0, 0
	for i, s := range p.step {
		switch {
		case p.over[i]:
		case s == "":
			queued++
		default:
			counts[s]++
			running++
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
	line := fmt.Sprintf("%8s  %d/%d done, %d failed, %d running", fmtDur(p.clk.Now().Sub(p.start)), p.ended-p.failed, len(p.rows), p.failed, running)
	if len(parts) > 0 {
		line += " | " + strings.Join(parts, ", ")
	}
	if eta > 0 && p.ended < len(p.rows) {
		line += " | ETA ~" + fmtETA(eta)
	}
	return line
}

var fmtDur = cli.FmtDur

func oneLine(err error) string {
	return strings.Join(strings.Fields(trimPrefix(err.Error())), " ")
}

// trimPrefix drops the library's "rollback: " from a message.
func trimPrefix(msg string) string { return strings.TrimPrefix(msg, "rollback: ") }

package rollback

import (
	"testing"
	"time"
)

func priorPacer(lo, hi time.Duration) *pacer {
	p := newPacer(WaitOptions{Learner: &Learner{}, prior: estimate{lo: lo, hi: hi}}.withDefaults(), "p/rollback")
	p.jitter = func() float64 { return 0 }
	return p
}

// TestPriorScheduleRight: on operations where the prior (40-90 s, centred
// on 60 s) says, the wait polls first at half the window's start and most
// densely at its middle.
func TestPriorScheduleRight(t *testing.T) {
	p := priorPacer(40*time.Second, 90*time.Second)
	if got := p.first(); got != 20*time.Second {
		t.Fatalf("first poll at %v, want 20s", got)
	}
	var gaps []time.Duration
	for at := time.Duration(0); at < 90*time.Second; {
		if at == 0 {
			at = p.first()
		}
		d, _ := p.next(at)
		if at >= 40*time.Second {
			gaps = append(gaps, d)
		}
		at += d
	}
	var smallest time.Duration = time.Hour
	for _, g := range gaps {
		smallest = min(smallest, g)
	}
	if smallest > 2*time.Second || gaps[0] <= smallest {
		t.Fatalf("gaps across the window %v: want densest (under 2s) inside it, not at its start", gaps)
	}
	for _, end := range []time.Duration{55 * time.Second, 60 * time.Second, 65 * time.Second} {
		polls, lag, _ := simulate(priorPacer(40*time.Second, 90*time.Second), end, nil)
		if lag > 2*time.Second || polls > 14 {
			t.Errorf("ends at %v: lag %v after %d polls", end, lag, polls)
		}
	}
}

// TestPriorScheduleWrong: a prior that is wrong costs a bounded lag. Too
// high, at most MaxDelay or a sixth of the window's start (after the poll
// at half of it); too low, at most MaxDelay (it backs off as a wait that
// knows nothing does).
func TestPriorScheduleWrong(t *testing.T) {
	for _, c := range []struct {
		end, limit time.Duration
	}{
		{5 * time.Second, 20 * time.Second}, // before the first poll: its lag is the prior's price
		{25 * time.Second, DefaultPollMaxDelay},
		{35 * time.Second, DefaultPollMaxDelay},
		{3 * time.Minute, DefaultPollMaxDelay},
		{20 * time.Minute, DefaultPollMaxDelay},
	} {
		polls, lag, ok := simulate(priorPacer(40*time.Second, 90*time.Second), c.end, nil)
		if !ok || lag > c.limit {
			t.Errorf("ends at %v: lag %v after %d polls, want at most %v", c.end, lag, polls, c.limit)
		}
		if c.end > 3*time.Minute && polls > int(c.end/DefaultPollMaxDelay)+20 {
			t.Errorf("ends at %v: %d polls", c.end, polls)
		}
	}
	// A long prior: jumps of a sixth of its start.
	_, lag, _ := simulate(priorPacer(5*time.Minute, 10*time.Minute), 3*time.Minute, nil)
	if lag > 50*time.Second {
		t.Errorf("5-10 min prior, ends at 3 min: lag %v", lag)
	}
}

// TestPriorGivesWayToLearner: the first operation that ends replaces the
// prior's schedule with the learned one.
func TestPriorGivesWayToLearner(t *testing.T) {
	l := &Learner{}
	p := newPacer(WaitOptions{Learner: l, prior: estimate{lo: 40 * time.Second, hi: 90 * time.Second}}.withDefaults(), "p/rollback")
	if !p.prior {
		t.Fatal("no prior schedule")
	}
	l.ObserveRange("p/rollback", 59*time.Second, 61*time.Second)
	if !p.relearn() || p.prior {
		t.Fatal("the learned window did not replace the prior")
	}
}

// TestPacerLateBackoffDoesNotOverflow: an operation far later than its
// window (learned or prior) is polled about every MaxDelay to the end;
// growing the late delay must not overflow into tiny pauses.
func TestPacerLateBackoffDoesNotOverflow(t *testing.T) {
	for _, p := range []*pacer{priorPacer(40*time.Second, 90*time.Second), testPacer(WaitOptions{}, estimate{lo: 9 * time.Second, hi: 11 * time.Second})} {
		polls, lag, ok := simulate(p, 25*time.Minute, nil)
		if !ok || lag > DefaultPollMaxDelay || polls > int(25*time.Minute/DefaultPollMaxDelay)+20 {
			t.Errorf("prior %v: %d polls, lag %v, ok %v", p.prior, polls, lag, ok)
		}
	}
}

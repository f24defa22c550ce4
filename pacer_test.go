package rollback

import (
	"testing"
	"time"
)

// simulate polls an operation that ends at end with the pacer and returns
// the number of polls and the detection lag. The first poll is at 0.
func simulate(p *pacer, end time.Duration, percentAt func(time.Duration) int) (polls int, lag time.Duration, ok bool) {
	t := p.first()
	for {
		polls++
		if t >= end {
			return polls, t - end, true
		}
		if percentAt != nil {
			p.observe(t, percentAt(t))
		}
		d, more := p.next(t)
		if !more {
			return polls, 0, false
		}
		t += d
	}
}

func testPacer(o WaitOptions, est estimate) *pacer {
	p := newPacer(o.withDefaults(), "")
	if est.hi > 0 {
		p.setWindow(est.lo, est.hi)
	}
	p.jitter = func() float64 { return 0 }
	return p
}

func TestPacerUnknownBacksOffGeometrically(t *testing.T) {
	p := testPacer(WaitOptions{}, estimate{})
	var ds []time.Duration
	for i, t0 := 0, time.Duration(0); i < 8; i++ {
		d, _ := p.next(t0)
		ds = append(ds, d)
		t0 += d
	}
	want := []time.Duration{1000, 1500, 2250, 3375, 5062, 7593, 10000, 10000} // ms
	for i := range want {
		if ds[i].Milliseconds() != int64(want[i]) {
			t.Fatalf("delays %v, want (ms) %v", ds, want)
		}
	}
}

// terraformStyle polls at 0, then after 100ms doubling to a 10s cap, as
// Terraform's StateChangeConf does.
func terraformStyle(end time.Duration) (polls int, lag time.Duration) {
	t, d := time.Duration(0), 100*time.Millisecond
	for {
		polls++
		if t >= end {
			return polls, t - end
		}
		t += d
		d = min(2*d, 10*time.Second)
	}
}

func TestPacerLearnedDurationBeatsTerraformStyle(t *testing.T) {
	// Operations of about 5s, 30s and 120s (+-10%), the pacer knowing that
	// range: over 41 end times spread across it, its mean lag is at most
	// half the Terraform-style waiter's, with no more polls.
	for _, d := range []time.Duration{5 * time.Second, 30 * time.Second, 120 * time.Second} {
		var lag, tfLag time.Duration
		polls, tfPolls := 0, 0
		for i := 0; i <= 40; i++ {
			end := d*9/10 + d*time.Duration(i)/200
			p := testPacer(WaitOptions{}, estimate{lo: d * 9 / 10, hi: d * 11 / 10})
			n, l, ok := simulate(p, end, nil)
			if !ok {
				t.Fatalf("%v: timed out", end)
			}
			tn, tl := terraformStyle(end)
			polls, lag, tfPolls, tfLag = polls+n, lag+l, tfPolls+tn, tfLag+tl
		}
		if lag > tfLag/2 || polls > tfPolls {
			t.Errorf("%v: mean lag %v over %d polls; Terraform-style %v over %d", d, lag/41, polls, tfLag/41, tfPolls)
		}
	}
}

func TestPacerWrongExpectationCostsLittle(t *testing.T) {
	// Learned 45s, but this operation takes 1s.
	p := testPacer(WaitOptions{}, estimate{lo: 44 * time.Second, hi: 46 * time.Second})
	_, lag, _ := simulate(p, time.Second, nil)
	if lag > DefaultPollMaxDelay {
		t.Errorf("lag %v after a wrong expectation", lag)
	}
}

func TestPacerLateOperationBacksOffAgain(t *testing.T) {
	p := testPacer(WaitOptions{}, estimate{lo: 9 * time.Second, hi: 11 * time.Second})
	polls, lag, ok := simulate(p, 5*time.Minute, nil)
	if !ok {
		t.Fatal("timed out")
	}
	if lag > DefaultPollMaxDelay {
		t.Errorf("lag %v beyond MaxDelay", lag)
	}
	// Backed off to MaxDelay soon after the window: about one poll per
	// MaxDelay of the 5 minutes, plus the window's.
	if limit := int(5*time.Minute/DefaultPollMaxDelay) + 20; polls > limit {
		t.Errorf("%d polls for an operation 30x later than expected (limit %d)", polls, limit)
	}
}

func TestPacerProgressETA(t *testing.T) {
	// 1% per second from the start of the wait: ends at 100s.
	p := testPacer(WaitOptions{}, estimate{})
	polls, lag, ok := simulate(p, 100*time.Second, func(t time.Duration) int { return int(t / time.Second) })
	if !ok || lag > 3*time.Second || polls > 20 {
		t.Errorf("polls %d lag %v", polls, lag)
	}
}

func TestPacerLastPollOnTheDeadline(t *testing.T) {
	p := testPacer(WaitOptions{Timeout: 7 * time.Second}, estimate{})
	var t0 time.Duration
	for {
		d, ok := p.next(t0)
		if !ok {
			break
		}
		t0 += d
	}
	if t0 != 7*time.Second {
		t.Errorf("last poll at %v, want exactly the 7s deadline", t0)
	}
}

func TestPacerJitterWithinTenPercent(t *testing.T) {
	p := newPacer(WaitOptions{}.withDefaults(), "")
	for range 200 {
		p.unknown = 4 * time.Second
		d, _ := p.next(0)
		if d < 3600*time.Millisecond || d > 4400*time.Millisecond {
			t.Fatalf("jittered delay %v outside 4s +-10%%", d)
		}
	}
}

func TestLearnerEstimate(t *testing.T) {
	var l Learner
	if e := l.estimate("k"); e.hi != 0 {
		t.Fatal("empty learner estimates")
	}
	for i := 1; i <= 100; i++ {
		l.Observe("k", time.Duration(i)*time.Second)
	}
	// The last 32 samples are 69..100s: 5th and 95th percentiles.
	if e := l.estimate("k"); e.lo != 71*time.Second || e.hi != 98*time.Second {
		t.Errorf("estimate %+v", e)
	}
	var nilL *Learner
	nilL.Observe("k", time.Second)
	if nilL.estimate("k").hi != 0 {
		t.Error("nil learner")
	}
}

func TestPacerWrongLongExpectationCostsASixth(t *testing.T) {
	// Learned 10 minutes, but this operation takes 20s: jumps of at most
	// a sixth of the learned start.
	p := testPacer(WaitOptions{}, estimate{lo: 9 * time.Minute, hi: 11 * time.Minute})
	_, lag, _ := simulate(p, 20*time.Second, nil)
	if lag > 9*time.Minute/6 {
		t.Errorf("lag %v", lag)
	}
}

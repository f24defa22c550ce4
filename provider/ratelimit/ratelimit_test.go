package ratelimit

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cloudsnap/rollback/clock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// maxInWindow returns the most calls that fall in any window of per.
func maxInWindow(times []time.Time, per time.Duration) int {
	best := 0
	for i := range times {
		n := 0
		for j := i; j < len(times) && times[j].Sub(times[i]) < per; j++ {
			n++
		}
		best = max(best, n)
	}
	return best
}

func TestBurstThenWindowWithMargin(t *testing.T) {
	clk := clock.NewAutoVirtual(time.Time{})
	l := New(10, time.Minute, clk)
	start := clk.Now()
	var times []time.Time
	for range 25 {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		times = append(times, clk.Now())
	}
	if times[9] != start {
		t.Errorf("the first 10 calls waited %v", times[9].Sub(start))
	}
	if got := times[10].Sub(start); got != 63*time.Second {
		t.Errorf("11th call after %v, want 63s (the window plus 5%%)", got)
	}
	// Even arrivals 3s late or early stay within the cloud's quota.
	if n := maxInWindow(times, time.Minute+3*time.Second-time.Nanosecond); n > 10 {
		t.Errorf("%d calls within 63s", n)
	}
}

// TestOneSecondWindowMargin: on a one-second quota (Lighthouse's 20 a
// second) the window is 50ms wider, 5%: calls 20 apart are 1.05s apart.
func TestOneSecondWindowMargin(t *testing.T) {
	clk := clock.NewAutoVirtual(time.Time{})
	l := New(20, time.Second, clk)
	start := clk.Now()
	var times []time.Time
	for range 61 {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		times = append(times, clk.Now())
	}
	if got := times[60].Sub(start); got != 3150*time.Millisecond {
		t.Errorf("61st call after %v, want 3.15s (three windows of 1.05s)", got)
	}
	if n := maxInWindow(times, time.Second+50*time.Millisecond-time.Nanosecond); n > 20 {
		t.Errorf("%d calls within 1.05s", n)
	}
}

// slots records the slots a limiter hands out, minus those given back.
// The slots are what the limiter decides; when goroutines then run is the
// scheduler's business, so asserting on slots holds on a loaded machine.
type slots struct {
	mu    sync.Mutex
	times []time.Time
	got   chan time.Time // if set, receives each reservation
}

func (s *slots) watch(l *Limiter) {
	l.onReserve = func(at time.Time) {
		s.mu.Lock()
		s.times = append(s.times, at)
		s.mu.Unlock()
		if s.got != nil {
			s.got <- at
		}
	}
	l.onRelease = func(at time.Time) {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i := len(s.times) - 1; i >= 0; i-- {
			if s.times[i].Equal(at) {
				s.times = append(s.times[:i], s.times[i+1:]...)
				return
			}
		}
	}
}

func (s *slots) sorted() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := append([]time.Time(nil), s.times...)
	sortTimes(ts)
	return ts
}

func TestConcurrentCallersNeverExceed(t *testing.T) {
	clk := clock.NewScaled(50)
	l := New(20, time.Second, clk)
	var rec slots
	rec.watch(l)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				ctx, cancel := context.WithCancel(context.Background())
				if (g+i)%4 == 0 {
					cancel() // some callers give up while they wait
				}
				_ = l.Wait(ctx)
				cancel()
			}
		}()
	}
	wg.Wait()
	if n := maxInWindow(rec.sorted(), time.Second); n > 20 {
		t.Errorf("%d slots within one second", n)
	}
}

// A caller that gives up while it waits hands its slot back, but the calls
// already made stay counted: the next caller still waits for the oldest to
// leave the window (issue 16 item 9: it used to go at once and be throttled).
func TestCancelledWaitKeepsWindow(t *testing.T) {
	clk := clock.NewVirtual(time.Time{})
	start := clk.Now()
	l := New(10, time.Minute, clk)
	rec := slots{got: make(chan time.Time, 1)}
	rec.watch(l)
	for range 10 {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		<-rec.got
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- l.Wait(ctx) }()
	if at := <-rec.got; at.Sub(start) != 63*time.Second {
		t.Fatalf("11th call's slot at %v, want 63s", at.Sub(start))
	}
	clk.BlockUntil(1)
	cancel()
	if err := <-errc; err != context.Canceled {
		t.Fatalf("cancelled Wait = %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- l.Wait(context.Background()) }()
	if at := <-rec.got; at.Sub(start) != 63*time.Second {
		t.Fatalf("12th call's slot at %v, want 63s: it jumped the window", at.Sub(start))
	}
	clk.BlockUntil(1)
	clk.Advance(63 * time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := maxInWindow(rec.sorted(), time.Minute+3*time.Second-time.Nanosecond); n > 10 {
		t.Errorf("%d calls within 63s", n)
	}
}

func sortTimes(ts []time.Time) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Before(ts[j-1]); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

func TestNilLimiterAndDisabled(t *testing.T) {
	if New(0, time.Second, nil) != nil || New(5, 0, nil) != nil {
		t.Fatal("disabled limit returned a limiter")
	}
	var l *Limiter
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	var s *Set
	if err := s.Wait(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
}

func TestWaitCancelledRecordsNothing(t *testing.T) {
	clk := clock.NewVirtual(time.Time{})
	l := New(1, time.Minute, clk)
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { clk.BlockUntil(1); cancel() }()
	if err := l.Wait(ctx); err != context.Canceled {
		t.Fatalf("Wait = %v", err)
	}
	// The cancelled caller's slot was handed back: the next caller waits
	// only for the first call to leave the window.
	done := make(chan struct{})
	go func() { _ = l.Wait(context.Background()); close(done) }()
	clk.BlockUntil(1)
	clk.Advance(63 * time.Second)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the cancelled caller's slot was not handed back")
	}
}

func TestSetKeysAreIndependent(t *testing.T) {
	clk := clock.NewAutoVirtual(time.Time{})
	s := NewSet(1, time.Minute, clk)
	start := clk.Now()
	for _, k := range []string{"ResetDisk", "StopInstance", "StartInstance"} {
		if err := s.Wait(context.Background(), k); err != nil {
			t.Fatal(err)
		}
	}
	if clk.Now() != start {
		t.Errorf("first call of each key waited %v", clk.Now().Sub(start))
	}
	_ = s.Wait(context.Background(), "ResetDisk")
	if got := clk.Now().Sub(start); got != 63*time.Second {
		t.Errorf("second ResetDisk waited %v, want 63s", got)
	}
}

func TestFIFO(t *testing.T) {
	clk := clock.NewVirtual(time.Time{})
	l := New(1, time.Second, clk)
	_ = l.Wait(context.Background()) // takes the only slot of this second
	order := make(chan int, 5)
	for i := range 5 {
		go func() { _ = l.Wait(context.Background()); order <- i }()
		clk.BlockUntil(i + 1) // caller i queues before caller i+1
	}
	for want := range 5 {
		clk.Advance(1050 * time.Millisecond) // the window plus the 50ms minimum margin
		select {
		case got := <-order:
			if got != want {
				t.Fatalf("caller %d went before caller %d", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("caller %d never went", want)
		}
	}
}

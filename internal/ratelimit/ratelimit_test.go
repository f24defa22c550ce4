package ratelimit

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cloudsnap/rollback/clock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestEvenPacingNeverExceedsWindow(t *testing.T) {
	clk := clock.NewAutoVirtual(time.Time{})
	l := New(10, time.Minute, clk)
	var times []time.Time
	for range 25 {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		times = append(times, clk.Now())
	}
	// Any 60s window holds at most 10 calls, and calls are 6s apart.
	for i := range times {
		n := 0
		for j := i; j < len(times) && times[j].Sub(times[i]) < time.Minute; j++ {
			n++
		}
		if n > 10 {
			t.Fatalf("%d calls in the minute from call %d", n, i)
		}
		if i > 0 && times[i].Sub(times[i-1]) != 6*time.Second {
			t.Errorf("gap %d = %v, want 6s", i, times[i].Sub(times[i-1]))
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

func TestWaitCancelledReturnsSlot(t *testing.T) {
	clk := clock.NewVirtual(time.Time{})
	l := New(1, time.Minute, clk)
	if err := l.Wait(context.Background()); err != nil { // takes the only slot
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { clk.BlockUntil(1); cancel() }()
	if err := l.Wait(ctx); err != context.Canceled {
		t.Fatalf("Wait = %v", err)
	}
	// The cancelled reservation was returned: the next caller waits one
	// interval from the first call, not two.
	done := make(chan struct{})
	go func() { _ = l.Wait(context.Background()); close(done) }()
	clk.BlockUntil(1)
	clk.Advance(time.Minute)
	<-done
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
	if clk.Now().Sub(start) != time.Minute {
		t.Errorf("second ResetDisk waited %v, want 1m", clk.Now().Sub(start))
	}
}

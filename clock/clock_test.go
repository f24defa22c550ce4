package clock_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cloudsnap/rollback/clock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestVirtualManual(t *testing.T) {
	v := clock.NewVirtual(time.Time{})
	if !v.Now().Equal(clock.Epoch) {
		t.Fatalf("start %v", v.Now())
	}
	ch := v.After(10 * time.Second)
	v.Advance(9 * time.Second)
	select {
	case <-ch:
		t.Fatal("fired early")
	default:
	}
	v.Advance(time.Second)
	if got := <-ch; !got.Equal(clock.Epoch.Add(10 * time.Second)) {
		t.Errorf("fired at %v", got)
	}
	if v.Waiters() != 0 {
		t.Error("timer not removed")
	}
}

func TestVirtualAutoAdvance(t *testing.T) {
	v := clock.NewAutoVirtual(time.Time{})
	start := time.Now()
	for range 1000 {
		if err := clock.Sleep(context.Background(), v, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if got := clock.Since(v, clock.Epoch); got != 1000*time.Minute {
		t.Errorf("virtual elapsed %v", got)
	}
	// Generous: it guards against sleeping real minutes, not a busy machine.
	if real := time.Since(start); real > 30*time.Second {
		t.Errorf("1000 virtual minutes took %v of real time", real)
	}
}

func TestVirtualBlockUntilAndConcurrency(t *testing.T) {
	v := clock.NewVirtual(time.Time{})
	var wg sync.WaitGroup
	for i := 1; i <= 8; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); <-v.After(time.Duration(i) * time.Second) }()
	}
	v.BlockUntil(8)
	v.Advance(8 * time.Second)
	wg.Wait()
}

func TestSleepHonoursContext(t *testing.T) {
	v := clock.NewVirtual(time.Time{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { v.BlockUntil(1); cancel() }()
	if err := clock.Sleep(ctx, v, time.Hour); err != context.Canceled {
		t.Errorf("Sleep = %v", err)
	}
	if err := clock.Sleep(ctx, v, 0); err != context.Canceled {
		t.Errorf("Sleep(0) on a done context = %v", err)
	}
}

func TestScaled(t *testing.T) {
	s := clock.NewScaled(1000)
	t0 := s.Now()
	start := time.Now()
	<-s.After(20 * time.Second) // 20ms of real time
	// Generous: it guards against waiting the unscaled 20s, not against a
	// busy machine.
	if real := time.Since(start); real > 10*time.Second {
		t.Errorf("scaled 20s took %v real", real)
	}
	if got := s.Now().Sub(t0); got < 20*time.Second {
		t.Errorf("scaled clock advanced only %v", got)
	}
	if s.Real(time.Minute) != 60*time.Millisecond {
		t.Errorf("Real(1m) = %v", s.Real(time.Minute))
	}
	if clock.NewScaled(0).Factor() != 1 {
		t.Error("factor 0 not treated as 1")
	}
}

func TestOr(t *testing.T) {
	if clock.Or(nil) == nil {
		t.Fatal("Or(nil) is nil")
	}
	v := clock.NewVirtual(time.Time{})
	if clock.Or(v) != clock.Clock(v) {
		t.Error("Or replaced a clock")
	}
}

package retry

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	errThrottle  = &rollback.Error{Provider: "p", Op: "Op", Kind: rollback.ErrThrottled, Code: "Throttling"}
	errInternal  = &rollback.Error{Provider: "p", Op: "Op", Kind: rollback.ErrInternal, Code: "InternalError"}
	errNotFound  = &rollback.Error{Provider: "p", Op: "Op", Kind: rollback.ErrSnapshotNotFound}
	maxJitter    = func(bound time.Duration) time.Duration { return bound } // take the whole bound: exact delays
	policy       = rollback.RetryPolicy{MaxAttempts: 6, BaseDelay: 100 * time.Millisecond, ThrottleBaseDelay: time.Second, MaxDelay: 3 * time.Second, MaxElapsed: time.Hour}
	newErrorCopy = func(e *rollback.Error) *rollback.Error { c := *e; return &c }
)

// sleeps records the delays Do asked for, on an auto-advancing virtual clock.
func run(t *testing.T, p rollback.RetryPolicy, errs []error) (attempts int, err error, delays []time.Duration) {
	t.Helper()
	clk := clock.NewAutoVirtual(time.Time{})
	cfg := Config{
		Policy: p, Clock: clk, Provider: "p", Op: "Op", Jitter: maxJitter,
		OnRetry: func(ev rollback.RetryEvent) { delays = append(delays, ev.Delay) },
	}
	attempts, err = Do(context.Background(), cfg, func(ctx context.Context, attempt int) error {
		if attempt-1 < len(errs) {
			return errs[attempt-1]
		}
		return nil
	})
	return attempts, err, delays
}

func TestTransientDelaysGrowAndCap(t *testing.T) {
	e := newErrorCopy(errInternal)
	attempts, err, delays := run(t, policy, []error{e, e, e, e, e})
	if err != nil || attempts != 6 {
		t.Fatalf("attempts=%d err=%v", attempts, err)
	}
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, 1600 * time.Millisecond}
	if !equal(delays, want) {
		t.Errorf("delays %v, want %v", delays, want)
	}
}

func TestThrottleBacksOffLonger(t *testing.T) {
	e := newErrorCopy(errThrottle)
	_, _, delays := run(t, policy, []error{e, e, e})
	// From the throttle base, capped at MaxDelay.
	want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}
	if !equal(delays, want) {
		t.Errorf("delays %v, want %v", delays, want)
	}
}

func TestThrottleNeverUnderHalfItsBound(t *testing.T) {
	clk := clock.NewAutoVirtual(time.Time{})
	var delays []time.Duration
	cfg := Config{Policy: policy, Clock: clk, Jitter: func(time.Duration) time.Duration { return 0 },
		OnRetry: func(ev rollback.RetryEvent) { delays = append(delays, ev.Delay) }}
	n := 0
	Do(context.Background(), cfg, func(context.Context, int) error {
		n++
		if n == 1 {
			return errInternal
		}
		if n < 4 {
			return errThrottle
		}
		return nil
	})
	// Transient with zero jitter sleeps 0; throttles keep half their bound.
	// The throttle sequence advanced on the first (transient) failure too.
	want := []time.Duration{0, time.Second, 1500 * time.Millisecond}
	if !equal(delays, want) {
		t.Errorf("delays %v, want %v", delays, want)
	}
}

func TestFullJitterStaysInBounds(t *testing.T) {
	clk := clock.NewAutoVirtual(time.Time{})
	var delays []time.Duration
	cfg := Config{Policy: rollback.RetryPolicy{MaxAttempts: 200, BaseDelay: time.Second, MaxDelay: 8 * time.Second, MaxElapsed: 100 * time.Hour},
		Clock: clk, OnRetry: func(ev rollback.RetryEvent) { delays = append(delays, ev.Delay) }}
	Do(context.Background(), cfg, func(context.Context, int) error { return errInternal })
	distinct := map[time.Duration]bool{}
	for i, d := range delays {
		bound := time.Second << min(i, 3)
		if d < 0 || d >= bound {
			t.Fatalf("delay %d = %v outside [0, %v)", i, d, bound)
		}
		distinct[d] = true
	}
	if len(distinct) < len(delays)/2 {
		t.Errorf("only %d distinct delays in %d: no jitter?", len(distinct), len(delays))
	}
}

func TestNonRetryableStopsAtOnce(t *testing.T) {
	attempts, err, delays := run(t, policy, []error{errNotFound})
	if attempts != 1 || !errors.Is(err, rollback.ErrSnapshotNotFound) || len(delays) != 0 {
		t.Errorf("attempts=%d err=%v delays=%v", attempts, err, delays)
	}
}

func TestGiveUpAfterMaxAttempts(t *testing.T) {
	e := newErrorCopy(errInternal)
	p := policy
	p.MaxAttempts = 3
	attempts, err, _ := run(t, p, []error{e, e, e, e})
	var re *rollback.Error
	if attempts != 3 || !errors.As(err, &re) || re.Attempts != 3 {
		t.Fatalf("attempts=%d err=%v", attempts, err)
	}
}

func TestMaxAttemptsOneDisablesRetries(t *testing.T) {
	p := policy
	p.MaxAttempts = 1
	attempts, err, _ := run(t, p, []error{newErrorCopy(errThrottle)})
	if attempts != 1 || !errors.Is(err, rollback.ErrThrottled) {
		t.Errorf("attempts=%d err=%v", attempts, err)
	}
}

func TestGiveUpAfterMaxElapsed(t *testing.T) {
	p := policy
	p.MaxAttempts = 100
	p.MaxElapsed = 5 * time.Second
	errs := make([]error, 100)
	for i := range errs {
		errs[i] = newErrorCopy(errThrottle)
	}
	attempts, err, delays := run(t, p, errs)
	var total time.Duration
	for _, d := range delays {
		total += d
	}
	if !errors.Is(err, rollback.ErrThrottled) || total > p.MaxElapsed || attempts > 5 {
		t.Errorf("attempts=%d total sleep=%v err=%v", attempts, total, err)
	}
}

func TestContextEndsDuringSleep(t *testing.T) {
	clk := clock.NewVirtual(time.Time{}) // manual: the sleep never ends by itself
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := Do(ctx, Config{Policy: policy, Clock: clk, Jitter: maxJitter}, func(context.Context, int) error { return errThrottle })
		done <- err
	}()
	clk.BlockUntil(1)
	cancel()
	// The manual clock never ends the sleep: Do returning at all proves it
	// noticed the cancellation (timing it would test the scheduler).
	err := <-done
	var ie *rollback.InterruptedError
	if !errors.As(err, &ie) || !errors.Is(err, context.Canceled) || !errors.Is(err, rollback.ErrThrottled) {
		t.Fatalf("err = %v, want InterruptedError matching Canceled and ErrThrottled", err)
	}
}

func TestContextEndsDuringCall(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	_, err := Do(ctx, Config{Policy: policy, Clock: clock.NewAutoVirtual(time.Time{})}, func(ctx context.Context, attempt int) error {
		n++
		if attempt == 1 {
			return errInternal
		}
		cancel()
		return ctx.Err() // the SDK call aborted by the cancelled context
	})
	if n != 2 || !errors.Is(err, context.Canceled) || !errors.Is(err, rollback.ErrInternal) {
		t.Errorf("calls=%d err=%v", n, err)
	}
}

func TestContextAlreadyDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	attempts, err := Do(ctx, Config{}, func(context.Context, int) error { t.Fatal("called"); return nil })
	if attempts != 0 || err != context.Canceled {
		t.Errorf("attempts=%d err=%v", attempts, err)
	}
}

func TestCustomRetryable(t *testing.T) {
	plain := errors.New("plain")
	n := 0
	_, err := Do(context.Background(), Config{Clock: clock.NewAutoVirtual(time.Time{}), Retryable: func(err error) bool { return err == plain }},
		func(context.Context, int) error {
			n++
			if n < 3 {
				return plain
			}
			return nil
		})
	if err != nil || n != 3 {
		t.Errorf("n=%d err=%v", n, err)
	}
}

func equal(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestQueueingDoesNotSpendTheBudget(t *testing.T) {
	clk := clock.NewAutoVirtual(time.Time{})
	p := rollback.RetryPolicy{MaxAttempts: 10, MaxElapsed: 10 * time.Second, BaseDelay: time.Second, MaxDelay: time.Second}
	var queued time.Duration
	n := 0
	_, err := Do(context.Background(), Config{Policy: p, Clock: clk, Jitter: maxJitter, Queued: func() time.Duration { return queued }},
		func(ctx context.Context, attempt int) error {
			// Each attempt first queues a minute for a rate-limit slot.
			_ = clock.Sleep(ctx, clk, time.Minute)
			queued += time.Minute
			n++
			if n < 5 {
				return errInternal
			}
			return nil
		})
	if err != nil || n != 5 {
		t.Errorf("attempts %d, err %v: queueing spent the retry budget", n, err)
	}
}

package retry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
)

// callWith runs one Do against the budget; fail decides each attempt.
func callWith(t *testing.T, b *Budget, fail func(attempt int) error) (int, error) {
	t.Helper()
	cfg := Config{Policy: rollback.RetryPolicy{MaxAttempts: 5}, Clock: clock.NewAutoVirtual(time.Time{}), Budget: b}
	return Do(context.Background(), cfg, func(_ context.Context, attempt int) error { return fail(attempt) })
}

func TestBudgetBoundsRetriesDuringAnOutage(t *testing.T) {
	b := NewBudget(40) // eight retries after 5xx
	outage := func(int) error { return newErrorCopy(errInternal) }
	total := 0
	for range 10 {
		n, err := callWith(t, b, outage)
		if !errors.Is(err, rollback.ErrInternal) {
			t.Fatalf("err %v, want ErrInternal", err)
		}
		total += n
	}
	// 10 first attempts, and the 8 retries the budget paid for.
	if total != 18 || b.Tokens() != 0 {
		t.Fatalf("%d attempts for 10 calls, %d tokens left; want 18 and 0", total, b.Tokens())
	}

	// The outage ends: first attempts go through and refill the budget,
	// and retries come back without anyone resetting anything.
	for range RetryCost {
		if n, err := callWith(t, b, func(int) error { return nil }); n != 1 || err != nil {
			t.Fatalf("healthy call: %d attempts, %v", n, err)
		}
	}
	if n, err := callWith(t, b, func(a int) error {
		if a == 1 {
			return newErrorCopy(errInternal)
		}
		return nil
	}); n != 2 || err != nil {
		t.Fatalf("a single fault after the outage: %d attempts, %v; want it retried", n, err)
	}
	if b.Tokens() != RetryCost {
		t.Fatalf("%d tokens: a retry that succeeds gives back its cost", b.Tokens())
	}
}

func TestBudgetNetworkCostsMoreAndThrottlingNothing(t *testing.T) {
	b := NewBudget(NetworkCost)
	netErr := &rollback.Error{Provider: "p", Kind: rollback.ErrNetwork}
	if n, _ := callWith(t, b, func(int) error { return netErr }); n != 2 || b.Tokens() != 0 {
		t.Fatalf("%d attempts, %d tokens left", n, b.Tokens())
	}
	// Throttling is paced by the rate limiter, not an outage: it retries
	// on an empty budget.
	if n, err := callWith(t, b, func(a int) error {
		if a < 3 {
			return newErrorCopy(errThrottle)
		}
		return nil
	}); n != 3 || err != nil {
		t.Fatalf("throttled call: %d attempts, %v", n, err)
	}
}

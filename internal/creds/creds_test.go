package creds

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cloudsnap/rollback/clock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// source issues credentials valid for life, counting fetches; release,
// when set, holds each fetch until closed.
type source struct {
	clk     clock.Clock
	life    time.Duration
	n       atomic.Int64
	fail    atomic.Bool
	release chan struct{}
}

func (s *source) fetch(ctx context.Context) (Value, error) {
	if s.release != nil {
		select {
		case <-s.release:
		case <-ctx.Done():
			return Value{}, ctx.Err()
		}
	}
	if s.fail.Load() {
		return Value{}, Fail("test source", errors.New("down"))
	}
	n := s.n.Add(1)
	return Value{ID: "id", Secret: "secret", Token: string(rune('a' + n)), Expiry: s.clk.Now().Add(s.life), Source: "test"}, nil
}

func TestRefreshBeforeExpiryOncePerPeriod(t *testing.T) {
	clk := clock.NewVirtual(time.Time{})
	src := &source{clk: clk, life: time.Hour}
	var learned []string
	c := &Cache{Fetch: src.fetch, Clock: clk, Learn: func(s ...string) { learned = append(learned, s...) }}
	ctx := context.Background()
	for range 100 {
		if _, _, err := c.Get(ctx); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(54 * time.Minute)
	c.Get(ctx)
	if src.n.Load() != 1 {
		t.Fatalf("%d fetches before the refresh point, want 1", src.n.Load())
	}
	clk.Advance(time.Minute) // 5 minutes before expiry
	v, g, _ := c.Get(ctx)
	if src.n.Load() != 2 || g != 2 || v.Token != "c" {
		t.Fatalf("at the refresh point: %d fetches, generation %d", src.n.Load(), g)
	}
	if len(learned) != 6 {
		t.Errorf("the redactor learned %v", learned)
	}
}

func TestOneFetchInFlightAndNoWaitWhileValid(t *testing.T) {
	clk := clock.NewVirtual(time.Time{})
	src := &source{clk: clk, life: time.Hour}
	c := &Cache{Fetch: src.fetch, Clock: clk}
	ctx := context.Background()
	c.Get(ctx)
	clk.Advance(56 * time.Minute)
	src.release = make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.Get(ctx) }() // the fetcher, held
	for c.fetchesInFlight() == 0 {
		time.Sleep(time.Millisecond)
	}
	// Others still hold valid credentials: they do not wait.
	for range 10 {
		if _, g, err := c.Get(ctx); err != nil || g != 1 {
			t.Fatalf("got generation %d, %v", g, err)
		}
	}
	close(src.release)
	wg.Wait()
	if src.n.Load() != 2 {
		t.Errorf("%d fetches, want 2", src.n.Load())
	}
}

func TestExpiredDropsOneGenerationOnce(t *testing.T) {
	clk := clock.NewVirtual(time.Time{})
	src := &source{clk: clk, life: time.Hour}
	c := &Cache{Fetch: src.fetch, Clock: clk}
	ctx := context.Background()
	_, g, _ := c.Get(ctx)
	for range 5 { // five calls fail with the same credentials
		if !c.Expired(g) {
			t.Fatal("Expired said not to retry")
		}
	}
	if _, g2, _ := c.Get(ctx); g2 != 2 || src.n.Load() != 2 {
		t.Errorf("generation %d after %d fetches, want 2 and 2", g2, src.n.Load())
	}
	if (&Cache{Static: true}).Expired(1) {
		t.Error("static credentials are never refreshed")
	}
}

func TestFailedRefreshKeepsValidCredentialsAndBacksOff(t *testing.T) {
	clk := clock.NewVirtual(time.Time{})
	src := &source{clk: clk, life: time.Hour}
	c := &Cache{Fetch: src.fetch, Clock: clk}
	ctx := context.Background()
	c.Get(ctx)
	src.fail.Store(true)
	clk.Advance(56 * time.Minute)
	for range 10 {
		if _, _, err := c.Get(ctx); err != nil {
			t.Fatalf("valid credentials not used: %v", err)
		}
	}
	clk.Advance(5 * time.Minute) // expired
	_, _, err := c.Get(ctx)
	var se *SourceError
	if !errors.As(err, &se) || se.Source != "test source" {
		t.Fatalf("expired with the source down: %v", err)
	}
	src.fail.Store(false)
	if _, _, err := c.Get(ctx); err == nil {
		t.Error("fetched again within RetryAfter")
	}
	clk.Advance(DefaultRetryAfter)
	if _, _, err := c.Get(ctx); err != nil {
		t.Errorf("after RetryAfter: %v", err)
	}
}

func TestChainSkipsUnconfiguredAndSticks(t *testing.T) {
	calls := map[string]int{}
	skip := func(name string) Source {
		return func(context.Context) (Value, error) { calls[name]++; return Value{}, Skip(name, "not set") }
	}
	ok := func(name string) Source {
		return func(context.Context) (Value, error) { calls[name]++; return Value{ID: "i", Secret: "s"}, nil }
	}
	ch := &Chain{Names: []string{"a", "b", "c"}, Sources: []Source{skip("a"), ok("b"), ok("c")}}
	v, err := ch.Fetch(context.Background())
	if err != nil || v.Source != "b" {
		t.Fatalf("%+v %v", v, err)
	}
	ch.Fetch(context.Background())
	if calls["a"] != 1 || calls["b"] != 2 || calls["c"] != 0 {
		t.Errorf("calls %v", calls)
	}
	none := &Chain{Names: []string{"a"}, Sources: []Source{skip("a")}}
	_, err = none.Fetch(context.Background())
	var ne *NoneError
	if !errors.As(err, &ne) || len(ne.Tried) != 1 {
		t.Errorf("empty chain: %v", err)
	}
	bad := &Chain{Names: []string{"x", "b"}, Sources: []Source{func(context.Context) (Value, error) { return Value{}, Fail("x", errors.New("broken")) }, ok("b")}}
	if _, err := bad.Fetch(context.Background()); err == nil || calls["b"] != 2 {
		t.Errorf("a broken source fell through: %v", err)
	}
}

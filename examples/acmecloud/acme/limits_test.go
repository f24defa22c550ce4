package acme_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"

	"example.com/acmecloud/acme"
	"example.com/acmecloud/acmetest"
)

// The client keeps under the cloud's window by itself: 25 starts in a row
// against a cloud that allows 10 a second are never throttled.
func TestClientPacesMutatingCalls(t *testing.T) {
	clk := auto()
	srv := acmetest.NewServer(acmetest.WithClock(clk),
		acmetest.WithRateLimit(acmetest.ActionStartServer, acmetest.RateWindow{Calls: acme.DefaultRateLimit.Calls, Per: time.Second}))
	defer srv.Close()
	c, err := acme.New(acme.Config{Region: acmetest.DefaultRegion, Endpoint: srv.URL, KeyID: acmetest.DefaultKeyID, Secret: acmetest.DefaultSecret},
		rollback.WithClock(clk), rollback.WithMaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := clk.Now()
	for range 25 {
		sv, _ := srv.AddServer(acmetest.ServerSpec{})
		if err := c.StartInstance(context.Background(), "", sv.ID); err != nil {
			t.Fatal(err)
		}
	}
	if took := clk.Now().Sub(start); took < 2*time.Second {
		t.Fatalf("25 starts took %s: not paced at 10 a second", took)
	}
}

type countingLimiter struct{ n atomic.Int32 }

func (l *countingLimiter) Wait(ctx context.Context, call rollback.LimitedCall) error {
	if call.Provider != acme.Name || call.Op == "" || call.Calls != acme.DefaultRateLimit.Calls {
		panic("limited call without its quota")
	}
	l.n.Add(1)
	return ctx.Err()
}

// A shared limiter (rollback.WithLimiter) paces the mutating calls
// instead of the client's own; reads are not limited.
func TestSharedLimiter(t *testing.T) {
	clk := auto()
	l := &countingLimiter{}
	h := acmetest.NewHarness(t, clk, rollback.WithLimiter(l))
	tg := h.NewTarget(t, true)
	o := runOpts(clk)
	o.StopIfRunning = true
	if _, err := rollback.Run(context.Background(), h.Client, h.Request(tg), o); err != nil {
		t.Fatal(err)
	}
	if got := l.n.Load(); got != 2 { // the stop and the restore
		t.Fatalf("the shared limiter saw %d calls, want 2", got)
	}
}

// rollback.WithHooks sees the client's calls through the public call path.
func TestHooksSeeCalls(t *testing.T) {
	clk := auto()
	var mu sync.Mutex
	ends := map[string]int{}
	hooks := rollback.Hooks{CallEnd: func(_ context.Context, c *rollback.CallInfo) {
		mu.Lock()
		defer mu.Unlock()
		if c.Provider == acme.Name && c.RequestID != "" && c.Attempts >= 1 {
			ends[c.Action]++
		}
	}}
	h := acmetest.NewHarness(t, clk, rollback.WithHooks(hooks))
	tg := h.NewTarget(t, false)
	h.Server.FailNext(acmetest.ActionRestoreSnapshot, acme.CodeThrottled, 1)
	if _, err := rollback.Run(context.Background(), h.Client, h.Request(tg), runOpts(clk)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if ends[acmetest.ActionRestoreSnapshot] != 1 || ends[acmetest.ActionDescribeServers] == 0 || ends[acmetest.ActionDescribeSnapshots] == 0 {
		t.Fatalf("calls seen: %v", ends)
	}
}

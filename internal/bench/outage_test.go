package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/internal/retry"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// outageResult is what a fleet did during an outage.
type outageResult struct {
	servers, calls       int // calls: every API call the cloud received
	succeeded, applied   int
	internal, network    int // failures by sentinel
	other                []error
	perServer            float64
	describes, mutations int
}

func (r outageResult) String() string {
	return fmt.Sprintf("%d servers: %d calls (%.2f per server; %d describe, %d other), %d succeeded (%d applied), failed with ErrInternal %d, ErrNetwork %d, other %d",
		r.servers, r.calls, r.perServer, r.describes, r.mutations, r.succeeded, r.applied, r.internal, r.network, len(r.other))
}

// runOutage rolls back n Lighthouse instances while the cloud fails calls
// as fault says, with the client's retry budget or without: with RunBatch
// (batch), or as n independent Runs sharing one client, concurrency at a
// time (a service taking requests one by one).
func runOutage(tb testing.TB, batch bool, n, concurrency int, fault tencenttest.Fault, budget bool) outageResult {
	tb.Helper()
	clk := clock.NewScaled(200)
	srv := tencenttest.NewServer(tencenttest.WithClock(clk), tencenttest.WithoutRateLimits(),
		tencenttest.WithDurations(tencenttest.Durations{Rollback: 10 * time.Second}))
	defer srv.Close()
	// MaxElapsed out of the way: on a scaled clock it would cut retries by
	// how busy the machine is; attempts bound them here.
	opts := []rollback.Option{rollback.WithClock(clk), rollback.WithoutRateLimit(), rollback.WithCallTimeout(5 * time.Second),
		rollback.WithRetryPolicy(rollback.RetryPolicy{MaxElapsed: 24 * time.Hour})}
	if !budget {
		opts = append(opts, rollback.WithoutRetryBudget())
	}
	c, err := tencent.New(tencent.Config{Region: tencenttest.DefaultRegion, Endpoint: srv.URL,
		SecretID: tencenttest.DefaultSecretID, SecretKey: tencenttest.DefaultSecretKey}, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	var reqs []rollback.Request
	for range n {
		in, _ := srv.AddInstance(tencenttest.Instance{State: "STOPPED"})
		sn, _ := srv.AddSnapshot(tencenttest.Snapshot{InstanceID: in.ID})
		reqs = append(reqs, rollback.Request{Region: tencenttest.DefaultRegion, InstanceID: in.ID, SnapshotID: sn.ID})
	}
	srv.AddFault(fault)
	ro := rollback.RunOptions{Clock: clk, Checkpoints: rollback.NoCheckpoints, Wait: rollback.WaitOptions{Learner: &rollback.Learner{}}}
	var results []rollback.BatchResult
	if batch {
		results = rollback.RunBatch(context.Background(), c, reqs, ro, rollback.BatchOptions{Concurrency: concurrency})
	} else {
		results = make([]rollback.BatchResult, n)
		sem := make(chan struct{}, concurrency)
		var wg sync.WaitGroup
		for i, req := range reqs {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				rep, err := rollback.Run(context.Background(), c, req, ro)
				results[i] = rollback.BatchResult{Request: req, Report: rep, Err: err}
			}()
		}
		wg.Wait()
	}
	r := outageResult{servers: n, applied: srv.Rollbacks()}
	for _, e := range srv.Journal().Entries() {
		r.calls++
		if e.Action == "DescribeInstances" || e.Action == "DescribeSnapshots" {
			r.describes++
		} else {
			r.mutations++
		}
	}
	r.perServer = float64(r.calls) / float64(n)
	for _, res := range results {
		switch {
		case res.Err == nil:
			r.succeeded++
		case errors.Is(res.Err, rollback.ErrInternal):
			r.internal++
		case errors.Is(res.Err, rollback.ErrNetwork):
			r.network++
		default:
			r.other = append(r.other, res.Err)
		}
	}
	return r
}

var (
	outage5xx   = tencenttest.Fault{Code: "InternalError", Times: -1}
	outageReset = tencenttest.Fault{Reset: true, Times: -1}
	outages     = []struct {
		name  string
		fault tencenttest.Fault
		kind  error
	}{{"5xx", outage5xx, rollback.ErrInternal}, {"reset", outageReset, rollback.ErrNetwork}}
)

// BenchmarkOutage measures a fleet's calls per server during an outage of
// every call (5xx replies; connections reset), with the client's retry
// budget and without: 1,000 independent Runs sharing a client, 50 at a
// time, and one RunBatch of 1,000.
func BenchmarkOutage(b *testing.B) {
	for _, f := range outages {
		for _, batch := range []bool{false, true} {
			for _, budget := range []bool{true, false} {
				mode := "runs"
				if batch {
					mode = "batch"
				}
				b.Run(fmt.Sprintf("%s/%s/budget=%v", f.name, mode, budget), func(b *testing.B) {
					for range b.N {
						r := runOutage(b, batch, 1000, 50, f.fault, budget)
						b.Logf("%v", r)
						b.ReportMetric(r.perServer, "calls/server")
					}
				})
			}
		}
	}
}

// TestOutageRetryBudget holds issue 18's outage targets on 100 Lighthouse
// servers rolled back by independent Runs sharing one client, 50 at a
// time: during an outage of every call, the retry budget keeps the calls
// per server bounded (and well under what the fleet makes without it), and
// every server fails fast with the outage's own sentinel; when the outage
// ends mid-run, the servers that come after it succeed, each rollback
// applied exactly once, with no operator action. (RunBatch batches its
// reads, so an outage costs it few calls either way: BenchmarkOutage.)
func TestOutageRetryBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("fleet run")
	}
	const n = 100
	for _, f := range outages {
		with := runOutage(t, false, n, 50, f.fault, true)
		without := runOutage(t, false, n, 50, f.fault, false)
		t.Logf("%s outage, with the budget:    %v", f.name, with)
		t.Logf("%s outage, without the budget: %v", f.name, without)
		for _, r := range []outageResult{with, without} {
			if r.succeeded > 0 || r.applied > 0 || len(r.other) > 0 {
				t.Errorf("%s: %d succeeded, %d applied, other errors %v", f.name, r.succeeded, r.applied, r.other)
			}
		}
		got := with.network
		if f.kind == rollback.ErrInternal {
			got = with.internal
		}
		if got != n {
			t.Errorf("%s: %d of %d failed with %v", f.name, got, n, f.kind)
		}
		// One attempt per server, and the retries a full budget pays for.
		if with.calls > n+rollback.DefaultRetryBudget/retry.RetryCost || with.calls*2 > without.calls {
			t.Errorf("%s: %.2f calls per server with the budget, %.2f without", f.name, with.perServer, without.perServer)
		}
	}

	// The outage ends after the first 150 calls, after the budget is spent: the fleet recovers on
	// its own.
	r := runOutage(t, false, n, 50, tencenttest.Fault{Code: "InternalError", Times: 150}, true)
	t.Logf("outage of the first 150 calls: %v", r)
	if r.succeeded < n/3 || r.succeeded+r.internal != n || r.applied != r.succeeded || len(r.other) > 0 {
		t.Errorf("after the outage: %d of %d succeeded, %d applied, other errors %v", r.succeeded, n, r.applied, r.other)
	}
}

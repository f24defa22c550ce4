package pgstore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/pgstore"
	"github.com/cloudsnap/rollback/pgstore/pgtest"
)

// replicaRun is one experiment: replicas clients of one SWAS account, each
// with its own connection pool (as separate processes would have), send
// perReplica CreateSnapshot calls each, all at once, against one emulator
// that enforces SWAS's quota of 10 per minute. shared gives every replica
// the PostgreSQL limiter; otherwise each keeps its own.
type replicaRun struct {
	makespan  time.Duration // first call to last success, on the clock
	throttled int           // Throttling replies the emulator sent
	errs      []error       // errors that reached callers
	applied   int
}

func runReplicas(t *testing.T, url string, replicas, perReplica int, shared bool, opts ...rollback.Option) replicaRun {
	t.Helper()
	// A manual virtual clock, moved only while every replica sleeps on
	// it: each call reaches the emulator at the instant its limiter let
	// it go, so the result does not depend on how busy the machine is.
	clk := clock.NewVirtual(time.Now())
	srv := aliyuntest.NewServer(aliyuntest.WithClock(clk), aliyuntest.WithSnapshotQuota(-1))
	defer srv.Close()
	in := aliyuntest.Must(srv.AddInstance(aliyuntest.InstanceSpec{Name: "web-1", Status: aliyuntest.StatusRunning}))

	scope := fmt.Sprintf("acct-%d", time.Now().UnixNano())
	var clients []*aliyun.Client
	for range replicas {
		o := append([]rollback.Option{rollback.WithClock(clk)}, opts...)
		if shared {
			l := pgstore.New(pool(t, url), pgstore.Options{}).Limiter(scope)
			l.Clock = clk
			o = append(o, rollback.WithLimiter(l))
		}
		c, err := aliyun.New(aliyun.Config{Region: aliyuntest.DefaultRegion, Endpoint: srv.URL,
			AccessKeyID: aliyuntest.DefaultAccessKeyID, AccessKeySecret: aliyuntest.DefaultAccessKeySecret}, o...)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseIdleConnections()
		clients = append(clients, c)
	}
	if err := pgstore.New(pool(t, url), pgstore.Options{}).Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}

	start := clk.Now()
	var (
		mu     sync.Mutex
		res    replicaRun
		last   time.Time
		active atomic.Int64
		wg     sync.WaitGroup
	)
	active.Store(int64(replicas))
	for r, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer active.Add(-1)
			for i := range perReplica {
				_, err := c.CreateSnapshot(context.Background(), aliyuntest.DefaultRegion, "", in.SystemDiskID, fmt.Sprintf("r%d-%d", r, i))
				mu.Lock()
				if err != nil {
					res.errs = append(res.errs, err)
				} else if now := clk.Now(); now.After(last) {
					last = now
				}
				mu.Unlock()
			}
		}()
	}
	// Drive the clock: advance one second at a time, only once every
	// running replica sleeps on it.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for {
		select {
		case <-done:
			res.makespan = last.Sub(start)
			for _, e := range srv.Journal().Entries() {
				if e.Code == "Throttling.User" {
					res.throttled++
				}
				if e.Action == aliyuntest.ActionCreateSnapshot && e.Applied {
					res.applied++
				}
			}
			return res
		default:
		}
		if n := active.Load(); n > 0 && clk.Waiters() >= int(n) {
			clk.Advance(time.Second)
			continue
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// TestSharedRateLimit: three replicas of one account against one emulator.
// With the shared limiter no call is throttled and the last call goes
// within 1.10x of the quota's bound; with per-process limiters (the
// contrast) the replicas together exceed the quota.
func TestSharedRateLimit(t *testing.T) {
	url := pgtest.Database(t, server, startErr)
	const replicas, per = 3, 10
	n := replicas * per
	// SWAS's quota, 10 calls per minute: n calls need at least
	// ceil(n/10)-1 further minutes after the first ten.
	bound := time.Duration((n+aliyun.DefaultRateLimitCalls-1)/aliyun.DefaultRateLimitCalls-1) * aliyun.DefaultRateLimitPer

	got := runReplicas(t, url, replicas, per, true)
	for _, err := range got.errs {
		t.Errorf("a caller got: %v", err)
	}
	if got.throttled != 0 {
		t.Errorf("the emulator throttled %d calls; want 0", got.throttled)
	}
	if got.applied != n {
		t.Errorf("%d snapshots created; want %d", got.applied, n)
	}
	ratio := float64(got.makespan) / float64(bound)
	t.Logf("shared limiter: %d calls from %d replicas in %v (quota's bound %v, %.3fx), %d throttled",
		n, replicas, got.makespan, bound, ratio, got.throttled)
	if ratio > 1.10 || got.makespan < bound {
		t.Errorf("makespan %v is %.3fx the quota's bound %v; want between 1 and 1.10", got.makespan, ratio, bound)
	}

	alone := runReplicas(t, url, replicas, per, false, rollback.WithMaxAttempts(1))
	t.Logf("per-process limiters: %d throttled, %d errors", alone.throttled, len(alone.errs))
	if alone.throttled == 0 {
		t.Errorf("per-process limiters were not throttled: the experiment does not exceed the quota")
	}
}

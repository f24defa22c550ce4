package aliyun_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/clock"
)

// One Client, many goroutines: run with -race. The SDK client is not safe
// for concurrent use; the pool must keep every call on its own.
func TestConcurrentCalls(t *testing.T) {
	const n = 24
	srv := aliyuntest.NewServer(aliyuntest.WithoutRateLimits(), aliyuntest.WithClock(clock.NewScaled(1)))
	defer srv.Close()
	var (
		ins   []aliyuntest.InstanceSpec
		snaps []aliyuntest.SnapshotSpec
	)
	for range n {
		in := aliyuntest.Must(srv.AddInstance(aliyuntest.InstanceSpec{Status: aliyuntest.StatusStopped}))
		ins = append(ins, in)
		snaps = append(snaps, aliyuntest.Must(srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: in.SystemDiskID})))
	}
	cred := srv.Credential()
	c, err := aliyun.New(aliyun.Config{Region: srv.Region(), Endpoint: srv.URL, AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret},
		rollback.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	// Every fourth ResetDisk loses its reply, so retries run concurrently too.
	srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionResetDisk, DropResponse: true, Nth: 4, Times: 1})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := range n {
		wg.Add(3)
		go func() {
			defer wg.Done()
			_, err := c.Rollback(ctx, rollback.Request{Region: srv.Region(), DiskID: ins[i].SystemDiskID, SnapshotID: snaps[i].ID})
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := c.Instance(ctx, srv.Region(), ins[i].ID)
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := c.Snapshot(ctx, srv.Region(), snaps[i].ID)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if srv.Rollbacks() != n {
		t.Errorf("rollbacks = %d, want %d", srv.Rollbacks(), n)
	}
	for _, in := range ins {
		if got := srv.RollbacksOf(in.SystemDiskID); got != 1 {
			t.Errorf("disk %s rolled back %d times", in.SystemDiskID, got)
		}
	}
}

// maxInWindow is the most times that fall in any window of length per.
func maxInWindow(times []time.Time, per time.Duration) int {
	best := 0
	for i := range times {
		n := 0
		for _, t := range times[i:] {
			if t.Sub(times[i]) < per {
				n++
			}
		}
		best = max(best, n)
	}
	return best
}

func arrivals(entries []aliyuntest.Entry) []time.Time {
	var out []time.Time
	for _, e := range entries {
		out = append(out, e.Time)
	}
	return out
}

// The default client-side limit keeps ResetDisk within SWAS's 10 calls per
// minute, so the cloud's window is never tripped, however the calls come.
func TestRateLimiterKeepsResetDiskUnderQuota(t *testing.T) {
	e := newEnv(t, nil)
	const n = 12
	var reqs []rollback.Request
	for range n {
		in := aliyuntest.Must(e.srv.AddInstance(aliyuntest.InstanceSpec{Status: aliyuntest.StatusStopped}))
		snap := aliyuntest.Must(e.srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: in.SystemDiskID}))
		reqs = append(reqs, rollback.Request{Region: e.srv.Region(), DiskID: in.SystemDiskID, SnapshotID: snap.ID})
	}
	start := e.clk.Now()
	for _, req := range reqs {
		res, err := e.c.Rollback(e.ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if res.Attempts != 1 {
			t.Errorf("%d attempts: the cloud throttled", res.Attempts)
		}
	}
	resets := e.entries(aliyuntest.ActionResetDisk)
	if len(resets) != n {
		t.Fatalf("%d ResetDisk calls", len(resets))
	}
	for i, r := range resets {
		if r.Code != "" {
			t.Errorf("call %d answered %s", i, r.Code)
		}
	}
	if most := maxInWindow(arrivals(resets), time.Minute); most > 10 {
		t.Errorf("%d ResetDisk calls within one minute", most)
	}
	if took := e.clk.Now().Sub(start); took < time.Minute {
		t.Errorf("%d rollbacks took only %v of clock time", n, took)
	}
	// Reads are not limited.
	before := e.clk.Now()
	for range 20 {
		if _, err := e.c.Snapshot(e.ctx, e.srv.Region(), e.snap.ID); err != nil {
			t.Fatal(err)
		}
	}
	if e.clk.Now() != before {
		t.Errorf("reads waited %v", e.clk.Now().Sub(before))
	}
}

func TestRateLimitOverride(t *testing.T) {
	e := newEnv(t, []aliyuntest.Option{aliyuntest.WithoutRateLimits()})
	c := e.client(t, aliyun.Config{}, rollback.WithRateLimit(2, time.Second))
	var ids []string
	for range 5 {
		ids = append(ids, aliyuntest.Must(e.srv.AddInstance(aliyuntest.InstanceSpec{})).ID)
	}
	start := e.clk.Now()
	for _, id := range ids {
		if err := c.StopInstance(e.ctx, e.srv.Region(), id); err != nil {
			t.Fatal(err)
		}
	}
	stops := e.entries(aliyuntest.ActionStopInstance)
	if most := maxInWindow(arrivals(stops), time.Second); most > 2 {
		t.Errorf("%d stops within one second at 2/s", most)
	}
	if took := e.clk.Now().Sub(start); took < 2*time.Second || took > 5*time.Second {
		t.Errorf("5 stops at 2/s took %v", took)
	}
	// WithoutRateLimit: no waiting at all.
	c = e.client(t, aliyun.Config{}, rollback.WithoutRateLimit())
	e.clk.Advance(time.Hour)
	start = e.clk.Now()
	for _, id := range ids {
		if err := c.StartInstance(e.ctx, e.srv.Region(), id); err != nil {
			t.Fatal(err)
		}
	}
	if e.clk.Now() != start {
		t.Errorf("unlimited client waited %v", e.clk.Now().Sub(start))
	}
}

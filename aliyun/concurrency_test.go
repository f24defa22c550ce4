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
		in := srv.AddInstance(aliyuntest.InstanceSpec{Status: aliyuntest.StatusStopped})
		ins = append(ins, in)
		snaps = append(snaps, srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: in.SystemDiskID}))
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

// The default client-side limit paces ResetDisk to one call per 6s, so the
// cloud's 10-per-minute window is never tripped.
func TestRateLimiterPacesResetDisk(t *testing.T) {
	e := newEnv(t, nil)
	const n = 12
	var reqs []rollback.Request
	for range n {
		in := e.srv.AddInstance(aliyuntest.InstanceSpec{Status: aliyuntest.StatusStopped})
		snap := e.srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: in.SystemDiskID})
		reqs = append(reqs, rollback.Request{Region: e.srv.Region(), DiskID: in.SystemDiskID, SnapshotID: snap.ID})
	}
	start := e.clk.Now()
	for _, req := range reqs {
		if _, err := e.c.Rollback(e.ctx, req); err != nil {
			t.Fatal(err)
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
		if i > 0 {
			if gap := r.Time.Sub(resets[i-1].Time); gap < 6*time.Second {
				t.Errorf("calls %d and %d only %v apart", i-1, i, gap)
			}
		}
	}
	if took := e.clk.Now().Sub(start); took < (n-1)*6*time.Second {
		t.Errorf("%d rollbacks took %v of clock time", n, took)
	}
	// Reads are not paced.
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
	for range 4 {
		ids = append(ids, e.srv.AddInstance(aliyuntest.InstanceSpec{}).ID)
	}
	start := e.clk.Now()
	for _, id := range ids {
		if err := c.StopInstance(e.ctx, e.srv.Region(), id); err != nil {
			t.Fatal(err)
		}
	}
	if took := e.clk.Now().Sub(start); took < 1500*time.Millisecond || took > 2*time.Second {
		t.Errorf("4 stops at 2/s took %v", took)
	}
}

package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// fleetSpec is one fleet to roll back.
type fleetSpec struct {
	cloud    string        // "tencent" or "aliyun"
	n        int           // servers
	speed    float64       // how much faster than real time the clock runs
	rollback time.Duration // how long one rollback takes on the emulator
	// concurrency is BatchOptions.Concurrency (0: the default, -1: every
	// server at once).
	concurrency int
	// virtual runs the fleet on a virtual clock instead (speed unused):
	// inside a testing/synctest bubble, where time moves only when every
	// goroutine of the fleet and the emulator is blocked, with the client
	// calling the emulator's handler in process (see runFleetVirtual).
	virtual bool
}

// bound is the shortest makespan the cloud allows: its rate limit spaces
// the rollback calls (the k-th cannot start before (k-1)/L windows), and
// the last one then takes the rollback's duration.
func (f fleetSpec) bound() time.Duration {
	limit, per := 20, time.Second // Lighthouse: 20 per second per action
	if f.cloud == "aliyun" {
		limit, per = 10, time.Minute // SWAS: 10 ResetDisk per minute
	}
	windows := (f.n - 1) / limit
	return time.Duration(windows)*per + f.rollback
}

// fleetResult is what one fleet run measured.
type fleetResult struct {
	makespan       time.Duration // on the emulator's clock
	ratio          float64       // makespan / bound
	reads          int           // reads the waits and checks made
	describes      int           // describe calls that served them
	throttledWire  int           // throttling replies the cloud sent
	throttledFinal int           // throttling errors that reached the caller
	failed         int           // rollbacks that did not succeed
	applied        int           // rollbacks applied by the emulator
	peakHeapMB     float64
	cpuPerRollback time.Duration // process CPU (user+system, client and emulator together) / servers
}

func runFleet(tb testing.TB, f fleetSpec) fleetResult {
	tb.Helper()
	heap := startHeapSampler()
	defer heap.stop()
	return runFleetWith(tb, f, heap)
}

// runFleetWith runs the fleet, sampling the heap with heap (started by the
// caller: a virtual fleet's sampler runs outside its bubble, on real time).
func runFleetWith(tb testing.TB, f fleetSpec, heap *heapSampler) fleetResult {
	var clk clock.Clock = clock.NewScaled(f.speed)
	var opts []rollback.Option
	endpoint := func(url string) string { return url }
	if f.virtual {
		// The bubble's fake time is the time package's: the real clock.
		clk = clock.Real()
		endpoint = func(string) string { return "http://127.0.0.1:9" } // never dialled
	}
	var (
		p       rollback.Provider
		reqs    []rollback.Request
		journal func() (describes, throttled, applied int)
	)
	switch f.cloud {
	case "tencent":
		srv := tencenttest.New(tencenttest.WithClock(clk), tencenttest.WithDurations(tencenttest.Durations{Rollback: f.rollback}))
		if f.virtual {
			opts = append(opts, rollback.WithHTTPTransport(handlerTransport{srv}))
		} else {
			srv.Start()
			defer srv.Close()
		}
		c, err := tencent.New(tencent.Config{Region: tencenttest.DefaultRegion, Endpoint: endpoint(srv.URL),
			SecretID: tencenttest.DefaultSecretID, SecretKey: tencenttest.DefaultSecretKey}, append(opts, rollback.WithClock(clk))...)
		if err != nil {
			tb.Fatal(err)
		}
		defer c.Close()
		p = c
		for range f.n {
			in, _ := srv.AddInstance(tencenttest.Instance{State: "STOPPED"})
			sn, _ := srv.AddSnapshot(tencenttest.Snapshot{InstanceID: in.ID})
			reqs = append(reqs, rollback.Request{Region: tencenttest.DefaultRegion, InstanceID: in.ID, SnapshotID: sn.ID})
		}
		journal = func() (int, int, int) {
			d, th := 0, 0
			for _, e := range srv.Journal().Entries() {
				switch {
				case e.Action == "DescribeInstances" || e.Action == "DescribeSnapshots":
					d++
				}
				if e.Code == "RequestLimitExceeded" {
					th++
				}
			}
			return d, th, srv.Rollbacks()
		}
	case "aliyun":
		srv := aliyuntest.NewServer(aliyuntest.WithClock(clk), aliyuntest.WithDurations(aliyuntest.Durations{Rollback: f.rollback}))
		defer srv.Close()
		c, err := aliyun.New(aliyun.Config{Region: aliyuntest.DefaultRegion, Endpoint: srv.URL,
			AccessKeyID: aliyuntest.DefaultAccessKeyID, AccessKeySecret: aliyuntest.DefaultAccessKeySecret}, rollback.WithClock(clk))
		if err != nil {
			tb.Fatal(err)
		}
		defer c.CloseIdleConnections()
		p = c
		for range f.n {
			in := aliyuntest.Must(srv.AddInstance(aliyuntest.InstanceSpec{Status: aliyuntest.StatusStopped}))
			sn := aliyuntest.Must(srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: in.SystemDiskID}))
			reqs = append(reqs, rollback.Request{Region: aliyuntest.DefaultRegion, InstanceID: in.ID, DiskID: in.SystemDiskID, SnapshotID: sn.ID})
		}
		journal = func() (int, int, int) {
			d, th := 0, 0
			for _, e := range srv.Journal().Entries() {
				switch e.Action {
				case aliyuntest.ActionListInstances, aliyuntest.ActionListInstanceStatus, aliyuntest.ActionListDisks, aliyuntest.ActionListSnapshots:
					d++
				}
				if e.Code == "Throttling.User" {
					th++
				}
			}
			return d, th, srv.Rollbacks()
		}
	}

	heap.reset()
	cpu0 := processCPU()
	var polls atomic.Int64
	start := clk.Now()
	results := rollback.RunBatch(context.Background(), p, reqs,
		rollback.RunOptions{Clock: clk, Wait: rollback.WaitOptions{Learner: &rollback.Learner{}}},
		rollback.BatchOptions{Concurrency: f.concurrency, Progress: func(_ int, ev rollback.Event) {
			if ev.Kind == rollback.EventState {
				polls.Add(1)
			}
		}})
	res := fleetResult{makespan: clk.Now().Sub(start)}
	res.cpuPerRollback = (processCPU() - cpu0) / time.Duration(f.n)
	res.peakHeapMB = float64(heap.peak()) / (1 << 20)
	res.ratio = float64(res.makespan) / float64(f.bound())
	for _, r := range results {
		if r.Err != nil {
			res.failed++
			if errors.Is(r.Err, rollback.ErrThrottled) {
				res.throttledFinal++
			}
		}
	}
	// Every item read its snapshot and instance for the checks and again
	// just before its rollback; every poll of every wait read once more.
	res.reads = 4*f.n + int(polls.Load())
	res.describes, res.throttledWire, res.applied = journal()
	return res
}

// heapSampler records the peak heap in use, sampled every 20 ms of real
// time, until stopped.
type heapSampler struct {
	max  atomic.Uint64
	done chan struct{}
	wg   sync.WaitGroup
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{done: make(chan struct{})}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		profile := os.Getenv("ROLLBACK_BENCH_HEAPPROFILE")
		var written time.Time
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > h.max.Load() {
				h.max.Store(ms.HeapInuse)
				if profile != "" && time.Since(written) > time.Second {
					// What was live at the last collection before the
					// peak: go tool pprof -sample_index=inuse_space.
					writeHeapProfile(profile)
					written = time.Now()
				}
			}
			select {
			case <-h.done:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func writeHeapProfile(path string) {
	f, err := os.Create(path)
	if err != nil {
		return
	}
	defer f.Close()
	_ = pprof.Lookup("heap").WriteTo(f, 0)
	// And where the goroutines are, whose stacks count towards the heap
	// the collector allows.
	if g, err := os.Create(path + ".goroutines"); err == nil {
		_ = pprof.Lookup("goroutine").WriteTo(g, 1)
		g.Close()
	}
}

func (h *heapSampler) reset()       { h.max.Store(0) }
func (h *heapSampler) peak() uint64 { return h.max.Load() }
func (h *heapSampler) stop()        { close(h.done); h.wg.Wait() }

func (r fleetResult) String() string {
	return fmt.Sprintf("makespan %v (%.3f x bound), %d reads served by %d describe calls (1/%.0f), throttled %d on the wire / %d reaching the caller, %d failed, %d applied, peak heap %.0f MB, CPU %v per rollback (client and emulator)",
		r.makespan.Round(time.Second), r.ratio, r.reads, r.describes, float64(r.reads)/float64(max(r.describes, 1)),
		r.throttledWire, r.throttledFinal, r.failed, r.applied, r.peakHeapMB, r.cpuPerRollback.Round(time.Microsecond))
}

// BenchmarkFleet rolls back 1,000 Lighthouse instances and 200 SWAS servers
// with RunBatch on scaled clocks.
func BenchmarkFleet(b *testing.B) {
	for _, f := range fullFleets {
		b.Run(fmt.Sprintf("%s-%d", f.cloud, f.n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				r := runFleet(b, f)
				b.Logf("%s: %v", f.cloud, r)
				b.ReportMetric(r.ratio, "makespan/bound")
				b.ReportMetric(float64(r.describes)/float64(r.reads), "describes/read")
				b.ReportMetric(float64(r.throttledFinal), "throttled-errors")
				b.ReportMetric(r.peakHeapMB, "peak-heap-MB")
				b.ReportMetric(float64(r.cpuPerRollback.Microseconds()), "cpu-µs/rollback")
			}
		})
	}
}

// fleet10k is issue 18's fleet: 10,000 Lighthouse instances in one
// RunBatch. Its bound is 499 windows of the 20-per-second quota plus one
// 60 s rollback: 9m19s of cloud time, 56 s of real time at 10x. It runs
// with every server at once (-1) and with Concurrency 2,000 (the default): at
// 20 rollbacks a second and 60 s each, about 1,200 are ever rolling back,
// so 2,000 slots cost no time and keep fewer goroutines and connections.
var fleet10k = []fleetSpec{
	{cloud: "tencent", n: 10000, speed: 10, rollback: 60 * time.Second, concurrency: -1},
	{cloud: "tencent", n: 10000, speed: 10, rollback: 60 * time.Second, concurrency: 2000},
}

// BenchmarkFleet10k rolls back 10,000 Lighthouse instances with one
// RunBatch on a 10x scaled clock and reports makespan against the quota's
// bound, describe calls per read, throttling errors reaching the caller,
// peak heap and CPU per rollback, over real HTTP. It needs an idle machine
// (see TestFleetTargets); TestFleet10k runs the same fleets on a virtual
// clock, which no load can stretch, and is the figure of record. With
// ROLLBACK_BENCH_STRICT=1 it fails when a target is missed:
//
//	ROLLBACK_BENCH_STRICT=1 go test -run=^$ -bench=Fleet10k -benchtime=1x -timeout 30m ./internal/bench
func BenchmarkFleet10k(b *testing.B) {
	for _, f := range fleet10k {
		b.Run(fmt.Sprintf("concurrency=%d", f.concurrency), func(b *testing.B) { benchFleet10k(b, f) })
	}
}

func benchFleet10k(b *testing.B, f fleetSpec) {
	for range b.N {
		r := runFleet(b, f)
		b.Logf("tencent %d, concurrency %d: %v", f.n, f.concurrency, r)
		b.ReportMetric(r.ratio, "makespan/bound")
		b.ReportMetric(float64(r.reads)/float64(max(r.describes, 1)), "reads/describe")
		b.ReportMetric(float64(r.throttledFinal), "throttled-errors")
		b.ReportMetric(r.peakHeapMB, "peak-heap-MB")
		b.ReportMetric(float64(r.cpuPerRollback.Microseconds()), "cpu-µs/rollback")
		if os.Getenv("ROLLBACK_BENCH_STRICT") != "1" {
			continue
		}
		if r.failed > 0 || r.applied != f.n || r.throttledFinal > 0 {
			b.Errorf("%d failed, %d applied, %d throttling errors reached the caller", r.failed, r.applied, r.throttledFinal)
		}
		if r.ratio > 1.10 || r.describes*50 > r.reads || r.peakHeapMB > 150 {
			b.Errorf("targets: makespan <= 1.10 x bound, <= 1 describe per 50 reads, peak heap <= 150 MB")
		}
	}
}

// TestFleetTargets rolls back a fleet of each cloud with RunBatch.
//
// Always (CI included) it holds what no machine load can distort: every
// rollback applied exactly once, no throttling error reaching the caller,
// and reads clearly batched. The time-based targets of issue 7 (makespan
// within 10% of the bound the rate limits allow, one describe call per 50
// reads) need an idle machine, because a scaled clock turns every
// millisecond the CPU is busy elsewhere into lost cloud time; with
// ROLLBACK_BENCH_STRICT=1 the test runs the benchmark's full fleets (1,000
// Lighthouse instances, 200 SWAS servers) and checks those too:
//
//	ROLLBACK_BENCH_STRICT=1 go test -run TestFleetTargets -v ./internal/bench
func TestFleetTargets(t *testing.T) {
	strict := os.Getenv("ROLLBACK_BENCH_STRICT") == "1"
	// Lighthouse's targets are held in CI on the virtual clock, at 1,000
	// instances (TestFleetTargetsVirtual); here SWAS's, over real HTTP.
	fleets := []fleetSpec{
		{cloud: "aliyun", n: 40, speed: 100, rollback: 45 * time.Second},
	}
	if strict {
		fleets = fullFleets
	} else if testing.Short() {
		t.Skip("fleet run")
	}
	for _, f := range fleets {
		r := runFleet(t, f)
		t.Logf("%s %d: %v", f.cloud, f.n, r)
		if r.failed > 0 || r.applied != f.n {
			t.Errorf("%s: %d failed, %d applied of %d", f.cloud, r.failed, r.applied, f.n)
		}
		if r.throttledFinal > 0 {
			t.Errorf("%s: %d throttling errors reached the caller", f.cloud, r.throttledFinal)
		}
		if !strict {
			// How many reads a call serves depends on scheduling: only
			// an idle machine (strict) may be held to it.
			continue
		}
		if r.describes*3 > r.reads {
			t.Errorf("%s: %d describe calls for %d reads: not batched", f.cloud, r.describes, r.reads)
		}
		if r.ratio > 1.10 {
			t.Errorf("%s: makespan %.3f x the bound", f.cloud, r.ratio)
		}
		// SWAS allows 10 rollbacks a minute, so about ten servers are ever in
		// flight and one call cannot serve 50 waits: its target is what that
		// allows.
		perCall := 50
		if f.cloud == "aliyun" {
			perCall = 8
		}
		if r.describes*perCall > r.reads {
			t.Errorf("%s: %d describe calls for %d reads, want at most 1 per %d", f.cloud, r.describes, r.reads, perCall)
		}
	}
}

// fullFleets are the benchmark's fleets.
var fullFleets = []fleetSpec{
	{cloud: "tencent", n: 1000, speed: 10, rollback: 60 * time.Second},
	{cloud: "aliyun", n: 200, speed: 100, rollback: 45 * time.Second},
}

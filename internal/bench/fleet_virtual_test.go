//go:build go1.25

// testing/synctest's Test is Go 1.25's: this constraint gives the file that
// language version while the module stays at go 1.24.

package bench

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// runFleetVirtual runs a virtual fleet (f.virtual) in a synctest bubble: its
// makespan is what the client's pacing and the cloud's quota make it,
// whatever the machine's load, because the bubble's clock stands still
// while anything in it runs. Calls take no time on that clock (the client
// calls the emulator's handler in process), so the makespan leaves out
// network latency; CPU and heap are real.
func runFleetVirtual(t *testing.T, f fleetSpec) fleetResult {
	t.Helper()
	heap := startHeapSampler() // outside the bubble: real time
	defer heap.stop()
	var r fleetResult
	synctest.Test(t, func(t *testing.T) { r = runFleetWith(t, f, heap) })
	return r
}

// handlerTransport serves every request with an emulator's handler, in
// process: a bubble may not use the network.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	sr := req.Clone(req.Context())
	sr.RequestURI = req.URL.RequestURI()
	sr.RemoteAddr = "127.0.0.1:1"
	// As the server would parse them off the wire: the SDKs set some
	// headers under keys that are not canonical.
	sr.Header = make(http.Header, len(req.Header))
	for k, v := range req.Header {
		sr.Header[textproto.CanonicalMIMEHeaderKey(k)] = append(sr.Header[textproto.CanonicalMIMEHeaderKey(k)], v...)
	}
	if sr.Host == "" {
		sr.Host = req.URL.Host
	}
	if sr.Body == nil {
		sr.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, sr)
	if req.Body != nil {
		req.Body.Close()
	}
	return rec.Result(), nil
}

// fleet10kVirtual is issue 18's fleet on the virtual clock: 10,000
// Lighthouse instances in one RunBatch, with the default concurrency
// (DefaultBatchConcurrency, 2,000) and every server at once (-1).
var fleet10kVirtual = []fleetSpec{
	{cloud: "tencent", n: 10000, rollback: 60 * time.Second, virtual: true},
	{cloud: "tencent", n: 10000, rollback: 60 * time.Second, virtual: true, concurrency: -1},
}

// TestFleet10k rolls back issue 18's fleet on the virtual clock and holds
// it to the targets: makespan at most 1.10 times the quota's bound, at most
// one describe call per 50 reads, no throttling error reaching the caller,
// every rollback applied once, peak heap at most 150 MB. It takes about a
// minute of CPU, so it runs only when asked (ROLLBACK_FLEET10K=1, or 0
// for the default run only); CI runs TestFleetTargetsVirtual, the same
// fleet at a tenth of the size. The heap target holds for the default;
// every server at once (-1) is measured, not held (about 220 MB: 10,000
// goroutines' stacks and what they hold):
//
//	ROLLBACK_FLEET10K=1 go test -run TestFleet10k -v -timeout 30m ./internal/bench
func TestFleet10k(t *testing.T) {
	which := os.Getenv("ROLLBACK_FLEET10K")
	if which == "" {
		t.Skip("set ROLLBACK_FLEET10K=1 to roll back 10,000 servers")
	}
	for _, f := range fleet10kVirtual {
		if which != "1" && which != strconv.Itoa(f.concurrency) {
			continue
		}
		r := runFleetVirtual(t, f)
		t.Logf("tencent %d, concurrency %d, virtual clock: %v", f.n, f.concurrency, r)
		heapMB := 150.0
		if f.concurrency < 0 {
			heapMB = 0
		}
		checkFleet(t, f, r, heapMB)
	}
}

// TestFleetTargetsVirtual is TestFleet10k's fleet at a tenth of the size
// (1,000 Lighthouse instances, all within the default concurrency), on the virtual clock, so
// that it holds the targets in CI whatever the machine's load: makespan
// at most 1.10 times the bound, at most one describe call per 50 reads,
// no throttling error reaching the caller, every rollback applied once.
// Its heap is not held: -race multiplies it.
func TestFleetTargetsVirtual(t *testing.T) {
	if testing.Short() {
		t.Skip("fleet run")
	}
	f := fleetSpec{cloud: "tencent", n: 1000, rollback: 60 * time.Second, virtual: true}
	r := runFleetVirtual(t, f)
	t.Logf("tencent %d, concurrency %d, virtual clock: %v", f.n, f.concurrency, r)
	checkFleet(t, f, r, 0)
}

// checkFleet holds a fleet's result to issue 18's targets; heapMB 0 skips
// the heap.
func checkFleet(t *testing.T, f fleetSpec, r fleetResult, heapMB float64) {
	t.Helper()
	if r.failed > 0 || r.applied != f.n || r.throttledFinal > 0 {
		t.Errorf("%d failed, %d applied of %d, %d throttling errors reached the caller", r.failed, r.applied, f.n, r.throttledFinal)
	}
	if r.ratio > 1.10 {
		t.Errorf("makespan %.3f x the bound, want at most 1.10", r.ratio)
	}
	if r.describes*50 > r.reads {
		t.Errorf("%d describe calls for %d reads, want at most 1 per 50", r.describes, r.reads)
	}
	if heapMB > 0 && r.peakHeapMB > heapMB {
		t.Errorf("peak heap %.0f MB, want at most %.0f", r.peakHeapMB, heapMB)
	}
}

// TestRunBatchConcurrency: with BatchOptions.Concurrency, at most that many
// requests are in progress at once, each request ends exactly once, and
// a cancelled batch ends the requests still waiting for a slot with the
// context's error (and tells Done about each).
func TestRunBatchConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := tencenttest.New()
		c, err := tencent.New(tencent.Config{Region: tencenttest.DefaultRegion, Endpoint: "http://127.0.0.1:9",
			SecretID: tencenttest.DefaultSecretID, SecretKey: tencenttest.DefaultSecretKey}, rollback.WithHTTPTransport(handlerTransport{srv}))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var reqs []rollback.Request
		for range 40 {
			in, _ := srv.AddInstance(tencenttest.Instance{State: "STOPPED"})
			sn, _ := srv.AddSnapshot(tencenttest.Snapshot{InstanceID: in.ID})
			reqs = append(reqs, rollback.Request{Region: tencenttest.DefaultRegion, InstanceID: in.ID, SnapshotID: sn.ID})
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		started := map[int]bool{}
		inFlight, most, done := 0, 0, 0
		results := rollback.RunBatch(ctx, c, reqs, rollback.RunOptions{Wait: rollback.WaitOptions{Learner: &rollback.Learner{}}},
			rollback.BatchOptions{Concurrency: 5,
				Progress: func(i int, _ rollback.Event) {
					if !started[i] {
						started[i] = true
						inFlight++
						most = max(most, inFlight)
					}
				},
				Done: func(i int, res rollback.BatchResult) {
					if started[i] {
						inFlight--
					}
					if done++; done == 20 {
						cancel() // half way: the rest never start
					}
				}})
		if most > 5 {
			t.Errorf("%d requests in progress at once, Concurrency 5", most)
		}
		ok, cancelled := 0, 0
		for _, r := range results {
			switch {
			case r.Err == nil:
				ok++
			case errors.Is(r.Err, context.Canceled):
				cancelled++
			}
		}
		// The five in progress at the cancel may have sent their rollback.
		if done != len(reqs) || ok < 20 || ok+cancelled != len(reqs) || srv.Rollbacks() < ok || srv.Rollbacks() > ok+5 {
			t.Errorf("Done %d times; %d succeeded, %d cancelled of %d; %d rollbacks applied", done, ok, cancelled, len(reqs), srv.Rollbacks())
		}
	})
}

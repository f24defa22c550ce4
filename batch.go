package rollback

import (
	"context"
	"sync"
	"time"
)

// DefaultBatchConcurrency is how many rollbacks RunBatch keeps in progress
// at once unless BatchOptions.Concurrency says otherwise: more than any
// cloud's quota keeps in flight, few enough that a fleet of 10,000 stays
// within 150 MB.
const DefaultBatchConcurrency = 2000

// BatchOptions configures RunBatch.
type BatchOptions struct {
	// Concurrency bounds how many rollbacks are in progress at once (0:
	// DefaultBatchConcurrency; negative: all of them). A rollback that is
	// waiting costs a goroutine and no calls of its own, and the client's
	// rate limits pace the calls whatever the concurrency, so a high value
	// is usually right: about twice what the quota keeps in flight
	// (rollbacks per second times their duration). Lighthouse's 20 a
	// second for 60 s keep about 1,200 in flight, and 10,000 servers at
	// the default finish as fast as all at once with about half the peak
	// heap (BENCHMARKS.md, section 3).
	Concurrency int
	// Align is the grid waits poll on, so that their reads coincide and
	// are batched (0: 1s).
	Align time.Duration
	// Progress receives every item's events, with the item's index. Calls
	// of Progress and Done never overlap, so they may print without locks.
	Progress func(item int, ev Event)
	// Done is called as each item ends.
	Done func(item int, res BatchResult)
}

// BatchResult is how one request of a RunBatch ended.
type BatchResult struct {
	Request Request
	Report  *Report
	Err     error
}

// RunBatch runs Run for many requests to one provider at once. Each request
// gets exactly Run's checks, steps and guarantees (opts apply to every one;
// give each request its own OperationKey to make the batch resumable), and
// they proceed independently: a stop, a rollback and a start of different
// servers overlap, limited only by the client's rate limits. What changes is
// the cost of reading state: reads made at about the same time are merged
// into batched calls (one per 100 instances or snapshots of a region), and
// waits poll on a shared grid so that they coincide. A fleet of a thousand
// instances waits with a handful of calls per poll instead of a thousand.
//
// RunBatch returns when every request has ended; results are in the order
// of reqs. opts.Progress and opts.Logger apply as for Run.
func RunBatch(ctx context.Context, p Provider, reqs []Request, opts RunOptions, bo BatchOptions) []BatchResult {
	if bo.Align <= 0 {
		bo.Align = time.Second
	}
	opts = opts.withDefaults()
	opts.Wait.Align = bo.Align
	ctx, cancel := context.WithCancel(ctx)
	co := newCoalescer(ctx, p, opts.Clock, bo.Align/8, bo.Align)
	defer co.wait()
	defer cancel()

	limit := bo.Concurrency
	if limit == 0 {
		limit = DefaultBatchConcurrency
	}
	if limit < 0 || limit > len(reqs) {
		limit = len(reqs)
	}
	sem := make(chan struct{}, max(limit, 1))
	results := make([]BatchResult, len(reqs))
	var (
		wg       sync.WaitGroup
		callback sync.Mutex // serializes Progress and Done
	)
	for i, req := range reqs {
		// Take the slot before starting the goroutine: a request waiting
		// for one costs nothing, not a goroutine's stack (10,000 parked
		// goroutines held 85 MB of stacks, which also raise the heap the
		// collector lets grow).
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			results[i] = BatchResult{Request: req, Err: ctx.Err()}
			if bo.Done != nil {
				callback.Lock()
				bo.Done(i, results[i])
				callback.Unlock()
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			o := opts
			if bo.Progress != nil {
				user := opts.Progress
				o.Progress = func(ev Event) {
					callback.Lock()
					defer callback.Unlock()
					if user != nil {
						user(ev)
					}
					bo.Progress(i, ev)
				}
			}
			rep, err := runWith(ctx, p, co, req, o)
			results[i] = BatchResult{Request: req, Report: rep, Err: err}
			if bo.Done != nil {
				callback.Lock()
				bo.Done(i, results[i])
				callback.Unlock()
			}
		}()
	}
	wg.Wait()
	return results
}

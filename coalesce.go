package rollback

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/provider"
)

// maxBatch is the most IDs one batched read carries (Lighthouse
// DescribeInstances and the SWAS list calls take 100).
const maxBatch = 100

// coalescer is an Inspector that merges reads made at about the same time by
// many goroutines into batched calls: a read joins the open batch of its
// region and kind, which is sent window after the grid's next instant (or
// at once when it is full), and every reader gets its own item from the one
// reply. Waits
// aligned on a common grid (WaitOptions.Align) poll at the same instants, so
// a fleet of waits costs one batched call per tick instead of one call per
// instance.
type coalescer struct {
	p      Inspector
	clk    clock.Clock
	window time.Duration
	// grid is the waits' poll grid (WaitOptions.Align), 0 for none: a
	// batch opened between two of its instants waits for the next one, so
	// that reads made off the grid (a Run's checks, as RunBatch admits it)
	// share the call of the polls made on it.
	grid time.Duration
	ctx  context.Context // bounds the batched calls; ended by close

	mu      sync.Mutex
	open    map[batchKey]*batch
	running sync.WaitGroup
	calls   int // batched calls sent, for tests and reports
}

type batchKind int

const (
	batchInstances batchKind = iota
	batchSnapshots
)

type batchKey struct {
	region string
	kind   batchKind
}

type batch struct {
	ids  []string
	seen map[string]bool
	full chan struct{} // closed when the batch reaches maxBatch
	done chan struct{} // closed when the reply is in
	inst map[string]*Instance
	snap map[string]*Snapshot
	err  error
}

func newCoalescer(ctx context.Context, p Inspector, clk clock.Clock, window, grid time.Duration) *coalescer {
	return &coalescer{p: p, clk: clk, window: window, grid: grid, ctx: ctx, open: make(map[batchKey]*batch)}
}

// delay is how long a batch opened now stays open: window, after the grid's
// next instant when now is not within window of the last one.
func (c *coalescer) delay() time.Duration {
	if c.grid <= 0 {
		return c.window
	}
	now := c.clk.Now()
	since := now.Sub(now.Truncate(c.grid))
	if since < c.window {
		return c.window - since // a poll on the grid, a little late
	}
	return c.grid - since + c.window
}

// wait blocks until every batch in flight has finished; the caller ends
// c.ctx first.
func (c *coalescer) wait() { c.running.Wait() }

// Capabilities passes on the underlying provider's name and priors; its
// reads are the coalescer's own.
func (c *coalescer) Capabilities() provider.Capabilities {
	caps := provider.CapabilitiesOf(c.p)
	return provider.Capabilities{Name: caps.Name, Priors: caps.Priors}
}

// Instance implements Inspector through a batched read.
func (c *coalescer) Instance(ctx context.Context, region, id string) (*Instance, error) {
	b, err := c.join(ctx, batchKey{region, batchInstances}, id)
	if err != nil {
		return nil, err
	}
	if in, ok := b.inst[id]; ok {
		return in, nil
	}
	return nil, &Error{Provider: providerName(c.p), Kind: ErrInstanceNotFound, Message: fmt.Sprintf("instance %s not found in %s", id, region)}
}

// Snapshot implements Inspector through a batched read.
func (c *coalescer) Snapshot(ctx context.Context, region, id string) (*Snapshot, error) {
	b, err := c.join(ctx, batchKey{region, batchSnapshots}, id)
	if err != nil {
		return nil, err
	}
	if s, ok := b.snap[id]; ok {
		return s, nil
	}
	return nil, &Error{Provider: providerName(c.p), Kind: ErrSnapshotNotFound, Message: fmt.Sprintf("snapshot %s not found in %s", id, region)}
}

// Instances and Snapshots pass straight through: they are batched already.
func (c *coalescer) Instances(ctx context.Context, region string, ids []string) ([]*Instance, error) {
	m, err := readInstances(ctx, c.p, region, ids)
	return values(m), err
}

func (c *coalescer) Snapshots(ctx context.Context, region string, ids []string) ([]*Snapshot, error) {
	m, err := readSnapshots(ctx, c.p, region, ids)
	return values(m), err
}

func values[V any](m map[string]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// join adds id to the open batch of key, opening one if needed, and waits
// for its reply.
func (c *coalescer) join(ctx context.Context, key batchKey, id string) (*batch, error) {
	c.mu.Lock()
	b := c.open[key]
	if b == nil {
		b = &batch{seen: map[string]bool{}, full: make(chan struct{}), done: make(chan struct{})}
		c.open[key] = b
		c.running.Add(1)
		go c.send(key, b)
	}
	if !b.seen[id] {
		b.seen[id] = true
		b.ids = append(b.ids, id)
		if len(b.ids) == maxBatch {
			delete(c.open, key) // later readers open the next batch
			close(b.full)
		}
	}
	c.mu.Unlock()
	select {
	case <-b.done:
		return b, b.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// send waits for the window (or a full batch), then makes the call.
func (c *coalescer) send(key batchKey, b *batch) {
	defer c.running.Done()
	defer close(b.done)
	select {
	case <-b.full:
	case <-c.clk.After(c.delay()):
	case <-c.ctx.Done():
	}
	c.mu.Lock()
	if c.open[key] == b {
		delete(c.open, key)
	}
	ids := b.ids
	c.calls++
	c.mu.Unlock()
	if err := c.ctx.Err(); err != nil {
		b.err = err
		return
	}
	switch key.kind {
	case batchInstances:
		b.inst, b.err = readInstances(c.ctx, c.p, key.region, ids)
	case batchSnapshots:
		b.snap, b.err = readSnapshots(c.ctx, c.p, key.region, ids)
	}
}

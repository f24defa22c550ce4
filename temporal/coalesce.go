package temporal

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/provider"
)

// Coalescer is an Inspector that merges the single reads made at about the
// same time by concurrent activities of one worker into batched calls:
// one DescribeInstances (Lighthouse) or ListInstances (SWAS) for up to 100
// instances, the way rollback.RunBatch batches the reads of its Runs. The
// root package's coalescer is internal to RunBatch, so this module has its
// own; it starts no goroutine: the first caller of a batch waits the
// window, makes the call for everyone, and hands out the answers.
//
// A provider without BatchInspector (or BatchSnapshotInspector) is read
// one by one.
type Coalescer struct {
	p      rollback.Inspector
	clk    clock.Clock
	window time.Duration

	mu      sync.Mutex
	pending map[batchKey]*batch
}

type batchKey struct {
	snapshots bool
	region    string
}

type batch struct {
	ids  []string
	done chan struct{}
	inst map[string]*rollback.Instance
	snap map[string]*rollback.Snapshot
	err  error
}

// maxBatch is the most IDs one batched read asks for (both clouds' limit).
const maxBatch = 100

// NewCoalescer returns a Coalescer over p that collects reads for window on
// clk.
func NewCoalescer(p rollback.Inspector, clk clock.Clock, window time.Duration) *Coalescer {
	return &Coalescer{p: p, clk: clock.Or(clk), window: window, pending: map[batchKey]*batch{}}
}

// Name is the provider's name.
func (c *Coalescer) Name() string { return providerName(c.p) }

// Capabilities passes on the provider's name and priors (so that waits
// reading through the coalescer start from them) and declares its
// pass-through batched read.
func (c *Coalescer) Capabilities() provider.Capabilities {
	caps := provider.CapabilitiesOf(c.p)
	return provider.Capabilities{Name: caps.Name, Priors: caps.Priors, BatchInstances: c}
}

// Instance reads one instance, batched with concurrent reads.
func (c *Coalescer) Instance(ctx context.Context, region, id string) (*rollback.Instance, error) {
	bi := provider.CapabilitiesOf(c.p).BatchInstances
	if bi == nil {
		return c.p.Instance(ctx, region, id)
	}
	b, err := c.join(ctx, batchKey{false, region}, id, func(ctx context.Context, b *batch) {
		var got []*rollback.Instance
		got, b.err = bi.Instances(ctx, region, b.ids)
		b.inst = map[string]*rollback.Instance{}
		for _, in := range got {
			b.inst[in.ID] = in
		}
	})
	if err != nil {
		return nil, err
	}
	if in := b.inst[id]; in != nil {
		return in, nil
	}
	return nil, &rollback.Error{Provider: c.Name(), Op: "Instance", Kind: rollback.ErrInstanceNotFound,
		Message: fmt.Sprintf("instance %s not found in region %s", id, region)}
}

// Snapshot reads one snapshot, batched with concurrent reads.
func (c *Coalescer) Snapshot(ctx context.Context, region, id string) (*rollback.Snapshot, error) {
	bs := provider.CapabilitiesOf(c.p).BatchSnapshots
	if bs == nil {
		return c.p.Snapshot(ctx, region, id)
	}
	b, err := c.join(ctx, batchKey{true, region}, id, func(ctx context.Context, b *batch) {
		var got []*rollback.Snapshot
		got, b.err = bs.Snapshots(ctx, region, b.ids)
		b.snap = map[string]*rollback.Snapshot{}
		for _, s := range got {
			b.snap[s.ID] = s
		}
	})
	if err != nil {
		return nil, err
	}
	if s := b.snap[id]; s != nil {
		return s, nil
	}
	return nil, &rollback.Error{Provider: c.Name(), Op: "Snapshot", Kind: rollback.ErrSnapshotNotFound,
		Message: fmt.Sprintf("snapshot %s not found in region %s", id, region)}
}

// Instances passes a batched read through.
func (c *Coalescer) Instances(ctx context.Context, region string, ids []string) ([]*rollback.Instance, error) {
	if bi := provider.CapabilitiesOf(c.p).BatchInstances; bi != nil {
		return bi.Instances(ctx, region, ids)
	}
	out := make([]*rollback.Instance, 0, len(ids))
	for _, id := range ids {
		in, err := c.p.Instance(ctx, region, id)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
}

// join adds id to the open batch of key (opening one if needed); the
// opener waits the window and reads for all.
func (c *Coalescer) join(ctx context.Context, key batchKey, id string, read func(context.Context, *batch)) (*batch, error) {
	c.mu.Lock()
	b := c.pending[key]
	lead := b == nil
	if lead {
		b = &batch{done: make(chan struct{})}
		c.pending[key] = b
	}
	if !contains(b.ids, id) {
		b.ids = append(b.ids, id)
	}
	if len(b.ids) >= maxBatch {
		delete(c.pending, key) // full: the next read opens a new one
	}
	c.mu.Unlock()
	if !lead {
		select {
		case <-b.done:
			return b, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	_ = clock.Sleep(ctx, c.clk, c.window) // cancelled: read at once for the others
	c.mu.Lock()
	if c.pending[key] == b {
		delete(c.pending, key)
	}
	c.mu.Unlock()
	// The others wait on this read, so it does not end with this caller's
	// context; the provider's own call timeout bounds it.
	read(context.WithoutCancel(ctx), b)
	close(b.done)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return b, nil
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// readThrough is a Provider whose reads go through read (the coalescer),
// declaring the provider's capabilities but its batched reads, with a
// witness that always answers: a provider without one cannot tell, so a
// resumed attempt never resends on it (ErrOutcomeUnknown) rather than risk
// a second rollback.
type readThrough struct {
	rollback.Provider
	read rollback.Inspector
}

func (r readThrough) Instance(ctx context.Context, region, id string) (*rollback.Instance, error) {
	return r.read.Instance(ctx, region, id)
}

func (r readThrough) Snapshot(ctx context.Context, region, id string) (*rollback.Snapshot, error) {
	return r.read.Snapshot(ctx, region, id)
}

func (r readThrough) Capabilities() provider.Capabilities {
	caps := r.Provider.Capabilities()
	caps.BatchInstances, caps.BatchSnapshots = nil, nil
	if caps.Witness == nil {
		caps.Witness = cannotTell{}
	}
	return caps
}

type cannotTell struct{}

func (cannotTell) WitnessRollback(context.Context, rollback.Request, *rollback.Snapshot, time.Time) (provider.Evidence, error) {
	return provider.Evidence{Verdict: provider.CannotTell,
		Detail: "the provider cannot tell from the cloud whether an earlier attempt's rollback landed"}, nil
}

package rollback

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/provider"
)

// InstanceResult is how one instance's wait in a batch ended.
type InstanceResult struct {
	Instance *Instance // the last reading, if any
	Err      error     // nil when the wait's goal was met
}

// RollbackResult is how one rollback's wait in a batch ended.
type RollbackResult struct {
	Outcome *RollbackOutcome // the last reading, if any
	Err     error            // nil when the rollback finished
}

// WaitInstances waits for many instances of one region at once: every poll
// reads all unfinished instances with one batched call per 100 (through
// provider.BatchInspector; a provider without it is read one by one). Each instance
// ends on its own, as WaitInstance would end it; the error is non-nil only
// when the whole wait stops (context ended, or a read failed for a reason
// not worth repeating).
func WaitInstances(ctx context.Context, p Inspector, region string, ids []string, w InstanceWait, o WaitOptions) (map[string]InstanceResult, error) {
	results := make(map[string]InstanceResult, len(ids))
	o.prior = priorOf(p, "instance-"+w.Name)
	err := pollBatch(ctx, o, w.kindFor(p), "instances to be "+w.Name, uniq(ids),
		func(ctx context.Context, pendingIDs []string) (map[string]*Instance, error) {
			return readInstances(ctx, p, region, pendingIDs)
		},
		func(id string, in *Instance) (verdict, error) {
			if in == nil {
				return failed, notFoundInBatch(p, "instance", id)
			}
			v, err := w.judge(in)
			results[id] = InstanceResult{Instance: in, Err: err}
			return v, err
		},
		func(id string, err error) {
			r := results[id]
			r.Err = err
			results[id] = r
		})
	return results, err
}

// WaitRollbacks waits for many rollbacks of one region at once, judging each
// as WaitRollback does. Each poll reads the unfinished instances with one
// batched call per 100, and the snapshots of the instances that have settled
// with one batched call (provider.BatchSnapshotInspector) where the provider has it.
func WaitRollbacks(ctx context.Context, p Inspector, region string, rs []*Result, o WaitOptions) (map[string]RollbackResult, error) {
	trackers := make(map[string]*rollbackTracker, len(rs))
	o = o.withDefaults()
	results := make(map[string]RollbackResult, len(rs))
	var ids []string
	for _, r := range rs {
		if r == nil || r.InstanceID == "" {
			return nil, provider.InvalidArgument("", "", "Result", "has no InstanceID; pass the Results that Rollback returned")
		}
		if _, dup := trackers[r.InstanceID]; !dup {
			ids = append(ids, r.InstanceID)
		}
		trackers[r.InstanceID] = &rollbackTracker{res: r, clk: o.Clock, grace: o.ReadGrace}
	}
	type reading struct {
		in   *Instance
		snap *Snapshot
	}
	o.prior = priorOf(p, "rollback")
	err := pollBatch(ctx, o, providerName(p)+"/rollback", "rollbacks to finish", ids,
		func(ctx context.Context, pendingIDs []string) (map[string]*reading, error) {
			ins, err := readInstances(ctx, p, region, pendingIDs)
			if err != nil {
				return nil, err
			}
			out := make(map[string]*reading, len(ins))
			var snapIDs []string
			for id, in := range ins {
				out[id] = &reading{in: in}
				t := trackers[id]
				if v, _, _ := t.judgeInstance(in); v == pending && t.needSnapshot && t.res.Before != nil {
					snapIDs = append(snapIDs, t.res.Before.ID)
				}
			}
			if len(snapIDs) == 0 {
				return out, nil
			}
			snaps, err := readSnapshots(ctx, p, region, uniq(snapIDs))
			if err != nil {
				return nil, err
			}
			for id, r := range out {
				if t := trackers[id]; t.needSnapshot && t.res.Before != nil {
					r.snap = snaps[t.res.Before.ID]
				}
			}
			return out, nil
		},
		func(id string, r *reading) (verdict, error) {
			if r == nil || r.in == nil {
				return failed, notFoundInBatch(p, "instance", id)
			}
			t := trackers[id]
			v, err, evidence := t.judgeInstance(r.in)
			out := &RollbackOutcome{Instance: r.in, Snapshot: r.snap, Evidence: evidence}
			if v == pending && t.needSnapshot && r.snap != nil {
				v, err, out.Evidence = t.judgeSnapshot(r.snap)
			}
			results[id] = RollbackResult{Outcome: out, Err: err}
			return v, err
		},
		func(id string, err error) {
			r := results[id]
			r.Err = err
			results[id] = r
		})
	return results, err
}

// pollBatch is the batch wait loop: read every unfinished ID, judge each,
// pace, repeat. A missing reading is passed to judge as the zero V.
func pollBatch[V any](ctx context.Context, o WaitOptions, kind, what string, ids []string,
	read func(ctx context.Context, ids []string) (map[string]V, error),
	judge func(id string, v V) (verdict, error),
	end func(id string, err error),
) error {
	o = o.withDefaults()
	clk := o.Clock
	start := clk.Now()
	pc := newPacer(o, kind)
	pc.origin = start
	if err := clock.Sleep(ctx, clk, pc.first()); err != nil {
		return err
	}
	pendingIDs := ids
	var (
		lastErr error
		prev    time.Duration // the previous poll
	)
	for attempt := 1; len(pendingIDs) > 0; attempt++ {
		readings, err := read(ctx, pendingIDs)
		elapsed := clk.Now().Sub(start)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return interruptedWait(ctxErr, lastErr)
		}
		switch {
		case err != nil && !IsRetryable(err):
			return err
		case err != nil:
			lastErr = err
		default:
			lastErr = nil
			still := pendingIDs[:0:0]
			for _, id := range pendingIDs {
				switch v, _ := judge(id, readings[id]); v {
				case pending:
					still = append(still, id)
				case done:
					if elapsed > 0 {
						o.Learner.ObserveRange(kind, prev, elapsed) // see pollUntil
					}
				}
			}
			pendingIDs = still
		}
		if o.OnPoll != nil {
			o.OnPoll(Poll{What: fmt.Sprintf("%d %s", len(pendingIDs), what), Attempt: attempt, Elapsed: elapsed, Percent: -1, Err: err})
		}
		if len(pendingIDs) == 0 {
			return nil
		}
		prev = elapsed
		delay, ok := pc.next(elapsed)
		if !ok {
			for _, id := range pendingIDs {
				end(id, &TimeoutError{What: what + ": " + id, Waited: elapsed, Polls: attempt, LastErr: lastErr})
			}
			return nil
		}
		if err := pc.sleep(ctx, clk, start, elapsed, delay); err != nil {
			return interruptedWait(err, lastErr)
		}
	}
	return nil
}

// readInstances reads ids with provider.BatchInspector, or one by one.
func readInstances(ctx context.Context, p Inspector, region string, ids []string) (map[string]*Instance, error) {
	var batch func(context.Context, string, []string) ([]*Instance, error)
	if b := provider.CapabilitiesOf(p).BatchInstances; b != nil {
		batch = b.Instances
	}
	return readMany(ctx, region, ids, batch, p.Instance, func(in *Instance) string { return in.ID })
}

// readSnapshots reads ids with provider.BatchSnapshotInspector, or one by one.
func readSnapshots(ctx context.Context, p Inspector, region string, ids []string) (map[string]*Snapshot, error) {
	var batch func(context.Context, string, []string) ([]*Snapshot, error)
	if b := provider.CapabilitiesOf(p).BatchSnapshots; b != nil {
		batch = b.Snapshots
	}
	return readMany(ctx, region, ids, batch, p.Snapshot, func(s *Snapshot) string { return s.ID })
}

// readMany reads ids with one batched call when batch is set, else one by
// one; resources that do not exist are absent from the result.
func readMany[T any](ctx context.Context, region string, ids []string,
	batch func(context.Context, string, []string) ([]T, error),
	one func(context.Context, string, string) (T, error),
	id func(T) string,
) (map[string]T, error) {
	out := make(map[string]T, len(ids))
	if batch != nil {
		items, err := batch(ctx, region, ids)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			out[id(it)] = it
		}
		return out, nil
	}
	for _, i := range ids {
		it, err := one(ctx, region, i)
		switch {
		case err == nil:
			out[i] = it
		case isNotFound(err):
		default:
			return nil, err
		}
	}
	return out, nil
}

func notFoundInBatch(p Inspector, what, id string) error {
	return &Error{Provider: providerName(p), Kind: ErrInstanceNotFound, Message: fmt.Sprintf("%s %s no longer exists", what, id)}
}

func isNotFound(err error) bool { return err != nil && errors.Is(err, ErrNotFound) }

func uniq(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

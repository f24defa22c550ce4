package temporal

import (
	"context"
	"sync"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/provider"
	"go.temporal.io/sdk/activity"
)

// RollbackBeat is what the Rollback activity heartbeats: the checkpoint
// rollback.Run keeps for the operation. A retried attempt resumes from it.
type RollbackBeat struct {
	Checkpoint *rollback.Checkpoint
}

// beatStore is the rollback.Checkpointer of one Rollback attempt: one
// operation's checkpoint, seeded from the last heartbeat that reached
// Temporal (or, on a first attempt, from the workflow's baseline), and
// heartbeated on every save. The activity's heartbeats are the durable
// store: Temporal keeps them across attempts and workers, and the workflow
// history keeps the baseline. It applies the Checkpointer contract's rules
// (provider.CheckAcquire, CheckSave) so Run sees it as any store.
type beatStore struct {
	mu sync.Mutex
	cp *rollback.Checkpoint
}

// newBeatStore seeds the store for this attempt. A first attempt starts at
// PhaseChecked: the workflow checked, nothing was sent. A retried attempt
// starts from the last heartbeat that reached Temporal, but at
// PhaseRollbackSending at least, updated now: the SDK throttles heartbeats
// and drops the last ones of an attempt that dies, so the heartbeat that
// said "sending" may never have arrived; assuming it did costs one witness
// reading (and the read grace), and never a second rollback.
func newBeatStore(ctx context.Context, clk clock.Clock, req rollback.Request, baseline *rollback.Snapshot) *beatStore {
	now := clock.Or(clk).Now()
	var beat RollbackBeat
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &beat) // unreadable: start from the seed, at sending below
	}
	cp := beat.Checkpoint
	if cp == nil || cp.Key != req.OperationKey || !cp.Matches(req) {
		cp = &rollback.Checkpoint{Version: rollback.CheckpointVersion, Key: req.OperationKey, Request: req,
			Phase: rollback.PhaseChecked, Updated: now}
	}
	if cp.Before == nil {
		cp.Before = baseline
	}
	cp.Owner, cp.LeaseUntil = "", time.Time{} // an earlier attempt's claim ended with it
	if activity.GetInfo(ctx).Attempt > 1 && provider.PhaseBefore(cp.Phase, rollback.PhaseRollbackSending) {
		cp.Phase, cp.Updated = rollback.PhaseRollbackSending, now
	}
	return &beatStore{cp: cp}
}

// details is the current heartbeat.
func (s *beatStore) details() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return RollbackBeat{Checkpoint: clone(s.cp)}
}

func clone(cp *rollback.Checkpoint) *rollback.Checkpoint {
	if cp == nil {
		return nil
	}
	c := *cp
	return &c
}

func (s *beatStore) get(key string) *rollback.Checkpoint {
	if s.cp == nil || s.cp.Key != key {
		return nil
	}
	return clone(s.cp)
}

// Load implements rollback.Checkpointer.
func (s *beatStore) Load(_ context.Context, key string) (*rollback.Checkpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.get(key), nil
}

// Acquire implements rollback.Checkpointer.
func (s *beatStore) Acquire(_ context.Context, key string, l rollback.Lease) (*rollback.Checkpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.get(key)
	cp, err := provider.CheckAcquire(old, key, l)
	if err != nil {
		return nil, err
	}
	s.cp = cp
	if old == nil {
		return nil, nil
	}
	return clone(cp), nil
}

// Save implements rollback.Checkpointer: it keeps cp and heartbeats it.
func (s *beatStore) Save(ctx context.Context, cp *rollback.Checkpoint) error {
	s.mu.Lock()
	if err := provider.CheckSave(s.get(cp.Key), cp); err != nil {
		s.mu.Unlock()
		return err
	}
	s.cp = clone(cp)
	s.cp.Version = rollback.CheckpointVersion
	beat := RollbackBeat{Checkpoint: clone(s.cp)}
	s.mu.Unlock()
	activity.RecordHeartbeat(ctx, beat)
	return nil
}

// Release implements rollback.Checkpointer.
func (s *beatStore) Release(_ context.Context, key, owner string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cp != nil && s.cp.Key == key && s.cp.Owner == owner {
		s.cp.Owner, s.cp.LeaseUntil = "", time.Time{}
	}
	return nil
}

// keepAlive heartbeats details() every quarter of the activity's heartbeat
// timeout until the returned stop is called, so that a step blocked in a
// single long call (a rate-limit queue, the library's retries) still shows
// Temporal that its worker is alive; details nil heartbeats without
// details. Without a heartbeat timeout it does nothing. The timeout is Temporal's, in real time, so the ticker is too.
func keepAlive(ctx context.Context, details func() any) (stop func()) {
	hb := activity.GetInfo(ctx).HeartbeatTimeout
	if hb <= 0 {
		return func() {}
	}
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(hb / 4)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if details == nil {
					activity.RecordHeartbeat(ctx)
				} else {
					activity.RecordHeartbeat(ctx, details())
				}
			}
		}
	}()
	return func() { close(done); <-exited }
}

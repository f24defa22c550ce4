package tencenttest

import (
	"fmt"
	"time"

	"github.com/cloudsnap/rollback/emulator"
)

// This file lets a test model the world around the client under test: other
// actors changing the same resources between its calls, hooks at a chosen
// request, and reads that lag behind writes.

// OtherActor is the Entry.Actor of changes made by the Actor* methods.
const OtherActor = emulator.OtherActor

// WithReadLag makes reads lag writes by d of emulator clock; see SetReadLag.
func WithReadLag(d time.Duration) Option { return func(s *Server) { s.readLag = d } }

// SetReadLag sets the read lag for changes made from now on (0: reads show
// every change at once). For d after a change to an instance or snapshot,
// DescribeInstances and DescribeSnapshots show its InstanceState or
// SnapshotState, Percent and LatestOperation, LatestOperationState and
// LatestOperationRequestId as they were just before the change. A change is
// a call that was applied (ours or an Actor* method's) and the end of an
// operation (OPERATING becoming SUCCESS or FAILED, a transitional state
// becoming stable). While several changes are hidden, reads show the
// fields from before the oldest. What lags is only what reads show: the
// emulator decides every call on the real state, and Instance and Snapshot
// (the test's view) show it too. New snapshots are listed at once.
func (s *Server) SetReadLag(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.readLag = d
}

// Before runs f just before the emulator handles the n-th request (1-based)
// of action. Requests are counted per action from the server's start,
// resends included, once they pass authentication and routing (where faults
// count them). f runs once, on the request's goroutine, with no lock held:
// it may call any Server method (an Actor* method, AddFault, SetReadLag).
// What it changes in the emulator is in place before the reply is sent; a
// test that reads its own variables set by f must synchronize (a mutex or a
// channel), as the network gives no Go happens-before edge.
func (s *Server) Before(action string, n int, f func()) { s.hooks.Before(action, n, f) }

// After runs f just after the emulator handled the n-th request of action
// (its state already changed, when it was applied), before the reply, or the
// dropped connection, reaches the client. Counting and locking are as for
// Before.
func (s *Server) After(action string, n int, f func()) { s.hooks.After(action, n, f) }

// ActorError is an Actor* method's refusal, in the cloud's terms: the code
// and English message an API call would have answered with.
type ActorError struct {
	Code      string
	Message   string
	RequestID string
}

func (e *ActorError) Error() string {
	return fmt.Sprintf("tencenttest: other actor: %s: %s (request %s)", e.Code, e.Message, e.RequestID)
}

// ActorStartInstance starts an instance as someone else would (the console,
// another program): StartInstances' rules, errors and effects, with its own
// request ID, journaled with Actor OtherActor. It bypasses faults, hooks and
// the rate limit.
func (s *Server) ActorStartInstance(id string) error {
	_, _, err := s.actor("StartInstances", id, params{"InstanceIds.0": id})
	return err
}

// ActorStopInstance stops an instance as another actor; see
// ActorStartInstance.
func (s *Server) ActorStopInstance(id string) error {
	_, _, err := s.actor("StopInstances", id, params{"InstanceIds.0": id})
	return err
}

// ActorCreateSnapshot snapshots an instance's system disk as another actor
// (CreateInstanceSnapshot's rules and effects) and returns the new snapshot.
func (s *Server) ActorCreateSnapshot(instanceID string) (Snapshot, error) {
	out, _, err := s.actor("CreateInstanceSnapshot", instanceID, params{"InstanceId": instanceID, "SnapshotName": "other-actor"})
	if err != nil {
		return Snapshot{}, err
	}
	sn, _ := s.Snapshot(out["SnapshotId"].(string))
	return sn, nil
}

// ActorApplySnapshot rolls an instance back to a snapshot as another actor
// (ApplyInstanceSnapshot's rules and effects: a RUNNING instance is forced
// off) and returns the call's request ID, which the instance's and the
// snapshot's LatestOperationRequestId then carry. It counts in Rollbacks and
// RollbacksOf.
func (s *Server) ActorApplySnapshot(instanceID, snapshotID string) (string, error) {
	_, rid, err := s.actor("ApplyInstanceSnapshot", instanceID, params{"InstanceId": instanceID, "SnapshotId": snapshotID})
	return rid, err
}

// actor applies action through its API handler, in the region of instance
// id, and journals it as another actor's.
func (s *Server) actor(action, instanceID string, p params) (map[string]any, string, error) {
	rid := emulator.UUID()
	s.mu.Lock()
	region := DefaultRegion
	if in, ok := s.instances[instanceID]; ok {
		region = in.region
	}
	now := s.clk.Now()
	out, applied, e := s.apply(actions[action].fn, region, rid, p)
	s.mu.Unlock()
	entry := Entry{
		Time: now, Action: action, Region: region, Params: map[string]string(p),
		HTTPStatus: 200, RequestID: rid, Applied: applied, Actor: OtherActor,
	}
	if e != nil {
		entry.Code = e.Code
	}
	s.journal.Add(entry)
	if e != nil {
		return nil, rid, &ActorError{Code: e.Code, Message: message(e.Code, e.Detail, "en-US"), RequestID: rid}
	}
	return out, rid, nil
}

// apply runs a handler with s.mu held and, when a read lag is set, hides
// what it changed from reads for the lag.
func (s *Server) apply(fn handler, region, rid string, p params) (map[string]any, bool, *apiError) {
	lag := s.readLag
	if lag <= 0 {
		return fn(s, region, rid, p)
	}
	now := s.clk.Now()
	type seen struct {
		r    *resource
		view lagView
		idle int64
	}
	var before []seen
	look := func(r *resource, idle int64) lagView {
		st, op := r.view(now)
		return lagView{at: now, until: now.Add(lag), state: st, op: op, percent: r.percent(now, idle)}
	}
	for _, in := range s.instances {
		before = append(before, seen{r: &in.resource, view: look(&in.resource, 100), idle: 100})
	}
	for _, sn := range s.snapshots {
		before = append(before, seen{r: &sn.resource, view: look(&sn.resource, sn.percent), idle: sn.percent})
	}
	out, applied, e := fn(s, region, rid, p)
	if !applied {
		return out, applied, e
	}
	for _, b := range before {
		if look(b.r, b.idle) == b.view {
			continue
		}
		b.r.lags = append(b.r.lags, b.view)
		if b.r.act != nil && b.r.act.start.Equal(now) {
			b.r.act.lag = lag
		}
	}
	return out, applied, e
}

// shown is the instance as reads show it at now, read lag included.
func (in *instance) shown(now time.Time) Instance {
	v := in.public(now)
	if l, ok := in.lagged(now); ok {
		v.State = l.state
		v.LatestOperation, v.LatestOperationState, v.LatestOperationRequestID = l.op.name, l.op.state, l.op.requestID
	}
	return v
}

// shown is the snapshot as reads show it at now, read lag included.
func (sn *snapshot) shown(now time.Time) Snapshot {
	v := sn.public(now)
	if l, ok := sn.lagged(now); ok {
		v.State, v.Percent = l.state, l.percent
		v.LatestOperation, v.LatestOperationState, v.LatestOperationRequestID = l.op.name, l.op.state, l.op.requestID
	}
	return v
}

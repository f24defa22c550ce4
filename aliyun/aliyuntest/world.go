package aliyuntest

import (
	"fmt"
	"time"

	"github.com/cloudsnap/rollback/emulator"
)

// This file lets a test model the world around the client under test: other
// actors changing the same resources between its calls, hooks at a chosen
// request, reads that lag behind writes and ClientTokens the cloud forgets.

// OtherActor is the Entry.Actor of changes made by the Actor* methods.
const OtherActor = emulator.OtherActor

// Snapshot is a snapshot as the Actor* methods return it.
type Snapshot = SnapshotView

// WithReadLag makes reads lag changes by d of server clock; see SetReadLag.
func WithReadLag(d time.Duration) Option { return func(o *config) { o.readLag = d } }

// SetReadLag sets the read lag for changes made from now on (0: reads show
// every change at once). For d after a change, ListInstances,
// ListInstanceStatus (and their Status filter), ListDisks and ListSnapshots
// show the Status of the changed instances and disks, and the Status,
// Progress and RollbackTime of the changed snapshots, as they were just
// before the change. A change is a call that was applied (ours or an Actor*
// method's) and the end of an operation (Stopping becoming Stopped,
// Resetting becoming Stopped with the snapshot's new RollbackTime). While
// several changes are hidden, reads show the fields from before the oldest.
// What lags is only what reads show: the server decides every call on the
// real state, and Instance, Disk and Snapshot (the test's view) show it too.
// New snapshots are listed at once, and a snapshot's creation completing is
// not delayed.
func (s *Server) SetReadLag(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.readLag = d
}

// WithTokenWindow makes the server forget a ClientToken d after its first
// accepted use; see SetTokenWindow.
func WithTokenWindow(d time.Duration) Option { return func(o *config) { o.tokenWindow = d } }

// SetTokenWindow makes the server forget each ClientToken d of server clock
// after the call that first used it was accepted (0: never forget). A resend
// with a forgotten token is a new call: it is applied again if it can be.
func (s *Server) SetTokenWindow(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenWindow = d
}

// Before runs f just before the server handles the n-th request (1-based)
// of action. Requests are counted per action from the server's start,
// resends included, once they are well-formed and authenticated (where
// faults count them). f runs once, on the request's goroutine, with no lock
// held: it may call any Server method (an Actor* method, AddFault,
// SetReadLag). What it changes in the server is in place before the reply
// is sent; a test that reads its own variables set by f must synchronize (a
// mutex or a channel), as the network gives no Go happens-before edge.
func (s *Server) Before(action string, n int, f func()) { s.hooks.Before(action, n, f) }

// After runs f just after the server handled the n-th request of action
// (its state already changed, when it was applied), before the reply, or
// the dropped connection, reaches the client. Counting and locking are as
// for Before.
func (s *Server) After(action string, n int, f func()) { s.hooks.After(action, n, f) }

// ActorError is an Actor* method's refusal, in the cloud's terms: the HTTP
// status, code and message an API call would have answered with.
type ActorError struct {
	HTTPStatus int
	Code       string
	Message    string
	RequestID  string
}

func (e *ActorError) Error() string {
	return fmt.Sprintf("aliyuntest: other actor: %s: %s (request %s)", e.Code, e.Message, e.RequestID)
}

// ActorStartInstance starts a server as someone else would (the console,
// another program): StartInstance's rules, errors and effects, with its own
// request ID, journaled with Actor OtherActor. It bypasses faults, hooks,
// rate limits and ClientTokens.
func (s *Server) ActorStartInstance(id string) error {
	_, _, err := s.actor(ActionStartInstance, s.regionOf(id), map[string]string{"InstanceId": id})
	return err
}

// ActorStopInstance stops a server as another actor; see
// ActorStartInstance.
func (s *Server) ActorStopInstance(id string) error {
	_, _, err := s.actor(ActionStopInstance, s.regionOf(id), map[string]string{"InstanceId": id})
	return err
}

// ActorCreateSnapshot snapshots a disk as another actor (CreateSnapshot's
// rules, quota and effects) and returns the new snapshot.
func (s *Server) ActorCreateSnapshot(diskID string) (Snapshot, error) {
	reply, _, err := s.actor(ActionCreateSnapshot, s.regionOf(diskID), map[string]string{"DiskId": diskID, "SnapshotName": "other-actor"})
	if err != nil {
		return Snapshot{}, err
	}
	sn, _ := s.Snapshot(reply.(createSnapshotReply).SnapshotId)
	return sn, nil
}

// ActorResetDisk rolls a disk back to a snapshot as another actor
// (ResetDisk's rules and effects: the server must be Stopped) and returns
// the call's request ID. It counts in Rollbacks and RollbacksOf.
func (s *Server) ActorResetDisk(diskID, snapshotID string) (string, error) {
	_, rid, err := s.actor(ActionResetDisk, s.regionOf(diskID), map[string]string{"DiskId": diskID, "SnapshotId": snapshotID})
	return rid, err
}

// regionOf is the region of an instance or disk (the default when unknown,
// so the action answers NotFound).
func (s *Server) regionOf(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in := s.state.instances[id]; in != nil {
		return in.region
	}
	if d := s.state.disks[id]; d != nil {
		return d.region
	}
	if sn := s.state.snapshots[id]; sn != nil {
		return sn.region
	}
	return s.region
}

// actor applies action through its API handler and journals it as another
// actor's.
func (s *Server) actor(action, region string, params map[string]string) (any, string, error) {
	c := &call{action: action, region: region, params: params, requestID: emulator.UpperUUID()}
	s.mu.Lock()
	c.now = s.clk.Now()
	s.state.settle(c.now)
	reply, aerr := s.run(c)
	s.mu.Unlock()
	e := Entry{
		Time: c.now, Action: action, Region: region, Params: copyParams(params),
		HTTPStatus: 200, RequestID: c.requestID, Applied: c.applied, Actor: OtherActor,
	}
	if aerr != nil {
		e.HTTPStatus, e.Code = aerr.Status, aerr.Code
	}
	s.journal.Add(e)
	if aerr != nil {
		return nil, c.requestID, &ActorError{HTTPStatus: aerr.Status, Code: aerr.Code, Message: aerr.Message, RequestID: c.requestID}
	}
	return reply, c.requestID, nil
}

// run applies a call's action with s.mu held (state settled to c.now) and,
// with a read lag, hides what it changed from reads for the lag.
func (s *Server) run(c *call) (any, *apiError) {
	st := s.state
	if st.readLag <= 0 {
		return handlers[c.action](s, c)
	}
	before := st.views(c.now)
	reply, aerr := handlers[c.action](s, c)
	if c.applied {
		st.hide(before, c.now)
	}
	return reply, aerr
}

// lagView is what reads show of a resource until a change made at at becomes
// visible at until.
type lagView struct {
	at, until time.Time
	view      view
}

// view is the part of a resource that reads may show late.
type view struct {
	status   string
	progress int
	rollback time.Time
}

// views returns every resource's view at t, by key ("i/", "d/", "s/" and
// the ID). It is nil when no read lag is set.
func (st *state) views(t time.Time) map[string]view {
	if st.readLag <= 0 {
		return nil
	}
	m := make(map[string]view, len(st.instances)+len(st.disks)+len(st.snapshots))
	for id, in := range st.instances {
		m["i/"+id] = view{status: in.status}
	}
	for id, d := range st.disks {
		m["d/"+id] = view{status: d.status}
	}
	for id, sn := range st.snapshots {
		m["s/"+id] = view{status: sn.status, progress: sn.progress(t), rollback: sn.rollbackTime}
	}
	return m
}

// hide records, for every resource whose view changed at t, its view from
// before, shown until t plus the read lag.
func (st *state) hide(before map[string]view, t time.Time) {
	if before == nil {
		return
	}
	for k, v := range st.views(t) {
		if old, ok := before[k]; ok && old != v {
			st.lags[k] = append(st.lags[k], lagView{at: t, until: t.Add(st.readLag), view: old})
		}
	}
}

// shown returns the view reads show of key at st.now, if a change to it is
// still hidden: the oldest hidden change wins.
func (st *state) shown(key string) (view, bool) {
	ls := st.lags[key]
	if len(ls) == 0 {
		return view{}, false
	}
	kept := ls[:0]
	for _, l := range ls {
		if st.now.Before(l.until) {
			kept = append(kept, l)
		}
	}
	if len(kept) == 0 {
		delete(st.lags, key)
		return view{}, false
	}
	st.lags[key] = kept
	first := kept[0]
	for _, l := range kept[1:] {
		if l.at.Before(first.at) {
			first = l
		}
	}
	return first.view, true
}

// instanceStatus is an instance's Status as reads show it.
func (st *state) instanceStatus(in *instance) string {
	if v, ok := st.shown("i/" + in.id); ok {
		return v.status
	}
	return in.status
}

// diskStatus is a disk's Status as reads show it.
func (st *state) diskStatus(d *disk) string {
	if v, ok := st.shown("d/" + d.id); ok {
		return v.status
	}
	return d.status
}

// snapshotShown is a snapshot's Status, Progress and RollbackTime as reads
// show them at now.
func (st *state) snapshotShown(sn *snapshot, now time.Time) view {
	if v, ok := st.shown("s/" + sn.id); ok {
		return v
	}
	return view{status: sn.status, progress: sn.progress(now), rollback: sn.rollbackTime}
}

// ActorUntag removes tag keys from a resource (typ instance, disk or
// snapshot) as another actor would (UntagResources' rules), e.g. someone
// cleaning up a marker. With no keys it removes every tag.
func (s *Server) ActorUntag(typ, id string, keys ...string) (string, error) {
	p := map[string]string{"ResourceType": typ, "ResourceId.1": id}
	for i, k := range keys {
		p[fmt.Sprintf("TagKey.%d", i+1)] = k
	}
	if len(keys) == 0 {
		p["All"] = "true"
	}
	_, rid, err := s.actor(ActionUntagResources, s.regionOf(id), p)
	return rid, err
}

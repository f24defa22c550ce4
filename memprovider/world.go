package memprovider

import (
	"fmt"
	"time"

	"github.com/cloudsnap/rollback/emulator"
	"github.com/cloudsnap/rollback/provider"
)

// This file is the test's side of the provider: seeding, faults, other
// actors, read lag and what happened. None of it goes through the client
// half (no retries, faults or journal entries of the client's), and none
// of it is lagged.

// InstanceSpec describes an instance to seed. The zero value is a stopped
// instance in the default region with a 40 GB system disk.
type InstanceSpec struct {
	Region string
	Name   string
	// State is StateRunning or StateStopped (the default).
	State  string
	DiskGB int
}

// SnapshotSpec describes a snapshot of an instance's system disk to seed.
type SnapshotSpec struct {
	InstanceID string // required
	Name       string
	// Creating seeds a snapshot still being created, Progress percent done;
	// it becomes ready after the rest of the provider's snapshot duration.
	Creating bool
	Progress int
	// RolledBackAgo, when set, seeds a ready snapshot that an earlier
	// operation rolled the disk back to that long ago (its LastRollbackAt
	// and latest operation say so, with a request ID of its own); the
	// instance has been started (or stopped) since. It does not count in
	// RollbacksOf.
	RolledBackAgo time.Duration
}

// ServerSpec describes a server to seed: an instance and a ready snapshot
// of its system disk.
type ServerSpec struct {
	Region  string
	Name    string
	Running bool
}

// Server is a seeded server's IDs.
type Server struct {
	Region, InstanceID, DiskID, SnapshotID string
}

// Request returns the request that rolls s back to its snapshot.
func (s Server) Request() provider.Request {
	return provider.Request{Region: s.Region, InstanceID: s.InstanceID, SnapshotID: s.SnapshotID}
}

// AddInstance seeds an instance and returns it as reads would show it.
func (p *Provider) AddInstance(spec InstanceSpec) (*provider.Instance, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	region := p.resolve(spec.Region)
	if !p.regions[region] {
		return nil, fmt.Errorf("memprovider: region %q is not served (WithRegions)", region)
	}
	state := spec.State
	switch state {
	case "":
		state = StateStopped
	case StateRunning, StateStopped:
	default:
		return nil, fmt.Errorf("memprovider: an instance is seeded %s or %s, not %q", StateRunning, StateStopped, spec.State)
	}
	if spec.DiskGB < 0 {
		return nil, fmt.Errorf("memprovider: disk size %d GB", spec.DiskGB)
	}
	p.seq++
	in := &instance{seq: p.seq, id: fmt.Sprintf("ins-%06d", p.seq), region: region, name: spec.Name,
		diskID: fmt.Sprintf("disk-%06d", p.seq), diskSize: 40}
	if spec.DiskGB > 0 {
		in.diskSize = spec.DiskGB
	}
	in.f.state = state
	p.instances[in.id] = in
	p.disks[in.diskID] = in
	return in.normalize(in.view(p.clk.Now())), nil
}

// AddSnapshot seeds a snapshot of an instance's system disk and returns it
// as reads would show it.
func (p *Provider) AddSnapshot(spec SnapshotSpec) (*provider.Snapshot, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	in, ok := p.instances[spec.InstanceID]
	if !ok {
		return nil, fmt.Errorf("memprovider: no instance %q to snapshot", spec.InstanceID)
	}
	if spec.Progress < 0 || spec.Progress > 99 {
		return nil, fmt.Errorf("memprovider: progress %d of a creating snapshot is not 0 to 99", spec.Progress)
	}
	if spec.RolledBackAgo < 0 || (spec.RolledBackAgo > 0 && spec.Creating) {
		return nil, fmt.Errorf("memprovider: a snapshot rolled back to %v ago must be ready and in the past", spec.RolledBackAgo)
	}
	now := p.clk.Now()
	state := SnapshotReady
	if spec.Creating {
		state = SnapshotCreating
	}
	sn := p.newSnapshot(in, spec.Name, now, state)
	if spec.Creating {
		sn.f.percent = spec.Progress
		rest := p.dur.Snapshot * time.Duration(100-spec.Progress) / 100
		a := sn.begin(OpCreateSnapshot, "", now, rest, SnapshotCreating, SnapshotReady, false, 0)
		a.onEnd = func(time.Time, bool) { sn.f.percent = 100 }
	}
	if d := spec.RolledBackAgo; d > 0 {
		at := now.Add(-d)
		sn.created, sn.f.rollbackAt = at.Add(-time.Hour), at
		p.reqSeq++
		sn.f.op = op{name: OpRollback, state: OperationSuccess, requestID: fmt.Sprintf("req-%06d", p.reqSeq)}
		if !in.busy(now) {
			p.reqSeq++
			name := OpStart
			if in.f.state == StateStopped {
				name = OpStop
			}
			in.f.op = op{name: name, state: OperationSuccess, requestID: fmt.Sprintf("req-%06d", p.reqSeq)}
		}
	}
	return sn.normalize(sn.view(now)), nil
}

// AddServer seeds an instance and a ready snapshot of its system disk.
func (p *Provider) AddServer(spec ServerSpec) (Server, error) {
	state := StateStopped
	if spec.Running {
		state = StateRunning
	}
	in, err := p.AddInstance(InstanceSpec{Region: spec.Region, Name: spec.Name, State: state})
	if err != nil {
		return Server{}, err
	}
	sn, err := p.AddSnapshot(SnapshotSpec{InstanceID: in.ID, Name: "baseline"})
	if err != nil {
		return Server{}, err
	}
	return Server{Region: in.Region, InstanceID: in.ID, DiskID: in.SystemDiskID, SnapshotID: sn.ID}, nil
}

// ViewInstance returns the instance as it really is now (not lagged, no
// call made), and whether it exists.
func (p *Provider) ViewInstance(id string) (*provider.Instance, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	in, ok := p.instances[id]
	if !ok {
		return nil, false
	}
	return in.normalize(in.view(p.clk.Now())), true
}

// ViewSnapshot returns the snapshot as it really is now.
func (p *Provider) ViewSnapshot(id string) (*provider.Snapshot, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	sn, ok := p.snapshots[id]
	if !ok {
		return nil, false
	}
	return sn.normalize(sn.view(p.clk.Now())), true
}

// SetBusy puts an operation (OpMaintenance) in progress on the instance
// for d: it stays in its state, Busy, and refuses other operations until
// then.
func (p *Provider) SetBusy(instanceID string, d time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	in, ok := p.instances[instanceID]
	if !ok {
		return fmt.Errorf("memprovider: no instance %q", instanceID)
	}
	now := p.clk.Now()
	if in.busy(now) {
		return fmt.Errorf("memprovider: instance %s is already busy", instanceID)
	}
	p.reqSeq++
	in.begin(OpMaintenance, fmt.Sprintf("req-%06d", p.reqSeq), now, d, in.f.state, "", false, p.readLag)
	return nil
}

// FailNextRollbacks makes the next n rollbacks accepted, then end Failed
// (ErrRollbackFailed for the waiter); the snapshot records no rollback.
// It adds to what was armed; a negative n disarms that many (never below
// none).
func (p *Provider) FailNextRollbacks(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failRollbacks = max(p.failRollbacks+n, 0)
}

// AddFault arms a fault; see Fault.
func (p *Provider) AddFault(f Fault) error {
	ef, err := f.toEmu()
	if err != nil {
		return err
	}
	p.faults.Add(ef)
	return nil
}

// FailNext makes the next n calls of action fail with the sentinel kind
// (see Fault.Err).
func (p *Provider) FailNext(action string, n int, kind error) error {
	if n <= 0 {
		return fmt.Errorf("memprovider: FailNext of %d calls", n)
	}
	return p.AddFault(Fault{Action: action, Times: n, Err: kind})
}

// LoseNextReply applies the next call of action and loses its reply: the
// client sees an ambiguous ErrNetwork, and only evidence tells it the call
// landed.
func (p *Provider) LoseNextReply(action string) error {
	return p.AddFault(Fault{Action: action, DropResponse: true})
}

// ForgetTokens forgets every client token (WithClientTokens), as a cloud
// does after a while: a resend is then a new call.
func (p *Provider) ForgetTokens() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tokens != nil {
		p.tokens = map[string]string{}
	}
}

// ClearFaults disarms every fault.
func (p *Provider) ClearFaults() { p.faults.Clear() }

// SetReadLag makes reads lag writes by d from now on (0: reads show every
// change at once). For d after a change to an instance or snapshot (an
// applied call, another actor's change, or an operation's end), reads show
// its state, progress, rollback time and latest operation as they were
// before; with several changes hidden, as before the oldest. Which
// resources exist, the provider's decisions and ViewInstance/ViewSnapshot
// are never lagged.
func (p *Provider) SetReadLag(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.readLag = d
}

// Before runs f just before the n-th call (1-based, resends included) of
// action is handled, once, with no lock held; After just after it was
// handled, before its reply. f may call any Provider method.
func (p *Provider) Before(action string, n int, f func()) { p.hooks.Before(action, n, f) }

// After: see Before.
func (p *Provider) After(action string, n int, f func()) { p.hooks.After(action, n, f) }

// Entry is one call as the provider saw and answered it.
type Entry = emulator.Entry

// OtherActor is the Entry.Actor of the Actor* methods' changes.
const OtherActor = emulator.OtherActor

// Journal returns every call received and every other actor's change,
// oldest first.
func (p *Provider) Journal() []Entry { return p.journal.Entries() }

// Calls counts the calls of action received from the client ("" counts
// all), resends included; other actors' changes are not counted.
func (p *Provider) Calls(action string) int { return p.journal.Count(action) }

// RollbacksOf counts the rollbacks applied to an instance (by the client
// or another actor), whether or not they later failed.
func (p *Provider) RollbacksOf(instanceID string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if in, ok := p.instances[instanceID]; ok {
		return in.rollbackedBy
	}
	return 0
}

// Rollbacks counts every rollback applied.
func (p *Provider) Rollbacks() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, in := range p.instances {
		n += in.rollbackedBy
	}
	return n
}

// ActorError is an Actor* method's refusal, in the provider's terms.
type ActorError struct {
	Code, Message, RequestID string
}

func (e *ActorError) Error() string {
	return fmt.Sprintf("memprovider: other actor: %s: %s (request %s)", e.Code, e.Message, e.RequestID)
}

// actor applies h as another actor would (the console, another program):
// the same rules and effects as the API, its own request ID, journaled as
// OtherActor, bypassing faults, hooks and the quota.
func (p *Provider) actor(action, instanceID string, h func(in *instance, now time.Time, rid string) (bool, *cloudError)) (string, error) {
	rid := p.newRequestID()
	p.mu.Lock()
	now := p.clk.Now()
	in, ok := p.instances[instanceID]
	var applied bool
	var e *cloudError
	region := p.region
	if !ok {
		e = errf(CodeInstanceNotFound, "instance %s does not exist", instanceID)
	} else {
		region = in.region
		applied, e = h(in, now, rid)
	}
	p.mu.Unlock()
	entry := emulator.Entry{Time: now, Action: action, Region: region, RequestID: rid, HTTPStatus: 200, Applied: applied, Actor: OtherActor,
		Params: map[string]string{"InstanceId": instanceID}}
	if e != nil {
		entry.HTTPStatus, entry.Code = statusOf(e.Code), e.Code
	}
	p.journal.Add(entry)
	if e != nil {
		return rid, &ActorError{Code: e.Code, Message: e.Message, RequestID: rid}
	}
	return rid, nil
}

// ActorStart starts a stopped instance as someone else.
func (p *Provider) ActorStart(instanceID string) error {
	_, err := p.actor(ActionStartInstance, instanceID, func(in *instance, now time.Time, rid string) (bool, *cloudError) {
		return p.applyStartStop(in, now, rid, OpStart, StateStopped, StateStarting, StateRunning, p.dur.Start)
	})
	return err
}

// ActorStop stops a running instance as someone else.
func (p *Provider) ActorStop(instanceID string) error {
	_, err := p.actor(ActionStopInstance, instanceID, func(in *instance, now time.Time, rid string) (bool, *cloudError) {
		return p.applyStartStop(in, now, rid, OpStop, StateRunning, StateStopping, StateStopped, p.dur.Stop)
	})
	return err
}

// ActorRollback rolls an instance back to a snapshot as someone else and
// returns the request ID its latest operations then carry. It counts in
// RollbacksOf.
func (p *Provider) ActorRollback(instanceID, snapshotID string) (string, error) {
	return p.actor(ActionRollback, instanceID, func(in *instance, now time.Time, rid string) (bool, *cloudError) {
		sn, e := p.lookupSnapshot(in.region, snapshotID)
		if e != nil {
			return false, e
		}
		return p.applyRollback(in, sn, now, rid)
	})
}

// ActorCreateSnapshot snapshots an instance's system disk as someone else
// and returns the new snapshot's ID.
func (p *Provider) ActorCreateSnapshot(instanceID, name string) (string, error) {
	var id string
	_, err := p.actor(ActionCreateSnapshot, instanceID, func(in *instance, now time.Time, rid string) (bool, *cloudError) {
		sn, e := p.applyCreateSnapshot(in, name, now, rid)
		if e != nil {
			return false, e
		}
		id = sn.id
		return true, nil
	})
	return id, err
}

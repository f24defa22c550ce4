package aliyuntest

import (
	"fmt"
	"time"

	"github.com/cloudsnap/rollback/emulator"
)

// InstanceSpec describes a server to seed. Empty fields are generated.
type InstanceSpec struct {
	ID     string // default: 32 random hex-like characters, like SWAS IDs
	Region string // default: the server's first region
	Name   string // default: "instance-N"
	// Status is any SWAS status (default Running). It holds until a call
	// or SetInstanceStatus changes it.
	Status           string
	SystemDiskID     string // default: "d-" + 20 random characters
	SystemDiskSizeGB int    // default 40
	// DataDiskIDs are data disks to attach; an empty string in the list
	// gets a generated ID.
	DataDiskIDs []string
}

// SnapshotSpec describes a snapshot to seed.
type SnapshotSpec struct {
	ID     string // default: "s-" + 20 random characters
	DiskID string // required: a seeded disk
	Name   string // default: "snapshot-N"
	// Status is Accomplished (default), Progressing (it completes
	// Durations.Snapshot after CreatedAt) or Failed.
	Status       string
	CreatedAt    time.Time // default: now on the server's clock
	RollbackTime time.Time // zero: never rolled back to
}

// AddInstance seeds a server with its system disk and any data disks and
// returns the spec with every generated field filled in. It panics on an
// unknown region or status, or an ID already in use: seeding is test setup.
func (s *Server) AddInstance(spec InstanceSpec) InstanceSpec {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clk.Now()
	s.state.settle(now)
	st := s.state
	if spec.Region == "" {
		spec.Region = s.region
	}
	if !s.regions[spec.Region] {
		panic(fmt.Sprintf("aliyuntest: AddInstance: region %q is not served (see WithRegions)", spec.Region))
	}
	if spec.Status == "" {
		spec.Status = StatusRunning
	}
	mustStatus("AddInstance", spec.Status)
	if spec.ID == "" {
		spec.ID = emulator.RandomString(32, "0123456789abcdef")
	}
	if st.instances[spec.ID] != nil {
		panic("aliyuntest: AddInstance: instance " + spec.ID + " already exists")
	}
	in := &instance{seq: st.next(), id: spec.ID, region: spec.Region, status: spec.Status, created: now}
	if spec.Name == "" {
		spec.Name = fmt.Sprintf("instance-%d", in.seq)
	}
	in.name = spec.Name
	if spec.SystemDiskSizeGB <= 0 {
		spec.SystemDiskSizeGB = 40
	}
	spec.SystemDiskID = s.addDisk(in, spec.SystemDiskID, true, spec.SystemDiskSizeGB, now)
	in.systemDisk = spec.SystemDiskID
	spec.DataDiskIDs = append([]string(nil), spec.DataDiskIDs...)
	for i, id := range spec.DataDiskIDs {
		spec.DataDiskIDs[i] = s.addDisk(in, id, false, 100, now)
	}
	in.dataDisks = append([]string(nil), spec.DataDiskIDs...)
	st.instances[in.id] = in
	return spec
}

func (s *Server) addDisk(in *instance, id string, system bool, size int, now time.Time) string {
	if id == "" {
		id = emulator.ResourceID("d-", 20)
	}
	if s.state.disks[id] != nil {
		panic("aliyuntest: AddInstance: disk " + id + " already exists")
	}
	s.state.disks[id] = &disk{
		seq: s.state.next(), id: id, region: in.region, instanceID: in.id,
		system: system, sizeGB: size, status: DiskInUse, created: now,
	}
	return id
}

// AddSnapshot seeds a snapshot of a seeded disk and returns the spec with
// every generated field filled in. It panics on an unknown disk or status.
func (s *Server) AddSnapshot(spec SnapshotSpec) SnapshotSpec {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clk.Now()
	s.state.settle(now)
	st := s.state
	d := st.disks[spec.DiskID]
	if d == nil {
		panic(fmt.Sprintf("aliyuntest: AddSnapshot: disk %q is not seeded", spec.DiskID))
	}
	switch spec.Status {
	case "":
		spec.Status = SnapshotAccomplished
	case SnapshotAccomplished, SnapshotProgressing, SnapshotFailed:
	default:
		panic(fmt.Sprintf("aliyuntest: AddSnapshot: unknown status %q", spec.Status))
	}
	if spec.ID == "" {
		spec.ID = emulator.ResourceID("s-", 20)
	}
	if st.snapshots[spec.ID] != nil {
		panic("aliyuntest: AddSnapshot: snapshot " + spec.ID + " already exists")
	}
	if spec.CreatedAt.IsZero() {
		spec.CreatedAt = now
	}
	sn := &snapshot{
		seq: st.next(), id: spec.ID, region: d.region, diskID: d.id, system: d.system,
		instanceID: d.instanceID, status: spec.Status, created: spec.CreatedAt,
		done: spec.CreatedAt.Add(s.durations.Snapshot), rollbackTime: spec.RollbackTime,
	}
	if spec.Name == "" {
		spec.Name = fmt.Sprintf("snapshot-%d", sn.seq)
	}
	sn.name = spec.Name
	st.snapshots[sn.id] = sn
	return spec
}

var knownStatuses = map[string]bool{
	StatusPending: true, StatusStarting: true, StatusRunning: true, StatusStopping: true,
	StatusStopped: true, StatusResetting: true, StatusUpgrading: true, StatusDisabled: true,
}

func mustStatus(op, status string) {
	if !knownStatuses[status] {
		panic(fmt.Sprintf("aliyuntest: %s: unknown instance status %q", op, status))
	}
}

// SetInstanceStatus puts an instance in any status at once, cancelling any
// change in progress. It panics on an unknown instance or status.
func (s *Server) SetInstanceStatus(id, status string) {
	mustStatus("SetInstanceStatus", status)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.settle(s.clk.Now())
	in := s.mustInstance("SetInstanceStatus", id)
	in.status, in.trans = status, nil
}

// SetInstanceBusy puts an instance in status (e.g. Upgrading, Starting)
// for d on the server's clock, after which it returns to the status it had
// before. Use it to make an instance busy with something else.
func (s *Server) SetInstanceBusy(id, status string, d time.Duration) {
	mustStatus("SetInstanceBusy", status)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clk.Now()
	s.state.settle(now)
	in := s.mustInstance("SetInstanceBusy", id)
	back := in.status
	in.status = status
	in.trans = &transition{until: now.Add(d), finish: func(time.Time) { in.status = back }}
}

// FailNextRollbacks makes the next n accepted ResetDisk calls fail: the
// instance goes Resetting as usual, then back to Stopped without the
// snapshot's RollbackTime changing (the disk keeps its data).
func (s *Server) FailNextRollbacks(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.failRollbacks = n
}

func (s *Server) mustInstance(op, id string) *instance {
	in := s.state.instances[id]
	if in == nil {
		panic(fmt.Sprintf("aliyuntest: %s: unknown instance %q", op, id))
	}
	return in
}

// InstanceView is an instance as the server sees it now.
type InstanceView struct {
	ID, Region, Name string
	Status           string
	SystemDiskID     string
	DataDiskIDs      []string
}

// DiskView is a disk as the server sees it now.
type DiskView struct {
	ID, Region string
	InstanceID string
	System     bool
	Status     string
	SizeGB     int
}

// SnapshotView is a snapshot as the server sees it now.
type SnapshotView struct {
	ID, Region, Name string
	DiskID           string
	InstanceID       string
	System           bool
	Status           string
	Progress         int
	CreatedAt        time.Time
	RollbackTime     time.Time
}

// Instance returns an instance's current state.
func (s *Server) Instance(id string) (InstanceView, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.settle(s.clk.Now())
	in := s.state.instances[id]
	if in == nil {
		return InstanceView{}, false
	}
	return InstanceView{
		ID: in.id, Region: in.region, Name: in.name, Status: in.status,
		SystemDiskID: in.systemDisk, DataDiskIDs: append([]string(nil), in.dataDisks...),
	}, true
}

// Disk returns a disk's current state.
func (s *Server) Disk(id string) (DiskView, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.settle(s.clk.Now())
	d := s.state.disks[id]
	if d == nil {
		return DiskView{}, false
	}
	return DiskView{ID: d.id, Region: d.region, InstanceID: d.instanceID, System: d.system, Status: d.status, SizeGB: d.sizeGB}, true
}

// Snapshot returns a snapshot's current state.
func (s *Server) Snapshot(id string) (SnapshotView, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clk.Now()
	s.state.settle(now)
	sn := s.state.snapshots[id]
	if sn == nil {
		return SnapshotView{}, false
	}
	return SnapshotView{
		ID: sn.id, Region: sn.region, Name: sn.name, DiskID: sn.diskID, InstanceID: sn.instanceID,
		System: sn.system, Status: sn.status, Progress: sn.progress(now),
		CreatedAt: sn.created, RollbackTime: sn.rollbackTime,
	}, true
}

// Rollbacks returns how many ResetDisk calls were applied (deduplicated
// resends and refused calls do not count).
func (s *Server) Rollbacks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.rollbacks
}

// RollbacksOf returns how many ResetDisk calls were applied to a disk.
func (s *Server) RollbacksOf(diskID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.rollbacksByDisk[diskID]
}

// AddFault arms a fault; see Fault for its semantics. Faults count only
// well-formed, authenticated calls of their action.
func (s *Server) AddFault(f Fault) { s.faults.Add(f) }

// ClearFaults disarms every fault.
func (s *Server) ClearFaults() { s.faults.Clear() }

// PendingFaults returns how many faults have not finished firing.
func (s *Server) PendingFaults() int { return s.faults.Pending() }

// Journal returns every request received so far, oldest first.
func (s *Server) Journal() []Entry { return s.journal.Entries() }

// Calls returns how many requests of action were received ("" for all).
func (s *Server) Calls(action string) int { return s.journal.Count(action) }

// ResetJournal forgets the requests received so far.
func (s *Server) ResetJournal() { s.journal.Reset() }

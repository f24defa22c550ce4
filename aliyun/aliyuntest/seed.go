package aliyuntest

import (
	"errors"
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

	// What ListInstances reports and filters on (ResourceGroupId,
	// ChargeType, PlanType, PublicIpAddresses, Tag).
	ResourceGroupID string            // default DefaultResourceGroupID
	ChargeType      string            // default "PrePaid"
	PlanType        string            // default "NORMAL"
	PublicIP        string            // default 47.96.x.y, unique per server
	Tags            map[string]string // the instance's tags (TagResources adds more)
	// ExpiredTime is when the subscription ends (a year from now when
	// zero). From then on the server is Disabled (BusinessStatus Expired,
	// DisableReason EXPIRED), so ResetDisk answers 403
	// IncorrectInstanceStatus.ResetDisk.
	ExpiredTime time.Time
}

// DefaultResourceGroupID is the resource group of seeded servers, disks and
// snapshots unless InstanceSpec says otherwise (the account's default group).
const DefaultResourceGroupID = "rg-acfmemulator00001"

// SnapshotSpec describes a snapshot to seed.
type SnapshotSpec struct {
	ID     string // default: "s-" + 20 random characters
	DiskID string // required: a seeded disk
	Name   string // default: "snapshot-N"
	// Status is Accomplished (default), Progressing (it completes
	// Durations.CreateSnapshot after CreatedAt) or Failed.
	Status       string
	CreatedAt    time.Time // default: now on the server's clock
	RollbackTime time.Time // zero: never rolled back to
}

// AddInstance seeds a server with its system disk and any data disks and
// returns the spec with every generated field filled in. It fails on an
// unknown region or status, or an ID already in use, and then seeds nothing.
func (s *Server) AddInstance(spec InstanceSpec) (InstanceSpec, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clk.Now()
	s.state.settle(now)
	st := s.state
	if spec.Region == "" {
		spec.Region = s.region
	}
	if !s.regions[spec.Region] {
		return InstanceSpec{}, fmt.Errorf("aliyuntest: AddInstance: region %q is not served (see WithRegions)", spec.Region)
	}
	if spec.Status == "" {
		spec.Status = StatusRunning
	}
	if err := checkStatus("AddInstance", spec.Status); err != nil {
		return InstanceSpec{}, err
	}
	if spec.ID == "" {
		spec.ID = emulator.RandomString(32, "0123456789abcdef")
	}
	if st.instances[spec.ID] != nil {
		return InstanceSpec{}, errors.New("aliyuntest: AddInstance: instance " + spec.ID + " already exists")
	}
	seen := map[string]bool{}
	for _, id := range append([]string{spec.SystemDiskID}, spec.DataDiskIDs...) {
		if id != "" && (st.disks[id] != nil || seen[id]) {
			return InstanceSpec{}, errors.New("aliyuntest: AddInstance: disk " + id + " already exists")
		}
		seen[id] = true
	}
	if len(spec.Tags) > MaxTagsPerResource {
		return InstanceSpec{}, fmt.Errorf("aliyuntest: AddInstance: %d tags; at most %d", len(spec.Tags), MaxTagsPerResource)
	}
	in := &instance{seq: st.next(), id: spec.ID, region: spec.Region, status: spec.Status, created: now, uuid: emulator.UUID()}
	if spec.Name == "" {
		spec.Name = fmt.Sprintf("instance-%d", in.seq)
	}
	in.name = spec.Name
	if spec.ResourceGroupID == "" {
		spec.ResourceGroupID = DefaultResourceGroupID
	}
	if spec.ChargeType == "" {
		spec.ChargeType = "PrePaid"
	}
	if spec.PlanType == "" {
		spec.PlanType = "NORMAL"
	}
	if spec.PublicIP == "" {
		spec.PublicIP = fmt.Sprintf("47.96.%d.%d", in.seq/250%250, in.seq%250+1)
	}
	if spec.ExpiredTime.IsZero() {
		spec.ExpiredTime = now.AddDate(1, 0, 0)
	}
	in.expires = spec.ExpiredTime
	if !now.Before(in.expires) {
		in.status = StatusDisabled
	}
	in.resourceGroup, in.chargeType, in.planType = spec.ResourceGroupID, spec.ChargeType, spec.PlanType
	in.publicIP, in.innerIP = spec.PublicIP, fmt.Sprintf("172.16.%d.%d", in.seq/250%250, in.seq%250+1)
	if len(spec.Tags) > 0 {
		tags := make(map[string]string, len(spec.Tags))
		for k, v := range spec.Tags {
			tags[k] = v
		}
		st.tags["instance/"+in.id] = tags
	}
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
	return spec, nil
}

func (s *Server) addDisk(in *instance, id string, system bool, size int, now time.Time) string {
	if id == "" {
		id = emulator.ResourceID("d-", 20)
	}
	s.state.disks[id] = &disk{
		seq: s.state.next(), id: id, region: in.region, instanceID: in.id,
		system: system, sizeGB: size, status: DiskInUse, created: now,
	}
	return id
}

// AddSnapshot seeds a snapshot of a seeded disk and returns the spec with
// every generated field filled in. It fails on an unknown disk or status, or
// an ID already in use.
func (s *Server) AddSnapshot(spec SnapshotSpec) (SnapshotSpec, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clk.Now()
	s.state.settle(now)
	st := s.state
	d := st.disks[spec.DiskID]
	if d == nil {
		return SnapshotSpec{}, fmt.Errorf("aliyuntest: AddSnapshot: disk %q is not seeded", spec.DiskID)
	}
	switch spec.Status {
	case "":
		spec.Status = SnapshotAccomplished
	case SnapshotAccomplished, SnapshotProgressing, SnapshotFailed:
	default:
		return SnapshotSpec{}, fmt.Errorf("aliyuntest: AddSnapshot: unknown status %q", spec.Status)
	}
	if spec.ID == "" {
		spec.ID = emulator.ResourceID("s-", 20)
	}
	if st.snapshots[spec.ID] != nil {
		return SnapshotSpec{}, errors.New("aliyuntest: AddSnapshot: snapshot " + spec.ID + " already exists")
	}
	if spec.CreatedAt.IsZero() {
		spec.CreatedAt = now
	}
	sn := &snapshot{
		seq: st.next(), id: spec.ID, region: d.region, diskID: d.id, system: d.system,
		instanceID: d.instanceID, status: spec.Status, created: spec.CreatedAt,
		done: spec.CreatedAt.Add(s.durations.CreateSnapshot), rollbackTime: spec.RollbackTime,
	}
	if spec.Name == "" {
		spec.Name = fmt.Sprintf("snapshot-%d", sn.seq)
	}
	sn.name = spec.Name
	st.snapshots[sn.id] = sn
	return spec, nil
}

var knownStatuses = map[string]bool{
	StatusPending: true, StatusStarting: true, StatusRunning: true, StatusStopping: true,
	StatusStopped: true, StatusResetting: true, StatusUpgrading: true, StatusDisabled: true,
}

func checkStatus(op, status string) error {
	if !knownStatuses[status] {
		return fmt.Errorf("aliyuntest: %s: unknown instance status %q", op, status)
	}
	return nil
}

// SetInstanceStatus puts an instance in any status at once, cancelling any
// change in progress. It fails on an unknown instance or status.
func (s *Server) SetInstanceStatus(id, status string) error {
	if err := checkStatus("SetInstanceStatus", status); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.settle(s.clk.Now())
	in, err := s.knownInstance("SetInstanceStatus", id)
	if err != nil {
		return err
	}
	in.status, in.trans = status, nil
	return nil
}

// SetInstanceBusy puts an instance in status (e.g. Upgrading, Starting)
// for d on the server's clock, after which it returns to the status it had
// before. Use it to make an instance busy with something else. It fails on
// an unknown instance or status.
func (s *Server) SetInstanceBusy(id, status string, d time.Duration) error {
	if err := checkStatus("SetInstanceBusy", status); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clk.Now()
	s.state.settle(now)
	in, err := s.knownInstance("SetInstanceBusy", id)
	if err != nil {
		return err
	}
	back := in.status
	in.status = status
	in.trans = &transition{until: now.Add(d), finish: func(time.Time) { in.status = back }}
	return nil
}

// FailNextRollbacks makes the next n accepted ResetDisk calls fail: the
// instance goes Resetting as usual, then back to Stopped without the
// snapshot's RollbackTime changing (the disk keeps its data).
func (s *Server) FailNextRollbacks(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.failRollbacks = n
}

func (s *Server) knownInstance(op, id string) (*instance, error) {
	in := s.state.instances[id]
	if in == nil {
		return nil, fmt.Errorf("aliyuntest: %s: unknown instance %q", op, id)
	}
	return in, nil
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

// Journal returns the request journal: every request received so far
// (Entries), how many of an action (Count), Reset.
func (s *Server) Journal() *Journal { return &s.journal }

// Calls returns how many requests of action were received over HTTP (""
// for all); Journal().Count(action).
func (s *Server) Calls(action string) int { return s.journal.Count(action) }

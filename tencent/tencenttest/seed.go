package tencenttest

import (
	"fmt"
	"time"

	"github.com/cloudsnap/rollback/emulator"
)

// Instance is a Lighthouse instance as seeded into, or read from, the
// emulator.
type Instance struct {
	ID     string // "lhins-..."; generated when empty
	Region string // DefaultRegion when empty
	Name   string
	// State is the InstanceState; RUNNING when empty. A transitional state
	// (PENDING, STARTING, STOPPING, REBOOTING) runs its course on the
	// emulator clock, with the operation that causes it OPERATING.
	State string
	// SystemDisk; DiskID is generated when empty, DiskSize defaults to 50 GB
	// and DiskType to CLOUD_SSD.
	DiskID   string
	DiskSize int64
	DiskType string
	// LatestOperation* as the cloud reports them. Seeding an operation with
	// state OPERATING is ignored: use SetBusy.
	LatestOperation          string
	LatestOperationState     string
	LatestOperationRequestID string
	PrivateIP, PublicIP      string // generated when empty
	CreatedTime              time.Time
	// ExpiredTime is when the prepaid instance expires (when zero, a year
	// after CreatedTime, or after now if that has passed). From then on it is isolated: SHUTDOWN, with
	// IsolatedTime set, and operations on it answer
	// UnsupportedOperation.InstanceExpired.
	ExpiredTime time.Time
	// IsolatedTime is set when the instance is isolated (read only).
	IsolatedTime time.Time
}

// Snapshot is a Lighthouse snapshot as seeded into, or read from, the
// emulator.
type Snapshot struct {
	ID         string // "lhsnap-..."; generated when empty
	Region     string // the instance's when empty
	Name       string
	InstanceID string // the instance whose system disk it is of (required when seeding)
	DiskID     string // that instance's system disk when empty
	DiskSize   int64  // the disk's size when zero
	// State is NORMAL when empty; CREATING runs to NORMAL on the emulator
	// clock from Percent. ROLLBACKING cannot be seeded: apply a rollback.
	State                    string
	Percent                  int64
	LatestOperation          string
	LatestOperationState     string
	LatestOperationRequestID string
	CreatedTime              time.Time
}

// AddInstance seeds an instance and returns it as stored.
func (s *Server) AddInstance(in Instance) (Instance, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clk.Now()
	if in.ID == "" {
		in.ID = emulator.ResourceID("lhins-", 8)
	}
	if !wellFormed(in.ID, "lhins-") {
		return Instance{}, fmt.Errorf("tencenttest: instance ID %q is not lhins- and lower-case letters or digits", in.ID)
	}
	if _, dup := s.instances[in.ID]; dup {
		return Instance{}, fmt.Errorf("tencenttest: instance %s already exists", in.ID)
	}
	if in.Region == "" {
		in.Region = DefaultRegion
	}
	if in.State == "" {
		in.State = StateRunning
	}
	if !knownInstanceState(in.State) {
		return Instance{}, fmt.Errorf("tencenttest: unknown instance state %q", in.State)
	}
	if in.DiskID == "" {
		in.DiskID = emulator.ResourceID("lhdisk-", 8)
	}
	if in.DiskSize == 0 {
		in.DiskSize = 50
	}
	if in.DiskType == "" {
		in.DiskType = "CLOUD_SSD"
	}
	if in.Name == "" {
		in.Name = "instance-" + in.ID[len("lhins-"):]
	}
	s.seq++
	if in.PrivateIP == "" {
		in.PrivateIP = fmt.Sprintf("10.0.%d.%d", s.seq/250, s.seq%250+2)
	}
	if in.PublicIP == "" {
		in.PublicIP = fmt.Sprintf("203.0.%d.%d", s.seq/250+113, s.seq%250+2)
	}
	if in.CreatedTime.IsZero() {
		in.CreatedTime = now
	}
	if in.ExpiredTime.IsZero() {
		// A year's subscription, never already over: only an explicit
		// ExpiredTime isolates a seeded instance.
		in.ExpiredTime = in.CreatedTime.AddDate(1, 0, 0)
		if !in.ExpiredTime.After(now) {
			in.ExpiredTime = now.AddDate(1, 0, 0)
		}
	}
	st := &instance{
		seq: s.seq, id: in.ID, region: in.Region, name: in.Name, uuid: emulator.UUID(),
		diskID: in.DiskID, diskType: in.DiskType, diskSize: in.DiskSize,
		privateIP: in.PrivateIP, publicIP: in.PublicIP, created: in.CreatedTime, expires: in.ExpiredTime,
	}
	st.state = in.State
	if in.LatestOperationState != OperationOperating {
		st.op = operation{in.LatestOperation, in.LatestOperationState, in.LatestOperationRequestID}
	}
	if final, op, d, ok := s.transition(in.State); ok {
		st.begin(op, emulator.UUID(), now, now.Add(d), []phase{{until: now.Add(d), state: in.State}}, final, false)
	}
	s.instances[in.ID] = st
	return st.public(now), nil
}

func knownInstanceState(s string) bool {
	switch s {
	case StatePending, StateLaunchFailed, StateRunning, StateStopped, StateStarting,
		StateStopping, StateRebooting, StateShutdown, StateTerminating:
		return true
	}
	return false
}

// AddSnapshot seeds a snapshot of an instance's system disk.
func (s *Server) AddSnapshot(sn Snapshot) (Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clk.Now()
	in, ok := s.instances[sn.InstanceID]
	if !ok {
		return Snapshot{}, fmt.Errorf("tencenttest: snapshot of unknown instance %q; seed the instance first", sn.InstanceID)
	}
	if sn.ID == "" {
		sn.ID = emulator.ResourceID("lhsnap-", 8)
	}
	if !wellFormed(sn.ID, "lhsnap-") {
		return Snapshot{}, fmt.Errorf("tencenttest: snapshot ID %q is not lhsnap- and lower-case letters or digits", sn.ID)
	}
	if _, dup := s.snapshots[sn.ID]; dup {
		return Snapshot{}, fmt.Errorf("tencenttest: snapshot %s already exists", sn.ID)
	}
	if sn.State == "" {
		sn.State = SnapshotNormal
	}
	if sn.State != SnapshotNormal && sn.State != SnapshotCreating {
		return Snapshot{}, fmt.Errorf("tencenttest: a snapshot can be seeded NORMAL or CREATING, not %q", sn.State)
	}
	st := s.newSnapshot(in.region, in, sn.Name, now)
	st.id = sn.ID
	if sn.Region != "" {
		st.region = sn.Region
	}
	if sn.DiskID != "" {
		st.diskID = sn.DiskID
	}
	if sn.DiskSize != 0 {
		st.diskSize = sn.DiskSize
	}
	if !sn.CreatedTime.IsZero() {
		st.created = sn.CreatedTime
	}
	st.state = SnapshotNormal
	st.percent = 100
	if sn.LatestOperationState != OperationOperating {
		st.op = operation{sn.LatestOperation, sn.LatestOperationState, sn.LatestOperationRequestID}
	}
	if sn.State == SnapshotCreating {
		end := now.Add(s.dur.CreateSnapshot)
		st.begin(OpCreateInstanceSnapshot, emulator.UUID(), now, end, []phase{{until: end, state: SnapshotCreating}}, SnapshotNormal, false)
		st.act.startPercent = sn.Percent
	}
	s.snapshots[st.id] = st
	return st.public(now), nil
}

// newSnapshot stores nothing; the caller adds it to s.snapshots.
func (s *Server) newSnapshot(region string, in *instance, name string, now time.Time) *snapshot {
	s.seq++
	sn := &snapshot{
		seq: s.seq, id: emulator.ResourceID("lhsnap-", 8), region: region, name: name,
		instanceID: in.id, diskID: in.diskID, diskSize: in.diskSize, percent: 100, created: now,
	}
	return sn
}

// SetInstanceState puts an instance in state at once, ending any operation
// in progress (as if it had succeeded).
func (s *Server) SetInstanceState(id, state string) error {
	if !knownInstanceState(state) {
		return fmt.Errorf("tencenttest: unknown instance state %q", state)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.instances[id]
	if !ok {
		return fmt.Errorf("tencenttest: no instance %s", id)
	}
	if in.act != nil {
		in.act = nil
		in.op.state = OperationSuccess
	}
	in.state = state
	return nil
}

// SetBusy gives the instance an operation named op (e.g. "ResetInstance")
// that is OPERATING for d on the emulator clock, then SUCCESS; its state is
// unchanged. It returns the operation's request ID.
func (s *Server) SetBusy(id, op string, d time.Duration) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.instances[id]
	if !ok {
		return "", fmt.Errorf("tencenttest: no instance %s", id)
	}
	now := s.clk.Now()
	in.settle(now)
	rid := emulator.UUID()
	in.begin(op, rid, now, now.Add(d), nil, "", false)
	return rid, nil
}

// SetDiskBusy gives the instance's system disk an operation named op (e.g.
// "ResizeDisks") in progress for d on the emulator clock: meanwhile
// ApplyInstanceSnapshot answers
// UnsupportedOperation.DiskLatestOperationUnfinished. The instance's own
// state and LatestOperation are unchanged.
func (s *Server) SetDiskBusy(id, op string, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.instances[id]
	if !ok {
		return fmt.Errorf("tencenttest: no instance %s", id)
	}
	in.diskOp, in.diskOpUntil = op, s.clk.Now().Add(d)
	return nil
}

// ReplaceSystemDisk gives the instance a new system disk, as reinstalling
// its image does, and returns the new disk's ID. Snapshots of the old disk
// stay, but ApplyInstanceSnapshot with one answers
// ResourceNotFound.DiskNotFound: Lighthouse rolls back only to the original
// disk.
func (s *Server) ReplaceSystemDisk(id string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.instances[id]
	if !ok {
		return "", fmt.Errorf("tencenttest: no instance %s", id)
	}
	in.diskID = emulator.ResourceID("lhdisk-", 8)
	return in.diskID, nil
}

// SetDiskSize changes the size of an instance's system disk, so rollbacks to
// older snapshots answer InvalidParameterValue.DiskSizeNotMatch.
func (s *Server) SetDiskSize(id string, gb int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.instances[id]
	if !ok {
		return fmt.Errorf("tencenttest: no instance %s", id)
	}
	in.diskSize = gb
	return nil
}

// FailNextRollbacks makes the next n accepted rollbacks end FAILED.
func (s *Server) FailNextRollbacks(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failRollbacks = n
}

// Rollbacks returns how many rollbacks were applied (accepted), in total.
func (s *Server) Rollbacks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rollbacks
}

// RollbacksOf returns how many rollbacks were applied to one instance.
func (s *Server) RollbacksOf(instanceID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rollbacksOf[instanceID]
}

// Instance returns an instance as DescribeInstances would show it now.
func (s *Server) Instance(id string) (Instance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.instances[id]
	if !ok {
		return Instance{}, false
	}
	return in.public(s.clk.Now()), true
}

// Snapshot returns a snapshot as DescribeSnapshots would show it now.
func (s *Server) Snapshot(id string) (Snapshot, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sn, ok := s.snapshots[id]
	if !ok {
		return Snapshot{}, false
	}
	return sn.public(s.clk.Now()), true
}

func (in *instance) public(now time.Time) Instance {
	state, op := in.view(now)
	v := Instance{
		ID: in.id, Region: in.region, Name: in.name, State: state,
		DiskID: in.diskID, DiskSize: in.diskSize, DiskType: in.diskType,
		LatestOperation: op.name, LatestOperationState: op.state, LatestOperationRequestID: op.requestID,
		PrivateIP: in.privateIP, PublicIP: in.publicIP, CreatedTime: in.created,
		ExpiredTime: in.expires,
	}
	if in.expired(now) {
		// Isolated: shut down until renewed.
		v.IsolatedTime = in.expires
		if v.State != StateTerminating {
			v.State = StateShutdown
		}
	}
	return v
}

func (sn *snapshot) public(now time.Time) Snapshot {
	state, op := sn.view(now)
	return Snapshot{
		ID: sn.id, Region: sn.region, Name: sn.name, InstanceID: sn.instanceID,
		DiskID: sn.diskID, DiskSize: sn.diskSize, State: state, Percent: sn.resource.percent(now, sn.percent),
		LatestOperation: op.name, LatestOperationState: op.state, LatestOperationRequestID: op.requestID,
		CreatedTime: sn.created,
	}
}

const timeFormat = "2006-01-02T15:04:05Z"

// nullable returns nil for "" so the JSON says null, as the cloud does for
// fields it cannot fill.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// json is the DescribeInstances shape of v20200324.Instance.
func (in *instance) json(now time.Time) map[string]any {
	v := in.shown(now)
	var isolated any
	if !v.IsolatedTime.IsZero() {
		isolated = v.IsolatedTime.UTC().Format(timeFormat)
	}
	return map[string]any{
		"InstanceId":               v.ID,
		"BundleId":                 "bundle_gen_01",
		"BlueprintId":              "lhbp-emulator",
		"CPU":                      2,
		"Memory":                   4,
		"InstanceName":             v.Name,
		"InstanceChargeType":       "PREPAID",
		"SystemDisk":               map[string]any{"DiskType": v.DiskType, "DiskSize": v.DiskSize, "DiskId": v.DiskID},
		"PrivateAddresses":         []string{v.PrivateIP},
		"PublicAddresses":          []string{v.PublicIP},
		"InternetAccessible":       map[string]any{"InternetChargeType": "TRAFFIC_POSTPAID_BY_HOUR", "InternetMaxBandwidthOut": 5, "PublicIpAssigned": true},
		"RenewFlag":                "NOTIFY_AND_MANUAL_RENEW",
		"LoginSettings":            map[string]any{"KeyIds": []string{}},
		"InstanceState":            v.State,
		"Uuid":                     in.uuid,
		"LatestOperation":          nullable(v.LatestOperation),
		"LatestOperationState":     nullable(v.LatestOperationState),
		"LatestOperationRequestId": nullable(v.LatestOperationRequestID),
		"IsolatedTime":             isolated,
		"CreatedTime":              v.CreatedTime.UTC().Format(timeFormat),
		"ExpiredTime":              v.ExpiredTime.UTC().Format(timeFormat),
		"PlatformType":             "LINUX_UNIX",
		"Platform":                 "CENTOS",
		"OsName":                   "CentOS 8.2 64bit",
	}
}

// json is the DescribeSnapshots shape of v20200324.Snapshot, plus the
// InstanceId that later API versions return (v1.0.162 ignores it).
func (sn *snapshot) json(now time.Time) map[string]any {
	v := sn.shown(now)
	return map[string]any{
		"SnapshotId":               v.ID,
		"DiskUsage":                "SYSTEM_DISK",
		"DiskId":                   v.DiskID,
		"DiskSize":                 v.DiskSize,
		"SnapshotName":             v.Name,
		"SnapshotState":            v.State,
		"Percent":                  v.Percent,
		"LatestOperation":          nullable(v.LatestOperation),
		"LatestOperationState":     nullable(v.LatestOperationState),
		"LatestOperationRequestId": nullable(v.LatestOperationRequestID),
		"CreatedTime":              v.CreatedTime.UTC().Format(timeFormat),
		"InstanceId":               v.InstanceID,
	}
}

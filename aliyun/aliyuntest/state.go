package aliyuntest

import (
	"sort"
	"time"
)

// Native states, as SWAS spells them.
const (
	StatusPending   = "Pending"
	StatusStarting  = "Starting"
	StatusRunning   = "Running"
	StatusStopping  = "Stopping"
	StatusStopped   = "Stopped"
	StatusResetting = "Resetting"
	StatusUpgrading = "Upgrading"
	StatusDisabled  = "Disabled"

	DiskInUse     = "In_use"
	DiskReIniting = "ReIniting"

	SnapshotProgressing  = "Progressing"
	SnapshotAccomplished = "Accomplished"
	SnapshotFailed       = "Failed"
)

// state is everything the server knows. Timed changes are stored as
// deadlines and applied lazily by settle, so no goroutine ever runs in the
// background and a virtual clock fully decides what callers see.
type state struct {
	seq       int
	instances map[string]*instance
	disks     map[string]*disk
	snapshots map[string]*snapshot

	rollbacks       int
	rollbacksByDisk map[string]int
	failRollbacks   int

	// now is the time of the last settle: reads are answered as of it.
	now time.Time
	// readLag hides changes from reads for this long (SetReadLag); lags
	// holds the hidden ones by resource key (see view).
	readLag time.Duration
	lags    map[string][]lagView
	// tags are the resources' tags by "instance/<id>", "disk/<id>",
	// "snapshot/<id>".
	tags map[string]map[string]string
}

type instance struct {
	seq        int
	id, region string
	name       string
	status     string
	uuid       string
	// What ListInstances reports and filters on.
	resourceGroup, chargeType, planType string
	publicIP, innerIP                   string
	created                             time.Time
	expires                             time.Time // Disabled (expired) from then on
	systemDisk                          string
	dataDisks                           []string
	trans                               *transition
}

// transition is a pending automatic change: at until, finish runs with
// until as its time (not the time someone happened to look).
type transition struct {
	until  time.Time
	finish func(at time.Time)
}

type disk struct {
	seq        int
	id, region string
	instanceID string
	system     bool
	sizeGB     int
	status     string
	created    time.Time
}

type snapshot struct {
	seq          int
	id, region   string
	name         string
	diskID       string
	system       bool
	instanceID   string // the disk's instance when the snapshot was taken
	status       string
	created      time.Time
	done         time.Time // when a Progressing snapshot becomes Accomplished
	rollbackTime time.Time
}

func newState() *state {
	return &state{
		instances:       make(map[string]*instance),
		disks:           make(map[string]*disk),
		snapshots:       make(map[string]*snapshot),
		rollbacksByDisk: make(map[string]int),
		lags:            make(map[string][]lagView),
		tags:            make(map[string]map[string]string),
	}
}

func (st *state) next() int { st.seq++; return st.seq }

// settle applies every change due by now, oldest first.
func (st *state) settle(now time.Time) {
	st.now = now
	var due []*instance
	for _, in := range st.instances {
		if in.trans != nil && !now.Before(in.trans.until) {
			due = append(due, in)
		}
	}
	sort.Slice(due, func(i, j int) bool { return due[i].trans.until.Before(due[j].trans.until) })
	for _, in := range due {
		t := in.trans
		in.trans = nil
		// The end of an operation is a change too: with a read lag, reads
		// see it (a rollback's RollbackTime above all) lag later.
		before := st.views(t.until)
		t.finish(t.until)
		st.hide(before, t.until)
	}
	for _, in := range st.instances {
		// An expired subscription disables the server, whatever it was
		// doing; nothing but a renewal (not emulated) brings it back.
		if !in.expires.IsZero() && !now.Before(in.expires) && in.status != StatusDisabled {
			in.status, in.trans = StatusDisabled, nil
		}
	}
	for _, sn := range st.snapshots {
		if sn.status == SnapshotProgressing && !now.Before(sn.done) {
			sn.status = SnapshotAccomplished
		}
	}
}

// progress is the snapshot's creation progress at now, 0 to 100.
func (sn *snapshot) progress(now time.Time) int {
	switch sn.status {
	case SnapshotAccomplished:
		return 100
	case SnapshotProgressing:
		total := sn.done.Sub(sn.created)
		if total <= 0 {
			return 99
		}
		p := int(now.Sub(sn.created) * 100 / total)
		return min(max(p, 0), 99)
	}
	return 0
}

func (sn *snapshot) diskType() string {
	if sn.system {
		return "System"
	}
	return "Data"
}

func (d *disk) diskType() string {
	if d.system {
		return "System"
	}
	return "Data"
}

// instance returns the instance id of region, or nil.
func (st *state) instance(region, id string) *instance {
	if in := st.instances[id]; in != nil && in.region == region {
		return in
	}
	return nil
}

func (st *state) disk(region, id string) *disk {
	if d := st.disks[id]; d != nil && d.region == region {
		return d
	}
	return nil
}

func (st *state) snapshot(region, id string) *snapshot {
	if sn := st.snapshots[id]; sn != nil && sn.region == region {
		return sn
	}
	return nil
}

// snapshotsOf counts the snapshots of an instance's disks.
func (st *state) snapshotsOf(instanceID string) int {
	n := 0
	for _, sn := range st.snapshots {
		if d := st.disks[sn.diskID]; d != nil && d.instanceID == instanceID {
			n++
		}
	}
	return n
}

// sorted returns the values of m in creation order.
func sorted[T any](m map[string]T, seq func(T) int) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return seq(out[i]) < seq(out[j]) })
	return out
}

package aliyun_test

import (
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/provider"
)

func TestInstanceStates(t *testing.T) {
	e := newEnv(t, nil)
	cases := []struct {
		native string
		state  rollback.InstanceState
		busy   bool
	}{
		{aliyuntest.StatusRunning, rollback.InstanceRunning, false},
		{aliyuntest.StatusStopped, rollback.InstanceStopped, false},
		{aliyuntest.StatusStarting, rollback.InstanceStarting, true},
		{aliyuntest.StatusStopping, rollback.InstanceStopping, true},
		{aliyuntest.StatusResetting, rollback.InstanceRollingBack, true},
		{aliyuntest.StatusPending, rollback.InstancePending, true},
		{aliyuntest.StatusUpgrading, rollback.InstanceBusy, true},
		{aliyuntest.StatusDisabled, rollback.InstanceUnavailable, false},
	}
	for _, tc := range cases {
		t.Run(tc.native, func(t *testing.T) {
			if err := e.srv.SetInstanceStatus(e.in.ID, tc.native); err != nil {
				t.Fatal(err)
			}
			in, err := e.c.Instance(e.ctx, e.srv.Region(), e.in.ID)
			if err != nil {
				t.Fatal(err)
			}
			if in.State != tc.state || in.Busy != tc.busy || in.NativeState != tc.native {
				t.Errorf("got %s busy=%v native=%s", in.State, in.Busy, in.NativeState)
			}
			if in.ID != e.in.ID || in.SystemDiskID != e.in.SystemDiskID || in.Provider != "aliyun" || in.Region != e.srv.Region() || in.Name == "" {
				t.Errorf("instance = %+v", in)
			}
		})
	}
	_, err := e.c.Instance(e.ctx, e.srv.Region(), "0123456789abcdef0123456789abcdef")
	re := asError(t, err, rollback.ErrInstanceNotFound)
	if re.Op != "ListInstances" || re.RequestID == "" {
		t.Errorf("not found error = %+v", re)
	}
}

func TestInstancesAreBatched(t *testing.T) {
	e := newEnv(t, nil)
	ids := []string{e.in.ID}
	for range 249 {
		ids = append(ids, aliyuntest.Must(e.srv.AddInstance(aliyuntest.InstanceSpec{})).ID)
	}
	e.srv.Journal().Reset()
	got, err := e.c.Instances(e.ctx, e.srv.Region(), append(ids, "ffffffffffffffffffffffffffffffff", ids[0]))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 250 {
		t.Fatalf("%d instances, want 250 (the unknown one absent, the duplicate once)", len(got))
	}
	if n := e.srv.Calls(aliyuntest.ActionListInstances); n != 3 {
		t.Errorf("%d ListInstances calls for 251 IDs, want 3", n)
	}
	if got[0].SystemDiskID == "" {
		t.Errorf("SystemDiskID missing: %+v", got[0])
	}
	if got, err := e.c.Instances(e.ctx, e.srv.Region(), nil); err != nil || len(got) != 0 || e.srv.Calls(aliyuntest.ActionListInstances) != 3 {
		t.Errorf("no IDs: %v, %v", got, err)
	}
}

func TestSnapshotNormalized(t *testing.T) {
	e := newEnv(t, []aliyuntest.Option{aliyuntest.WithDurations(aliyuntest.Durations{CreateSnapshot: 100 * time.Second})})
	in := aliyuntest.Must(e.srv.AddInstance(aliyuntest.InstanceSpec{DataDiskIDs: []string{""}}))
	creating := aliyuntest.Must(e.srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: in.DataDiskIDs[0], Status: aliyuntest.SnapshotProgressing, Name: "data"}))
	failed := aliyuntest.Must(e.srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: in.SystemDiskID, Status: aliyuntest.SnapshotFailed}))
	e.clk.Advance(40 * time.Second)

	s, err := e.c.Snapshot(e.ctx, e.srv.Region(), creating.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s.State != rollback.SnapshotCreating || s.Progress != 40 || s.DiskID != in.DataDiskIDs[0] || s.InstanceID != "" || s.Name != "data" || s.NativeState != "Progressing" {
		t.Errorf("creating = %+v", s)
	}
	if !s.CreatedAt.Equal(creating.CreatedAt) {
		t.Errorf("CreatedAt = %v, want %v", s.CreatedAt, creating.CreatedAt)
	}
	s, err = e.c.Snapshot(e.ctx, e.srv.Region(), failed.ID)
	if err != nil || s.State != rollback.SnapshotFailed || s.InstanceID != in.ID {
		t.Errorf("failed = %+v, %v", s, err)
	}
	s, err = e.c.Snapshot(e.ctx, e.srv.Region(), e.snap.ID)
	if err != nil || s.State != rollback.SnapshotReady || s.Progress != 100 || s.InstanceID != e.in.ID || !s.LastRollbackAt.IsZero() {
		t.Errorf("ready = %+v, %v", s, err)
	}
	_, err = e.c.Snapshot(e.ctx, e.srv.Region(), "s-nothere")
	asError(t, err, rollback.ErrSnapshotNotFound)
}

func TestDisk(t *testing.T) {
	e := newEnv(t, nil)
	in := aliyuntest.Must(e.srv.AddInstance(aliyuntest.InstanceSpec{DataDiskIDs: []string{"d-data"}, SystemDiskSizeGB: 80}))
	var di provider.DiskInspector = e.c
	d, err := di.Disk(e.ctx, e.srv.Region(), in.SystemDiskID)
	if err != nil || !d.System || d.InstanceID != in.ID || d.SizeGB != 80 || d.Busy || d.NativeState != "In_use" {
		t.Errorf("system disk = %+v, %v", d, err)
	}
	d, err = di.Disk(e.ctx, e.srv.Region(), "d-data")
	if err != nil || d.System || d.InstanceID != in.ID {
		t.Errorf("data disk = %+v, %v", d, err)
	}
	if _, err := e.c.Rollback(e.ctx, e.request()); err != nil {
		t.Fatal(err)
	}
	d, err = di.Disk(e.ctx, e.srv.Region(), e.in.SystemDiskID)
	if err != nil || !d.Busy || d.NativeState != "ReIniting" {
		t.Errorf("disk during rollback = %+v, %v", d, err)
	}
	_, err = di.Disk(e.ctx, e.srv.Region(), "d-nothere")
	asError(t, err, rollback.ErrDiskNotFound)
}

func TestStopStartAndSnapshot(t *testing.T) {
	e := newEnv(t, []aliyuntest.Option{aliyuntest.WithSnapshotQuota(2)})
	region, id := e.srv.Region(), e.in.ID
	if err := e.c.StartInstance(e.ctx, region, id); err != nil {
		t.Fatal(err)
	}
	if v, _ := e.srv.Instance(id); v.Status != aliyuntest.StatusStarting {
		t.Fatalf("after StartInstance: %s", v.Status)
	}
	asError(t, e.c.StartInstance(e.ctx, region, id), rollback.ErrInstanceState)
	e.clk.Advance(e.srv.Durations().Start)
	// A fault on the first StopInstance: the retry reuses its token.
	e.srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionStopInstance, DropResponse: true})
	if err := e.c.StopInstance(e.ctx, region, id); err != nil {
		t.Fatal(err)
	}
	stops := e.entries(aliyuntest.ActionStopInstance)
	if len(stops) != 2 || stops[0].Params["ClientToken"] == "" || stops[0].Params["ClientToken"] != stops[1].Params["ClientToken"] {
		t.Errorf("StopInstance calls = %+v", stops)
	}
	if v, _ := e.srv.Instance(id); v.Status != aliyuntest.StatusStopping {
		t.Fatalf("after StopInstance: %s", v.Status)
	}
	asError(t, e.c.StopInstance(e.ctx, region, "ffffffffffffffffffffffffffffffff"), rollback.ErrInstanceNotFound)

	e.clk.Advance(e.srv.Durations().Stop)
	snap, err := e.c.CreateSnapshot(e.ctx, region, id, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if snap.State != rollback.SnapshotCreating || snap.DiskID != e.in.SystemDiskID || snap.InstanceID != id || snap.Name == "" {
		t.Errorf("new snapshot = %+v", snap)
	}
	created := e.entries(aliyuntest.ActionCreateSnapshot)
	if len(created) != 1 || created[0].Params["ClientToken"] == "" || created[0].Params["SnapshotName"] != snap.Name {
		t.Errorf("CreateSnapshot calls = %+v", created)
	}
	// The fixture's snapshot and this one fill a quota of 2.
	_, err = e.c.CreateSnapshot(e.ctx, region, "", e.in.SystemDiskID, "third")
	re := asError(t, err, rollback.ErrQuotaExceeded)
	if re.Code != "QuotaExceed.Snapshot" {
		t.Errorf("quota error = %+v", re)
	}
	_, err = e.c.CreateSnapshot(e.ctx, region, "", "d-nothere", "x1")
	asError(t, err, rollback.ErrDiskNotFound)
}

func TestProviderInterfaces(t *testing.T) {
	e := newEnv(t, nil)
	var (
		p  rollback.Provider       = e.c
		bi provider.BatchInspector = e.c
	)
	if _, err := p.Instance(e.ctx, e.srv.Region(), e.in.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := bi.Instances(e.ctx, e.srv.Region(), []string{e.in.ID}); err != nil || len(got) != 1 {
		t.Fatalf("%v, %v", got, err)
	}
}

// An older API reply without Disks: Instance finds the system disk with
// ListDisks.
func TestInstanceWithoutDisksLooksUpSystemDisk(t *testing.T) {
	e := newEnv(t, nil)
	canned := `{"RequestId":"C0FFEE00-0000-4000-8000-000000000000","TotalCount":1,"PageSize":100,"PageNumber":1,` +
		`"Instances":[{"InstanceId":"` + e.in.ID + `","Status":"Stopped","RegionId":"` + e.srv.Region() + `"}]}`
	e.srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionListInstances, Body: canned, HTTPStatus: 200})
	in, err := e.c.Instance(e.ctx, e.srv.Region(), e.in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if in.SystemDiskID != e.in.SystemDiskID || in.State != rollback.InstanceStopped {
		t.Errorf("instance = %+v", in)
	}
	disks := e.entries(aliyuntest.ActionListDisks)
	if len(disks) != 1 || disks[0].Params["InstanceId"] != e.in.ID {
		t.Errorf("ListDisks calls = %+v", disks)
	}
}

func TestSnapshotsAreBatched(t *testing.T) {
	e := newEnv(t, []aliyuntest.Option{aliyuntest.WithSnapshotQuota(-1)})
	ids := []string{e.snap.ID}
	for range 149 {
		ids = append(ids, aliyuntest.Must(e.srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: e.in.SystemDiskID})).ID)
	}
	e.srv.Journal().Reset()
	var bi provider.BatchSnapshotInspector = e.c
	got, err := bi.Snapshots(e.ctx, e.srv.Region(), append(ids, "s-nothere", ids[1]))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 150 {
		t.Fatalf("%d snapshots, want 150", len(got))
	}
	if n := e.srv.Calls(aliyuntest.ActionListSnapshots); n != 2 {
		t.Errorf("%d ListSnapshots calls for 152 IDs, want 2", n)
	}
	if got[0].State != rollback.SnapshotReady || got[0].DiskID != e.in.SystemDiskID {
		t.Errorf("snapshot = %+v", got[0])
	}
	_, err = bi.Snapshots(e.ctx, e.srv.Region(), []string{"d-wrong"})
	asError(t, err, rollback.ErrInvalidArgument)
}

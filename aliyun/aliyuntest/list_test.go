package aliyuntest

import (
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	swas "github.com/aliyun/alibaba-cloud-sdk-go/services/swas-open"
)

func TestListInstancesPagingAndFilters(t *testing.T) {
	f := newFixture(t)
	ids := []string{f.in.ID}
	for i := range 24 {
		st := StatusRunning
		if i%2 == 0 {
			st = StatusStopped
		}
		ids = append(ids, Must(f.srv.AddInstance(InstanceSpec{Status: st})).ID)
	}
	var seen []string
	for pg := 1; pg <= 3; pg++ {
		req := swas.CreateListInstancesRequest()
		req.PageSize, req.PageNumber = requests.NewInteger(10), requests.NewInteger(pg)
		resp, err := f.sdk.ListInstances(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.TotalCount != 25 || resp.PageNumber != pg || resp.PageSize != 10 {
			t.Fatalf("page %d: total %d number %d size %d", pg, resp.TotalCount, resp.PageNumber, resp.PageSize)
		}
		for _, in := range resp.Instances {
			seen = append(seen, in.InstanceId)
		}
	}
	if len(seen) != 25 || seen[0] != ids[0] || seen[24] != ids[24] {
		t.Fatalf("paged through %d instances: %v", len(seen), seen)
	}

	req := swas.CreateListInstancesRequest()
	req.InstanceIds = jsonList(ids[3], ids[7], "nonexistent")
	resp, err := f.sdk.ListInstances(req)
	if err != nil || resp.TotalCount != 2 || len(resp.Instances) != 2 {
		t.Fatalf("by IDs: %+v, %v", resp, err)
	}
	in := resp.Instances[0]
	if in.InstanceId != ids[3] || len(in.Disks) != 1 || in.Disks[0].DiskType != "System" || in.RegionId != DefaultRegion || in.CreationTime == "" {
		t.Errorf("instance = %+v", in)
	}

	req = swas.CreateListInstancesRequest()
	req.Status, req.PageSize = StatusStopped, requests.NewInteger(100)
	resp, err = f.sdk.ListInstances(req)
	if err != nil || resp.TotalCount != 13 {
		t.Fatalf("Stopped filter: %d, %v", resp.TotalCount, err)
	}

	st := swas.CreateListInstanceStatusRequest()
	st.InstanceIds = jsonList(ids[1], ids[2])
	sresp, err := f.sdk.ListInstanceStatus(st)
	if err != nil || len(sresp.InstanceStatuses) != 2 || sresp.InstanceStatuses[0].Status != StatusStopped || sresp.InstanceStatuses[1].Status != StatusRunning {
		t.Fatalf("ListInstanceStatus = %+v, %v", sresp, err)
	}

	// A page past the end is empty, not an error.
	req = swas.CreateListInstancesRequest()
	req.PageNumber = requests.NewInteger(9)
	resp, err = f.sdk.ListInstances(req)
	if err != nil || len(resp.Instances) != 0 || resp.TotalCount != 25 {
		t.Fatalf("page 9: %+v, %v", resp, err)
	}
}

func TestListDisksAndSnapshotsFilters(t *testing.T) {
	f := newFixture(t)
	in := Must(f.srv.AddInstance(InstanceSpec{Status: StatusStopped, DataDiskIDs: []string{"d-data1", ""}}))
	dataSnap := Must(f.srv.AddSnapshot(SnapshotSpec{DiskID: "d-data1"}))
	sysSnap := Must(f.srv.AddSnapshot(SnapshotSpec{DiskID: in.SystemDiskID, Name: "sys"}))

	dreq := swas.CreateListDisksRequest()
	dreq.InstanceId = in.ID
	disks, err := f.sdk.ListDisks(dreq)
	if err != nil || disks.TotalCount != 3 {
		t.Fatalf("disks of instance: %+v, %v", disks, err)
	}
	dreq = swas.CreateListDisksRequest()
	dreq.InstanceId, dreq.DiskType = in.ID, "system" // lower case, as the docs spell it
	disks, err = f.sdk.ListDisks(dreq)
	if err != nil || len(disks.Disks) != 1 || disks.Disks[0].DiskId != in.SystemDiskID || disks.Disks[0].InstanceId != in.ID {
		t.Fatalf("system disk: %+v, %v", disks, err)
	}
	dreq = swas.CreateListDisksRequest()
	dreq.DiskIds = jsonList("d-data1")
	disks, err = f.sdk.ListDisks(dreq)
	if err != nil || len(disks.Disks) != 1 || disks.Disks[0].DiskType != "Data" || disks.Disks[0].Size != 100 {
		t.Fatalf("by ID: %+v, %v", disks, err)
	}

	sreq := swas.CreateListSnapshotsRequest()
	sreq.InstanceId = in.ID
	snaps, err := f.sdk.ListSnapshots(sreq)
	if err != nil || snaps.TotalCount != 2 {
		t.Fatalf("snapshots of instance: %+v, %v", snaps, err)
	}
	for _, s := range snaps.Snapshots {
		switch s.SnapshotId {
		case dataSnap.ID:
			if s.InstanceId != "" || s.SourceDiskType != "Data" || s.SourceDiskId != "d-data1" {
				t.Errorf("data-disk snapshot = %+v (InstanceId is reported for system disks only)", s)
			}
		case sysSnap.ID:
			if s.InstanceId != in.ID || s.SourceDiskType != "System" || s.SnapshotName != "sys" || s.Progress != "100%" || s.Status != SnapshotAccomplished {
				t.Errorf("system-disk snapshot = %+v", s)
			}
		default:
			t.Errorf("unexpected snapshot %s", s.SnapshotId)
		}
	}
	sreq = swas.CreateListSnapshotsRequest()
	sreq.DiskId = in.SystemDiskID
	snaps, err = f.sdk.ListSnapshots(sreq)
	if err != nil || len(snaps.Snapshots) != 1 || snaps.Snapshots[0].SnapshotId != sysSnap.ID {
		t.Fatalf("by disk: %+v, %v", snaps, err)
	}
	sreq = swas.CreateListSnapshotsRequest()
	sreq.SnapshotIds = jsonList(f.snap.ID, dataSnap.ID)
	sreq.SourceDiskType = "Data"
	snaps, err = f.sdk.ListSnapshots(sreq)
	if err != nil || len(snaps.Snapshots) != 1 || snaps.Snapshots[0].SnapshotId != dataSnap.ID {
		t.Fatalf("by IDs and type: %+v, %v", snaps, err)
	}
	sreq = swas.CreateListSnapshotsRequest()
	sreq.SnapshotIds = "not json"
	_, err = f.sdk.ListSnapshots(sreq)
	serverError(t, err, "InvalidParameter.SnapshotIds", 400)
}

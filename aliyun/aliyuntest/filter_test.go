package aliyuntest

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	swas "github.com/aliyun/alibaba-cloud-sdk-go/services/swas-open"
)

// instanceIDs lists the instances a ListInstances request finds.
func instanceIDs(t *testing.T, f *fixture, req *swas.ListInstancesRequest) []string {
	t.Helper()
	req.PageSize = requests.NewInteger(100)
	resp, err := f.sdk.ListInstances(req)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, in := range resp.Instances {
		ids = append(ids, in.InstanceId)
	}
	return ids
}

// Every filter of ListInstances narrows the list. Before, Tag, ChargeType,
// ResourceGroupId, PlanType and PublicIpAddresses were ignored, so a test
// scoped to a tag saw every server and passed when it should not have.
func TestListInstancesFilters(t *testing.T) {
	f := newFixture(t)
	web := Must(f.srv.AddInstance(InstanceSpec{Tags: map[string]string{"team": "web", "env": "prod"}}))
	api := Must(f.srv.AddInstance(InstanceSpec{Tags: map[string]string{"team": "api", "env": "prod"},
		ChargeType: "PostPaid", ResourceGroupID: "rg-other", PlanType: "CAPACITY", PublicIP: "47.96.200.9"}))
	all := []string{f.in.ID, web.ID, api.ID}

	tag := func(kv ...string) *swas.ListInstancesRequest {
		req := swas.CreateListInstancesRequest()
		var tags []swas.ListInstancesTag
		for i := 0; i < len(kv); i += 2 {
			tags = append(tags, swas.ListInstancesTag{Key: kv[i], Value: kv[i+1]})
		}
		req.Tag = &tags
		return req
	}
	tests := []struct {
		name string
		req  *swas.ListInstancesRequest
		want []string
	}{
		{"no filter", swas.CreateListInstancesRequest(), all},
		{"tag key and value", tag("team", "web"), []string{web.ID}},
		{"tag key, any value", tag("env", ""), []string{web.ID, api.ID}},
		{"every tag must match", tag("env", "prod", "team", "api"), []string{api.ID}},
		{"no server has the tag", tag("team", "db"), nil},
		{"charge type", func() *swas.ListInstancesRequest {
			r := swas.CreateListInstancesRequest()
			r.ChargeType = "PostPaid"
			return r
		}(), []string{api.ID}},
		{"resource group", func() *swas.ListInstancesRequest {
			r := swas.CreateListInstancesRequest()
			r.ResourceGroupId = DefaultResourceGroupID
			return r
		}(), []string{f.in.ID, web.ID}},
		{"plan type", func() *swas.ListInstancesRequest {
			r := swas.CreateListInstancesRequest()
			r.PlanType = "CAPACITY"
			return r
		}(), []string{api.ID}},
		{"public IP", func() *swas.ListInstancesRequest {
			r := swas.CreateListInstancesRequest()
			r.PublicIpAddresses = jsonList("47.96.200.9", "203.0.113.1")
			return r
		}(), []string{api.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := instanceIDs(t, f, tt.req); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}

	// A tag added over the API counts too.
	req := swas.CreateTagResourcesRequest()
	req.ResourceType, req.ResourceId = "instance", &[]string{f.in.ID}
	req.Tag = &[]swas.TagResourcesTag{{Key: "team", Value: "web"}}
	if _, err := f.sdk.TagResources(req); err != nil {
		t.Fatal(err)
	}
	if got := instanceIDs(t, f, tag("team", "web")); !slices.Equal(got, []string{f.in.ID, web.ID}) {
		t.Errorf("after TagResources: %v", got)
	}
}

// The instance carries the SDK model's fields.
func TestListInstancesModelFields(t *testing.T) {
	f := newFixture(t)
	in := Must(f.srv.AddInstance(InstanceSpec{Tags: map[string]string{"team": "web"}}))
	req := swas.CreateListInstancesRequest()
	req.InstanceIds = jsonList(in.ID)
	resp, err := f.sdk.ListInstances(req)
	if err != nil || len(resp.Instances) != 1 {
		t.Fatalf("%+v, %v", resp, err)
	}
	got := resp.Instances[0]
	if len(got.Uuid) != 36 || got.ResourceGroupId != DefaultResourceGroupID || got.PlanType != "NORMAL" ||
		got.ChargeType != "PrePaid" || got.DdosStatus == "" || got.ImageId == "" || got.Image.ImageId != got.ImageId ||
		got.Image.OsType == "" || got.ResourceSpec.Cpu == 0 || got.ResourceSpec.DiskSize != 40 {
		t.Errorf("instance = %+v", got)
	}
	if len(got.NetworkAttributes) != 1 || got.NetworkAttributes[0].PublicIpAddress != got.PublicIpAddress ||
		got.NetworkAttributes[0].PrivateIpAddress != got.InnerIpAddress {
		t.Errorf("network = %+v", got.NetworkAttributes)
	}
	if len(got.Tags) != 1 || got.Tags[0].Key != "team" || got.Tags[0].Value != "web" {
		t.Errorf("tags = %+v", got.Tags)
	}
	if len(got.Disks) != 1 || got.Disks[0].ResourceGroupId != DefaultResourceGroupID {
		t.Errorf("disks = %+v", got.Disks)
	}
}

// ListDisks and ListSnapshots honour Tag and ResourceGroupId.
func TestListDisksAndSnapshotsTagAndGroupFilters(t *testing.T) {
	f := newFixture(t)
	other := Must(f.srv.AddInstance(InstanceSpec{ResourceGroupID: "rg-other"}))
	otherSnap := Must(f.srv.AddSnapshot(SnapshotSpec{DiskID: other.SystemDiskID}))
	tr := swas.CreateTagResourcesRequest()
	tr.ResourceType, tr.ResourceId = "snapshot", &[]string{f.snap.ID}
	tr.Tag = &[]swas.TagResourcesTag{{Key: "keep", Value: "yes"}}
	if _, err := f.sdk.TagResources(tr); err != nil {
		t.Fatal(err)
	}

	sr := swas.CreateListSnapshotsRequest()
	sr.Tag = &[]swas.ListSnapshotsTag{{Key: "keep", Value: "yes"}}
	sresp, err := f.sdk.ListSnapshots(sr)
	if err != nil || len(sresp.Snapshots) != 1 || sresp.Snapshots[0].SnapshotId != f.snap.ID {
		t.Errorf("snapshots by tag: %+v, %v", sresp, err)
	}
	sr = swas.CreateListSnapshotsRequest()
	sr.ResourceGroupId = "rg-other"
	sresp, err = f.sdk.ListSnapshots(sr)
	if err != nil || len(sresp.Snapshots) != 1 || sresp.Snapshots[0].SnapshotId != otherSnap.ID || sresp.Snapshots[0].ResourceGroupId != "rg-other" {
		t.Errorf("snapshots by resource group: %+v, %v", sresp, err)
	}
	sr = swas.CreateListSnapshotsRequest()
	sr.SourceDiskType = "Floppy"
	_, err = f.sdk.ListSnapshots(sr)
	serverError(t, err, "InvalidParameter.SourceDiskType", http.StatusBadRequest)

	dr := swas.CreateListDisksRequest()
	dr.ResourceGroupId = "rg-other"
	dresp, err := f.sdk.ListDisks(dr)
	if err != nil || len(dresp.Disks) != 1 || dresp.Disks[0].DiskId != other.SystemDiskID {
		t.Errorf("disks by resource group: %+v, %v", dresp, err)
	}
	dr = swas.CreateListDisksRequest()
	dr.Tag = &[]swas.ListDisksTag{{Key: "keep", Value: ""}}
	dresp, err = f.sdk.ListDisks(dr)
	if err != nil || len(dresp.Disks) != 0 {
		t.Errorf("disks by a tag no disk has: %+v, %v", dresp, err)
	}
}

// A filter the emulator does not know, and a bad value of one it does, are
// refused with InvalidParameter.<Name>, never ignored.
func TestListFiltersRefused(t *testing.T) {
	f := newFixture(t)
	req := swas.CreateListInstancesRequest()
	req.ChargeType = "Free"
	_, err := f.sdk.ListInstances(req)
	serverError(t, err, "InvalidParameter.ChargeType", http.StatusBadRequest)

	req = swas.CreateListInstancesRequest()
	req.Tag = &[]swas.ListInstancesTag{{Key: "", Value: "web"}}
	_, err = f.sdk.ListInstances(req)
	serverError(t, err, "InvalidParameter.Tag.N.Key", http.StatusBadRequest)

	for action, param := range map[string]string{
		ActionListInstances: "Zone", ActionListInstanceStatus: "Status", ActionListDisks: "Category", ActionListSnapshots: "SnapshotName",
	} {
		r := rawDo(t, f.srv, http.MethodPost, signedParams(f.srv, http.MethodPost, action, map[string]string{param: "x"}, nil))
		if r.status != http.StatusBadRequest || r.code() != "InvalidParameter."+param {
			t.Errorf("%s with %s: %d %s", action, param, r.status, r.code())
		}
	}
}

// A server past its ExpiredTime is Disabled (Expired), and a rollback of its
// disk is refused from that state.
func TestExpiredServerIsDisabled(t *testing.T) {
	f := newFixture(t)
	now := f.srv.Clock().Now()
	in := Must(f.srv.AddInstance(InstanceSpec{Status: StatusStopped, ExpiredTime: now.Add(time.Hour)}))
	snap := Must(f.srv.AddSnapshot(SnapshotSpec{DiskID: in.SystemDiskID}))
	f.clk.Advance(2 * time.Hour)
	req := swas.CreateListInstancesRequest()
	req.InstanceIds = jsonList(in.ID)
	resp, err := f.sdk.ListInstances(req)
	if err != nil || len(resp.Instances) != 1 {
		t.Fatalf("%+v, %v", resp, err)
	}
	got := resp.Instances[0]
	if got.Status != StatusDisabled || got.BusinessStatus != "Expired" || got.DisableReason != "EXPIRED" ||
		got.ExpiredTime != now.Add(time.Hour).UTC().Format(timeFormat) {
		t.Errorf("instance = %+v", got)
	}
	_, err = f.resetDisk(in.SystemDiskID, snap.ID, "")
	serverError(t, err, "IncorrectInstanceStatus.ResetDisk", http.StatusForbidden)
}

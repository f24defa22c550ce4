package aliyuntest

import (
	"fmt"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	swas "github.com/aliyun/alibaba-cloud-sdk-go/services/swas-open"
)

func (f *fixture) tag(typ string, ids []string, kv ...string) error {
	req := swas.CreateTagResourcesRequest()
	req.ResourceType = typ
	req.ResourceId = &ids
	var tags []swas.TagResourcesTag
	for i := 0; i+1 < len(kv); i += 2 {
		tags = append(tags, swas.TagResourcesTag{Key: kv[i], Value: kv[i+1]})
	}
	req.Tag = &tags
	_, err := f.sdk.TagResources(req)
	return err
}

func (f *fixture) listTags(t *testing.T, typ string, ids []string, filter ...string) []swas.TagResource {
	t.Helper()
	req := swas.CreateListTagResourcesRequest()
	req.ResourceType = typ
	if ids != nil {
		req.ResourceId = &ids
	}
	if len(filter) > 0 {
		var tags []swas.ListTagResourcesTag
		for i := 0; i+1 < len(filter); i += 2 {
			tags = append(tags, swas.ListTagResourcesTag{Key: filter[i], Value: filter[i+1]})
		}
		req.Tag = &tags
	}
	var out []swas.TagResource
	for {
		resp, err := f.sdk.ListTagResources(req)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, resp.TagResources.TagResource...)
		if resp.NextToken == "" {
			return out
		}
		req.NextToken = resp.NextToken
	}
}

func TestTagsWriteReadAndRemove(t *testing.T) {
	f := newFixture(t)
	if err := f.tag("snapshot", []string{f.snap.ID}, "rollback-op", "key-1", "team", "a"); err != nil {
		t.Fatal(err)
	}
	// An existing key's value is replaced.
	if err := f.tag("snapshot", []string{f.snap.ID}, "team", "b"); err != nil {
		t.Fatal(err)
	}
	got := f.listTags(t, "snapshot", []string{f.snap.ID})
	want := []swas.TagResource{
		{ResourceType: "snapshot", ResourceId: f.snap.ID, TagKey: "rollback-op", TagValue: "key-1"},
		{ResourceType: "snapshot", ResourceId: f.snap.ID, TagKey: "team", TagValue: "b"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ListTagResources = %+v, want %+v", got, want)
	}
	if byTag := f.listTags(t, "snapshot", nil, "rollback-op", "key-1"); len(byTag) != 2 {
		t.Errorf("by tag: %+v", byTag)
	}
	if none := f.listTags(t, "snapshot", nil, "rollback-op", "key-2"); len(none) != 0 {
		t.Errorf("by another value: %+v", none)
	}
	// ListSnapshots reports the tags too.
	sq := swas.CreateListSnapshotsRequest()
	sq.SnapshotIds = jsonList(f.snap.ID)
	snaps, err := f.sdk.ListSnapshots(sq)
	if err != nil || len(snaps.Snapshots) != 1 || len(snaps.Snapshots[0].Tags) != 2 || snaps.Snapshots[0].Tags[0].Key != "rollback-op" {
		t.Fatalf("ListSnapshots tags: %+v, %v", snaps, err)
	}

	un := swas.CreateUntagResourcesRequest()
	un.ResourceType, un.ResourceId, un.TagKey = "snapshot", &[]string{f.snap.ID}, &[]string{"team", "absent"}
	if _, err := f.sdk.UntagResources(un); err != nil {
		t.Fatal(err)
	}
	if tags := f.srv.Tags("snapshot", f.snap.ID); len(tags) != 1 || tags["rollback-op"] != "key-1" {
		t.Errorf("after untag: %v", tags)
	}
	all := swas.CreateUntagResourcesRequest()
	all.ResourceType, all.ResourceId, all.All = "snapshot", &[]string{f.snap.ID}, requests.NewBoolean(true)
	if _, err := f.sdk.UntagResources(all); err != nil {
		t.Fatal(err)
	}
	if tags := f.srv.Tags("snapshot", f.snap.ID); len(tags) != 0 {
		t.Errorf("after All: %v", tags)
	}
}

func TestTagsOnInstancesAndDisksPage(t *testing.T) {
	f := newFixture(t)
	var ids []string
	for i := 0; i < 3; i++ {
		ids = append(ids, Must(f.srv.AddInstance(InstanceSpec{})).ID)
	}
	var kv []string
	for i := 0; i < MaxTagsPerResource; i++ {
		kv = append(kv, fmt.Sprintf("k%02d", i), "v")
	}
	if err := f.tag("instance", ids, kv...); err != nil {
		t.Fatal(err)
	}
	if got := f.listTags(t, "instance", ids); len(got) != 3*MaxTagsPerResource {
		t.Errorf("%d pairs over pages, want %d", len(got), 3*MaxTagsPerResource)
	}
	// A 21st tag is over the per-resource quota and changes nothing.
	serverError(t, f.tag("instance", ids, "one-more", "v"), "QuotaExceed.TagsPerResource", 400)
	if err := f.tag("disk", []string{f.in.SystemDiskID}, "d", "1"); err != nil {
		t.Fatal(err)
	}
	if got := f.listTags(t, "disk", nil, "d", ""); len(got) != 1 || got[0].ResourceId != f.in.SystemDiskID {
		t.Errorf("disk tags: %+v", got)
	}
}

func TestTagLimitsAndErrors(t *testing.T) {
	f := newFixture(t)
	snap := []string{f.snap.ID}
	serverError(t, f.tag("volume", snap, "k", "v"), "InvalidParameter.ResourceType", 400)
	serverError(t, f.tag("snapshot", []string{"s-nothere"}, "k", "v"), "InvalidResourceId.NotFound", 404)
	serverError(t, f.tag("instance", snap, "k", "v"), "InvalidResourceId.NotFound", 404)
	serverError(t, f.tag("snapshot", snap), "MissingTag", 400)
	serverError(t, f.tag("snapshot", snap, "aliyun-x", "v"), "InvalidTagKey.Malformed", 400)
	serverError(t, f.tag("snapshot", snap, "k", "v", "k", "w"), "Duplicate.TagKey", 400)
	serverError(t, f.tag("snapshot", snap, string(make([]byte, 65)), "v"), "InvalidTagKey.Malformed", 400)
	long := make([]byte, MaxTagValueLength+1)
	for i := range long {
		long[i] = 'x'
	}
	serverError(t, f.tag("snapshot", snap, "k", string(long)), "InvalidTagValue.Malformed", 400)
	var many []string
	for i := 0; i <= MaxTagResourceIDs; i++ {
		many = append(many, f.snap.ID+fmt.Sprint(i))
	}
	serverError(t, f.tag("snapshot", many, "k", "v"), "NumberExceed.ResourceIds", 400)
	var kv []string
	for i := 0; i <= MaxTagsPerCall; i++ {
		kv = append(kv, fmt.Sprint("k", i), "v")
	}
	serverError(t, f.tag("snapshot", snap, kv...), "NumberExceed.Tags", 400)

	req := swas.CreateListTagResourcesRequest()
	req.ResourceType = "snapshot"
	_, err := f.sdk.ListTagResources(req)
	serverError(t, err, "MissingParameter.ResourceIdOrTag", 400)
	req.ResourceId, req.NextToken = &snap, "garbage"
	_, err = f.sdk.ListTagResources(req)
	serverError(t, err, "InvalidNextToken", 400)

	un := swas.CreateUntagResourcesRequest()
	un.ResourceType, un.ResourceId = "snapshot", &snap
	_, err = f.sdk.UntagResources(un)
	serverError(t, err, "MissingTagKey", 400)
	if len(f.srv.Tags("snapshot", f.snap.ID)) != 0 {
		t.Error("a refused call left tags")
	}
}

func TestTagResourcesHonoursClientToken(t *testing.T) {
	f := newFixture(t)
	req := swas.CreateTagResourcesRequest()
	req.ResourceType, req.ResourceId = "snapshot", &[]string{f.snap.ID}
	req.Tag = &[]swas.TagResourcesTag{{Key: "op", Value: "1"}}
	req.ClientToken = "tag-token"
	first, err := f.sdk.TagResources(req)
	if err != nil {
		t.Fatal(err)
	}
	req2 := swas.CreateTagResourcesRequest()
	req2.ResourceType, req2.ResourceId, req2.Tag, req2.ClientToken = req.ResourceType, req.ResourceId, req.Tag, req.ClientToken
	again, err := f.sdk.TagResources(req2)
	if err != nil || again.RequestId != first.RequestId {
		t.Fatalf("resend: %v %v", again, err)
	}
	// Another actor may remove the marker between our calls.
	if rid, err := f.srv.ActorUntag("snapshot", f.snap.ID, "op"); err != nil || rid == "" {
		t.Fatal(rid, err)
	}
	if len(f.srv.Tags("snapshot", f.snap.ID)) != 0 {
		t.Error("the other actor's untag did not land")
	}
}

package aliyun

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	swas "github.com/aliyun/alibaba-cloud-sdk-go/services/swas-open"

	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/invoke"
)

// rules are SWAS's input rules: disk IDs "d-...", snapshot IDs "s-...",
// instance IDs of the usual ID characters (SWAS server IDs have no prefix).
var rules = provider.RequestRules{
	Provider: provider.ProviderAliyun,
	Instance: provider.IDRule{Kind: "a SWAS instance ID"},
	Disk:     provider.IDRule{Prefix: "d-", Kind: "a SWAS disk ID (d-...)", Required: true},
	Snapshot: provider.IDRule{Prefix: "s-", Kind: "a SWAS snapshot ID (s-...)", Required: true},
}

// maxBatch is the most IDs a SWAS list call takes, and its largest page.
const maxBatch = 100

func jsonIDs(ids ...string) string {
	b, _ := json.Marshal(ids)
	return string(b)
}

// Instance reads one instance (ListInstances). A missing instance is
// ErrInstanceNotFound. When the reply lists no disks, the system disk is
// looked up with ListDisks.
func (c *Client) Instance(ctx context.Context, region, instanceID string) (*provider.Instance, error) {
	if err := rules.CheckInstance(opListInstances, region, instanceID); err != nil {
		return nil, err
	}
	in, err := c.instanceReader(region).One(ctx, instanceID, func(reqID string) error {
		return provider.NotFound(provider.ProviderAliyun, opListInstances, provider.ErrInstanceNotFound, reqID, "instance", instanceID, region)
	})
	if err != nil {
		return nil, err
	}
	if in.SystemDiskID == "" {
		disks, _, err := c.listDisks(ctx, region, func(r *swas.ListDisksRequest) {
			r.InstanceId, r.DiskType = instanceID, "system"
		})
		if err != nil {
			return nil, err
		}
		for _, d := range disks {
			if isSystem(d.DiskType) {
				in.SystemDiskID = d.DiskId
				break
			}
		}
	}
	return in, nil
}

// Instances reads many instances of a region with one ListInstances call
// per 100 IDs. Instances that do not exist are absent from the result;
// SystemDiskID is filled only when the reply lists the disks.
func (c *Client) Instances(ctx context.Context, region string, instanceIDs []string) ([]*provider.Instance, error) {
	if err := provider.CheckRegion(region); err != nil {
		return nil, stamp(err, opListInstances)
	}
	return c.instanceReader(region).Many(ctx, instanceIDs, func(id string) error { return rules.CheckInstance(opListInstances, region, id) })
}

// instanceReader reads instances with ListInstances, maxBatch per call.
func (c *Client) instanceReader(region string) provider.BatchReader[*provider.Instance] {
	return provider.BatchReader[*provider.Instance]{Max: maxBatch, ID: func(in *provider.Instance) string { return in.ID },
		Read: func(ctx context.Context, ids []string) ([]*provider.Instance, string, error) {
			ins, rid, err := c.listInstances(ctx, region, ids)
			out := make([]*provider.Instance, 0, len(ins))
			for _, in := range ins {
				out = append(out, toInstance(region, in))
			}
			return out, rid, err
		}}
}

// listInstances lists the given instances (at most 100), all pages.
func (c *Client) listInstances(ctx context.Context, region string, ids []string) ([]swas.Instance, string, error) {
	return pages(ctx, c, invoke.Target{Region: region, InstanceID: invoke.One(ids)}, opListInstances, func(sc *swas.Client, page int) ([]swas.Instance, int, string, error) {
		req := swas.CreateListInstancesRequest()
		c.target(req.RpcRequest, region)
		req.InstanceIds = jsonIDs(ids...)
		req.PageSize, req.PageNumber = requests.NewInteger(maxBatch), requests.NewInteger(page)
		r, err := sc.ListInstances(req)
		if err != nil {
			return nil, 0, "", err
		}
		return r.Instances, r.TotalCount, r.RequestId, nil
	})
}

// pages reads every page of a list call: page makes the call for one
// page number and returns its items, the total count and the request ID.
func pages[T any](ctx context.Context, c *Client, t invoke.Target, op string, page func(sc *swas.Client, number int) ([]T, int, string, error)) ([]T, string, error) {
	var (
		all   []T
		reqID string
	)
	for number := 1; ; number++ {
		var (
			items []T
			total int
		)
		id, _, err := invoke.CallOn(ctx, c.inv, &c.pool, t, op, func(_ context.Context, _ int, sc *swas.Client) (string, error) {
			var (
				rid string
				err error
			)
			items, total, rid, err = page(sc, number)
			if err == nil && rid == "" {
				return "", emptyReply(op)
			}
			return rid, err
		})
		if err != nil {
			return nil, "", err
		}
		reqID = id
		all = append(all, items...)
		if len(items) == 0 || len(all) >= total {
			return all, reqID, nil
		}
	}
}

// Snapshot reads one snapshot (ListSnapshots). A missing snapshot is
// ErrSnapshotNotFound.
func (c *Client) Snapshot(ctx context.Context, region, snapshotID string) (*provider.Snapshot, error) {
	if err := rules.CheckSnapshot(opListSnapshots, region, snapshotID); err != nil {
		return nil, err
	}
	return c.snapshotReader(region).One(ctx, snapshotID, func(reqID string) error {
		return provider.NotFound(provider.ProviderAliyun, opListSnapshots, provider.ErrSnapshotNotFound, reqID, "snapshot", snapshotID, region)
	})
}

// Snapshots reads many snapshots of a region with one ListSnapshots call per
// 100 IDs. Snapshots that do not exist are absent from the result.
func (c *Client) Snapshots(ctx context.Context, region string, snapshotIDs []string) ([]*provider.Snapshot, error) {
	if err := provider.CheckRegion(region); err != nil {
		return nil, stamp(err, opListSnapshots)
	}
	return c.snapshotReader(region).Many(ctx, snapshotIDs, func(id string) error { return rules.CheckSnapshot(opListSnapshots, region, id) })
}

// snapshotReader reads snapshots with ListSnapshots, maxBatch per call.
func (c *Client) snapshotReader(region string) provider.BatchReader[*provider.Snapshot] {
	return provider.BatchReader[*provider.Snapshot]{Max: maxBatch, ID: func(s *provider.Snapshot) string { return s.ID },
		Read: func(ctx context.Context, ids []string) ([]*provider.Snapshot, string, error) {
			snaps, rid, err := c.listSnapshots(ctx, region, ids)
			out := make([]*provider.Snapshot, 0, len(snaps))
			for _, s := range snaps {
				out = append(out, toSnapshot(region, s))
			}
			return out, rid, err
		}}
}

// listSnapshots lists the given snapshots (at most 100), all pages.
func (c *Client) listSnapshots(ctx context.Context, region string, ids []string) ([]swas.Snapshot, string, error) {
	return pages(ctx, c, invoke.Target{Region: region, SnapshotID: invoke.One(ids)}, opListSnapshots, func(sc *swas.Client, page int) ([]swas.Snapshot, int, string, error) {
		req := swas.CreateListSnapshotsRequest()
		c.target(req.RpcRequest, region)
		req.SnapshotIds = jsonIDs(ids...)
		req.PageSize, req.PageNumber = requests.NewInteger(maxBatch), requests.NewInteger(page)
		r, err := sc.ListSnapshots(req)
		if err != nil {
			return nil, 0, "", err
		}
		return r.Snapshots, r.TotalCount, r.RequestId, nil
	})
}

// Disk reads one disk (ListDisks). A missing disk is ErrDiskNotFound.
func (c *Client) Disk(ctx context.Context, region, diskID string) (*provider.Disk, error) {
	if err := rules.CheckDisk(opListDisks, region, diskID); err != nil {
		return nil, err
	}
	disks, reqID, err := c.listDisks(ctx, region, func(r *swas.ListDisksRequest) { r.DiskIds = jsonIDs(diskID) })
	if err != nil {
		return nil, err
	}
	for _, d := range disks {
		if d.DiskId == diskID {
			return toDisk(region, d), nil
		}
	}
	return nil, provider.NotFound(provider.ProviderAliyun, opListDisks, provider.ErrDiskNotFound, reqID, "disk", diskID, region)
}

// listDisks runs one ListDisks call (first page, 100 disks) with filters
// set by filter.
func (c *Client) listDisks(ctx context.Context, region string, filter func(*swas.ListDisksRequest)) ([]swas.Disk, string, error) {
	var resp *swas.ListDisksResponse
	reqID, _, err := invoke.CallOn(ctx, c.inv, &c.pool, invoke.Target{Region: region}, opListDisks, func(_ context.Context, _ int, sc *swas.Client) (string, error) {
		req := swas.CreateListDisksRequest()
		c.target(req.RpcRequest, region)
		req.PageSize = requests.NewInteger(maxBatch)
		filter(req)
		r, err := sc.ListDisks(req)
		if err != nil {
			return "", err
		}
		if r.RequestId == "" {
			return "", emptyReply(opListDisks)
		}
		resp = r
		return r.RequestId, nil
	})
	if err != nil {
		return nil, "", err
	}
	return resp.Disks, reqID, nil
}

// notFound is the error for a resource a list call did not return.
func notFound(op string, kind error, requestID, format string, args ...any) error {
	return &provider.Error{
		Provider:  provider.ProviderAliyun,
		Op:        op,
		Kind:      kind,
		Message:   fmt.Sprintf(format, args...),
		RequestID: requestID,
		Hint:      "check the ID and the region",
	}
}

// emptyReply is the error for a read whose reply names no request (an
// empty or "{}" body): not "not found", which only a real reply can say.
func emptyReply(op string) error {
	return &provider.Error{Provider: provider.ProviderAliyun, Op: op, Kind: provider.ErrInternal,
		Message: "the cloud answered with an empty reply (no RequestId)",
		Hint:    "a proxy or gateway may be answering instead of the API; retry later"}
}

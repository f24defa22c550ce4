package tencent

import (
	"context"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	lh "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/lighthouse/v20200324"

	"github.com/cloudsnap/rollback/provider"
)

// maxIDs is DescribeInstances' limit of IDs per call.
const maxIDs = 100

// Instance reads one instance (DescribeInstances). An empty region means
// the Config's.
func (c *Client) Instance(ctx context.Context, region, instanceID string) (*provider.Instance, error) {
	const op = "DescribeInstances"
	region, err := c.resolveRegion(op, region)
	if err != nil {
		return nil, err
	}
	if err := rules.CheckInstance(op, region, instanceID); err != nil {
		return nil, err
	}
	return c.instanceReader(region).One(ctx, instanceID, func(rid string) error {
		return provider.NotFound(provider.ProviderTencent, op, provider.ErrInstanceNotFound, rid, "instance", instanceID, region)
	})
}

// Instances reads many instances of one region, 100 per DescribeInstances
// call. Instances that do not exist are left out; the others come in the
// order asked, each once.
func (c *Client) Instances(ctx context.Context, region string, instanceIDs []string) ([]*provider.Instance, error) {
	const op = "DescribeInstances"
	region, err := c.resolveRegion(op, region)
	if err != nil {
		return nil, err
	}
	return c.instanceReader(region).Many(ctx, instanceIDs, func(id string) error { return rules.CheckInstance(op, region, id) })
}

// instanceReader reads instances with DescribeInstances, maxIDs per call.
func (c *Client) instanceReader(region string) provider.BatchReader[*provider.Instance] {
	return provider.BatchReader[*provider.Instance]{Max: maxIDs, ID: func(in *provider.Instance) string { return in.ID },
		Read: func(ctx context.Context, ids []string) ([]*provider.Instance, string, error) {
			return c.describeInstances(ctx, region, ids)
		}}
}

// describeInstances makes one DescribeInstances call for at most 100 IDs.
func (c *Client) describeInstances(ctx context.Context, region string, ids []string) ([]*provider.Instance, string, error) {
	var out []*provider.Instance
	rid, err := c.call(ctx, callTarget{Region: region, InstanceID: oneID(ids)}, "DescribeInstances", func(_ context.Context, _ int, sc *lh.Client) (string, error) {
		req := lh.NewDescribeInstancesRequest()
		req.InstanceIds = common.StringPtrs(ids)
		req.Limit = common.Int64Ptr(maxIDs)
		resp, err := sc.DescribeInstances(req)
		if err != nil {
			return "", err
		}
		if resp.Response == nil || resp.Response.RequestId == nil {
			return "", emptyReply("DescribeInstances")
		}
		out = out[:0]
		for _, in := range resp.Response.InstanceSet {
			if in != nil {
				out = append(out, normalizeInstance(region, in))
			}
		}
		return str(resp.Response.RequestId), nil
	})
	return out, rid, err
}

// Snapshot reads one snapshot (DescribeSnapshots). InstanceID is set when
// the cloud returns it (API versions newer than the SDK's model); otherwise
// compare DiskID with the instance's SystemDiskID.
func (c *Client) Snapshot(ctx context.Context, region, snapshotID string) (*provider.Snapshot, error) {
	const op = "DescribeSnapshots"
	region, err := c.resolveRegion(op, region)
	if err != nil {
		return nil, err
	}
	if err := rules.CheckSnapshot(op, region, snapshotID); err != nil {
		return nil, err
	}
	return c.snapshotReader(region).One(ctx, snapshotID, func(rid string) error {
		return provider.NotFound(provider.ProviderTencent, op, provider.ErrSnapshotNotFound, rid, "snapshot", snapshotID, region)
	})
}

// Snapshots reads many snapshots of a region with one DescribeSnapshots call
// per 100 IDs (provider.BatchSnapshotInspector). Snapshots that do not exist
// are absent from the result.
func (c *Client) Snapshots(ctx context.Context, region string, snapshotIDs []string) ([]*provider.Snapshot, error) {
	const op = "DescribeSnapshots"
	region, err := c.resolveRegion(op, region)
	if err != nil {
		return nil, err
	}
	return c.snapshotReader(region).Many(ctx, snapshotIDs, func(id string) error { return rules.CheckSnapshot(op, region, id) })
}

// snapshotReader reads snapshots by ID with DescribeSnapshots, maxIDs per
// call.
func (c *Client) snapshotReader(region string) provider.BatchReader[*provider.Snapshot] {
	return provider.BatchReader[*provider.Snapshot]{Max: maxIDs, ID: func(sn *provider.Snapshot) string { return sn.ID },
		Read: func(ctx context.Context, ids []string) ([]*provider.Snapshot, string, error) {
			return c.describeSnapshots(ctx, region, func(req *lh.DescribeSnapshotsRequest) { req.SnapshotIds = common.StringPtrs(ids) })
		}}
}

// describeSnapshotsResponse decodes DescribeSnapshots with snapshotJSON, to
// keep the InstanceId field the SDK's model lacks.
type describeSnapshotsResponse struct {
	*tchttp.BaseResponse
	Response *struct {
		TotalCount  *int64          `json:"TotalCount"`
		SnapshotSet []*snapshotJSON `json:"SnapshotSet"`
		RequestId   *string         `json:"RequestId"`
	} `json:"Response"`
}

// describeSnapshots reads every page of a DescribeSnapshots query.
func (c *Client) describeSnapshots(ctx context.Context, region string, set func(*lh.DescribeSnapshotsRequest)) ([]*provider.Snapshot, string, error) {
	var (
		out []*provider.Snapshot
		rid string
	)
	for offset := int64(0); ; {
		var (
			page  []*provider.Snapshot
			total int64
		)
		id, err := c.call(ctx, callTarget{Region: region}, "DescribeSnapshots", func(_ context.Context, _ int, sc *lh.Client) (string, error) {
			req := lh.NewDescribeSnapshotsRequest()
			set(req)
			req.Offset, req.Limit = common.Int64Ptr(offset), common.Int64Ptr(maxIDs)
			resp := &describeSnapshotsResponse{BaseResponse: &tchttp.BaseResponse{}}
			if err := sc.Send(req, resp); err != nil {
				return "", err
			}
			if resp.Response == nil || resp.Response.RequestId == nil {
				return "", emptyReply("DescribeSnapshots")
			}
			page = page[:0]
			for _, sn := range resp.Response.SnapshotSet {
				if sn != nil {
					page = append(page, normalizeSnapshot(region, sn))
				}
			}
			if resp.Response.TotalCount != nil {
				total = *resp.Response.TotalCount
			}
			return str(resp.Response.RequestId), nil
		})
		if err != nil {
			return nil, "", err
		}
		rid = id
		out = append(out, page...)
		offset += int64(len(page))
		if len(page) == 0 || offset >= total {
			return out, rid, nil
		}
	}
}

// emptyReply is the error for a read whose reply lists nothing and names
// no request (an empty or "{}" body): not "not found", which only a real
// reply can say.
func emptyReply(op string) error {
	return &provider.Error{Provider: provider.ProviderTencent, Op: op, Kind: provider.ErrInternal,
		Message: "the cloud answered with an empty reply (no Response, no RequestId)",
		Hint:    "a proxy or gateway may be answering instead of the API; retry later"}
}

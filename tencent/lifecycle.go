package tencent

import (
	"context"
	"fmt"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	lh "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/lighthouse/v20200324"

	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/once"
)

// MaxSnapshotNameLen is CreateInstanceSnapshot's limit, in characters.
const MaxSnapshotNameLen = 60

// StopInstance asks Lighthouse to stop the instance (StopInstances) and
// returns once the request is accepted. After an ambiguous failure it reads
// the instance before resending: STOPPING or STOPPED means the stop landed.
func (c *Client) StopInstance(ctx context.Context, region, instanceID string) error {
	return c.startStop(ctx, "StopInstances", region, instanceID, opStop, provider.InstanceStopping, provider.InstanceStopped)
}

// StartInstance asks Lighthouse to start the instance (StartInstances) and
// returns once the request is accepted. After an ambiguous failure it reads
// the instance before resending: STARTING or RUNNING means the start landed.
func (c *Client) StartInstance(ctx context.Context, region, instanceID string) error {
	return c.startStop(ctx, "StartInstances", region, instanceID, opStart, provider.InstanceStarting, provider.InstanceRunning)
}

func (c *Client) startStop(ctx context.Context, op, region, instanceID, opName string, via, to provider.InstanceState) error {
	region, err := c.resolveRegion(op, region)
	if err != nil {
		return err
	}
	if err := rules.CheckInstance(op, region, instanceID); err != nil {
		return err
	}
	_, err = c.once(ctx, mutation{
		op: op, region: region, target: callTarget{InstanceID: instanceID},
		send: func(sc *lh.Client) (string, error) {
			ids := common.StringPtrs([]string{instanceID})
			var rid *string
			if op == "StopInstances" {
				r := lh.NewStopInstancesRequest()
				r.InstanceIds = ids
				resp, err := sc.StopInstances(r)
				if err != nil {
					return "", err
				}
				if resp.Response != nil {
					rid = resp.Response.RequestId
				}
			} else {
				r := lh.NewStartInstancesRequest()
				r.InstanceIds = ids
				resp, err := sc.StartInstances(r)
				if err != nil {
					return "", err
				}
				if resp.Response != nil {
					rid = resp.Response.RequestId
				}
			}
			return str(rid), nil
		},
		witness: once.Reached(func(ctx context.Context) (*provider.Instance, error) { return c.Instance(ctx, region, instanceID) }, opName, via, to),
		what:    func() string { return fmt.Sprintf("%s of %s", op, instanceID) },
		how: func() string {
			return fmt.Sprintf("read DescribeInstances for %s: %s means it was applied", instanceID, map[string]string{"StopInstances": "STOPPING or STOPPED", "StartInstances": "STARTING or RUNNING"}[op])
		},
	})
	return err
}

// CreateSnapshot starts a snapshot of the instance's system disk
// (CreateInstanceSnapshot) and returns it, usually still creating. diskID
// may be empty; when set it must be the system disk. name is at most 60
// characters (empty lets the cloud name it).
//
// It lists the instance's snapshots first, so that after an ambiguous
// failure a snapshot created by the lost call is found (a new ID with this
// name) rather than created twice.
func (c *Client) CreateSnapshot(ctx context.Context, region, instanceID, diskID, name string) (*provider.Snapshot, error) {
	const op = "CreateInstanceSnapshot"
	region, err := c.resolveRegion(op, region)
	if err != nil {
		return nil, err
	}
	if err := rules.Check(op, provider.Request{Region: region, InstanceID: instanceID, DiskID: diskID, SnapshotID: "lhsnap-unused"}); err != nil {
		return nil, err
	}
	if err := provider.CheckName("SnapshotName", name, 4*MaxSnapshotNameLen); err != nil {
		if e, ok := err.(*provider.Error); ok {
			e.Provider, e.Op = provider.ProviderTencent, op
		}
		return nil, err
	}
	if n := len([]rune(name)); n > MaxSnapshotNameLen {
		return nil, provider.InvalidArgument(provider.ProviderTencent, op, "SnapshotName", "is %d characters long; the limit is %d", n, MaxSnapshotNameLen)
	}
	if diskID != "" {
		in, err := c.Instance(ctx, region, instanceID)
		if err != nil {
			return nil, err
		}
		if in.SystemDiskID != diskID {
			return nil, provider.InvalidArgument(provider.ProviderTencent, op, "DiskID",
				"%s is not the system disk %s of instance %s; Lighthouse snapshots only the system disk", diskID, in.SystemDiskID, instanceID)
		}
	}
	ofInstance := func(req *lh.DescribeSnapshotsRequest) {
		req.Filters = []*lh.Filter{{Name: common.StringPtr("instance-id"), Values: common.StringPtrs([]string{instanceID})}}
	}
	before, _, err := c.describeSnapshots(ctx, region, ofInstance)
	if err != nil {
		return nil, err
	}
	var snapshotID string
	_, err = c.once(ctx, mutation{
		op: op, region: region, target: callTarget{InstanceID: instanceID},
		send: func(sc *lh.Client) (string, error) {
			r := lh.NewCreateInstanceSnapshotRequest()
			r.InstanceId = common.StringPtr(instanceID)
			if name != "" {
				r.SnapshotName = common.StringPtr(name)
			}
			resp, err := sc.CreateInstanceSnapshot(r)
			if err != nil {
				return "", err
			}
			if resp.Response == nil {
				return "", nil
			}
			snapshotID = str(resp.Response.SnapshotId)
			return str(resp.Response.RequestId), nil
		},
		witness: once.NewSnapshot(before, name, func(ctx context.Context) ([]*provider.Snapshot, error) {
			now, _, err := c.describeSnapshots(ctx, region, ofInstance)
			return now, err
		}, func(sn *provider.Snapshot) { snapshotID = sn.ID }),
		what: func() string { return fmt.Sprintf("snapshot of %s", instanceID) },
		how: func() string {
			return fmt.Sprintf("list the snapshots of %s (DescribeSnapshots, filter instance-id) for a new one named %q", instanceID, name)
		},
	})
	if err != nil {
		return nil, err
	}
	if snapshotID == "" {
		return nil, &provider.Error{Provider: provider.ProviderTencent, Op: op, Kind: provider.ErrInternal,
			Message: "CreateInstanceSnapshot succeeded without a SnapshotId"}
	}
	return c.Snapshot(ctx, region, snapshotID)
}

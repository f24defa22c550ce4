package aliyun

import (
	"context"

	swas "github.com/aliyun/alibaba-cloud-sdk-go/services/swas-open"

	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/invoke"
)

// MaxSnapshotNameLen is SWAS's limit on snapshot names.
const MaxSnapshotNameLen = 50

// StopInstance asks SWAS to stop a Running instance and returns once the
// request is accepted (the instance is then Stopping). Its retries share
// one ClientToken, so it is sent at most once. Any other status is
// ErrInstanceState.
func (c *Client) StopInstance(ctx context.Context, region, instanceID string) error {
	return c.power(ctx, opStopInstance, region, instanceID)
}

// StartInstance asks SWAS to start a Stopped instance and returns once the
// request is accepted (the instance is then Starting).
func (c *Client) StartInstance(ctx context.Context, region, instanceID string) error {
	return c.power(ctx, opStartInstance, region, instanceID)
}

func (c *Client) power(ctx context.Context, op, region, instanceID string) error {
	if err := rules.CheckInstance(op, region, instanceID); err != nil {
		return err
	}
	token := provider.NewClientToken()
	_, _, err := invoke.CallOn(ctx, c.inv, &c.pool, invoke.Target{Region: region, InstanceID: instanceID}, op, func(_ context.Context, _ int, sc *swas.Client) (string, error) {
		if op == opStopInstance {
			r := swas.CreateStopInstanceRequest()
			c.target(r.RpcRequest, region)
			r.InstanceId, r.ClientToken = instanceID, token
			resp, err := sc.StopInstance(r)
			if err != nil {
				return "", err
			}
			return resp.RequestId, nil
		}
		r := swas.CreateStartInstanceRequest()
		c.target(r.RpcRequest, region)
		r.InstanceId, r.ClientToken = instanceID, token
		resp, err := sc.StartInstance(r)
		if err != nil {
			return "", err
		}
		return resp.RequestId, nil
	})
	return err
}

// CreateSnapshot starts a snapshot of diskID (or, when diskID is empty, of
// instanceID's system disk) and returns it, usually still creating. An
// empty name becomes "rollback-<time>". SWAS keeps 3 snapshots per server;
// a fourth is ErrQuotaExceeded.
func (c *Client) CreateSnapshot(ctx context.Context, region, instanceID, diskID, name string) (*provider.Snapshot, error) {
	const op = opCreateSnapshot
	for _, check := range []func() error{
		func() error { return provider.CheckRegion(region) },
		func() error {
			return provider.CheckOptionalID("InstanceID", instanceID, rules.Instance.Prefix, rules.Instance.Kind)
		},
		func() error { return provider.CheckOptionalID("DiskID", diskID, rules.Disk.Prefix, rules.Disk.Kind) },
	} {
		if err := check(); err != nil {
			return nil, stamp(err, op)
		}
	}
	if diskID == "" {
		if instanceID == "" {
			return nil, provider.InvalidArgument(provider.ProviderAliyun, op, "DiskID", "is empty; give the disk to snapshot, or the instance whose system disk it is")
		}
		in, err := c.Instance(ctx, region, instanceID)
		if err != nil {
			return nil, err
		}
		if in.SystemDiskID == "" {
			return nil, notFound(op, provider.ErrDiskNotFound, "", "instance %s reports no system disk", instanceID)
		}
		diskID = in.SystemDiskID
	}
	if name == "" {
		name = "rollback-" + c.clk.Now().UTC().Format("20060102-150405")
	}
	if err := provider.CheckName("Name", name, MaxSnapshotNameLen); err != nil {
		return nil, stamp(err, op)
	}
	token := provider.NewClientToken()
	var snapshotID string
	_, _, err := invoke.CallOn(ctx, c.inv, &c.pool, invoke.Target{Region: region, InstanceID: instanceID, DiskID: diskID}, op, func(_ context.Context, _ int, sc *swas.Client) (string, error) {
		r := swas.CreateCreateSnapshotRequest()
		c.target(r.RpcRequest, region)
		r.DiskId, r.SnapshotName, r.ClientToken = diskID, name, token
		resp, err := sc.CreateSnapshot(r)
		if err != nil {
			return "", err
		}
		snapshotID = resp.SnapshotId
		return resp.RequestId, nil
	})
	if err != nil {
		return nil, err
	}
	if s, err := c.Snapshot(ctx, region, snapshotID); err == nil {
		return s, nil
	}
	// Created but not readable yet: report what is known.
	return &provider.Snapshot{
		Provider: provider.ProviderAliyun, Region: region, ID: snapshotID, Name: name,
		DiskID: diskID, InstanceID: instanceID, State: provider.SnapshotCreating,
		NativeState: "Progressing", CreatedAt: c.clk.Now(),
	}, nil
}

package acme

import (
	"context"

	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/invoke"
)

// MaxIDs is the most IDs one DescribeServers or DescribeSnapshots call
// takes.
const MaxIDs = 50

type describeServersReply struct {
	Servers []serverJSON `json:"Servers"`
}

type describeSnapshotsReply struct {
	Snapshots []snapshotJSON `json:"Snapshots"`
}

// Instance reads one server (DescribeServers). An empty region means the
// Config's.
func (c *Client) Instance(ctx context.Context, region, instanceID string) (*provider.Instance, error) {
	const op = "DescribeServers"
	region, err := c.resolveRegion(op, region)
	if err != nil {
		return nil, err
	}
	if err := rules.CheckInstance(op, region, instanceID); err != nil {
		return nil, err
	}
	return c.serverReader(region).One(ctx, instanceID, func(rid string) error {
		return provider.NotFound(Name, op, provider.ErrInstanceNotFound, rid, "server", instanceID, region)
	})
}

// Instances reads many servers of one region, 50 per DescribeServers call
// (provider.BatchInspector). Servers that do not exist are left out; the
// others come in the order asked, each once.
func (c *Client) Instances(ctx context.Context, region string, instanceIDs []string) ([]*provider.Instance, error) {
	const op = "DescribeServers"
	region, err := c.resolveRegion(op, region)
	if err != nil {
		return nil, err
	}
	return c.serverReader(region).Many(ctx, instanceIDs, func(id string) error { return rules.CheckInstance(op, region, id) })
}

// serverReader reads servers with DescribeServers, MaxIDs per call.
func (c *Client) serverReader(region string) provider.BatchReader[*provider.Instance] {
	return provider.BatchReader[*provider.Instance]{Max: MaxIDs, ID: func(in *provider.Instance) string { return in.ID },
		Read: func(ctx context.Context, ids []string) ([]*provider.Instance, string, error) {
			return c.describeServers(ctx, region, ids)
		}}
}

func (c *Client) describeServers(ctx context.Context, region string, ids []string) ([]*provider.Instance, string, error) {
	const op = "DescribeServers"
	r, rid, err := call[describeServersReply](ctx, c, invoke.Target{Region: region, InstanceID: invoke.One(ids)}, op,
		map[string]any{"Region": region, "ServerIds": ids})
	if err != nil {
		return nil, "", err
	}
	out := make([]*provider.Instance, 0, len(r.Servers))
	for i := range r.Servers {
		out = append(out, normalizeServer(region, &r.Servers[i]))
	}
	return out, rid, nil
}

// Snapshot reads one snapshot (DescribeSnapshots).
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
		return provider.NotFound(Name, op, provider.ErrSnapshotNotFound, rid, "snapshot", snapshotID, region)
	})
}

// Snapshots reads many snapshots of a region, 50 per DescribeSnapshots
// call (provider.BatchSnapshotInspector). Snapshots that do not exist are
// absent from the result.
func (c *Client) Snapshots(ctx context.Context, region string, snapshotIDs []string) ([]*provider.Snapshot, error) {
	const op = "DescribeSnapshots"
	region, err := c.resolveRegion(op, region)
	if err != nil {
		return nil, err
	}
	return c.snapshotReader(region).Many(ctx, snapshotIDs, func(id string) error { return rules.CheckSnapshot(op, region, id) })
}

// snapshotReader reads snapshots by ID with DescribeSnapshots, MaxIDs per
// call.
func (c *Client) snapshotReader(region string) provider.BatchReader[*provider.Snapshot] {
	return provider.BatchReader[*provider.Snapshot]{Max: MaxIDs, ID: func(s *provider.Snapshot) string { return s.ID },
		Read: func(ctx context.Context, ids []string) ([]*provider.Snapshot, string, error) {
			return c.describeSnapshots(ctx, region, map[string]any{"Region": region, "SnapshotIds": ids}, invoke.One(ids))
		}}
}

// serverSnapshots lists the snapshots of one server.
func (c *Client) serverSnapshots(ctx context.Context, region, serverID string) ([]*provider.Snapshot, error) {
	sns, _, err := c.describeSnapshots(ctx, region, map[string]any{"Region": region, "ServerId": serverID}, "")
	return sns, err
}

func (c *Client) describeSnapshots(ctx context.Context, region string, in map[string]any, one string) ([]*provider.Snapshot, string, error) {
	r, rid, err := c.describeSnapshotsRaw(ctx, region, in, one)
	if err != nil {
		return nil, "", err
	}
	out := make([]*provider.Snapshot, 0, len(r.Snapshots))
	for i := range r.Snapshots {
		out = append(out, normalizeSnapshot(region, &r.Snapshots[i]))
	}
	return out, rid, nil
}

// describeSnapshotsRaw is one DescribeSnapshots call, its reply as the
// API gave it: the witness reads the last restore's server, which the
// normalized Snapshot does not carry.
func (c *Client) describeSnapshotsRaw(ctx context.Context, region string, in map[string]any, one string) (*describeSnapshotsReply, string, error) {
	return call[describeSnapshotsReply](ctx, c, invoke.Target{Region: region, SnapshotID: one}, "DescribeSnapshots", in)
}

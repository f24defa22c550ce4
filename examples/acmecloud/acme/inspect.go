package acme

import (
	"context"
	"fmt"
	"slices"

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
	ins, rid, err := c.describeServers(ctx, region, []string{instanceID})
	if err != nil {
		return nil, err
	}
	for _, in := range ins {
		if in.ID == instanceID {
			return in, nil
		}
	}
	return nil, &provider.Error{Provider: Name, Op: op, Kind: provider.ErrInstanceNotFound, RequestID: rid,
		Message: fmt.Sprintf("server %s does not exist in %s", instanceID, region), Hint: "check the server ID and the region"}
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
	ids, err := prepare(instanceIDs, func(id string) error { return rules.CheckInstance(op, region, id) })
	if err != nil {
		return nil, err
	}
	found := make(map[string]*provider.Instance, len(ids))
	for chunk := range slices.Chunk(ids, MaxIDs) {
		ins, _, err := c.describeServers(ctx, region, chunk)
		if err != nil {
			return nil, err
		}
		for _, in := range ins {
			found[in.ID] = in
		}
	}
	out := make([]*provider.Instance, 0, len(found))
	for _, id := range ids {
		if in, ok := found[id]; ok {
			out = append(out, in)
		}
	}
	return out, nil
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
	sns, rid, err := c.describeSnapshots(ctx, region, map[string]any{"Region": region, "SnapshotIds": []string{snapshotID}}, snapshotID)
	if err != nil {
		return nil, err
	}
	for _, s := range sns {
		if s.ID == snapshotID {
			return s, nil
		}
	}
	return nil, &provider.Error{Provider: Name, Op: op, Kind: provider.ErrSnapshotNotFound, RequestID: rid,
		Message: fmt.Sprintf("snapshot %s does not exist in %s", snapshotID, region), Hint: "check the snapshot ID and the region"}
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
	ids, err := prepare(snapshotIDs, func(id string) error { return rules.CheckSnapshot(op, region, id) })
	if err != nil {
		return nil, err
	}
	wanted := make(map[string]bool, len(ids))
	for _, id := range ids {
		wanted[id] = true
	}
	var out []*provider.Snapshot
	for chunk := range slices.Chunk(ids, MaxIDs) {
		sns, _, err := c.describeSnapshots(ctx, region, map[string]any{"Region": region, "SnapshotIds": chunk}, invoke.One(chunk))
		if err != nil {
			return nil, err
		}
		for _, s := range sns {
			if wanted[s.ID] { // a reply listing others proves nothing about them
				out = append(out, s)
				delete(wanted, s.ID)
			}
		}
	}
	return out, nil
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

// prepare checks every ID and drops repeats, keeping the first order.
func prepare(ids []string, check func(string) error) ([]string, error) {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if err := check(id); err != nil {
			return nil, err
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

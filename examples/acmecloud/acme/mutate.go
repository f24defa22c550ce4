package acme

import (
	"context"
	"fmt"

	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/invoke"
	"github.com/cloudsnap/rollback/provider/once"
)

// None of Acme's mutating actions takes a client token, so a resend after
// a lost reply could apply twice: every one goes through the exactly-once
// engine (provider/once), which resends only on evidence read from the
// cloud. This file adapts the engine to the wire client and holds the
// lifecycle calls; rollback.go holds RestoreSnapshot.

// mutation is one state-changing call made exactly once.
type mutation struct {
	op     string
	target invoke.Target
	body   map[string]any
	// reply, when set, receives each successful reply's body.
	reply   func(raw map[string]any)
	witness once.Witness
	check   func(ctx context.Context) error
	what    func() string
	how     func() string
}

func (c *Client) once(ctx context.Context, m mutation) (once.Outcome, error) {
	return once.Do(ctx, once.NewEngine(Name, c.opts, c.mapError), once.On(c.inv, c.pool, m.target), once.Mutation[*wire]{
		Op: m.op,
		Send: func(ctx context.Context, w *wire) (string, error) {
			var out map[string]any
			rid, err := w.do(ctx, m.op, m.body, &out)
			if err == nil && m.reply != nil {
				m.reply(out)
			}
			return rid, err
		},
		Witness:    m.witness,
		Check:      m.check,
		What:       m.what,
		HowToCheck: m.how,
	})
}

// StopInstance asks Acme to stop the server (StopServer) and returns once
// the request is accepted. After an ambiguous failure it reads the server
// before resending: stopping or stopped means the stop landed.
func (c *Client) StopInstance(ctx context.Context, region, instanceID string) error {
	return c.startStop(ctx, opStop, region, instanceID, provider.InstanceStopping, provider.InstanceStopped)
}

// StartInstance asks Acme to start the server (StartServer) and returns
// once the request is accepted. After an ambiguous failure it reads the
// server before resending: starting or running means the start landed.
func (c *Client) StartInstance(ctx context.Context, region, instanceID string) error {
	return c.startStop(ctx, opStart, region, instanceID, provider.InstanceStarting, provider.InstanceRunning)
}

func (c *Client) startStop(ctx context.Context, op, region, instanceID string, via, to provider.InstanceState) error {
	region, err := c.resolveRegion(op, region)
	if err != nil {
		return err
	}
	if err := rules.CheckInstance(op, region, instanceID); err != nil {
		return err
	}
	_, err = c.once(ctx, mutation{
		op: op, target: invoke.Target{Region: region, InstanceID: instanceID},
		body:    map[string]any{"Region": region, "ServerId": instanceID},
		witness: once.Reached(func(ctx context.Context) (*provider.Instance, error) { return c.Instance(ctx, region, instanceID) }, op, via, to),
		what:    func() string { return fmt.Sprintf("%s of %s", op, instanceID) },
		how: func() string {
			return fmt.Sprintf("read DescribeServers for %s: %s or %s means it was applied", instanceID, via, to)
		},
	})
	return err
}

// MaxSnapshotNameLen is CreateSnapshot's limit, in bytes.
const MaxSnapshotNameLen = 64

// CreateSnapshot starts a snapshot of the server's system disk and returns
// it, usually still creating. diskID may be empty; when set it must be the
// system disk. It lists the server's snapshots first, so that after an
// ambiguous failure a snapshot made by the lost call is found (a new ID
// with this name) rather than made twice.
func (c *Client) CreateSnapshot(ctx context.Context, region, instanceID, diskID, name string) (*provider.Snapshot, error) {
	const op = opSnapshot
	region, err := c.resolveRegion(op, region)
	if err != nil {
		return nil, err
	}
	if err := rules.Check(op, provider.Request{Region: region, InstanceID: instanceID, DiskID: diskID, SnapshotID: "snap-unused"}); err != nil {
		return nil, err
	}
	if err := provider.CheckName("SnapshotName", name, MaxSnapshotNameLen); err != nil {
		return nil, stamp(err, op)
	}
	if diskID != "" {
		in, err := c.Instance(ctx, region, instanceID)
		if err != nil {
			return nil, err
		}
		if in.SystemDiskID != diskID {
			return nil, provider.InvalidArgument(Name, op, "DiskID", "%s is not the system disk %s of server %s", diskID, in.SystemDiskID, instanceID)
		}
	}
	before, err := c.serverSnapshots(ctx, region, instanceID)
	if err != nil {
		return nil, err
	}
	var snapshotID string
	body := map[string]any{"Region": region, "ServerId": instanceID}
	if name != "" {
		body["Name"] = name
	}
	_, err = c.once(ctx, mutation{
		op: op, target: invoke.Target{Region: region, InstanceID: instanceID}, body: body,
		reply: func(out map[string]any) { snapshotID, _ = out["SnapshotId"].(string) },
		witness: once.NewSnapshot(before, name, func(ctx context.Context) ([]*provider.Snapshot, error) {
			return c.serverSnapshots(ctx, region, instanceID)
		}, func(sn *provider.Snapshot) { snapshotID = sn.ID }),
		what: func() string { return fmt.Sprintf("snapshot of %s", instanceID) },
		how: func() string {
			return fmt.Sprintf("list the snapshots of %s (DescribeSnapshots with ServerId) for a new one named %q", instanceID, name)
		},
	})
	if err != nil {
		return nil, err
	}
	if snapshotID == "" {
		return nil, &provider.Error{Provider: Name, Op: op, Kind: provider.ErrInternal, Message: "CreateSnapshot succeeded without a SnapshotId"}
	}
	return c.Snapshot(ctx, region, snapshotID)
}

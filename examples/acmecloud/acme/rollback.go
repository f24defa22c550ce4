package acme

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/invoke"
	"github.com/cloudsnap/rollback/provider/once"
)

// Rollback restores the server's system disk from the snapshot with
// RestoreSnapshot, exactly once.
//
// Before sending it reads the snapshot (it must exist, be available and
// be of the server's system disk) and the server (it must exist, be
// stopped and idle). RestoreSnapshot has no idempotency token: each
// snapshot reports its last restore (request ID, server, time), and that
// is the evidence. After an attempt that may have landed, nothing more is
// sent until the snapshot has been read at least the read grace later: a
// last restore with a request ID the baseline did not have, naming this
// server, is ours (Result.Adopted); a restore on the server that the
// snapshot does not name is someone else's (ErrOutcomeUnknown); only a
// reading that shows neither permits a resend.
//
// The client token (provider.ResolveToken) is not sent; it names the
// operation in the Result and the logs.
func (c *Client) Rollback(ctx context.Context, req provider.Request) (*provider.Result, error) {
	return c.RollbackWithPreflight(ctx, req, provider.Preflight{})
}

// RollbackWithPreflight is Rollback using the server and snapshot its
// caller has just read (provider.PreflightRoller); either may be nil, and
// is then read.
func (c *Client) RollbackWithPreflight(ctx context.Context, req provider.Request, pf provider.Preflight) (*provider.Result, error) {
	const op = opRestore
	if err := c.ValidateRequest(req); err != nil {
		return nil, err
	}
	token, err := provider.ResolveToken(req)
	if err != nil {
		return nil, stamp(err, op)
	}
	snap, inst, err := c.preflight(ctx, req, pf)
	if err != nil {
		return nil, err
	}
	log := c.opts.Logger.With(slog.String("provider", Name), slog.String("op", op),
		slog.String("region", req.Region), slog.String("instance", req.InstanceID),
		slog.String("snapshot", req.SnapshotID), slog.String("operation", token))
	res := &provider.Result{Provider: Name, ClientToken: token, InstanceID: req.InstanceID,
		DiskID: inst.SystemDiskID, Before: snap, SentAt: c.opts.Clock.Now()}
	base := once.Baseline{Snapshot: snap.LatestOperation, Instance: inst.LatestOperation, HaveInstance: true}
	log.LogAttrs(ctx, slog.LevelInfo, "rollback starting", slog.String("baseline_restore_request", base.Snapshot.RequestID))

	// Before every resend the server is checked again: it may have been
	// started, or become busy, since the last look.
	witness, check := c.restoreEvidence(req, base, c.preconditions().CheckInstance)
	out, err := c.once(ctx, mutation{
		op:      op,
		target:  invoke.Target{Region: req.Region, InstanceID: req.InstanceID, DiskID: inst.SystemDiskID, SnapshotID: req.SnapshotID},
		body:    map[string]any{"Region": req.Region, "ServerId": req.InstanceID, "SnapshotId": req.SnapshotID},
		witness: witness,
		check:   check,
		what:    func() string { return fmt.Sprintf("restore of %s from %s", req.InstanceID, req.SnapshotID) },
		how: func() string {
			return fmt.Sprintf("read DescribeSnapshots for %s: a LastRestore with a request ID other than %q, naming server %s, means the restore was applied",
				req.SnapshotID, base.Snapshot.RequestID, req.InstanceID)
		},
	})
	return once.Record(ctx, log, res, out, err)
}

// ValidateRequest checks req against Acme's rules (region, "srv-" server,
// "snap-" snapshot and optional "vol-" disk IDs, client token) without
// calling the cloud (provider.RequestValidator).
func (c *Client) ValidateRequest(req provider.Request) error {
	if _, err := c.resolveRegion(opRestore, req.Region); err != nil {
		return err
	}
	return rules.Check(opRestore, req)
}

func (c *Client) preconditions() provider.Preconditions {
	return provider.Preconditions{Provider: Name, Op: opRestore,
		RunningHint: "RestoreSnapshot needs the server stopped: stop it first (rollback.Run does, with StopIfRunning)",
		StateHint:   "check the server with DescribeServers; it must be stopped"}
}

// preflight reads (unless pf has them) and checks the snapshot and the
// server; nothing is sent when it fails.
func (c *Client) preflight(ctx context.Context, req provider.Request, pf provider.Preflight) (*provider.Snapshot, *provider.Instance, error) {
	snap := pf.Snapshot
	if snap == nil || snap.ID != req.SnapshotID {
		var err error
		if snap, err = c.Snapshot(ctx, req.Region, req.SnapshotID); err != nil {
			return nil, nil, err
		}
	}
	pre := c.preconditions()
	if err := pre.CheckSnapshot(snap, "", ""); err != nil {
		return nil, nil, err
	}
	inst := pf.Instance
	if inst == nil || inst.ID != req.InstanceID {
		var err error
		if inst, err = c.Instance(ctx, req.Region, req.InstanceID); err != nil {
			return nil, nil, err
		}
	}
	if req.DiskID != "" && req.DiskID != inst.SystemDiskID {
		return nil, nil, &provider.Error{Provider: Name, Op: opRestore, Kind: provider.ErrInvalidArgument, Field: "DiskID",
			Message: fmt.Sprintf("DiskID %s is not the system disk %s of server %s", req.DiskID, inst.SystemDiskID, inst.ID),
			Hint:    "Acme restores only the system disk; leave DiskID empty or set it to the system disk; nothing was sent"}
	}
	if err := pre.CheckSnapshot(snap, inst.SystemDiskID, inst.ID); err != nil {
		return nil, nil, err
	}
	if err := pre.CheckInstance(inst); err != nil {
		return nil, nil, err
	}
	return snap, inst, nil
}

// restoreEvidence is the evidence of a restore (provider.RollbackWitness's
// rules, once.Latest): the snapshot's last restore with a request ID the
// baseline did not have, naming req's server, is ours (naming another, or
// none, CannotTell: the evidence must name the target, not just the
// snapshot); a restore the snapshot does not name, newer than the baseline
// on the server, is someone else's; otherwise nothing landed. check
// refuses a server before a resend.
func (c *Client) restoreEvidence(req provider.Request, base once.Baseline, check func(*provider.Instance) error) (once.Witness, func(context.Context) error) {
	return once.LatestRollback(req.InstanceID, base,
		func(ctx context.Context) (once.SnapshotRollback, error) {
			// The raw reply: the normalized Snapshot does not carry the
			// last restore's server.
			r, rid, err := c.describeSnapshotsRaw(ctx, req.Region, map[string]any{"Region": req.Region, "SnapshotIds": []string{req.SnapshotID}}, req.SnapshotID)
			if err != nil {
				return once.SnapshotRollback{}, err
			}
			for _, raw := range r.Snapshots {
				if raw.SnapshotID != req.SnapshotID {
					continue
				}
				sr := once.SnapshotRollback{SnapshotID: raw.SnapshotID, NamesInstance: true}
				if lr := raw.LastRestore; lr != nil {
					sr.InstanceID = lr.ServerID
					sr.Op = provider.Operation{Kind: provider.OpRollback, Name: opRestore, NativeState: lr.State, RequestID: lr.RequestID}
				}
				return sr, nil
			}
			return once.SnapshotRollback{}, &provider.Error{Provider: Name, Op: "DescribeSnapshots", Kind: provider.ErrSnapshotNotFound, RequestID: rid,
				Message: fmt.Sprintf("snapshot %s does not exist in %s", req.SnapshotID, req.Region)}
		},
		func(ctx context.Context) (*provider.Instance, error) {
			return c.Instance(ctx, req.Region, req.InstanceID)
		},
		check)
}

// WitnessRollback implements provider.RollbackWitness: whether a restore
// from req's snapshot has landed since before was read, judged from the
// snapshot's last restore, read at least the read grace after since.
func (c *Client) WitnessRollback(ctx context.Context, req provider.Request, before *provider.Snapshot, since time.Time) (provider.Evidence, error) {
	if err := c.ValidateRequest(req); err != nil {
		return provider.Evidence{}, err
	}
	if before == nil || before.ID != req.SnapshotID {
		return provider.Evidence{}, provider.InvalidArgument(Name, opRestore, "before", "must be snapshot %s as read before the first rollback call", req.SnapshotID)
	}
	witness, _ := c.restoreEvidence(req, once.Baseline{Snapshot: before.LatestOperation}, nil)
	return once.Prove(ctx, c.opts.Clock, c.opts.ReadGrace, since, witness)
}

// waitPriors are the windows in which Acme operations usually end
// (provider.WaitPriors); what the learner sees replaces them.
var waitPriors = provider.Priors{
	"instance-stopped": {10 * time.Second, 30 * time.Second},
	"instance-running": {15 * time.Second, 40 * time.Second},
	"rollback":         {40 * time.Second, 90 * time.Second},
	"snapshot":         {60 * time.Second, 120 * time.Second},
}

// WaitPrior implements provider.WaitPriors.
func (c *Client) WaitPrior(op string) (lo, hi time.Duration, ok bool) {
	return waitPriors.WaitPrior(op)
}

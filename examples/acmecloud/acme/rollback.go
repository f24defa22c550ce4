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
	base := baseline{snap: snap.LatestOperation, inst: inst.LatestOperation, haveInst: true}
	log.LogAttrs(ctx, slog.LevelInfo, "rollback starting", slog.String("baseline_restore_request", base.snap.RequestID))

	var seen *provider.Instance
	out, err := c.once(ctx, mutation{
		op:     op,
		target: invoke.Target{Region: req.Region, InstanceID: req.InstanceID, DiskID: inst.SystemDiskID, SnapshotID: req.SnapshotID},
		body:   map[string]any{"Region": req.Region, "ServerId": req.InstanceID, "SnapshotId": req.SnapshotID},
		witness: func(ctx context.Context) (provider.Evidence, error) {
			ev, in, err := c.judge(ctx, req, base)
			seen = in
			return ev, err
		},
		check: func(ctx context.Context) error {
			// Before every resend: the server may have been started, or
			// become busy, since the last look.
			in := seen
			seen = nil
			if in == nil {
				var err error
				if in, err = c.Instance(ctx, req.Region, req.InstanceID); err != nil {
					return err
				}
			}
			return c.preconditions().CheckInstance(in)
		},
		what: func() string { return fmt.Sprintf("restore of %s from %s", req.InstanceID, req.SnapshotID) },
		how: func() string {
			return fmt.Sprintf("read DescribeSnapshots for %s: a LastRestore with a request ID other than %q, naming server %s, means the restore was applied",
				req.SnapshotID, base.snap.RequestID, req.InstanceID)
		},
	})
	res.Attempts = out.Sent
	if err != nil {
		log.LogAttrs(ctx, slog.LevelWarn, "rollback failed", slog.Int("attempts", out.Sent), slog.String("error", err.Error()))
		return nil, err
	}
	res.RequestID, res.Adopted = out.RequestID, out.Adopted
	log.LogAttrs(ctx, slog.LevelInfo, "rollback accepted", slog.String("request_id", res.RequestID),
		slog.Int("attempts", res.Attempts), slog.Bool("adopted", res.Adopted))
	return res, nil
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

// baseline is what the resources reported before the first attempt. A
// baseline from a checkpoint has only the snapshot's (haveInst false).
type baseline struct {
	snap, inst provider.Operation
	haveInst   bool
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

// judge reads the snapshot, then the server, and judges them against the
// baseline (provider.RollbackWitness's rules): the snapshot's last restore
// with a request ID the baseline did not have, naming req's server, is
// ours; a restore the snapshot does not name, newer than the baseline on
// the server, is someone else's; otherwise nothing landed. It also returns
// the server as read (nil when it was not).
func (c *Client) judge(ctx context.Context, req provider.Request, base baseline) (provider.Evidence, *provider.Instance, error) {
	r, rid, err := c.describeSnapshotsRaw(ctx, req.Region, map[string]any{"Region": req.Region, "SnapshotIds": []string{req.SnapshotID}}, req.SnapshotID)
	if err != nil {
		return provider.Evidence{}, nil, err
	}
	var raw *snapshotJSON
	for i := range r.Snapshots {
		if r.Snapshots[i].SnapshotID == req.SnapshotID {
			raw = &r.Snapshots[i]
		}
	}
	if raw == nil {
		return provider.Evidence{}, nil, &provider.Error{Provider: Name, Op: "DescribeSnapshots", Kind: provider.ErrSnapshotNotFound, RequestID: rid,
			Message: fmt.Sprintf("snapshot %s does not exist in %s", req.SnapshotID, req.Region)}
	}
	snap := normalizeSnapshot(req.Region, raw)
	if lr := raw.LastRestore; lr != nil && lr.RequestID != "" && lr.RequestID != base.snap.RequestID {
		// A restore newer than the baseline: ours only if it names our
		// server (the evidence must name the target, not just the snapshot).
		if lr.ServerID != req.InstanceID {
			return provider.Evidence{Verdict: provider.CannotTell, RequestID: lr.RequestID,
				Detail: fmt.Sprintf("snapshot %s reports a restore (request %s) of server %q, not %s", snap.ID, lr.RequestID, lr.ServerID, req.InstanceID)}, nil, nil
		}
		return provider.Evidence{Verdict: provider.OursLanded, RequestID: lr.RequestID,
			Detail: fmt.Sprintf("snapshot %s reports its last restore %s (request %s) on server %s", snap.ID, lr.State, lr.RequestID, lr.ServerID)}, nil, nil
	}
	in, err := c.Instance(ctx, req.Region, req.InstanceID)
	if err != nil {
		return provider.Evidence{}, nil, err
	}
	if lo := in.LatestOperation; base.haveInst && lo.Kind == provider.OpRollback && lo.RequestID != "" && lo.RequestID != base.inst.RequestID {
		return provider.Evidence{Verdict: provider.CannotTell, RequestID: lo.RequestID,
			Detail: fmt.Sprintf("server %s reports %s %s (request %s), which snapshot %s does not name: another restore, not this one",
				in.ID, lo.Name, lo.NativeState, lo.RequestID, snap.ID)}, in, nil
	}
	return provider.Evidence{Verdict: provider.NothingLanded}, in, nil
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
	base := baseline{snap: before.LatestOperation}
	return once.Prove(ctx, c.opts.Clock, c.opts.ReadGrace, since, func(ctx context.Context) (provider.Evidence, error) {
		ev, _, err := c.judge(ctx, req, base)
		return ev, err
	})
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

package tencent

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	lh "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/lighthouse/v20200324"

	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/once"
)

// Rollback rolls the instance's system disk back to the snapshot with
// ApplyInstanceSnapshot, exactly once.
//
// Before sending it reads the snapshot (it must exist, be NORMAL and be of
// the instance's system disk) and the instance (it must exist, be STOPPED,
// or RUNNING with Config.AllowForcedStop, and have no operation in
// progress), and records both resources' LatestOperation. req.DiskID, when
// set, must be the instance's system disk (else ErrInvalidArgument).
//
// ApplyInstanceSnapshot has no client token, so exactly-once comes from
// evidence (provider/once). When an attempt fails in a way that leaves open
// whether it was applied (a lost reply, a timeout, a 5xx, an empty reply),
// Rollback sends nothing more until it has read the snapshot and the
// instance at least the read grace (rollback.WithReadGrace) after that
// attempt: a RollbackInstanceSnapshot operation on the snapshot with a
// request ID the baseline did not have means the call landed (success with
// that request ID, Result.Adopted); another rollback on the instance that
// the snapshot does not name is ErrOutcomeUnknown, never success; only a
// reading that shows neither permits a resend. Before every resend the
// instance is checked again (a RUNNING instance is refused unless
// Config.AllowForcedStop, a busy one waited for). A refusal as busy after
// an ambiguous attempt may be our own rollback running: that error stays
// ambiguous. If the state cannot be read, the error is ErrOutcomeUnknown
// and says what to check.
//
// The client token (provider.ResolveToken) is not sent; it names the
// operation in the Result and the logs.
func (c *Client) Rollback(ctx context.Context, req provider.Request) (*provider.Result, error) {
	return c.RollbackWithPreflight(ctx, req, provider.Preflight{})
}

// RollbackWithPreflight is Rollback using the instance and snapshot its
// caller has just read (provider.PreflightRoller) instead of reading them
// again; either may be nil, and is then read. The checks and the
// exactly-once baseline are the same.
func (c *Client) RollbackWithPreflight(ctx context.Context, req provider.Request, pf provider.Preflight) (*provider.Result, error) {
	const op = "ApplyInstanceSnapshot"
	region, err := c.resolveRegion(op, req.Region)
	if err != nil {
		return nil, err
	}
	req.Region = region
	if err := rules.Check(op, req); err != nil {
		return nil, err
	}
	token, err := provider.ResolveToken(req)
	if err != nil {
		if e, ok := err.(*provider.Error); ok {
			e.Provider, e.Op = provider.ProviderTencent, op
		}
		return nil, err
	}
	snap, inst, err := c.preflight(ctx, op, req, pf)
	if err != nil {
		return nil, err
	}
	log := c.opts.Logger
	if log.Enabled(ctx, slog.LevelWarn) { // With costs even when nothing is logged
		log = log.With(
			slog.String("provider", provider.ProviderTencent), slog.String("op", op),
			slog.String("region", region), slog.String("instance", req.InstanceID),
			slog.String("snapshot", req.SnapshotID), slog.String("operation", token))
	}

	res := &provider.Result{
		Provider: provider.ProviderTencent, ClientToken: token,
		InstanceID: req.InstanceID, DiskID: inst.SystemDiskID, Before: snap,
		SentAt: c.opts.Clock.Now(),
	}
	base := once.Baseline{Snapshot: snap.LatestOperation, Instance: inst.LatestOperation, HaveInstance: true}
	log.LogAttrs(ctx, slog.LevelInfo, "rollback starting",
		slog.String("instance_state", inst.NativeState),
		slog.String("baseline_snapshot_request", base.Snapshot.RequestID),
		slog.String("baseline_instance_request", base.Instance.RequestID))

	// Before every resend the instance is checked again: it may have been
	// started (or become busy) since the last look, and the cloud would
	// force a RUNNING instance off without asking.
	witness, check := c.rollbackEvidence(req, base, func(in *provider.Instance) error { return c.checkInstance(op, in) })
	out, err := c.once(ctx, mutation{
		op: op, region: region, target: callTarget{InstanceID: req.InstanceID, DiskID: inst.SystemDiskID, SnapshotID: req.SnapshotID},
		send: func(sc *lh.Client) (string, error) {
			r := lh.NewApplyInstanceSnapshotRequest()
			r.InstanceId, r.SnapshotId = common.StringPtr(req.InstanceID), common.StringPtr(req.SnapshotID)
			resp, err := sc.ApplyInstanceSnapshot(r)
			if err != nil || resp.Response == nil {
				return "", err
			}
			return str(resp.Response.RequestId), nil
		},
		witness: witness,
		check:   check,
		what:    func() string { return fmt.Sprintf("rollback of %s to %s", req.InstanceID, req.SnapshotID) },
		how: func() string {
			return fmt.Sprintf("read DescribeSnapshots for %s; a LatestOperation RollbackInstanceSnapshot with a request ID other than %q means a rollback to it was applied (DescribeInstances for %s shows ApplyInstanceSnapshot with the same request ID)",
				req.SnapshotID, base.Snapshot.RequestID, req.InstanceID)
		},
	})
	return once.Record(ctx, log, res, out, err)
}

// ValidateRequest checks req against Lighthouse's rules (region, "lhins-"
// instance, "lhsnap-" snapshot and optional "lhdisk-" disk IDs, client
// token) without calling the cloud (provider.RequestValidator); rollback.Run
// calls it before anything else.
func (c *Client) ValidateRequest(req provider.Request) error {
	const op = "ApplyInstanceSnapshot"
	region, err := c.resolveRegion(op, req.Region)
	if err != nil {
		return err
	}
	req.Region = region
	return rules.Check(op, req)
}

// preflight reads (unless pf has them) and checks the snapshot and the
// instance; nothing is sent when it fails.
func (c *Client) preflight(ctx context.Context, op string, req provider.Request, pf provider.Preflight) (*provider.Snapshot, *provider.Instance, error) {
	refuse := func(kind error, field, msg, hint string) error {
		return &provider.Error{Provider: provider.ProviderTencent, Op: op, Kind: kind, Field: field,
			Message: msg, Hint: hint + "; nothing was sent"}
	}
	snap, err := pf.Snapshot, error(nil)
	if snap == nil || snap.ID != req.SnapshotID {
		if snap, err = c.Snapshot(ctx, req.Region, req.SnapshotID); err != nil {
			return nil, nil, err
		}
	}
	pre := c.preconditions(op)
	if err := pre.CheckSnapshot(snap, "", ""); err != nil { // ready: before reading more
		return nil, nil, err
	}
	inst := pf.Instance
	if inst == nil || inst.ID != req.InstanceID {
		if inst, err = c.Instance(ctx, req.Region, req.InstanceID); err != nil {
			return nil, nil, err
		}
	}
	if req.DiskID != "" && req.DiskID != inst.SystemDiskID {
		return nil, nil, refuse(provider.ErrInvalidArgument, "DiskID",
			fmt.Sprintf("DiskID %s is not the system disk %s of instance %s", req.DiskID, inst.SystemDiskID, inst.ID),
			"Lighthouse rolls back only the system disk; leave DiskID empty or set it to the system disk")
	}
	if snap.DiskID == "" || inst.SystemDiskID == "" {
		return nil, nil, refuse(provider.ErrSnapshotMismatch, "SnapshotID",
			fmt.Sprintf("snapshot %s (of disk %q) cannot be shown to be of the system disk %q of instance %s", snap.ID, snap.DiskID, inst.SystemDiskID, inst.ID),
			"pick a snapshot of this instance (DescribeSnapshots with the instance-id filter)")
	}
	if err := pre.CheckSnapshot(snap, inst.SystemDiskID, inst.ID); err != nil {
		return nil, nil, err
	}
	if err := c.checkInstance(op, inst); err != nil {
		return nil, nil, err
	}
	return snap, inst, nil
}

// preconditions are rollback's shared checks with Lighthouse's hints.
func (c *Client) preconditions(op string) provider.Preconditions {
	return provider.Preconditions{Provider: provider.ProviderTencent, Op: op, AllowRunning: c.allowForcedStop,
		RunningHint: "Lighthouse would shut it down without asking: stop it first (rollback.Run can, when asked), or set tencent.Config.AllowForcedStop to let the cloud force it off",
		StateHint:   hintState}
}

// checkInstance refuses an instance the rollback must not be sent to: one
// with an operation in progress (ErrBusy, worth waiting), or one that is
// not STOPPED (RUNNING is allowed with Config.AllowForcedStop). It runs
// before the first attempt and again before every resend.
func (c *Client) checkInstance(op string, inst *provider.Instance) error {
	return c.preconditions(op).CheckInstance(inst)
}

// rollbackEvidence is the evidence of a rollback (provider.RollbackWitness's
// rules, once.Latest): a RollbackInstanceSnapshot on the snapshot with a
// request ID the baseline did not have is ours; an ApplyInstanceSnapshot
// on the instance that the snapshot does not name, newer than the
// baseline, is someone else's rollback (CannotTell); otherwise nothing
// landed. check refuses an instance before a resend.
func (c *Client) rollbackEvidence(req provider.Request, base once.Baseline, check func(*provider.Instance) error) (once.Witness, func(context.Context) error) {
	return once.LatestRollback(req.InstanceID, base,
		func(ctx context.Context) (once.SnapshotRollback, error) {
			snap, err := c.Snapshot(ctx, req.Region, req.SnapshotID)
			if err != nil {
				return once.SnapshotRollback{}, err
			}
			sr := once.SnapshotRollback{SnapshotID: snap.ID}
			if snap.LatestOperation.Name == opRollback {
				sr.Op = snap.LatestOperation
			}
			return sr, nil
		},
		func(ctx context.Context) (*provider.Instance, error) {
			return c.Instance(ctx, req.Region, req.InstanceID)
		},
		check)
}

// WitnessRollback implements provider.RollbackWitness: whether a rollback
// to req's snapshot has landed since before was read, judged from the
// snapshot's LatestOperation, and read at least the client's read grace
// after since.
func (c *Client) WitnessRollback(ctx context.Context, req provider.Request, before *provider.Snapshot, since time.Time) (provider.Evidence, error) {
	const op = "ApplyInstanceSnapshot"
	region, err := c.resolveRegion(op, req.Region)
	if err != nil {
		return provider.Evidence{}, err
	}
	req.Region = region
	if err := rules.Check(op, req); err != nil {
		return provider.Evidence{}, err
	}
	if before == nil || before.ID != req.SnapshotID {
		return provider.Evidence{}, provider.InvalidArgument(provider.ProviderTencent, op, "before", "must be snapshot %s as read before the first rollback call", req.SnapshotID)
	}
	witness, _ := c.rollbackEvidence(req, once.Baseline{Snapshot: before.LatestOperation}, nil)
	return once.Prove(ctx, c.opts.Clock, c.opts.ReadGrace, since, witness)
}

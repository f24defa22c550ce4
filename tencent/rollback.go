package tencent

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	lh "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/lighthouse/v20200324"

	"github.com/cloudsnap/rollback"
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
// ApplyInstanceSnapshot has no client token. When an attempt fails in a way
// that leaves open whether it was applied (a lost reply, a timeout, a 5xx),
// Rollback reads both resources again before any resend: a new
// RollbackInstanceSnapshot operation on the snapshot (or
// ApplyInstanceSnapshot on the instance) means the call landed, and Rollback
// returns success with that operation's request ID and Result.Adopted set;
// no change means a resend is safe; if the state cannot be read, the error
// is ErrOutcomeUnknown and says what to check. A second rollback is never
// sent while the first may have been applied.
//
// The client token (rollback.ResolveToken) is not sent; it names the
// operation in the Result and the logs.
func (c *Client) Rollback(ctx context.Context, req rollback.Request) (*rollback.Result, error) {
	return c.RollbackWithPreflight(ctx, req, rollback.Preflight{})
}

// RollbackWithPreflight is Rollback using the instance and snapshot its
// caller has just read (rollback.PreflightRoller) instead of reading them
// again; either may be nil, and is then read. The checks and the
// exactly-once baseline are the same.
func (c *Client) RollbackWithPreflight(ctx context.Context, req rollback.Request, pf rollback.Preflight) (*rollback.Result, error) {
	const op = "ApplyInstanceSnapshot"
	region, err := c.resolveRegion(op, req.Region)
	if err != nil {
		return nil, err
	}
	req.Region = region
	if err := rules.Check(op, req); err != nil {
		return nil, err
	}
	token, err := rollback.ResolveToken(req)
	if err != nil {
		if e, ok := err.(*rollback.Error); ok {
			e.Provider, e.Op = rollback.ProviderTencent, op
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
			slog.String("provider", rollback.ProviderTencent), slog.String("op", op),
			slog.String("region", region), slog.String("instance", req.InstanceID),
			slog.String("snapshot", req.SnapshotID), slog.String("token", token))
	}

	res := &rollback.Result{
		Provider: rollback.ProviderTencent, ClientToken: token,
		InstanceID: req.InstanceID, DiskID: inst.SystemDiskID, Before: snap,
		SentAt: c.opts.Clock.Now(),
	}
	base := baseline{snap: snap.LatestOperation, inst: inst.LatestOperation}
	log.LogAttrs(ctx, slog.LevelInfo, "rollback starting",
		slog.String("instance_state", inst.NativeState),
		slog.String("baseline_snapshot_request", base.snap.RequestID),
		slog.String("baseline_instance_request", base.inst.RequestID))

	out, err := c.once(ctx, mutation{
		op: op, region: region, target: callTarget{InstanceID: req.InstanceID, DiskID: inst.SystemDiskID, SnapshotID: req.SnapshotID},
		send: func(sc *lh.Client) (string, error) {
			r := lh.NewApplyInstanceSnapshotRequest()
			r.InstanceId, r.SnapshotId = common.StringPtr(req.InstanceID), common.StringPtr(req.SnapshotID)
			resp, err := sc.ApplyInstanceSnapshot(r)
			if err != nil {
				return "", err
			}
			if resp.Response == nil {
				return "", nil
			}
			return str(resp.Response.RequestId), nil
		},
		landed: func(ctx context.Context) (bool, string, error) { return c.rollbackLanded(ctx, req, base) },
		what:   func() string { return fmt.Sprintf("rollback of %s to %s", req.InstanceID, req.SnapshotID) },
		check: func() string {
			return fmt.Sprintf("read DescribeSnapshots for %s (or DescribeInstances for %s); a LatestOperation RollbackInstanceSnapshot (ApplyInstanceSnapshot) with a request ID other than %q (%q) means the rollback was applied",
				req.SnapshotID, req.InstanceID, base.snap.RequestID, base.inst.RequestID)
		},
	})
	res.Attempts = out.sent
	if err != nil {
		log.LogAttrs(ctx, slog.LevelWarn, "rollback failed", slog.Int("attempts", out.sent), slog.String("error", err.Error()))
		return nil, err
	}
	res.RequestID, res.Adopted = out.requestID, out.adopted
	log.LogAttrs(ctx, slog.LevelInfo, "rollback accepted",
		slog.String("request_id", res.RequestID), slog.Int("attempts", res.Attempts), slog.Bool("adopted", res.Adopted))
	return res, nil
}

// ValidateRequest checks req against Lighthouse's rules (region, "lhins-"
// instance, "lhsnap-" snapshot and optional "lhdisk-" disk IDs, client
// token) without calling the cloud (rollback.RequestValidator); rollback.Run
// calls it before anything else.
func (c *Client) ValidateRequest(req rollback.Request) error {
	const op = "ApplyInstanceSnapshot"
	region, err := c.resolveRegion(op, req.Region)
	if err != nil {
		return err
	}
	req.Region = region
	return rules.Check(op, req)
}

// baseline is the resources' LatestOperation before the first attempt.
type baseline struct {
	snap, inst rollback.Operation
}

// preflight reads (unless pf has them) and checks the snapshot and the
// instance; nothing is sent when it fails.
func (c *Client) preflight(ctx context.Context, op string, req rollback.Request, pf rollback.Preflight) (*rollback.Snapshot, *rollback.Instance, error) {
	refuse := func(kind error, field, msg, hint string) error {
		return &rollback.Error{Provider: rollback.ProviderTencent, Op: op, Kind: kind, Field: field,
			Message: msg, Hint: hint + "; nothing was sent"}
	}
	snap, err := pf.Snapshot, error(nil)
	if snap == nil || snap.ID != req.SnapshotID {
		if snap, err = c.Snapshot(ctx, req.Region, req.SnapshotID); err != nil {
			return nil, nil, err
		}
	}
	if snap.State != rollback.SnapshotReady {
		return nil, nil, refuse(rollback.ErrSnapshotState, "",
			fmt.Sprintf("snapshot %s is %s, not NORMAL", snap.ID, snap.NativeState),
			"wait until it is created, or its rollback ends")
	}
	inst := pf.Instance
	if inst == nil || inst.ID != req.InstanceID {
		if inst, err = c.Instance(ctx, req.Region, req.InstanceID); err != nil {
			return nil, nil, err
		}
	}
	if req.DiskID != "" && req.DiskID != inst.SystemDiskID {
		return nil, nil, refuse(rollback.ErrInvalidArgument, "DiskID",
			fmt.Sprintf("DiskID %s is not the system disk %s of instance %s", req.DiskID, inst.SystemDiskID, inst.ID),
			"Lighthouse rolls back only the system disk; leave DiskID empty or set it to the system disk")
	}
	if snap.DiskID != inst.SystemDiskID || (snap.InstanceID != "" && snap.InstanceID != inst.ID) {
		return nil, nil, refuse(rollback.ErrSnapshotMismatch, "SnapshotID",
			fmt.Sprintf("snapshot %s is of disk %s, not of the system disk %s of instance %s", snap.ID, snap.DiskID, inst.SystemDiskID, inst.ID),
			"pick a snapshot of this instance (DescribeSnapshots with the instance-id filter)")
	}
	if inst.Busy {
		lo := inst.LatestOperation
		return nil, nil, refuse(rollback.ErrBusy, "",
			fmt.Sprintf("instance %s is %s with %s %s (request %s)", inst.ID, inst.NativeState, lo.Name, lo.NativeState, lo.RequestID),
			"wait until the operation ends")
	}
	switch inst.State {
	case rollback.InstanceStopped:
	case rollback.InstanceRunning:
		if !c.allowForcedStop {
			return nil, nil, refuse(rollback.ErrInstanceState, "",
				fmt.Sprintf("instance %s is RUNNING; Lighthouse would shut it down without asking", inst.ID),
				"stop it first (rollback.Run can, when asked), or set tencent.Config.AllowForcedStop to let the cloud force it off")
		}
	default:
		return nil, nil, refuse(rollback.ErrInstanceState, "",
			fmt.Sprintf("instance %s is %s; a rollback needs STOPPED (or RUNNING)", inst.ID, inst.NativeState), hintState)
	}
	return snap, inst, nil
}

// rollbackLanded reports whether a rollback was started since the baseline:
// the snapshot's (or the instance's) latest operation is a rollback with a
// request ID the baseline did not have.
func (c *Client) rollbackLanded(ctx context.Context, req rollback.Request, base baseline) (bool, string, error) {
	snap, err := c.Snapshot(ctx, req.Region, req.SnapshotID)
	if err != nil {
		return false, "", err
	}
	if lo := snap.LatestOperation; lo.Name == opRollback && lo.RequestID != "" && lo.RequestID != base.snap.RequestID {
		return true, lo.RequestID, nil
	}
	inst, err := c.Instance(ctx, req.Region, req.InstanceID)
	if err != nil {
		return false, "", err
	}
	if lo := inst.LatestOperation; lo.Name == opApply && lo.RequestID != "" && lo.RequestID != base.inst.RequestID {
		return true, lo.RequestID, nil
	}
	return false, "", nil
}

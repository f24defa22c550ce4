package aliyun

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	swas "github.com/aliyun/alibaba-cloud-sdk-go/services/swas-open"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/internal/invoke"
)

// Rollback rolls req.DiskID back to req.SnapshotID with ResetDisk, exactly
// once: one ClientToken (req.ClientToken, derived from req.OperationKey, or
// random) is sent on every retry, and SWAS applies a token at most once.
//
// Before sending anything it checks the input, reads the snapshot (missing:
// ErrSnapshotNotFound; not Accomplished: ErrSnapshotState; of another disk:
// ErrSnapshotMismatch) and finds the disk's instance when req.InstanceID is
// empty. A given InstanceID that does not own the disk is
// ErrSnapshotMismatch. It does not check that the instance is Stopped: SWAS
// refuses with IncorrectInstanceStatus.ResetDisk, which is ErrInstanceState
// (rollback.Run stops the instance first when asked).
//
// The rollback runs on after Rollback returns; Result.Before is the
// snapshot as read before the call, for the waiter to compare against.
func (c *Client) Rollback(ctx context.Context, req rollback.Request) (*rollback.Result, error) {
	return c.RollbackWithPreflight(ctx, req, rollback.Preflight{})
}

// RollbackWithPreflight is Rollback using the snapshot its caller has just
// read (rollback.PreflightRoller) instead of reading it again; a nil
// pf.Snapshot is read. The checks are the same.
func (c *Client) RollbackWithPreflight(ctx context.Context, req rollback.Request, pf rollback.Preflight) (*rollback.Result, error) {
	if err := c.ValidateRequest(req); err != nil {
		return nil, err
	}
	token, err := rollback.ResolveToken(req)
	if err != nil {
		return nil, stamp(err, opResetDisk)
	}
	before := pf.Snapshot
	if before == nil || before.ID != req.SnapshotID {
		if before, err = c.Snapshot(ctx, req.Region, req.SnapshotID); err != nil {
			return nil, err
		}
	}
	if err := checkSnapshot(before, req); err != nil {
		return nil, err
	}
	instanceID, err := c.instanceOf(ctx, req, before)
	if err != nil {
		return nil, err
	}

	res := &rollback.Result{
		Provider:    rollback.ProviderAliyun,
		ClientToken: token,
		InstanceID:  instanceID,
		DiskID:      req.DiskID,
		Before:      before,
	}
	// Request IDs of replies to earlier attempts. SWAS answers a resent
	// token with the first answer, request ID included, so seeing one
	// again proves that an earlier attempt landed.
	seen := make(map[string]bool)
	requestID, attempts, err := invoke.Call(ctx, c.inv, &c.pool, opResetDisk, func(_ context.Context, _ int, sc *swas.Client) (string, error) {
		if res.SentAt.IsZero() {
			res.SentAt = c.clk.Now()
		}
		r := swas.CreateResetDiskRequest()
		c.target(r.RpcRequest, req.Region)
		r.DiskId, r.SnapshotId, r.ClientToken = req.DiskID, req.SnapshotID, token
		resp, err := sc.ResetDisk(r)
		if err != nil {
			if id := replyID(resp, err); id != "" {
				seen[id] = true
			}
			return "", err
		}
		return resp.RequestId, nil
	})
	res.Attempts = attempts
	if err != nil {
		return nil, err
	}
	res.RequestID = requestID
	res.Adopted = seen[requestID]
	c.opts.Logger.LogAttrs(ctx, slog.LevelInfo, "rollback accepted",
		slog.String("provider", rollback.ProviderAliyun), slog.String("region", req.Region),
		slog.String("instance", instanceID), slog.String("disk", req.DiskID),
		slog.String("snapshot", req.SnapshotID), slog.String("request_id", requestID),
		slog.String("client_token", token), slog.Int("attempts", attempts), slog.Bool("adopted", res.Adopted))
	return res, nil
}

// ValidateRequest checks req against SWAS's rules (region, "d-" disk and
// "s-" snapshot IDs, instance ID characters, client token) without calling
// the cloud; rollback.Run calls it before anything else.
func (c *Client) ValidateRequest(req rollback.Request) error {
	return rules.Check(opResetDisk, req)
}

// checkSnapshot refuses a snapshot that is not ready or not of the disk.
func checkSnapshot(s *rollback.Snapshot, req rollback.Request) error {
	if s.State != rollback.SnapshotReady {
		return &rollback.Error{
			Provider: rollback.ProviderAliyun, Op: opResetDisk, Kind: rollback.ErrSnapshotState,
			Message: "snapshot " + s.ID + " is " + s.NativeState + ", not Accomplished",
			Hint:    "wait until the snapshot is ready; nothing was sent",
		}
	}
	if s.DiskID != req.DiskID {
		return mismatch("snapshot " + s.ID + " was taken from disk " + s.DiskID + ", not " + req.DiskID)
	}
	return nil
}

// instanceOf returns the instance of req.DiskID. A system-disk snapshot
// names it; otherwise ListDisks does.
func (c *Client) instanceOf(ctx context.Context, req rollback.Request, s *rollback.Snapshot) (string, error) {
	owner := s.InstanceID
	if owner == "" {
		d, err := c.Disk(ctx, req.Region, req.DiskID)
		if err != nil {
			return "", err
		}
		owner = d.InstanceID
	}
	switch {
	case req.InstanceID == "":
		return owner, nil
	case owner != "" && owner != req.InstanceID:
		return "", mismatch("disk " + req.DiskID + " belongs to instance " + owner + ", not " + req.InstanceID)
	}
	return req.InstanceID, nil
}

func mismatch(msg string) error {
	return &rollback.Error{
		Provider: rollback.ProviderAliyun, Op: opResetDisk, Kind: rollback.ErrSnapshotMismatch,
		Message: msg, Hint: "nothing was sent",
	}
}

// replyID is the request ID of a reply that came back as an error.
func replyID(resp *swas.ResetDiskResponse, err error) string {
	var se *sdkerrors.ServerError
	if errors.As(err, &se) && se.RequestId() != "" {
		return se.RequestId()
	}
	if resp != nil && resp.BaseResponse != nil {
		return http.Header(resp.GetHttpHeaders()).Get("x-acs-request-id")
	}
	return ""
}

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
// When the call fails after an attempt that may have landed (lost replies,
// timeouts, 5xx; then the retries gave up, or a resend was refused),
// Rollback reads the state: a reset under way or finished since means
// success (Result.Adopted); an unreadable state is ErrOutcomeUnknown;
// otherwise the error is returned.
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
	// Whether an attempt failed in a way that may have applied it: then a
	// later refusal may be caused by that attempt (the instance Resetting).
	ambiguous := false
	requestID, attempts, err := invoke.CallOn(ctx, c.inv, &c.pool, invoke.Target{Region: req.Region, InstanceID: instanceID, DiskID: req.DiskID, SnapshotID: req.SnapshotID}, opResetDisk, func(_ context.Context, _ int, sc *swas.Client) (string, error) {
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
			ambiguous = ambiguous || rollback.IsAmbiguous(c.mapError(opResetDisk, err))
			return "", err
		}
		return resp.RequestId, nil
	})
	res.Attempts = attempts
	if err != nil && (ambiguous || rollback.IsAmbiguous(err)) && ctx.Err() == nil {
		// Failed after an attempt that may have landed (gave up, or a
		// resend was refused, e.g. because the instance is now
		// Resetting): the token keeps a resend safe, but the caller must
		// not be told "network error" or "wrong state" about a rollback
		// that is running. State decides.
		landed, rerr := c.resetLanded(ctx, req.Region, instanceID, before)
		switch {
		case rerr != nil && ctx.Err() != nil:
			// The caller's context ended while reading: say so, and what
			// is unknown.
			return nil, &rollback.InterruptedError{Ctx: ctx.Err(), Last: c.outcomeUnknown(req, instanceID, before, err, rerr)}
		case rerr != nil:
			return nil, c.outcomeUnknown(req, instanceID, before, err, rerr)
		case landed:
			c.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "adopted an earlier attempt",
				slog.String("provider", rollback.ProviderAliyun), slog.String("op", opResetDisk),
				slog.String("disk", req.DiskID), slog.String("client_token", token), slog.Int("attempts", attempts))
			res.Adopted = true
			return res, nil
		}
	}
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

// resetLanded reports whether a ResetDisk of the disk has been applied
// since before was read: the instance is Resetting, or the snapshot records
// a rollback newer than before's (it finished meanwhile). The instance is
// read first, so that a reset ending between the two reads is still seen.
func (c *Client) resetLanded(ctx context.Context, region, instanceID string, before *rollback.Snapshot) (bool, error) {
	in, err := c.Instance(ctx, region, instanceID)
	if err != nil {
		return false, err
	}
	if in.State == rollback.InstanceRollingBack {
		return true, nil
	}
	s, err := c.Snapshot(ctx, region, before.ID)
	if err != nil {
		return false, err
	}
	return !s.LastRollbackAt.IsZero() && s.LastRollbackAt.After(before.LastRollbackAt), nil
}

// outcomeUnknown says that a ResetDisk may have been applied and the state
// could not be read to tell. Its Err is the last attempt's (redacted) SDK
// error, so that it matches no retryable sentinel.
func (c *Client) outcomeUnknown(req rollback.Request, instanceID string, before *rollback.Snapshot, last, readErr error) error {
	e := &rollback.Error{
		Provider: rollback.ProviderAliyun, Op: opResetDisk, Kind: rollback.ErrOutcomeUnknown, Ambiguous: true,
		Message: "the rollback of disk " + req.DiskID + " to " + req.SnapshotID +
			" may have been applied: no reply confirmed it, and the state could not be read to tell (" +
			clip(c.redactor.String(readErr.Error())) + ")",
		Hint: "resending with the same ClientToken (or OperationKey) is safe, a new one is not: first check ListInstances for " +
			instanceID + " (Resetting means it was applied) or ListSnapshots for " + req.SnapshotID +
			" (a RollbackTime later than " + before.LastRollbackAt.UTC().Format("2006-01-02T15:04:05Z") + ")",
	}
	var le *rollback.Error
	if errors.As(last, &le) {
		e.Code, e.RequestID, e.HTTPStatus, e.Err = le.Code, le.RequestID, le.HTTPStatus, le.Err
	}
	return e
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

package aliyun

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	swas "github.com/aliyun/alibaba-cloud-sdk-go/services/swas-open"

	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/invoke"
	"github.com/cloudsnap/rollback/provider/once"
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
// Exactly once: every attempt carries the token, so resends within the
// call are safe. When the call fails after an attempt that may have landed
// (lost replies, timeouts, 5xx, an empty reply; then the retries gave up,
// or a resend was refused), Rollback reads the state at least the read
// grace (rollback.WithReadGrace) after that attempt: the snapshot's
// RollbackTime later than before means success (Result.Adopted); a reset
// under way is waited out and judged when it ends (one that ends with no
// new RollbackTime failed or was another's: a reset names no snapshot);
// that, or an unreadable state, is ErrOutcomeUnknown; otherwise the error
// is returned.
//
// The rollback runs on after Rollback returns; Result.Before is the
// snapshot as read before the call, for the waiter to compare against.
func (c *Client) Rollback(ctx context.Context, req provider.Request) (*provider.Result, error) {
	return c.RollbackWithPreflight(ctx, req, provider.Preflight{})
}

// RollbackWithPreflight is Rollback using the snapshot its caller has just
// read (provider.PreflightRoller) instead of reading it again; a nil
// pf.Snapshot is read. The checks are the same.
func (c *Client) RollbackWithPreflight(ctx context.Context, req provider.Request, pf provider.Preflight) (*provider.Result, error) {
	if err := c.ValidateRequest(req); err != nil {
		return nil, err
	}
	token, err := provider.ResolveToken(req)
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

	res := &provider.Result{
		Provider:    provider.ProviderAliyun,
		ClientToken: token,
		InstanceID:  instanceID,
		DiskID:      req.DiskID,
		Before:      before,
	}
	call := once.On(c.inv, &c.pool, invoke.Target{Region: req.Region, InstanceID: instanceID, DiskID: req.DiskID, SnapshotID: req.SnapshotID})
	// SWAS deduplicates the token, so resends within the call need no
	// proof; a call that gives up after an attempt that may have landed
	// (or a resend refused because the instance is now Resetting) is
	// settled by the witness. The engine also recognises the cloud
	// answering a resent token with the first answer (the same request
	// ID as an earlier reply).
	out, err := once.Do(ctx, once.NewEngine(provider.ProviderAliyun, c.opts, c.mapError), call, once.Mutation[*swas.Client]{
		Op:           opResetDisk,
		Deduplicated: true,
		Send: func(_ context.Context, sc *swas.Client) (string, error) {
			if res.SentAt.IsZero() {
				res.SentAt = c.clk.Now()
			}
			r := swas.CreateResetDiskRequest()
			c.target(r.RpcRequest, req.Region)
			r.DiskId, r.SnapshotId, r.ClientToken = req.DiskID, req.SnapshotID, token
			resp, err := sc.ResetDisk(r)
			if err != nil {
				if id := replyID(resp, err); id != "" {
					return "", requestIDError{err, id}
				}
				return "", err
			}
			return resp.RequestId, nil
		},
		Witness: func(ctx context.Context) (provider.Evidence, error) {
			return c.judgeReset(ctx, req.Region, instanceID, before)
		},
		What: func() string { return "rollback of disk " + req.DiskID + " to " + req.SnapshotID },
		HowToCheck: func() string {
			return "ListSnapshots for " + req.SnapshotID + ": a RollbackTime later than " +
				before.LastRollbackAt.UTC().Format("2006-01-02T15:04:05Z") + " means it was applied (ListInstances for " + instanceID +
				" shows Resetting while a reset runs); resending with the same ClientToken (or OperationKey) is safe while the cloud remembers the token, a new one is not"
		},
	})
	res.Attempts = out.Sent
	if err != nil {
		return nil, err
	}
	res.RequestID, res.Adopted = out.RequestID, out.Adopted
	c.opts.Logger.LogAttrs(ctx, slog.LevelInfo, "rollback accepted",
		slog.String("provider", provider.ProviderAliyun), slog.String("region", req.Region),
		slog.String("instance", instanceID), slog.String("disk", req.DiskID),
		slog.String("snapshot", req.SnapshotID), slog.String("request_id", res.RequestID),
		slog.String("client_token", token), slog.Int("attempts", res.Attempts), slog.Bool("adopted", res.Adopted))
	return res, nil
}

// requestIDError is an SDK error whose reply carried a request ID the SDK
// error itself may not (an unreadable body with the x-acs-request-id
// header), so that the engine can recognise a resent token's first answer.
type requestIDError struct {
	error
	id string
}

func (e requestIDError) Unwrap() error { return e.error }

// judgeReset reads the instance, then the snapshot, and judges them
// against before (provider.RollbackWitness's rules): the snapshot's
// RollbackTime later than before's is ours; an instance Resetting with no
// such time is a reset that names no snapshot yet (Settling: read again
// until it ends); otherwise nothing landed. The instance is read
// first, so that a reset ending between the two reads is still seen.
func (c *Client) judgeReset(ctx context.Context, region, instanceID string, before *provider.Snapshot) (provider.Evidence, error) {
	in, err := c.Instance(ctx, region, instanceID)
	if err != nil {
		return provider.Evidence{}, err
	}
	s, err := c.Snapshot(ctx, region, before.ID)
	if err != nil {
		return provider.Evidence{}, err
	}
	if !s.LastRollbackAt.IsZero() && s.LastRollbackAt.After(before.LastRollbackAt) {
		return provider.Evidence{Verdict: provider.OursLanded,
			Detail: "snapshot " + s.ID + " was last rolled back to at " + s.LastRollbackAt.UTC().Format(time.RFC3339)}, nil
	}
	if in.State == provider.InstanceRollingBack {
		return provider.Evidence{Verdict: provider.Settling,
			Detail: "instance " + in.ID + " was Resetting, and snapshot " + s.ID + " recorded no rollback since the baseline: a reset that may be this one or another"}, nil
	}
	return provider.Evidence{Verdict: provider.NothingLanded}, nil
}

// WitnessRollback implements provider.RollbackWitness: whether a reset to
// req's snapshot has landed since before was read, judged from the
// snapshot's RollbackTime, and read at least the client's read grace after
// since.
func (c *Client) WitnessRollback(ctx context.Context, req provider.Request, before *provider.Snapshot, since time.Time) (provider.Evidence, error) {
	if err := c.ValidateRequest(req); err != nil {
		return provider.Evidence{}, err
	}
	if before == nil || before.ID != req.SnapshotID {
		return provider.Evidence{}, provider.InvalidArgument(provider.ProviderAliyun, opResetDisk, "before", "must be snapshot %s as read before the first rollback call", req.SnapshotID)
	}
	instanceID, err := c.instanceOf(ctx, req, before)
	if err != nil {
		return provider.Evidence{}, err
	}
	return once.Prove(ctx, c.clk, c.opts.ReadGrace, since, func(ctx context.Context) (provider.Evidence, error) {
		return c.judgeReset(ctx, req.Region, instanceID, before)
	})
}

// ValidateRequest checks req against SWAS's rules (region, "d-" disk and
// "s-" snapshot IDs, instance ID characters, client token) without calling
// the cloud; rollback.Run calls it before anything else.
func (c *Client) ValidateRequest(req provider.Request) error {
	return rules.Check(opResetDisk, req)
}

// checkSnapshot refuses a snapshot that is not ready or not of the disk
// (rollback's shared checks). SWAS itself refuses an instance that is not
// Stopped (IncorrectInstanceStatus.ResetDisk) and never forces one off, so
// the instance is not read here.
func checkSnapshot(s *provider.Snapshot, req provider.Request) error {
	if s.DiskID == "" {
		return mismatch("snapshot " + s.ID + " names no source disk, so it cannot be shown to be of " + req.DiskID)
	}
	return provider.Preconditions{Provider: provider.ProviderAliyun, Op: opResetDisk}.CheckSnapshot(s, req.DiskID, "")
}

// instanceOf returns the instance of req.DiskID. A system-disk snapshot
// names it; otherwise ListDisks does.
func (c *Client) instanceOf(ctx context.Context, req provider.Request, s *provider.Snapshot) (string, error) {
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
	return &provider.Error{
		Provider: provider.ProviderAliyun, Op: opResetDisk, Kind: provider.ErrSnapshotMismatch,
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

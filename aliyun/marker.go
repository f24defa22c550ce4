package aliyun

import (
	"context"
	"time"

	swas "github.com/aliyun/alibaba-cloud-sdk-go/services/swas-open"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/internal/invoke"
)

// Operation marks (rollback.OperationMarker). Before the first ResetDisk of
// a keyed operation whose checkpoints would not outlive the process, Run
// tags the disk with rollback.MarkName(key) = the snapshot's RollbackTime
// as read before (or "none"). A Run that lost its checkpoint reads the tag
// back: no tag means no earlier Run of the key sent anything; a tag gives
// the baseline to judge the snapshot's RollbackTime against, which the
// ClientToken alone cannot once SWAS has forgotten it.

const (
	opTagResources     = "TagResources"
	opListTagResources = "ListTagResources"
	opUntagResources   = "UntagResources"

	markNone = "none"
)

var _ rollback.OperationMarker = (*Client)(nil)

// MarkOperation implements rollback.OperationMarker: it tags req's disk.
func (c *Client) MarkOperation(ctx context.Context, req rollback.Request, key string, before *rollback.Snapshot) error {
	if err := rules.CheckDisk(opTagResources, req.Region, req.DiskID); err != nil {
		return err
	}
	value := markNone
	if before != nil && !before.LastRollbackAt.IsZero() {
		value = before.LastRollbackAt.UTC().Format(time.RFC3339Nano)
	}
	// Tagging is idempotent (the same key and value again changes nothing),
	// so plain retries are safe.
	_, _, err := invoke.Call(ctx, c.inv, &c.pool, opTagResources, func(_ context.Context, _ int, sc *swas.Client) (string, error) {
		r := swas.CreateTagResourcesRequest()
		c.target(r.RpcRequest, req.Region)
		r.ResourceType, r.ResourceId = "disk", &[]string{req.DiskID}
		r.Tag = &[]swas.TagResourcesTag{{Key: rollback.MarkName(key), Value: value}}
		resp, err := sc.TagResources(r)
		if err != nil {
			return "", err
		}
		return resp.RequestId, nil
	})
	return err
}

// OperationMark implements rollback.OperationMarker: it reads req's disk's
// tags and returns the baseline snapshot of key's mark, nil when the disk
// carries none.
func (c *Client) OperationMark(ctx context.Context, req rollback.Request, key string) (*rollback.Snapshot, error) {
	if err := rules.CheckDisk(opListTagResources, req.Region, req.DiskID); err != nil {
		return nil, err
	}
	name := rollback.MarkName(key)
	next := ""
	for page := 0; page < 20; page++ { // SWAS allows 20 tags a resource: one page in practice
		var resp *swas.ListTagResourcesResponse
		_, _, err := invoke.Call(ctx, c.inv, &c.pool, opListTagResources, func(_ context.Context, _ int, sc *swas.Client) (string, error) {
			r := swas.CreateListTagResourcesRequest()
			c.target(r.RpcRequest, req.Region)
			r.ResourceType, r.ResourceId, r.NextToken = "disk", &[]string{req.DiskID}, next
			got, err := sc.ListTagResources(r)
			if err != nil {
				return "", err
			}
			resp = got
			return got.RequestId, nil
		})
		if err != nil {
			return nil, err
		}
		if resp == nil || resp.RequestId == "" {
			return nil, &rollback.Error{Provider: rollback.ProviderAliyun, Op: opListTagResources, Kind: rollback.ErrInternal,
				Message: "the reply to ListTagResources was empty", Hint: "try again later"}
		}
		for _, t := range resp.TagResources.TagResource {
			if t.ResourceId != req.DiskID || t.TagKey != name {
				continue
			}
			before := &rollback.Snapshot{Provider: rollback.ProviderAliyun, ID: req.SnapshotID, DiskID: req.DiskID}
			if t.TagValue != markNone {
				at, err := time.Parse(time.RFC3339Nano, t.TagValue)
				if err != nil {
					return nil, &rollback.Error{Provider: rollback.ProviderAliyun, Op: opListTagResources, Kind: rollback.ErrOutcomeUnknown,
						Message: "disk " + req.DiskID + " carries this operation's mark " + name + " with a value that is not a time",
						Hint:    "check the disk's last reset in the console; remove the tag once you know"}
				}
				before.LastRollbackAt = at
			}
			return before, nil
		}
		if resp.NextToken == "" {
			break
		}
		next = resp.NextToken
	}
	return nil, nil
}

// ClearOperationMark implements rollback.OperationMarker: it removes key's
// tag from req's disk.
func (c *Client) ClearOperationMark(ctx context.Context, req rollback.Request, key string) error {
	if err := rules.CheckDisk(opUntagResources, req.Region, req.DiskID); err != nil {
		return err
	}
	_, _, err := invoke.Call(ctx, c.inv, &c.pool, opUntagResources, func(_ context.Context, _ int, sc *swas.Client) (string, error) {
		r := swas.CreateUntagResourcesRequest()
		c.target(r.RpcRequest, req.Region)
		r.ResourceType, r.ResourceId, r.TagKey = "disk", &[]string{req.DiskID}, &[]string{rollback.MarkName(key)}
		resp, err := sc.UntagResources(r)
		if err != nil {
			return "", err
		}
		return resp.RequestId, nil
	})
	return err
}

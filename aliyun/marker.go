package aliyun

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	swas "github.com/aliyun/alibaba-cloud-sdk-go/services/swas-open"

	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/invoke"
)

// Operation marks (provider.OperationMarker). Before the first ResetDisk of
// a keyed operation whose checkpoints would not outlive the process, Run
// tags the disk with provider.MarkName(key) = "<the snapshot's RollbackTime
// as read before, or none> <when marked>". A Run that lost its checkpoint
// reads the tag back: no tag means no earlier Run of the key sent
// anything; a tag gives the baseline to judge the snapshot's RollbackTime
// against, which the ClientToken alone cannot once SWAS has forgotten it.
// Marks stay after the operation is done (that is what stops it being done
// again); SWAS allows 20 tags a resource, so a disk keeps the newest
// MaxMarks and marking a new operation removes the oldest beyond that.

const (
	opTagResources     = "TagResources"
	opListTagResources = "ListTagResources"
	opUntagResources   = "UntagResources"

	markNone = "none"
)

// MaxMarks is how many operation marks a disk keeps: the newest ones; the
// rest of SWAS's 20 tags a resource are left to their owners. An operation
// whose mark was pushed out and whose checkpoint was lost is no longer
// recognised.
const MaxMarks = 10

var _ provider.OperationMarker = (*Client)(nil)

// MarkOperation implements provider.OperationMarker: it tags req's disk.
func (c *Client) MarkOperation(ctx context.Context, req provider.Request, key string, before *provider.Snapshot) error {
	if err := rules.CheckDisk(opTagResources, req.Region, req.DiskID); err != nil {
		return err
	}
	value := markNone
	if before != nil && !before.LastRollbackAt.IsZero() {
		value = before.LastRollbackAt.UTC().Format(time.RFC3339Nano)
	}
	value += " " + c.clk.Now().UTC().Format(time.RFC3339)
	if err := c.pruneMarks(ctx, req, provider.MarkName(key), c.seen.take(markSeenKey(req, key), c.clk.Now())); err != nil {
		return err
	}
	// Tagging is idempotent (the same key and value again changes nothing),
	// so plain retries are safe.
	_, _, err := invoke.Call(ctx, c.inv, &c.pool, opTagResources, func(_ context.Context, _ int, sc *swas.Client) (string, error) {
		r := swas.CreateTagResourcesRequest()
		c.target(r.RpcRequest, req.Region)
		r.ResourceType, r.ResourceId = "disk", &[]string{req.DiskID}
		r.Tag = &[]swas.TagResourcesTag{{Key: provider.MarkName(key), Value: value}}
		resp, err := sc.TagResources(r)
		if err != nil {
			return "", err
		}
		return resp.RequestId, nil
	})
	return err
}

// OperationMark implements provider.OperationMarker: it reads req's disk's
// tags and returns key's mark, nil when the disk carries none.
func (c *Client) OperationMark(ctx context.Context, req provider.Request, key string) (*provider.Mark, error) {
	if err := rules.CheckDisk(opListTagResources, req.Region, req.DiskID); err != nil {
		return nil, err
	}
	name := provider.MarkName(key)
	marks, err := c.listMarks(ctx, req)
	if err != nil {
		return nil, err
	}
	m, ok := marks[name]
	if !ok {
		// The MarkOperation that usually follows (a keyed Run without a
		// checkpoint) prunes from this reading instead of listing again.
		c.seen.put(markSeenKey(req, key), marks, c.clk.Now())
		return nil, nil
	}
	if m.baselineErr != nil {
		return nil, &provider.Error{Provider: provider.ProviderAliyun, Op: opListTagResources, Kind: provider.ErrOutcomeUnknown,
			Message: "disk " + req.DiskID + " carries this operation's mark " + name + " with a value that is not a time",
			Hint:    "check the disk's last reset in the console; remove the tag once you know"}
	}
	return &provider.Mark{At: m.markedAt,
		Before: &provider.Snapshot{Provider: provider.ProviderAliyun, ID: req.SnapshotID, DiskID: req.DiskID, LastRollbackAt: m.baseline}}, nil
}

// mark is one operation mark as read from a disk's tags.
type mark struct {
	baseline    time.Time // zero for "none"
	baselineErr error
	markedAt    time.Time // zero when unknown
}

// listMarks reads the operation marks on req's disk, by tag key.
func (c *Client) listMarks(ctx context.Context, req provider.Request) (map[string]mark, error) {
	marks := map[string]mark{}
	prefix := provider.MarkName("")[:len("cloudsnap-rollback-")]
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
			return nil, &provider.Error{Provider: provider.ProviderAliyun, Op: opListTagResources, Kind: provider.ErrInternal,
				Message: "the reply to ListTagResources was empty", Hint: "try again later"}
		}
		for _, t := range resp.TagResources.TagResource {
			if t.ResourceId != req.DiskID || !strings.HasPrefix(t.TagKey, prefix) {
				continue
			}
			base, at, _ := strings.Cut(t.TagValue, " ")
			var m mark
			if base != markNone {
				m.baseline, m.baselineErr = time.Parse(time.RFC3339Nano, base)
			}
			m.markedAt, _ = time.Parse(time.RFC3339, at)
			marks[t.TagKey] = m
		}
		if resp.NextToken == "" {
			break
		}
		next = resp.NextToken
	}
	return marks, nil
}

// pruneMarks makes room for one more mark on req's disk: it removes the
// oldest marks beyond MaxMarks-1 (other than keep's own). marks is a
// recent reading of the disk's marks, or nil to list them.
func (c *Client) pruneMarks(ctx context.Context, req provider.Request, keep string, marks map[string]mark) error {
	if marks == nil {
		var err error
		if marks, err = c.listMarks(ctx, req); err != nil {
			return err
		}
	}
	delete(marks, keep)
	if len(marks) < MaxMarks {
		return nil
	}
	names := make([]string, 0, len(marks))
	for n := range marks {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return marks[names[i]].markedAt.Before(marks[names[j]].markedAt) })
	old := names[:len(names)-(MaxMarks-1)]
	_, _, err := invoke.Call(ctx, c.inv, &c.pool, opUntagResources, func(_ context.Context, _ int, sc *swas.Client) (string, error) {
		r := swas.CreateUntagResourcesRequest()
		c.target(r.RpcRequest, req.Region)
		r.ResourceType, r.ResourceId, r.TagKey = "disk", &[]string{req.DiskID}, &old
		resp, err := sc.UntagResources(r)
		if err != nil {
			return "", err
		}
		return resp.RequestId, nil
	})
	return err
}

// markSeenKey names a Run's reading of a disk's marks: its region, disk
// and operation key.
func markSeenKey(req provider.Request, key string) string {
	return req.Region + "/" + req.DiskID + "/" + provider.MarkName(key)
}

// markReadings keeps, for a short while, the disk's marks as OperationMark
// read them when the key had none, so that the MarkOperation of the same
// Run (which follows after the pre-flight, a stop and its wait) prunes
// from that reading instead of listing the tags a second time. A reading
// that is stale by then costs at most a prune that leaves a mark too many
// until the next one: marks are bounded by MaxMarks, well under SWAS's 20
// tags a resource. The zero value is ready to use.
type markReadings struct {
	mu sync.Mutex
	m  map[string]markReading
}

type markReading struct {
	marks map[string]mark
	at    time.Time
}

const (
	markReadingFor = 10 * time.Minute // older readings are listed again
	markReadingMax = 256              // readings kept at most (Runs that never marked)
)

func (r *markReadings) put(k string, marks map[string]mark, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]markReading{}
	}
	if len(r.m) >= markReadingMax {
		for k, v := range r.m {
			if now.Sub(v.at) > markReadingFor {
				delete(r.m, k)
			}
		}
		if len(r.m) >= markReadingMax {
			return
		}
	}
	r.m[k] = markReading{marks: marks, at: now}
}

// take returns and forgets k's reading, nil when there is none recent.
func (r *markReadings) take(k string, now time.Time) map[string]mark {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.m[k]
	delete(r.m, k)
	if !ok || now.Sub(v.at) > markReadingFor {
		return nil
	}
	return v.marks
}

package provider

import (
	"context"

	"github.com/cloudsnap/rollback/internal/idset"
)

// BatchReader is the read of a cloud's Describe-style action that takes a
// list of IDs, up to Max per call: the batched read (BatchInspector,
// BatchSnapshotInspector) and the single read built on it, in one place
// for every provider.
type BatchReader[T any] struct {
	// Max is the most IDs one call takes; 0 means all in one call.
	Max int
	// ID returns a resource's ID.
	ID func(T) string
	// Read makes one call for ids and returns what the reply holds and
	// its request ID.
	Read func(ctx context.Context, ids []string) ([]T, string, error)
}

// Many checks every ID with check (nothing is sent when one fails; check
// may be nil), drops repeats, reads them Max per call and returns what the
// replies hold in the order asked, each once. IDs that no reply holds are
// left out: the resource does not exist. What a reply holds that was not
// asked for is dropped, since it proves nothing about the IDs asked.
func (r BatchReader[T]) Many(ctx context.Context, ids []string, check func(id string) error) ([]T, error) {
	if check == nil {
		check = func(string) error { return nil }
	}
	ids, err := idset.Prepare(ids, check)
	if err != nil {
		return nil, err
	}
	size := r.Max
	if size <= 0 {
		size = max(len(ids), 1)
	}
	found := make(map[string]T, len(ids))
	for _, chunk := range idset.Chunks(ids, size) {
		got, _, err := r.Read(ctx, chunk)
		if err != nil {
			return nil, err
		}
		for _, v := range got {
			found[r.ID(v)] = v
		}
	}
	out := make([]T, 0, len(found))
	for _, id := range ids {
		if v, ok := found[id]; ok {
			out = append(out, v)
		}
	}
	return out, nil
}

// One reads id with one call and returns it; when the reply does not hold
// it, the error is notFound of the reply's request ID (the caller's
// ErrInstanceNotFound or ErrSnapshotNotFound with its hint). Check id
// before calling One.
func (r BatchReader[T]) One(ctx context.Context, id string, notFound func(requestID string) error) (T, error) {
	var zero T
	got, rid, err := r.Read(ctx, []string{id})
	if err != nil {
		return zero, err
	}
	for _, v := range got {
		if r.ID(v) == id {
			return v, nil
		}
	}
	return zero, notFound(rid)
}

// NotFound is the error of a read whose reply does not hold the resource
// asked for: kind (ErrInstanceNotFound, ErrSnapshotNotFound,
// ErrDiskNotFound) with the message "<noun> <id> does not exist in
// <region>" and the reply's request ID. Only a real reply may say so: an
// empty one is ErrInternal.
func NotFound(provider, op string, kind error, requestID, noun, id, region string) *Error {
	return &Error{Provider: provider, Op: op, Kind: kind, RequestID: requestID,
		Message: noun + " " + id + " does not exist in " + region,
		Hint:    "check the " + noun + " ID and the region"}
}

package temporal

import (
	"context"
	"errors"

	"github.com/cloudsnap/rollback"
	"go.temporal.io/sdk/temporal"
)

// kinds names every sentinel of the rollback package. The name is the
// ApplicationError type of a failed activity or workflow, so that a caller
// on another host (or another language) can switch on it, and KindOf maps
// it back to the sentinel.
var kinds = []struct {
	name string
	err  error
}{
	{"InvalidArgument", rollback.ErrInvalidArgument},
	{"InstanceNotFound", rollback.ErrInstanceNotFound},
	{"DiskNotFound", rollback.ErrDiskNotFound},
	{"SnapshotNotFound", rollback.ErrSnapshotNotFound},
	{"NotFound", rollback.ErrNotFound},
	{"InstanceState", rollback.ErrInstanceState},
	{"SnapshotState", rollback.ErrSnapshotState},
	{"SnapshotMismatch", rollback.ErrSnapshotMismatch},
	{"Busy", rollback.ErrBusy},
	{"Throttled", rollback.ErrThrottled},
	{"QuotaExceeded", rollback.ErrQuotaExceeded},
	{"Unauthenticated", rollback.ErrUnauthenticated},
	{"PermissionDenied", rollback.ErrPermissionDenied},
	{"Internal", rollback.ErrInternal},
	{"Network", rollback.ErrNetwork},
	{"RollbackFailed", rollback.ErrRollbackFailed},
	{"OutcomeUnknown", rollback.ErrOutcomeUnknown},
	{"Timeout", rollback.ErrTimeout},
}

// Error types of failures this package raises that are not rollback
// sentinels.
const (
	// TypeCancelled: the workflow was cancelled by the cancel signal or by
	// Temporal; its report (ReportOf) says what was already sent.
	TypeCancelled = "Cancelled"
	// TypeUnclassified: an error the library does not classify.
	TypeUnclassified = "Unclassified"
)

// KindName returns the name of err's sentinel (see rollback.KindOf), or
// TypeUnclassified.
func KindName(err error) string { return sentinelName(rollback.KindOf(err)) }

// sentinelName names a sentinel.
func sentinelName(k error) string {
	for _, kd := range kinds {
		if k == kd.err {
			return kd.name
		}
	}
	return TypeUnclassified
}

// KindOf returns the rollback sentinel a Temporal failure stands for: the
// type of the innermost *temporal.ApplicationError in err's chain that
// names one (an activity's failure wrapped by the workflow's), or
// rollback.KindOf(err) for a local error. errors.Is(KindOf(err),
// rollback.ErrNotFound) works as with rollback.Run's errors.
func KindOf(err error) error {
	if err == nil {
		return nil
	}
	var found error
	for e := err; e != nil; e = errors.Unwrap(e) {
		var ae *temporal.ApplicationError
		if !errors.As(e, &ae) {
			break
		}
		for _, kd := range kinds {
			if ae.Type() == kd.name {
				found = kd.err
			}
		}
		e = ae
	}
	if found != nil {
		return found
	}
	return rollback.KindOf(err)
}

// ErrorDetails travels with every failure this package raises, as the
// ApplicationError's details: what the library said, without the cause
// chain (which Temporal would flatten to text anyway).
type ErrorDetails struct {
	Kind      string // the sentinel's name (the error's type)
	Step      rollback.Step
	Message   string
	Hint      string `json:",omitempty"`
	Code      string `json:",omitempty"` // the cloud's error code
	RequestID string `json:",omitempty"`
	Field     string `json:",omitempty"`
	Ambiguous bool   `json:",omitempty"`
}

// activityError turns a library error into what an activity returns.
//
// The library has already retried what is worth retrying (its own retry
// layer, with the call's token and its evidence rules), so its errors are
// non-retryable for Temporal: Temporal's retries are left for what the
// library cannot see (a worker that died, a heartbeat or start-to-close
// timeout). The two layers therefore never multiply. The one exception is
// the activity's own context ending (the worker is shutting down, or the
// activity timed out): that error is returned as is, and Temporal retries.
func activityError(ctx context.Context, step rollback.Step, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return err
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return err
	}
	d := details(step, err)
	return temporal.NewNonRetryableApplicationError(err.Error(), d.Kind, nil, d)
}

func details(step rollback.Step, err error) ErrorDetails {
	d := ErrorDetails{Kind: KindName(err), Step: step, Message: err.Error()}
	var e *rollback.Error
	if errors.As(err, &e) {
		d.Hint, d.Code, d.RequestID, d.Field, d.Ambiguous = e.Hint, e.Code, e.RequestID, e.Field, e.Ambiguous
	}
	return d
}

// DetailsOf returns the ErrorDetails of the first failure in err's chain
// that carries them.
func DetailsOf(err error) (ErrorDetails, bool) {
	var d ErrorDetails
	for e := err; e != nil; e = errors.Unwrap(e) {
		var ae *temporal.ApplicationError
		if !errors.As(e, &ae) {
			break
		}
		if ae.HasDetails() && ae.Details(&d) == nil && d.Kind != "" {
			return d, true
		}
		e = ae
	}
	return d, false
}

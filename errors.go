package rollback

import "github.com/cloudsnap/rollback/provider"

// The sentinels every error of this library matches with errors.Is (they
// are package provider's, so providers anywhere return the same values).
var (
	// ErrInvalidArgument: bad input, caught before any call where possible.
	ErrInvalidArgument = provider.ErrInvalidArgument
	// ErrNotFound: a resource does not exist. The three below are also
	// ErrNotFound.
	ErrNotFound = provider.ErrNotFound
	// ErrInstanceNotFound: the instance does not exist (in this region).
	ErrInstanceNotFound = provider.ErrInstanceNotFound
	// ErrDiskNotFound: the disk does not exist (in this region).
	ErrDiskNotFound = provider.ErrDiskNotFound
	// ErrSnapshotNotFound: the snapshot does not exist (in this region).
	ErrSnapshotNotFound = provider.ErrSnapshotNotFound
	// ErrInstanceState: the instance's state forbids the operation (SWAS:
	// not Stopped).
	ErrInstanceState = provider.ErrInstanceState
	// ErrSnapshotState: the snapshot is not ready.
	ErrSnapshotState = provider.ErrSnapshotState
	// ErrSnapshotMismatch: the snapshot is not of this disk or instance, or
	// the disk changed size since.
	ErrSnapshotMismatch = provider.ErrSnapshotMismatch
	// ErrBusy: another operation is in progress; worth waiting.
	ErrBusy = provider.ErrBusy
	// ErrThrottled: a rate limit was hit; worth waiting longer.
	ErrThrottled = provider.ErrThrottled
	// ErrQuotaExceeded: an account quota is used up (e.g. snapshots per
	// instance); delete something or raise the quota.
	ErrQuotaExceeded = provider.ErrQuotaExceeded
	// ErrUnauthenticated: bad or expired credentials, or a bad signature.
	ErrUnauthenticated = provider.ErrUnauthenticated
	// ErrPermissionDenied: the credentials are valid but not allowed.
	ErrPermissionDenied = provider.ErrPermissionDenied
	// ErrInternal: a fault on the provider's side (5xx, InternalError).
	ErrInternal = provider.ErrInternal
	// ErrNetwork: no reply arrived (connection refused or reset, timeout,
	// TLS failure). Whether the call was applied depends on Error.Ambiguous.
	ErrNetwork = provider.ErrNetwork
	// ErrRollbackFailed: the provider accepted the rollback, then reported
	// that it failed.
	ErrRollbackFailed = provider.ErrRollbackFailed
	// ErrOutcomeUnknown: the call may or may not have been applied and state
	// could not tell. Check the instance before doing anything else.
	ErrOutcomeUnknown = provider.ErrOutcomeUnknown
	// ErrTimeout: a wait ran past its limit; errors.As to *TimeoutError for
	// the last state seen.
	ErrTimeout = provider.ErrTimeout

	// ErrKeyHeld: another Run holds the operation key (its lease has not
	// ended). It is also ErrBusy: run again once that Run has finished, and
	// the new Run resumes from its checkpoint.
	ErrKeyHeld = provider.ErrKeyHeld
	// ErrCheckpointConflict: a checkpoint write was refused because it
	// would move the operation's phase backwards or because another Run
	// now holds the key. Nothing was written.
	ErrCheckpointConflict = provider.ErrCheckpointConflict
	// ErrCheckpointCorrupt: a stored checkpoint cannot be read (not JSON, an
	// unknown version, another key). Run sends nothing for that key.
	ErrCheckpointCorrupt = provider.ErrCheckpointCorrupt
)

type (
	// Error is every error a provider returns: errors.Is matches it to its
	// sentinel, and it carries the cloud's code, message and request ID and,
	// where known, what to do (see provider.Error).
	Error = provider.Error
	// InterruptedError is returned when the context ends while a call is
	// retried or waited on; it matches both the context's error and the
	// last provider error.
	InterruptedError = provider.InterruptedError
)

// IsRetryable reports whether err is worth retrying (throttling, a fault on
// the provider's side, a network error, a busy resource). The clients
// already retry these.
func IsRetryable(err error) bool { return provider.IsRetryable(err) }

// KindOf returns the sentinel that err stands for (ErrTimeout for a wait
// that timed out, the context's error when the caller's context ended), or
// nil for an error this library does not classify. Programs that map errors
// to exit codes or HTTP statuses switch on it.
func KindOf(err error) error { return provider.KindOf(err) }

// IsAmbiguous reports whether err is a call that may have been applied
// without a reply saying so.
func IsAmbiguous(err error) bool { return provider.IsAmbiguous(err) }

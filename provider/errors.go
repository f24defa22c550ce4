package provider

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// kind is the type of the sentinel errors. A kind may have a parent, so that
// ErrSnapshotNotFound is also ErrNotFound.
type kind struct {
	msg    string
	parent *kind
}

func (k *kind) Error() string { return k.msg }

// Is makes errors.Is(ErrSnapshotNotFound, ErrNotFound) true.
func (k *kind) Is(target error) bool {
	for p := k.parent; p != nil; p = p.parent {
		if p == target {
			return true
		}
	}
	return false
}

func newKind(msg string, parent *kind) *kind { return &kind{msg: msg, parent: parent} }

var (
	errNotFound = newKind("not found", nil)
	errBusy     = newKind("resource busy", nil)

	// ErrInvalidArgument: bad input, caught before any call where possible.
	ErrInvalidArgument error = newKind("invalid argument", nil)
	// ErrNotFound: a resource does not exist. The three below are also
	// ErrNotFound.
	ErrNotFound error = errNotFound
	// ErrInstanceNotFound: the instance does not exist (in this region).
	ErrInstanceNotFound error = newKind("instance not found", errNotFound)
	// ErrDiskNotFound: the disk does not exist (in this region).
	ErrDiskNotFound error = newKind("disk not found", errNotFound)
	// ErrSnapshotNotFound: the snapshot does not exist (in this region).
	ErrSnapshotNotFound error = newKind("snapshot not found", errNotFound)
	// ErrInstanceState: the instance's state forbids the operation (SWAS:
	// not Stopped).
	ErrInstanceState error = newKind("instance in wrong state", nil)
	// ErrSnapshotState: the snapshot is not ready.
	ErrSnapshotState error = newKind("snapshot not ready", nil)
	// ErrSnapshotMismatch: the snapshot is not of this disk or instance, or
	// the disk changed size since.
	ErrSnapshotMismatch error = newKind("snapshot does not belong to this disk", nil)
	// ErrBusy: another operation is in progress; worth waiting.
	ErrBusy error = errBusy
	// ErrThrottled: a rate limit was hit; worth waiting longer.
	ErrThrottled error = newKind("throttled", nil)
	// ErrQuotaExceeded: an account quota is used up (e.g. snapshots per
	// instance); delete something or raise the quota.
	ErrQuotaExceeded error = newKind("quota exceeded", nil)
	// ErrUnauthenticated: bad or expired credentials, or a bad signature.
	ErrUnauthenticated error = newKind("unauthenticated", nil)
	// ErrPermissionDenied: the credentials are valid but not allowed.
	ErrPermissionDenied error = newKind("permission denied", nil)
	// ErrInternal: a fault on the provider's side (5xx, InternalError).
	ErrInternal error = newKind("provider internal error", nil)
	// ErrNetwork: no reply arrived (connection refused or reset, timeout,
	// TLS failure). Whether the call was applied depends on Error.Ambiguous.
	ErrNetwork error = newKind("network error", nil)
	// ErrRollbackFailed: the provider accepted the rollback, then reported
	// that it failed.
	ErrRollbackFailed error = newKind("rollback failed", nil)
	// ErrOutcomeUnknown: the call may or may not have been applied and state
	// could not tell. Check the instance before doing anything else.
	ErrOutcomeUnknown error = newKind("outcome unknown", nil)
	// ErrTimeout: a wait ran past its limit; errors.As to *TimeoutError for
	// the last state seen.
	ErrTimeout error = newKind("timed out", nil)

	// ErrKeyHeld: another Run holds the operation key (its lease has not
	// ended). It is also ErrBusy: run again once that Run has finished, and
	// the new Run resumes from its checkpoint.
	ErrKeyHeld error = newKind("operation key held by another run", errBusy)
	// ErrCheckpointConflict: a checkpoint write was refused because it
	// would move the operation's phase backwards or because another Run
	// now holds the key. Nothing was written.
	ErrCheckpointConflict error = newKind("checkpoint conflict", nil)
	// ErrCheckpointCorrupt: a stored checkpoint cannot be read (not JSON, an
	// unknown version, another key). Run sends nothing for that key.
	ErrCheckpointCorrupt error = newKind("checkpoint unreadable", nil)
)

// Error is every error a provider returns. errors.Is matches it to its
// sentinel (Kind, and Kind's parents); errors.As reaches the SDK's own error
// through Unwrap, with any credentials or signatures already removed from it.
type Error struct {
	Provider string // Capabilities.Name: "aliyun", "tencent", ...
	Op       string // the API action, e.g. "ResetDisk"
	Kind     error  // the sentinel, e.g. ErrInstanceState
	// Code, Message, RequestID and HTTPStatus are the cloud's own, when the
	// cloud answered; Code is empty for errors raised before any call.
	Code       string
	Message    string
	RequestID  string
	HTTPStatus int
	// Field names the bad input for ErrInvalidArgument raised by our own
	// checks, e.g. "SnapshotID".
	Field string
	// Hint says what to do about it, when that is known.
	Hint string
	// Ambiguous is true when the call may have been applied although no
	// success reply arrived (a lost reply, a timeout, a reset after sending,
	// a 5xx).
	Ambiguous bool
	// Attempts is how many times the call was sent before giving up (set by
	// the retry layer when more than one).
	Attempts int
	// Err is the underlying error (the SDK's, redacted), for errors.As.
	Err error
}

// Error reads as one line: what failed, the cloud's words, and what to do.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("rollback: ")
	switch {
	case e.Provider != "" && e.Op != "":
		b.WriteString(e.Provider + " " + e.Op + ": ")
	case e.Provider != "":
		b.WriteString(e.Provider + ": ")
	case e.Op != "":
		b.WriteString(e.Op + ": ")
	}
	if e.Kind != nil {
		b.WriteString(e.Kind.Error())
	} else {
		b.WriteString("error")
	}
	var detail []string
	if e.Code != "" {
		detail = append(detail, e.Code)
	}
	if e.HTTPStatus != 0 {
		detail = append(detail, "HTTP "+strconv.Itoa(e.HTTPStatus))
	}
	if e.RequestID != "" {
		detail = append(detail, "request "+e.RequestID)
	}
	if len(detail) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(detail, ", "))
		b.WriteByte(')')
	}
	if msg := oneLine(e.Message); msg != "" {
		b.WriteString(": ")
		b.WriteString(msg)
	}
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	if e.Attempts > 1 {
		b.WriteString(" (gave up after ")
		b.WriteString(strconv.Itoa(e.Attempts))
		b.WriteString(" attempts)")
	}
	return b.String()
}

// Is reports whether target is the error's sentinel or one of its parents.
func (e *Error) Is(target error) bool {
	return e.Kind != nil && (e.Kind == target || errors.Is(e.Kind, target))
}

// Unwrap returns the underlying (SDK) error.
func (e *Error) Unwrap() error { return e.Err }

// oneLine folds a multi-line message into one line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// IsRetryable reports whether err is worth retrying as it is: throttling,
// provider faults, network errors and busy resources. Invalid input, missing
// resources, bad credentials, denied permissions and wrong states are not,
// nor is an ended context, and never an outcome that is final or unknown
// (ErrRollbackFailed, ErrOutcomeUnknown): retrying those could roll back
// twice.
//
// The decision is the outermost *Error's Kind: an error that wraps another
// (ErrOutcomeUnknown around a network error) is judged by what it says, not
// by its cause.
func IsRetryable(err error) bool {
	var ie *InterruptedError
	if err == nil || errors.As(err, &ie) {
		return false // the caller's context ended: its decision, not ours
	}
	var e *Error
	if errors.As(err, &e) {
		// A provider error is judged by its Kind even when its cause is a
		// context error: an HTTP attempt that timed out is a network error
		// worth retrying, not the caller's deadline.
		err = e.Kind
	} else if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	for _, final := range []error{ErrOutcomeUnknown, ErrRollbackFailed} {
		if errors.Is(err, final) {
			return false
		}
	}
	for _, k := range []error{ErrThrottled, ErrInternal, ErrNetwork, ErrBusy} {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

// KindOf returns the sentinel that err stands for: the Kind of the
// outermost *Error (as IsRetryable judges it), ErrTimeout for a wait that
// timed out, or the context's error when the caller's context ended; nil
// for an error this library does not classify. Programs that map errors to
// exit codes or HTTP statuses switch on it.
func KindOf(err error) error {
	if err == nil {
		return nil
	}
	var ie *InterruptedError
	if errors.As(err, &ie) {
		return ie.Ctx
	}
	var e *Error
	if errors.As(err, &e) && e.Kind != nil {
		return e.Kind
	}
	if errors.Is(err, ErrTimeout) { // a wait's *rollback.TimeoutError
		return ErrTimeout
	}
	for _, c := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, c) {
			return c
		}
	}
	return nil
}

// IsAmbiguous reports whether err leaves open whether the call was applied.
func IsAmbiguous(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Ambiguous
}

// invalid returns an ErrInvalidArgument *Error naming field.
func invalid(field, format string, args ...any) *Error {
	return &Error{
		Kind:    ErrInvalidArgument,
		Field:   field,
		Message: field + " " + fmt.Sprintf(format, args...),
		Hint:    "nothing was sent",
	}
}

// InvalidArgument returns an ErrInvalidArgument error about field, raised
// before any call. Provider packages use it for their own ID formats; the
// message reads "<field> <format...>".
func InvalidArgument(provider, op, field, format string, args ...any) *Error {
	e := invalid(field, format, args...)
	e.Provider, e.Op = provider, op
	return e
}

// InterruptedError is returned when the context ends while a call is being
// retried or waited on. It matches both the context's error and the last
// error the provider returned, so errors.Is(err, context.DeadlineExceeded) and
// errors.Is(err, ErrThrottled) can both be true.
type InterruptedError struct {
	Ctx  error // context.Canceled or context.DeadlineExceeded
	Last error // the last provider error before the context ended
}

func (e *InterruptedError) Error() string {
	return e.Ctx.Error() + " (last error: " + e.Last.Error() + ")"
}

// Unwrap returns both errors.
func (e *InterruptedError) Unwrap() []error { return []error{e.Ctx, e.Last} }

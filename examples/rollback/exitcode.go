package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/cloudsnap/rollback"
)

// Exit codes. They are part of the command's interface: scripts branch on
// them, so they never change meaning.
const (
	exitOK           = 0
	exitError        = 1 // anything not listed below
	exitUsage        = 2 // bad flags, missing or malformed IDs, bad input
	exitNotFound     = 3 // instance, disk or snapshot not found
	exitWrongState   = 4 // instance or snapshot in the wrong state, snapshot of another disk
	exitBusy         = 5 // throttled, or busy with another operation: try again later
	exitFailed       = 6 // the cloud accepted the rollback and reported that it failed
	exitUnknown      = 7 // the rollback may or may not have happened: check before acting
	exitTimeout      = 8 // a wait ran out; the operation may still finish
	exitAuth         = 9 // bad credentials or no permission
	exitInterrupted  = 10
	exitNotConfirmed = 11 // the confirmation prompt was declined
)

const exitCodeHelp = `Exit codes:
   0  done (or, with -dry-run, every check passed)
   1  other error
   2  bad usage: flags, missing or malformed IDs
   3  not found: instance, disk or snapshot
   4  wrong state: instance running (use -stop), snapshot not ready or of another disk
   5  throttled or busy: try again later
   6  rollback failed: the cloud reported a failure; check the instance
   7  outcome unknown: the rollback may or may not have happened; check before acting
   8  timeout: a wait ran out; the operation may still finish
   9  authentication or permission denied
  10  interrupted
  11  not confirmed`

// exitCode maps an error to the command's exit code. Order matters: the
// most specific meaning wins.
func exitCode(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errNotConfirmed):
		return exitNotConfirmed
	case errors.Is(err, rollback.ErrOutcomeUnknown):
		return exitUnknown
	case errors.Is(err, rollback.ErrRollbackFailed):
		return exitFailed
	case errors.Is(err, rollback.ErrBusy), errors.Is(err, rollback.ErrThrottled):
		return exitBusy
	case errors.Is(err, rollback.ErrTimeout):
		return exitTimeout
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return exitInterrupted
	case errors.Is(err, rollback.ErrInvalidArgument), errors.As(err, new(usageError)):
		return exitUsage
	case errors.Is(err, rollback.ErrNotFound):
		return exitNotFound
	case errors.Is(err, rollback.ErrInstanceState), errors.Is(err, rollback.ErrSnapshotState), errors.Is(err, rollback.ErrSnapshotMismatch):
		return exitWrongState
	case errors.Is(err, rollback.ErrUnauthenticated), errors.Is(err, rollback.ErrPermissionDenied):
		return exitAuth
	}
	return exitError
}

// usageError is a mistake on the command line.
type usageError string

func (e usageError) Error() string { return string(e) }

func usagef(format string, args ...any) error { return usageError(fmt.Sprintf(format, args...)) }

var errNotConfirmed = errors.New("not confirmed")

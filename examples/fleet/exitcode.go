package main

import (
	"context"
	"errors"

	"github.com/cloudsnap/rollback"
)

// Exit codes: the rollback command's, with the same meanings, so scripts
// can treat both alike.
const (
	exitOK           = 0
	exitError        = 1
	exitUsage        = 2
	exitNotFound     = 3
	exitWrongState   = 4
	exitBusy         = 5
	exitFailed       = 6
	exitUnknown      = 7
	exitTimeout      = 8
	exitAuth         = 9
	exitInterrupted  = 10
	exitNotConfirmed = 11
)

const exitCodeHelp = `Exit codes:
   0  every row done (or, with -dry-run, every check passed)
   1  other error
   2  bad usage or bad rows (nothing was sent)
   3  not found: instance, disk or snapshot
   4  wrong state: instance running (use -stop), snapshot not ready or of another disk
   5  throttled or busy: try again later
   6  rollback failed: the cloud reported a failure; check the instance
   7  outcome unknown: a rollback may or may not have happened; check before acting
   8  timeout: a wait or -timeout ran out; the operation may still finish
   9  authentication or permission denied
  10  interrupted: run the same command again to resume
  11  not confirmed

When rows end differently, the exit code is the most severe of theirs, in
this order: 7, 6 (a disk in doubt), 8, 10 (an operation may still be
running: run again to resume), 1, 9, 2, 4, 3, 5 (a row stopped before it
changed anything). The summary and -json give every row's own code.`

// severity ranks exit codes for a fleet's overall code: higher is worse.
var severity = map[int]int{
	exitOK: 0, exitBusy: 1, exitNotFound: 2, exitWrongState: 3, exitUsage: 4, exitAuth: 5,
	exitError: 6, exitInterrupted: 7, exitTimeout: 8, exitFailed: 9, exitUnknown: 10,
}

// worst returns the most severe of codes (exitOK for none).
func worst(codes ...int) int {
	w := exitOK
	for _, c := range codes {
		if severity[c] > severity[w] {
			w = c
		}
	}
	return w
}

// classes map errors to exit codes, first match wins. A row cut short by
// the fleet's context is interrupted (or timed out) whatever its last
// provider error was, an unknown outcome included: every row has an
// operation key, so running the command again settles it from the
// checkpoint and the cloud's state.
var classes = []struct {
	code  int
	name  string // the row's outcome in the summary
	kinds []error
}{
	{exitInterrupted, "interrupted", []error{context.Canceled}},
	{exitTimeout, "timed out", []error{context.DeadlineExceeded}},
	{exitUnknown, "outcome unknown", []error{rollback.ErrOutcomeUnknown}},
	{exitFailed, "rollback failed", []error{rollback.ErrRollbackFailed}},
	{exitTimeout, "timed out", []error{rollback.ErrTimeout}},
	{exitAuth, "denied", []error{rollback.ErrUnauthenticated, rollback.ErrPermissionDenied}},
	{exitUsage, "invalid", []error{rollback.ErrInvalidArgument}},
	{exitNotFound, "not found", []error{rollback.ErrNotFound}},
	{exitWrongState, "wrong state", []error{rollback.ErrInstanceState, rollback.ErrSnapshotState, rollback.ErrSnapshotMismatch}},
	{exitBusy, "busy", []error{rollback.ErrBusy, rollback.ErrThrottled}},
}

// classify returns err's exit code and a short name for it.
func classify(err error) (int, string) {
	if err == nil {
		return exitOK, "done"
	}
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage, "invalid"
	}
	if errors.Is(err, errNotConfirmed) {
		return exitNotConfirmed, "not confirmed"
	}
	for _, c := range classes {
		for _, k := range c.kinds {
			if errors.Is(err, k) {
				return c.code, c.name
			}
		}
	}
	return exitError, "failed"
}

// usageError is a mistake in the flags or the input.
type usageError string

func (e usageError) Error() string { return string(e) }

var errNotConfirmed = errors.New("not confirmed")

package cli

import (
	"context"
	"errors"

	"github.com/cloudsnap/rollback"
)

// Exit codes of both commands. They are part of the commands' interface:
// scripts branch on them, so they never change meaning.
const (
	ExitOK           = 0
	ExitError        = 1  // anything not listed below
	ExitUsage        = 2  // bad flags or input; nothing was sent
	ExitNotFound     = 3  // instance, disk or snapshot not found
	ExitWrongState   = 4  // instance or snapshot in the wrong state, snapshot of another disk
	ExitBusy         = 5  // throttled, or busy with another operation
	ExitFailed       = 6  // the cloud accepted the rollback and reported that it failed
	ExitUnknown      = 7  // the rollback may or may not have happened
	ExitTimeout      = 8  // a wait or -timeout ran out
	ExitAuth         = 9  // bad credentials or no permission
	ExitInterrupted  = 10 // interrupted by a signal
	ExitNotConfirmed = 11 // declined, or no terminal to ask on and no -yes
)

// ExitCodeHelp is the table printed by -help; README.md has the same.
const ExitCodeHelp = `Exit codes (the same for rollback and fleet):
   0  done (or, with -dry-run, every check passed)
   1  other error
   2  bad usage: flags, missing or malformed IDs, bad rows; nothing was sent
   3  not found: instance, disk or snapshot
   4  wrong state: instance running (use -stop), snapshot not ready or of another disk
   5  throttled or busy: try again later
   6  rollback failed: the cloud reported a failure; check the instance
   7  outcome unknown: a rollback may or may not have happened; check before acting
   8  timeout: a wait or -timeout ran out; the operation may still finish
   9  authentication or permission denied
  10  interrupted (a signal)
  11  not confirmed: the answer was not yes, or stdin is not a terminal and -yes was not given`

// ExitNames are the short names of the exit codes, as in -json's
// "exit_name".
var ExitNames = map[int]string{
	ExitOK: "ok", ExitError: "error", ExitUsage: "usage", ExitNotFound: "not_found",
	ExitWrongState: "wrong_state", ExitBusy: "busy", ExitFailed: "failed", ExitUnknown: "outcome_unknown",
	ExitTimeout: "timeout", ExitAuth: "denied", ExitInterrupted: "interrupted", ExitNotConfirmed: "not_confirmed",
}

// ErrNotConfirmed: the run was not confirmed.
var ErrNotConfirmed = errors.New("not confirmed")

// UsageError is a mistake on the command line or in the input.
type UsageError string

func (e UsageError) Error() string { return string(e) }

// ExitCode maps err to its exit code. resumable says whether running the
// same command again settles an interrupted operation (it has an operation
// key): then a run cut short by its context is interrupted or timed out,
// whatever the last provider error was; without one, an unknown outcome
// says so. Order matters otherwise: the most specific meaning wins.
func ExitCode(err error, resumable bool) int {
	if err == nil {
		return ExitOK
	}
	ctxCode := func() int {
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			return ExitTimeout
		case errors.Is(err, context.Canceled):
			return ExitInterrupted
		}
		return 0
	}
	if resumable {
		if c := ctxCode(); c != 0 {
			return c
		}
	}
	var ue UsageError
	switch {
	case errors.As(err, &ue):
		return ExitUsage
	case errors.Is(err, ErrNotConfirmed):
		return ExitNotConfirmed
	case errors.Is(err, rollback.ErrOutcomeUnknown):
		return ExitUnknown
	case errors.Is(err, rollback.ErrRollbackFailed):
		return ExitFailed
	case errors.Is(err, rollback.ErrTimeout):
		return ExitTimeout
	}
	if c := ctxCode(); c != 0 {
		return c
	}
	switch {
	case errors.Is(err, rollback.ErrUnauthenticated), errors.Is(err, rollback.ErrPermissionDenied):
		return ExitAuth
	case errors.Is(err, rollback.ErrInvalidArgument):
		return ExitUsage
	case errors.Is(err, rollback.ErrNotFound):
		return ExitNotFound
	case errors.Is(err, rollback.ErrInstanceState), errors.Is(err, rollback.ErrSnapshotState), errors.Is(err, rollback.ErrSnapshotMismatch):
		return ExitWrongState
	case errors.Is(err, rollback.ErrBusy), errors.Is(err, rollback.ErrThrottled):
		return ExitBusy
	}
	return ExitError
}

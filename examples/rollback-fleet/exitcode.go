package main

import (
	"github.com/cloudsnap/rollback/internal/cli"
)

// Exit codes: one table for rollback and fleet (internal/cli).
const (
	exitOK           = cli.ExitOK
	exitError        = cli.ExitError
	exitUsage        = cli.ExitUsage
	exitNotFound     = cli.ExitNotFound
	exitWrongState   = cli.ExitWrongState
	exitBusy         = cli.ExitBusy
	exitFailed       = cli.ExitFailed
	exitUnknown      = cli.ExitUnknown
	exitTimeout      = cli.ExitTimeout
	exitAuth         = cli.ExitAuth
	exitInterrupted  = cli.ExitInterrupted
	exitNotConfirmed = cli.ExitNotConfirmed
)

const exitCodeHelp = cli.ExitCodeHelp + `

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

// outcomeNames name a row's outcome in the summary, by exit code.
var outcomeNames = map[int]string{
	exitOK: "done", exitError: "failed", exitUsage: "invalid", exitNotFound: "not found",
	exitWrongState: "wrong state", exitBusy: "busy", exitFailed: "rollback failed",
	exitUnknown: "outcome unknown", exitTimeout: "timed out", exitAuth: "denied",
	exitInterrupted: "interrupted", exitNotConfirmed: "not confirmed",
}

// classify returns err's exit code and a short name for it. Every row has
// an operation key, so a row cut short by the fleet's context is
// interrupted (or timed out) whatever its last provider error was, an
// unknown outcome included: running the command again settles it from the
// checkpoint and the cloud's state.
func classify(err error) (int, string) {
	code := cli.ExitCode(err, true)
	return code, outcomeNames[code]
}

// usageError is a mistake in the flags or the input.
type usageError = cli.UsageError

var errNotConfirmed = cli.ErrNotConfirmed

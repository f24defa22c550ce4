package rollbackcli

import (
	"fmt"

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

// exitCode maps an error to the command's exit code. A run with -key
// resumes when run again, so a context that ended is what it reports.
func (c *config) exitCode(err error) int { return cli.ExitCode(err, c.key != "") }

type usageError = cli.UsageError

func usagef(format string, args ...any) error { return usageError(fmt.Sprintf(format, args...)) }

var (
	errNotConfirmed = cli.ErrNotConfirmed
	// errNoTerminal: a destructive run with no terminal to confirm on.
	errNoTerminal = fmt.Errorf("%w: standard input is not a terminal, so nobody can confirm; add -yes to roll back without asking, or -dry-run to only check", cli.ErrNotConfirmed)
)

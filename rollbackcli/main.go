package rollbackcli

import (
	"context"
	"fmt"
	"io"

	"github.com/cloudsnap/rollback/internal/cli"
)

// Main runs the rollback command with args (the command line without the
// program's name) and returns its exit code; it never calls os.Exit.
// stdin is where a destructive run asks for confirmation: only an
// *os.File open on a terminal can answer, and anything else (a pipe,
// /dev/null, a strings.Reader) needs -yes. Progress, prompts and errors go
// to stderr; the result, or with -json one JSON document, to stdout.
// Cancelling ctx (the caller's SIGINT or SIGTERM) ends the run as
// interrupted: exit code 10, or 7 when a rollback without -key may have
// landed (-help has the table).
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	switch {
	case err == errHelp:
		return exitOK
	case err == errVersion:
		fmt.Fprintln(stdout, cli.VersionLine("rollback"))
		return exitOK
	case err != nil:
		if jsonRequested(args) {
			_ = cli.WriteJSON(stdout, jsonResult{Header: cli.NewHeader("rollback", exitUsage, err)})
		}
		fmt.Fprintf(stderr, "rollback: %v\n", err)
		fmt.Fprintln(stderr, "Run 'rollback -help' for usage.")
		return exitUsage
	}
	if cfg.demo {
		return runDemo(ctx, cfg, stdout, stderr)
	}
	return runReal(ctx, cfg, stdin, stdout, stderr)
}

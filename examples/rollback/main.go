// Command rollback rolls a cloud server's disk back to a snapshot, safely:
// it checks before it acts, can stop the server and snapshot the current
// disk first, rolls back exactly once, waits, and can start the server
// again. It works on Alibaba Cloud Simple Application Server and Tencent
// Cloud Lighthouse.
//
// Try it without an account, against the built-in emulators:
//
//	go run ./examples/rollback -demo
//
// Real use (credentials only from the environment: ALIBABA_CLOUD_ACCESS_KEY_ID
// and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or TENCENTCLOUD_SECRET_ID and
// TENCENTCLOUD_SECRET_KEY):
//
//	rollback -provider tencent -region ap-guangzhou -instance lhins-1a2b3c4d \
//	    -snapshot lhsnap-1a2b3c4d -stop -backup -start -key incident-4711
//
// Run it with -help for every flag and the exit codes.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/cloudsnap/rollback/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole command, separated from main so tests can drive it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
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

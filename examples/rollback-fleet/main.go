// Command rollback-fleet rolls many cloud servers' disks back to snapshots at once,
// on Alibaba Cloud Simple Application Server and Tencent Cloud Lighthouse,
// from a CSV or JSON list. Every row gets the rollback command's checks and
// exactly-once guarantee; the clouds' rate limits pace the calls, reads are
// batched, and a run that is interrupted resumes where it stopped when run
// again.
//
// Try it without an account, against the built-in emulators:
//
//	go run ./examples/rollback-fleet -demo
//
// Real use (credentials only from the environment):
//
//	rollback-fleet -file servers.csv -key-prefix incident-4711 -stop -backup -start
//
// with servers.csv like
//
//	provider,region,instance,disk,snapshot
//	aliyun,cn-hangzhou,,d-bp1a2b3c4d5e6f7g8h9i,s-bp1a2b3c4d5e6f7g8h9i
//	tencent,ap-guangzhou,lhins-1a2b3c4d,,lhsnap-1a2b3c4d
//
// Run it with -help for every flag and the exit codes.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cloudsnap/rollback/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr})
	stop()
	os.Exit(code)
}

// run is the whole command, apart from main so tests can drive it.
func run(ctx context.Context, args []string, e env) int {
	c, err := parseFlags(args, e.stderr)
	switch {
	case err == errHelp:
		return exitOK
	case err == errVersion:
		fmt.Fprintln(e.stdout, cli.VersionLine("rollback-fleet"))
		return exitOK
	case err != nil:
		if c == nil {
			c = &config{}
		}
		if c.jsonFile != "" {
			_ = writeJSONTo(c.jsonFile, e.stdout, report{Header: cli.NewHeader("rollback-fleet", exitUsage, err)})
		}
		return fail(e.stderr, c, err)
	}
	if c.demo {
		return runDemo(ctx, c, e)
	}
	return runFile(ctx, c, e)
}

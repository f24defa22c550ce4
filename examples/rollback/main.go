// Command rollback rolls a cloud server's disk back to a snapshot, safely:
// it checks before it acts, can stop the server and snapshot the current
// disk first, rolls back exactly once, waits, and can start the server
// again. It works on Alibaba Cloud Simple Application Server and Tencent
// Cloud Lighthouse, and on memprovider's in-memory cloud (mem://).
//
// Try it without an account, against the built-in emulators:
//
//	go run ./examples/rollback -demo
//
// or step by step against an in-memory cloud, which mem://?servers=1 seeds
// with one stopped server: instance ins-000001, its disk disk-000001 and a
// ready snapshot snap-000002 (servers=N seeds N, numbered on: ins-000003,
// disk-000003, snap-000004, ...; scale=100 runs its operations 100 times
// faster than real time):
//
//	go run ./examples/rollback -cloud 'mem://?servers=1&scale=100' \
//	    -instance ins-000001 -snapshot snap-000002 -dry-run
//
// Real use (credentials only from the environment: ALIBABA_CLOUD_ACCESS_KEY_ID
// and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or TENCENTCLOUD_SECRET_ID and
// TENCENTCLOUD_SECRET_KEY):
//
//	rollback -provider tencent -region ap-guangzhou -instance lhins-1a2b3c4d \
//	    -snapshot lhsnap-1a2b3c4d -stop -backup -start -key incident-4711
//
// Run it with -help for every flag and the exit codes. The command is
// package rollbackcli; this is its main function, and a provider in
// another module ships the same command with its own (rollbackcli's doc).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	_ "github.com/cloudsnap/rollback/memprovider"         // registers mem:// for trying the command without an account
	"github.com/cloudsnap/rollback/rollbackcli"           // the command
	_ "github.com/cloudsnap/rollback/rollbackcli/builtin" // registers aliyun:// and tencent://, and their -demo emulators
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := rollbackcli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

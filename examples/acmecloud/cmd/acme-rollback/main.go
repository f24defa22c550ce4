// Command acme-rollback is the rollback command (package rollbackcli) for
// Acme Compute: the same flags, exit codes and -json output, with acme://
// among its clouds. This module adds the scheme by importing package acme
// and edits nothing of github.com/cloudsnap/rollback.
//
//	ACME_KEY_ID=... ACME_SECRET=... acme-rollback -cloud acme://eu-west \
//	    -instance srv-1 -snapshot snap-2 -stop -start -key incident-4711
//
// Against the emulator (acmetest), name its endpoint in the URL:
// -cloud 'acme://eu-west?endpoint=http://127.0.0.1:PORT'.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/cloudsnap/rollback/rollbackcli"

	_ "example.com/acmecloud/acme" // registers acme:// with rollback.Open
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := rollbackcli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Package rollbackcli is the rollback command-line program as a library:
// Main parses the flags, rolls one disk back (or runs -demo) and returns
// the exit code, so that any program can be the same command. The
// repository's own program (examples/rollback) is a main function that
// calls Main; a provider in another module ships the command for its
// cloud the same way, importing its provider package for the side effect
// of registering its URL scheme:
//
//	import (
//		_ "example.com/acmecloud/acme" // registers acme:// with rollback.Open
//		"github.com/cloudsnap/rollback/rollbackcli"
//	)
//
//	func main() {
//		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
//		code := rollbackcli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
//		stop()
//		os.Exit(code)
//	}
//
// -cloud (and -provider) take any scheme registered with rollback.Open in
// the program, and -help lists them. Main itself links no provider: the
// program's imports decide. examples/rollback imports rollbackcli/builtin
// (aliyun:// and tencent://, and their emulators for -demo, through
// RegisterDemo) and memprovider (mem://); a provider's command imports
// its own package, and builtin only if it wants those two clouds and their
// SDKs too. Flags, messages, exit codes (README.md, "Exit codes") and the
// -json schema ("JSON output") are the same whichever program calls Main:
// they are the command's interface, and scripts rely on them. Messages and
// the JSON "program" field say "rollback" whatever the binary is called.
// A -cloud URL with no host (mem://?servers=1) takes its region from the
// opened provider's Region method, when it has one.
package rollbackcli

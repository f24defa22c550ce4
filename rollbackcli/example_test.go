package rollbackcli_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	_ "github.com/cloudsnap/rollback/memprovider" // registers mem://, as a provider's command imports its own package
	"github.com/cloudsnap/rollback/rollbackcli"
)

// Main is the whole command: a program's main passes it the command line
// and exits with what it returns. Here a dry run on an in-memory cloud
// whose URL seeds one stopped server (instance ins-000001, disk
// disk-000001, snapshot snap-000002); stdin is no terminal, so a rollback
// would need -yes, and a dry run does not.
func ExampleMain() {
	args := []string{"-cloud", "mem://?servers=1", "-instance", "ins-000001", "-snapshot", "snap-000002",
		"-dry-run", "-token", "example-1"}
	code := rollbackcli.Main(context.Background(), args, strings.NewReader(""), os.Stdout, io.Discard)
	fmt.Println("exit code", code)
	// Output:
	// Dry run: every check passed. mem would, in mem-1:
	//   1. roll back disk disk-000001 of instance ins-000001 to snapshot snap-000002 (operation example-1)
	//   2. wait until the rollback has finished
	// exit code 0
}

package rollbackcli_test

// The command's tests run it with this repository's clouds, as
// examples/rollback links them (an external test package may import a
// package that imports rollbackcli).
import _ "github.com/cloudsnap/rollback/rollbackcli/builtin"

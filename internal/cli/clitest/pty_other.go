//go:build !linux

package clitest

import (
	"os"
	"testing"
)

// OpenPTY skips the test: pseudo-terminals are opened on Linux only.
func OpenPTY(t testing.TB) (master, slave *os.File) {
	t.Helper()
	t.Skip("pseudo-terminal tests run on Linux")
	return nil, nil
}

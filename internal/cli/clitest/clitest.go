// Package clitest runs the commands as a user does: built, with stdin a
// pipe, /dev/null or a pseudo-terminal.
package clitest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildMu sync.Mutex
	built   = map[string]string{}
	tmp     string
)

// Build builds the main package in dir (relative to the test's package,
// e.g. ".") once per test binary and returns the executable's path.
func Build(t testing.TB, dir string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if exe, ok := built[abs]; ok {
		return exe
	}
	if tmp == "" {
		// Not t.TempDir: the binary outlives the test that built it. The
		// directory is removed by Cleanup, from TestMain.
		if tmp, err = os.MkdirTemp("", "clitest-"); err != nil {
			t.Fatal(err)
		}
	}
	exe := filepath.Join(tmp, filepath.Base(abs))
	cmd := exec.Command("go", "build", "-o", exe, ".")
	cmd.Dir = abs
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", dir, err, out)
	}
	built[abs] = exe
	return exe
}

// Cleanup removes what Build made; call it from TestMain after m.Run.
func Cleanup() {
	if tmp != "" {
		os.RemoveAll(tmp)
	}
}

// Result is how a run ended.
type Result struct {
	Code           int
	Stdout, Stderr string
}

// Stdin kinds.
const (
	Pipe    = "pipe"      // stdin is a pipe carrying Input
	DevNull = "/dev/null" // stdin is /dev/null
	PTY     = "pty"       // stdin is a pseudo-terminal; Input is typed into it
)

// Cmd is one run of a built command.
type Cmd struct {
	Exe     string
	Args    []string
	Stdin   string // Pipe, DevNull or PTY
	Input   string
	Env     []string      // added to the test's environment
	Timeout time.Duration // default 2 minutes: a hung command fails the test
}

// Run runs c and returns its exit code and output (stdout and stderr are
// pipes).
func (c Cmd) Run(t testing.TB) Result {
	t.Helper()
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Exe, c.Args...)
	// The built program is no test binary: keep it off the real metadata
	// services (link-local addresses off this machine) unless a test says
	// otherwise.
	cmd.Env = append(os.Environ(), "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true", "TENCENTCLOUD_METADATA_DISABLED=true")
	cmd.Env = append(cmd.Env, c.Env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	var closeAfter []*os.File
	var drained chan struct{}
	switch c.Stdin {
	case DevNull:
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdin, closeAfter = f, append(closeAfter, f)
	case PTY:
		master, slave := OpenPTY(t)
		cmd.Stdin = slave
		closeAfter = append(closeAfter, slave)
		if _, err := master.WriteString(c.Input); err != nil {
			t.Fatal(err)
		}
		// The terminal echoes what is typed: drain it so it never fills.
		drained = make(chan struct{})
		go func() {
			defer close(drained)
			buf := make([]byte, 4096)
			for {
				if _, err := master.Read(buf); err != nil {
					return
				}
			}
		}()
		defer func() { master.Close(); <-drained }()
	default:
		cmd.Stdin = strings.NewReader(c.Input)
	}
	err := cmd.Run()
	for _, f := range closeAfter {
		f.Close()
	}
	if ctx.Err() != nil {
		t.Fatalf("%s %v: still running after %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(c.Exe), c.Args, timeout, out.String(), errOut.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return Result{Code: code, Stdout: out.String(), Stderr: errOut.String()}
}

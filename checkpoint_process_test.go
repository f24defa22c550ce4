package rollback_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
)

// Processes sharing a FileCheckpoints directory: every key is won by
// exactly one of them, however their claims interleave (the OS file lock
// makes each read-modify-write atomic across processes).

const claimChildEnv = "ROLLBACK_TEST_CLAIM_CHILD"

func init() {
	// Run as a child process of TestFileCheckpointsAcrossProcesses: claim
	// every key and print the ones won, then exit.
	spec := os.Getenv(claimChildEnv)
	if spec == "" {
		return
	}
	var dir, owner string
	var keys int
	if _, err := fmt.Sscanf(spec, "%s %s %d", &dir, &owner, &keys); err != nil {
		fmt.Fprintln(os.Stderr, "bad child spec:", err)
		os.Exit(2)
	}
	store := rollback.FileCheckpoints{Dir: dir}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range keys {
		key := fmt.Sprintf("key-%d", i)
		_, err := store.Acquire(context.Background(), key, rollback.Lease{Owner: owner, Now: now, TTL: time.Hour})
		switch {
		case err == nil:
			fmt.Println("won", key)
		case !errors.Is(err, rollback.ErrKeyHeld):
			fmt.Fprintln(os.Stderr, "claim:", err)
			os.Exit(1)
		}
	}
	os.Exit(0)
}

func TestFileCheckpointsAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	const procs, keys = 4, 40
	type child struct {
		cmd *exec.Cmd
		out *bufio.Scanner
	}
	var children []child
	for i := range procs {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s owner-%d %d", claimChildEnv, dir, i, keys))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children = append(children, child{cmd, bufio.NewScanner(out)})
	}
	winners := map[string]int{}
	for _, c := range children {
		for c.out.Scan() {
			if key, ok := strings.CutPrefix(c.out.Text(), "won "); ok {
				winners[key]++
			}
		}
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("child: %v", err)
		}
	}
	for i := range keys {
		key := fmt.Sprintf("key-%d", i)
		if winners[key] != 1 {
			t.Errorf("%s was won by %d processes; want exactly 1", key, winners[key])
		}
	}
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/internal/cli/clitest"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	clitest.Cleanup()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// result is what one in-process run of the command printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

// fleetCmd runs the command in-process with e's clock; stdin is the text
// given.
func fleetCmd(ctx context.Context, e env, stdin string, args ...string) result {
	var out, errOut bytes.Buffer
	e.stdin, e.stdout, e.stderr = strings.NewReader(stdin), &out, &errOut
	// stdin is not a terminal: runs need -yes (cli_test.go runs the built
	// command without it).
	code := run(ctx, append([]string{"-yes"}, args...), e)
	return result{code, out.String(), errOut.String()}
}

// clouds starts both emulators on a clock 200 times faster than real time
// (a 45s rollback takes a quarter of a second, the SWAS quota's minute
// 0.3s), puts their credentials in the environment as a user would, and
// returns the env that runs the command on the same clock.
func clouds(t *testing.T) (*aliyuntest.Server, *tencenttest.Server, env) {
	t.Helper()
	clk := clock.NewScaled(200)
	ali := aliyuntest.NewServer(aliyuntest.WithClock(clk), aliyuntest.WithRegions("cn-hangzhou", "cn-shanghai"))
	t.Cleanup(ali.Close)
	tc := tencenttest.NewServer(tencenttest.WithClock(clk))
	t.Cleanup(tc.Close)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", aliyuntest.DefaultAccessKeyID)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", aliyuntest.DefaultAccessKeySecret)
	t.Setenv("TENCENTCLOUD_SECRET_ID", tencenttest.DefaultSecretID)
	t.Setenv("TENCENTCLOUD_SECRET_KEY", tencenttest.DefaultSecretKey)
	return ali, tc, env{clock: clk, speed: 200}
}

// endpoints are the flags that point the command at the emulators.
func endpoints(ali *aliyuntest.Server, tc *tencenttest.Server) []string {
	return []string{"-aliyun-endpoint", ali.URL, "-tencent-endpoint", tc.URL}
}

// server is a seeded server and the row that rolls it back.
type server struct {
	row     row
	running bool
}

// seed adds n servers to each emulator, each with a snapshot; the first
// of each cloud is running.
func seed(t *testing.T, ali *aliyuntest.Server, tc *tencenttest.Server, n int) []server {
	t.Helper()
	var out []server
	for i := range n {
		status := aliyuntest.StatusStopped
		if i == 0 {
			status = aliyuntest.StatusRunning
		}
		region := []string{"cn-hangzhou", "cn-shanghai"}[i%2]
		in := aliyuntest.Must(ali.AddInstance(aliyuntest.InstanceSpec{Region: region, Status: status}))
		snap := aliyuntest.Must(ali.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: in.SystemDiskID}))
		out = append(out, server{row{Provider: "aliyun", Region: region, Disk: in.SystemDiskID, Snapshot: snap.ID}, i == 0})
	}
	for i := range n {
		state := tencenttest.StateStopped
		if i == 0 {
			state = tencenttest.StateRunning
		}
		in, err := tc.AddInstance(tencenttest.Instance{State: state})
		if err != nil {
			t.Fatal(err)
		}
		snap, err := tc.AddSnapshot(tencenttest.Snapshot{InstanceID: in.ID})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, server{row{Provider: "tencent", Region: tencenttest.DefaultRegion, Instance: in.ID, Snapshot: snap.ID}, i == 0})
	}
	return out
}

// csvOf writes the servers' rows as CSV, header first, so row i is on
// line i+2.
func csvOf(servers []server) string {
	var b strings.Builder
	b.WriteString("provider,region,instance,disk,snapshot\n")
	for _, s := range servers {
		r := s.row
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s\n", r.Provider, r.Region, r.Instance, r.Disk, r.Snapshot)
	}
	return b.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// rolledBackOnce checks that every server was rolled back exactly once.
func rolledBackOnce(t *testing.T, ali *aliyuntest.Server, tc *tencenttest.Server, servers []server) {
	t.Helper()
	for _, s := range servers {
		n := 0
		if s.row.Provider == "aliyun" {
			n = ali.RollbacksOf(s.row.Disk)
		} else {
			n = tc.RollbacksOf(s.row.Instance)
		}
		if n != 1 {
			t.Errorf("%s %s rolled back %d times", s.row.Provider, s.row.target(), n)
		}
	}
}

// nothingSent checks that neither emulator got a single call.
func nothingSent(t *testing.T, ali *aliyuntest.Server, tc *tencenttest.Server) {
	t.Helper()
	if n := len(ali.Journal().Entries()) + tc.Journal().Count(""); n != 0 {
		t.Errorf("%d calls sent", n)
	}
}

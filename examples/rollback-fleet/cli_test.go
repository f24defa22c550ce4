package main

import (
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/internal/cli"
	"github.com/cloudsnap/rollback/internal/cli/clitest"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// These tests run the built command as a user does, with stdin a pipe,
// /dev/null or a terminal (issue 16).

func exe(t *testing.T) string { return clitest.Build(t, ".") }

func TestBinaryConfirmation(t *testing.T) {
	ali, tc, _ := clouds(t)
	tests := []struct {
		name, stdin, input string
		yes                bool
		code               int
		rolledBack         bool
		say                string
	}{
		{"pipe saying no", clitest.Pipe, "no\n", false, exitNotConfirmed, false, "add -yes"},
		{"dev null", clitest.DevNull, "", false, exitNotConfirmed, false, "add -yes"},
		{"pipe with -yes", clitest.Pipe, "", true, exitOK, true, "2/2 done"},
		{"terminal saying no", clitest.PTY, "no\n", false, exitNotConfirmed, false, "Type yes to continue"},
		{"terminal saying yes", clitest.PTY, "yes\n", false, exitOK, true, "Type yes to continue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, _ := tc.AddInstance(tencenttest.Instance{State: "STOPPED"})
			sn, _ := tc.AddSnapshot(tencenttest.Snapshot{InstanceID: in.ID})
			a := aliyuntest.Must(ali.AddInstance(aliyuntest.InstanceSpec{Status: aliyuntest.StatusStopped}))
			as := aliyuntest.Must(ali.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: a.SystemDiskID}))
			servers := []server{{row: row{Provider: "aliyun", Region: "cn-hangzhou", Disk: a.SystemDiskID, Snapshot: as.ID}},
				{row: row{Provider: "tencent", Region: "ap-guangzhou", Instance: in.ID, Snapshot: sn.ID}}}
			args := append(endpoints(ali, tc), "-file", writeFile(t, "s.csv", csvOf(servers)), "-key-prefix", "c", "-state-dir", t.TempDir())
			if tt.yes {
				args = append(args, "-yes")
			}
			r := clitest.Cmd{Exe: exe(t), Args: args, Stdin: tt.stdin, Input: tt.input}.Run(t)
			if r.Code != tt.code || !strings.Contains(r.Stdout+r.Stderr, tt.say) {
				t.Errorf("exit %d (want %d), want %q\nstdout:\n%s\nstderr:\n%s", r.Code, tt.code, tt.say, r.Stdout, r.Stderr)
			}
			n := tc.RollbacksOf(in.ID) + ali.RollbacksOf(a.SystemDiskID)
			if (n == 2) != tt.rolledBack || (n != 0 && n != 2) {
				t.Errorf("%d rollbacks", n)
			}
		})
	}
}

func TestBinaryJSONAndVersion(t *testing.T) {
	bin := exe(t)
	r := clitest.Cmd{Exe: bin, Args: []string{"-version"}, Stdin: clitest.DevNull}.Run(t)
	if r.Code != exitOK || !strings.HasPrefix(r.Stdout, "rollback-fleet ") {
		t.Errorf("-version: exit %d: %q %q", r.Code, r.Stdout, r.Stderr)
	}
	// A usage error, with -json -, is JSON on stdout.
	r = clitest.Cmd{Exe: bin, Args: []string{"-json", "-", "-concurrency", "0"}, Stdin: clitest.DevNull}.Run(t)
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil || r.Code != exitUsage {
		t.Fatalf("usage error: exit %d, %v\n%s", r.Code, err, r.Stdout)
	}
	if doc["schema_version"] != float64(cli.SchemaVersion) || doc["program"] != "rollback-fleet" || doc["exit_name"] != "usage" || doc["error"] == nil {
		t.Errorf("usage error as JSON: %v", doc)
	}
	// The demo with -json -: one JSON document on stdout, and without a
	// terminal a few summary lines on stderr, not one per event.
	r = clitest.Cmd{Exe: bin, Args: []string{"-demo", "-demo-servers", "40", "-demo-speed", "1000", "-json", "-"}, Stdin: clitest.Pipe}.Run(t)
	doc = nil
	dec := json.NewDecoder(strings.NewReader(r.Stdout))
	if err := dec.Decode(&doc); err != nil || dec.More() || r.Code != exitOK {
		t.Fatalf("-demo -json -: exit %d, %v\n%s\n%s", r.Code, err, r.Stdout, r.Stderr)
	}
	rows, _ := doc["rows"].([]any)
	if len(rows) != 40 || doc["duration_seconds"] == nil {
		t.Errorf("%d rows; doc %v", len(rows), doc["counts"])
	}
	if rep := rows[0].(map[string]any)["report"].(map[string]any); rep["duration_seconds"] == nil || rep["Duration"] != nil {
		t.Errorf("row report: %v", rep)
	}
	if n := strings.Count(r.Stderr, "\n"); n > 20 {
		t.Errorf("%d lines of progress for 40 servers:\n%s", n, r.Stderr)
	}
}

func TestBinaryTimeoutExitCode(t *testing.T) {
	clouds(t) // credentials
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // accepted, never answered
		}
	}()
	defer func() {
		ln.Close()
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
	}()
	file := writeFile(t, "s.csv", "provider,region,instance,disk,snapshot\ntencent,ap-guangzhou,lhins-1a2b3c4d,,lhsnap-1a2b3c4d\n")
	r := clitest.Cmd{Exe: exe(t), Args: []string{"-tencent-endpoint", "http://" + ln.Addr().String(), "-file", file, "-key-prefix", "t",
		"-state-dir", t.TempDir(), "-yes", "-timeout", "1s"}, Stdin: clitest.Pipe}.Run(t)
	if r.Code != exitTimeout {
		t.Errorf("a run that hits -timeout: exit %d, want %d (as rollback)\n%s\n%s", r.Code, exitTimeout, r.Stdout, r.Stderr)
	}
}

package main

import (
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/cloudsnap/rollback/internal/cli"
	"github.com/cloudsnap/rollback/internal/cli/clitest"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// These tests run the built command as a user does, with stdin a pipe,
// /dev/null or a terminal (issue 16).

func exe(t *testing.T) string { return clitest.Build(t, ".") }

// tencentTarget seeds a stopped Lighthouse instance with a snapshot and
// returns the flags that roll it back.
func tencentTarget(t *testing.T, tc *tencenttest.Server) []string {
	in, _ := tc.AddInstance(tencenttest.Instance{State: "STOPPED"})
	sn, _ := tc.AddSnapshot(tencenttest.Snapshot{InstanceID: in.ID})
	return []string{"-provider", "tencent", "-region", "ap-guangzhou", "-endpoint", tc.URL, "-instance", in.ID, "-snapshot", sn.ID}
}

func TestBinaryConfirmation(t *testing.T) {
	_, tc := emulators(t)
	tests := []struct {
		name, stdin, input string
		yes                bool
		code, rollbacks    int
		say                string
	}{
		{"pipe saying no", clitest.Pipe, "no\n", false, exitNotConfirmed, 0, "add -yes"},
		{"pipe saying yes", clitest.Pipe, "yes\n", false, exitNotConfirmed, 0, "not a terminal"},
		{"dev null", clitest.DevNull, "", false, exitNotConfirmed, 0, "add -yes"},
		{"pipe with -yes", clitest.Pipe, "", true, exitOK, 1, "Rolled back"},
		{"terminal saying no", clitest.PTY, "no\n", false, exitNotConfirmed, 0, "Type yes to continue"},
		{"terminal saying yes", clitest.PTY, "yes\n", false, exitOK, 1, "Type yes to continue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tc.Rollbacks()
			args := tencentTarget(t, tc)
			if tt.yes {
				args = append(args, "-yes")
			}
			r := clitest.Cmd{Exe: exe(t), Args: args, Stdin: tt.stdin, Input: tt.input}.Run(t)
			if r.Code != tt.code || !strings.Contains(r.Stdout+r.Stderr, tt.say) {
				t.Errorf("exit %d (want %d), want %q\nstdout:\n%s\nstderr:\n%s", r.Code, tt.code, tt.say, r.Stdout, r.Stderr)
			}
			if n := tc.Rollbacks() - before; n != tt.rollbacks {
				t.Errorf("%d rollbacks, want %d", n, tt.rollbacks)
			}
		})
	}
}

func TestBinaryDemoHonoursFlags(t *testing.T) {
	bin := exe(t)
	// -dry-run changes nothing.
	r := clitest.Cmd{Exe: bin, Args: []string{"-demo", "-dry-run", "-demo-speed", "1000"}, Stdin: clitest.DevNull}.Run(t)
	if r.Code != exitOK || !strings.Contains(r.Stdout, "Rollbacks applied: aliyun 0, tencent 0") || strings.Contains(r.Stdout, "Rolled back disk") {
		t.Errorf("-demo -dry-run: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	// Flags the demo cannot honour are refused, not ignored.
	for _, args := range [][]string{
		{"-demo", "-provider", "aws"},
		{"-demo", "-region", "x y"},
		{"-demo", "-instance", "lhins-1a2b3c4d"},
	} {
		r := clitest.Cmd{Exe: bin, Args: args, Stdin: clitest.DevNull}.Run(t)
		if r.Code != exitUsage || r.Stdout != "" {
			t.Errorf("%v: exit %d\n%s\n%s", args, r.Code, r.Stdout, r.Stderr)
		}
	}
	// -json: stdout is one JSON document and nothing else.
	r = clitest.Cmd{Exe: bin, Args: []string{"-demo", "-json", "-provider", "tencent", "-demo-speed", "1000"}, Stdin: clitest.Pipe}.Run(t)
	var doc map[string]any
	dec := json.NewDecoder(strings.NewReader(r.Stdout))
	if err := dec.Decode(&doc); err != nil || dec.More() || r.Code != exitOK {
		t.Fatalf("-demo -json: exit %d, %v\n%s", r.Code, err, r.Stdout)
	}
	if reps, _ := doc["reports"].([]any); len(reps) != 1 {
		t.Errorf("-demo -json -provider tencent: %d reports", len(reps))
	}
}

func TestBinaryJSONSchema(t *testing.T) {
	_, tc := emulators(t)
	bin := exe(t)
	r := clitest.Cmd{Exe: bin, Args: append(tencentTarget(t, tc), "-json", "-yes"), Stdin: clitest.Pipe}.Run(t)
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil || r.Code != exitOK {
		t.Fatalf("exit %d, %v\n%s\n%s", r.Code, err, r.Stdout, r.Stderr)
	}
	checkSchema(t, doc)
	rep := doc["report"].(map[string]any)
	if _, ok := rep["duration_seconds"].(float64); !ok {
		t.Errorf("report.duration_seconds = %v", rep["duration_seconds"])
	}
	if _, ok := rep["client_token"]; ok {
		t.Errorf("a Lighthouse report names a client token: %v", rep["client_token"])
	}
	// A usage error, with -json, is JSON too.
	r = clitest.Cmd{Exe: bin, Args: []string{"-json", "-provider", "aws"}, Stdin: clitest.Pipe}.Run(t)
	doc = nil
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil || r.Code != exitUsage {
		t.Fatalf("usage error: exit %d, %v\n%s", r.Code, err, r.Stdout)
	}
	checkSchema(t, doc)
	if doc["exit_code"] != float64(exitUsage) || doc["exit_name"] != "usage" || doc["error"] == nil {
		t.Errorf("usage error as JSON: %v", doc)
	}
}

// checkSchema checks the header and that every key is snake_case.
func checkSchema(t *testing.T, doc map[string]any) {
	t.Helper()
	if doc["schema_version"] != float64(cli.SchemaVersion) || doc["program"] != "rollback" {
		t.Errorf("header: %v", doc)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if strings.ToLower(k) != k || strings.Contains(k, "-") {
					t.Errorf("key %q is not snake_case", k)
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)
}

// silent accepts connections and never answers.
func silent(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

func TestBinaryTimeoutExitCode(t *testing.T) {
	emulators(t) // credentials
	r := clitest.Cmd{Exe: exe(t), Args: []string{"-provider", "tencent", "-region", "ap-guangzhou", "-endpoint", silent(t),
		"-instance", "lhins-1a2b3c4d", "-snapshot", "lhsnap-1a2b3c4d", "-yes", "-timeout", "1s"}, Stdin: clitest.Pipe}.Run(t)
	if r.Code != exitTimeout {
		t.Errorf("a run that hits -timeout: exit %d, want %d (as fleet)\n%s", r.Code, exitTimeout, r.Stderr)
	}
}

func TestBinaryVersionAndHelp(t *testing.T) {
	bin := exe(t)
	r := clitest.Cmd{Exe: bin, Args: []string{"-version"}, Stdin: clitest.DevNull}.Run(t)
	if r.Code != exitOK || !strings.HasPrefix(r.Stdout, "rollback ") {
		t.Errorf("-version: exit %d: %q %q", r.Code, r.Stdout, r.Stderr)
	}
	r = clitest.Cmd{Exe: bin, Args: []string{"-help"}, Stdin: clitest.DevNull}.Run(t)
	if r.Code != exitOK || !strings.Contains(r.Stderr, cli.ExitCodeHelp) {
		t.Errorf("-help lacks the exit code table: %s", r.Stderr)
	}
	r = clitest.Cmd{Exe: bin, Args: []string{"-provider", "tencent", "stray"}, Stdin: clitest.DevNull}.Run(t)
	if strings.Contains(r.Stderr, "before nothing else") || !strings.Contains(r.Stderr, `unexpected argument "stray"`) {
		t.Errorf("stray argument: %s", r.Stderr)
	}
}

// TestBinaryMemCloud: the program links memprovider, so the command can be
// tried with no account and no emulator, on the IDs a mem:// URL seeds
// (-help says which).
func TestBinaryMemCloud(t *testing.T) {
	bin := exe(t)
	r := clitest.Cmd{Exe: bin, Args: []string{"-help"}, Stdin: clitest.DevNull}.Run(t)
	if !strings.Contains(r.Stderr, "Providers in this program (-cloud SCHEME://, -provider SCHEME): aliyun, mem, tencent.") ||
		!strings.Contains(r.Stderr, "ins-000001, disk disk-000001, ready snapshot snap-000002") {
		t.Errorf("-help does not list mem:// and its IDs:\n%s", r.Stderr)
	}
	ids := []string{"-instance", "ins-000001", "-snapshot", "snap-000002"}
	r = clitest.Cmd{Exe: bin, Args: append([]string{"-cloud", "mem://?servers=1", "-dry-run"}, ids...), Stdin: clitest.DevNull}.Run(t)
	if r.Code != exitOK || !strings.Contains(r.Stdout, "Dry run: every check passed. mem would, in mem-1:") {
		t.Errorf("dry run: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	// A real rollback, its operations 1000 times faster than real time.
	r = clitest.Cmd{Exe: bin, Args: []string{"-cloud", "mem://?servers=2&scale=1000", "-yes", "-json", "-disk", "disk-000003", "-snapshot", "snap-000004"},
		Stdin: clitest.Pipe}.Run(t)
	var doc struct {
		OK     bool `json:"ok"`
		Report struct {
			Provider   string `json:"provider"`
			Region     string `json:"region"`
			InstanceID string `json:"instance_id"`
			Finished   bool   `json:"finished"`
			RequestID  string `json:"request_id"`
		} `json:"report"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil || r.Code != exitOK {
		t.Fatalf("rollback: exit %d, %v\n%s\n%s", r.Code, err, r.Stdout, r.Stderr)
	}
	if rep := doc.Report; !doc.OK || rep.Provider != "mem" || rep.Region != "mem-1" || rep.InstanceID != "ins-000003" || !rep.Finished || rep.RequestID == "" {
		t.Errorf("rollback report: %s", r.Stdout)
	}
	// An ID the URL did not seed is not found, as on a cloud.
	r = clitest.Cmd{Exe: bin, Args: []string{"-cloud", "mem://?servers=1", "-dry-run", "-instance", "ins-000003", "-snapshot", "snap-000002"}, Stdin: clitest.DevNull}.Run(t)
	if r.Code != cli.ExitNotFound {
		t.Errorf("unseeded instance: exit %d, want %d\n%s", r.Code, cli.ExitNotFound, r.Stderr)
	}
}

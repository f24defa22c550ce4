package rollbackcli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/internal/cli/clitest"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

func TestMain(m *testing.M) {
	// Runs keep learned operation times in the user cache directory: one
	// of the test binary's own, shared by its tests as by a user's runs.
	remove := clitest.WarmCache()
	goleak.VerifyTestMain(m, goleak.Cleanup(func(int) { remove() }))
}

// runCmd runs the command in-process and returns its exit code and output.
func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestDemo(t *testing.T) {
	code, out, errOut := runCmd(t, "", "-demo", "-demo-speed", "1000")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"Rolled back disk d-", "Rolled back disk lhdisk-", "safety snapshot:", "Rollbacks applied: aliyun 1, tencent 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	for _, want := range []string{"[aliyun]", "[tencent]", "wait-rollback", "%"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("progress lacks %q", want)
		}
	}
}

func TestHelpListsExitCodes(t *testing.T) {
	code, _, errOut := runCmd(t, "", "-help")
	if code != exitOK || !strings.Contains(errOut, "Exit codes") || !strings.Contains(errOut, "-dry-run") {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		say  string
	}{
		{[]string{"-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{}, "missing -provider, -region, -snapshot"},
		{[]string{"-provider", "aws"}, `-provider must be aliyun, mem or tencent, not "aws"`},
		{[]string{"-provider", "aliyun", "-region", "cn-hangzhou", "-snapshot", "s-1"}, "missing -disk"},
		{[]string{"-provider", "tencent", "-region", "ap-guangzhou", "-snapshot", "lhsnap-1"}, "missing -instance"},
		{[]string{"-provider", "tencent", "-region", "ap-guangzhou", "-instance", "lhins-1", "-snapshot", "lhsnap-1", "-token", "a", "-key", "b"}, "-token or -key, not both"},
		{[]string{"-provider", "tencent", "-region", "ap-guangzhou", "-instance", "lhins-1", "-snapshot", "lhsnap-1", "extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		code, out, errOut := runCmd(t, "", tt.args...)
		if code != exitUsage || out != "" {
			t.Errorf("%v: exit %d, stdout %q", tt.args, code, out)
		}
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		if len(lines) != 2 || !strings.Contains(lines[0], tt.say) || !strings.Contains(lines[1], "-help") {
			t.Errorf("%v: stderr %q, want one line saying %q and a pointer to -help", tt.args, errOut, tt.say)
		}
	}
}

// emulators starts both emulators with quick operations on the wall clock
// and puts their credentials in the environment, as a user would.
func emulators(t *testing.T) (*aliyuntest.Server, *tencenttest.Server) {
	t.Helper()
	ali := aliyuntest.NewServer(aliyuntest.WithDurations(aliyuntest.Durations{
		Stop: 200 * time.Millisecond, Start: 200 * time.Millisecond, Rollback: 200 * time.Millisecond, CreateSnapshot: 200 * time.Millisecond}))
	t.Cleanup(ali.Close)
	tc := tencenttest.NewServer(tencenttest.WithDurations(tencenttest.Durations{
		Stop: 200 * time.Millisecond, Start: 200 * time.Millisecond, Rollback: 200 * time.Millisecond, CreateSnapshot: 200 * time.Millisecond}))
	t.Cleanup(tc.Close)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", aliyuntest.DefaultAccessKeyID)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", aliyuntest.DefaultAccessKeySecret)
	t.Setenv("TENCENTCLOUD_SECRET_ID", tencenttest.DefaultSecretID)
	t.Setenv("TENCENTCLOUD_SECRET_KEY", tencenttest.DefaultSecretKey)
	return ali, tc
}

func TestMalformedIDsSendNothing(t *testing.T) {
	ali, tc := emulators(t)
	code, _, errOut := runCmd(t, "", "-provider", "tencent", "-region", "ap-guangzhou", "-endpoint", tc.URL,
		"-instance", "ins-123", "-snapshot", "lhsnap-1")
	if code != exitUsage || !strings.Contains(errOut, `InstanceID "ins-123" is not a Lighthouse instance ID`) {
		t.Errorf("exit %d: %s", code, errOut)
	}
	code, _, errOut = runCmd(t, "", "-provider", "aliyun", "-region", "cn-hangzhou", "-endpoint", ali.URL,
		"-disk", "d-1", "-snapshot", "snap-1")
	if code != exitUsage || !strings.Contains(errOut, "SnapshotID") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	if n := tc.Journal().Count("") + len(ali.Journal().Entries()); n != 0 {
		t.Errorf("%d calls sent for malformed input", n)
	}
}

func TestRealRunAgainstEmulators(t *testing.T) {
	ali, tc := emulators(t)
	a := aliyuntest.Must(ali.AddInstance(aliyuntest.InstanceSpec{Status: aliyuntest.StatusRunning}))
	as := aliyuntest.Must(ali.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: a.SystemDiskID}))
	code, out, errOut := runCmd(t, "", "-provider", "aliyun", "-region", "cn-hangzhou", "-endpoint", ali.URL,
		"-disk", a.SystemDiskID, "-snapshot", as.ID, "-stop", "-start", "-key", "t-1", "-state-dir", t.TempDir(), "-yes")
	if code != exitOK || !strings.Contains(out, "Rolled back disk "+a.SystemDiskID) || !strings.Contains(out, "running -> running") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if ali.RollbacksOf(a.SystemDiskID) != 1 {
		t.Errorf("%d rollbacks", ali.RollbacksOf(a.SystemDiskID))
	}

	in, _ := tc.AddInstance(tencenttest.Instance{State: "STOPPED"})
	sn, _ := tc.AddSnapshot(tencenttest.Snapshot{InstanceID: in.ID})
	code, out, _ = runCmd(t, "", "-provider", "tencent", "-region", "ap-guangzhou", "-endpoint", tc.URL,
		"-instance", in.ID, "-snapshot", sn.ID, "-json", "-yes")
	var res jsonResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != exitOK || !res.OK || res.Report.RequestID == "" {
		t.Fatalf("exit %d, json %v: %s", code, err, out)
	}
}

func TestExitCodes(t *testing.T) {
	ali, tc := emulators(t)
	running, _ := tc.AddInstance(tencenttest.Instance{State: "RUNNING"})
	rs, _ := tc.AddSnapshot(tencenttest.Snapshot{InstanceID: running.ID})
	stopped, _ := tc.AddInstance(tencenttest.Instance{State: "STOPPED"})
	ss, _ := tc.AddSnapshot(tencenttest.Snapshot{InstanceID: stopped.ID})
	tcArgs := func(inst, snap string, more ...string) []string {
		return append([]string{"-provider", "tencent", "-region", "ap-guangzhou", "-endpoint", tc.URL, "-instance", inst, "-snapshot", snap, "-yes"}, more...)
	}
	a := aliyuntest.Must(ali.AddInstance(aliyuntest.InstanceSpec{Status: aliyuntest.StatusStopped}))

	tests := []struct {
		name string
		args []string
		code int
		say  string
	}{
		{"running without -stop", tcArgs(running.ID, rs.ID), exitWrongState, "add -stop"},
		{"snapshot of another instance", tcArgs(stopped.ID, rs.ID), exitWrongState, "snapshot"},
		{"snapshot not found", tcArgs(stopped.ID, "lhsnap-nothere"), exitNotFound, "snapshot not found"},
		{"dry run", tcArgs(running.ID, rs.ID, "-dry-run", "-stop"), exitOK, ""},
		{"aliyun disk not found", []string{"-provider", "aliyun", "-region", "cn-hangzhou", "-endpoint", ali.URL,
			"-disk", "d-nothere0000000000000", "-snapshot", "s-nothere0000000000000", "-yes"}, exitNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, "", tt.args...)
			if code != tt.code || !strings.Contains(errOut+out, tt.say) {
				t.Errorf("exit %d (want %d)\nstdout %s\nstderr %s", code, tt.code, out, errOut)
			}
			if tt.code == exitWrongState && tt.say != "add -stop" && strings.Contains(errOut, "-stop") {
				t.Errorf("exit %d (want %d)\nstdout %s\nstderr %s", code, tt.code, out, errOut)
			}
		})
	}
	if tc.Rollbacks()+ali.Rollbacks() != 0 || tc.Journal().Count("StopInstances") != 0 {
		t.Error("a failing or dry run changed something")
	}
	_ = a

	// A failed rollback.
	tc.FailNextRollbacks(1)
	code, _, errOut := runCmd(t, "", tcArgs(stopped.ID, ss.ID)...)
	if code != exitFailed || !strings.Contains(errOut, "rollback failed") {
		t.Errorf("failed rollback: exit %d: %s", code, errOut)
	}
}

func TestMissingCredentials(t *testing.T) {
	_, tc := emulators(t)
	t.Setenv("TENCENTCLOUD_SECRET_ID", "")
	t.Setenv("TENCENTCLOUD_SECRET_KEY", "")
	t.Setenv("HOME", t.TempDir())                      // no profile files
	t.Setenv("TENCENTCLOUD_METADATA_DISABLED", "true") // no metadata service
	code, _, errOut := runCmd(t, "", "-provider", "tencent", "-region", "ap-guangzhou", "-endpoint", tc.URL,
		"-instance", "lhins-1", "-snapshot", "lhsnap-1")
	if code != exitAuth || !strings.Contains(errOut, "TENCENTCLOUD_SECRET_ID") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

func TestConfirm(t *testing.T) {
	_, tc := emulators(t)
	in, _ := tc.AddInstance(tencenttest.Instance{State: "STOPPED"})
	sn, _ := tc.AddSnapshot(tencenttest.Snapshot{InstanceID: in.ID})
	c := &config{provider: "tencent", region: "ap-guangzhou", endpoint: tc.URL}
	p, err := newProvider(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	req := requestFor(c)
	req.InstanceID, req.SnapshotID = in.ID, sn.ID
	var prompt bytes.Buffer
	if err := confirm(context.Background(), p, req, defaultRunOptions(c), nil, strings.NewReader("no\n"), &prompt); err != errNotConfirmed {
		t.Errorf("answer no: %v", err)
	}
	if !strings.Contains(prompt.String(), "will be lost") || !strings.Contains(prompt.String(), "1. roll back disk") {
		t.Errorf("prompt:\n%s", prompt.String())
	}
	if err := confirm(context.Background(), p, req, defaultRunOptions(c), nil, strings.NewReader("yes\n"), &prompt); err != nil {
		t.Errorf("answer yes: %v", err)
	}
	if tc.Rollbacks() != 0 {
		t.Error("confirming rolled back")
	}
}

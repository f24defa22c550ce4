package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"example.com/acmecloud/acme"
	"example.com/acmecloud/acmetest"
)

// These tests build the command and run it as a user does, against the
// emulator over HTTP: the third provider works with the rollback command
// without a line of github.com/cloudsnap/rollback naming it.

var bin string // the built command

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "acme-rollback-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "acme-rollback")
	os.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache")) // learned operation times: the runs' own
	code := 1
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// emulator starts acmetest with operations that take 200ms of wall time.
func emulator(t *testing.T) *acmetest.Server {
	t.Helper()
	d := 200 * time.Millisecond
	srv := acmetest.NewServer(acmetest.WithDurations(acmetest.Durations{Stop: d, Start: d, Restore: d, CreateSnapshot: d}))
	t.Cleanup(srv.Close)
	return srv
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs the command with stdin a pipe (so a rollback needs -yes) and
// the emulator's key in the child's environment only.
func run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader("")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("acme-rollback %v: still running after 2m\n%s", args, errOut.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errOut.String()}
}

var creds = []string{acme.EnvKeyID + "=" + acmetest.DefaultKeyID, acme.EnvSecret + "=" + acmetest.DefaultSecret}

// doc is the part of the -json document (README, "JSON output") checked here.
type doc struct {
	SchemaVersion int    `json:"schema_version"`
	Program       string `json:"program"`
	OK            bool   `json:"ok"`
	ExitCode      int    `json:"exit_code"`
	ExitName      string `json:"exit_name"`
	Error         *struct {
		Kind string `json:"kind"`
	} `json:"error"`
	Report *struct {
		Provider            string   `json:"provider"`
		Region              string   `json:"region"`
		InstanceID          string   `json:"instance_id"`
		SnapshotID          string   `json:"snapshot_id"`
		DryRun              bool     `json:"dry_run"`
		Plan                []string `json:"plan"`
		RequestID           string   `json:"request_id"`
		Finished            bool     `json:"finished"`
		InstanceStateBefore string   `json:"instance_state_before"`
		InstanceStateAfter  string   `json:"instance_state_after"`
	} `json:"report"`
}

func parse(t *testing.T, r result) doc {
	t.Helper()
	var d doc
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("exit %d, stdout is not one JSON document: %v\n%s\nstderr:\n%s", r.code, err, r.stdout, r.stderr)
	}
	if d.SchemaVersion != 1 || d.Program != "rollback" || d.ExitCode != r.code || d.OK != (r.code == 0) {
		t.Errorf("header %+v for exit %d", d, r.code)
	}
	return d
}

func TestHelpListsAcme(t *testing.T) {
	r := run(t, nil, "-help")
	if r.code != 0 || !strings.Contains(r.stderr, "(-cloud SCHEME://, -provider SCHEME): acme.") {
		t.Errorf("-help: exit %d\n%s", r.code, r.stderr)
	}
	// SWAS's and Lighthouse's paragraphs are for programs that link them.
	if strings.Contains(r.stderr, "ALIBABA_CLOUD") || strings.Contains(r.stderr, "rollback -demo") ||
		!strings.Contains(r.stderr, "rollback -provider acme -region REGION") || !strings.Contains(r.stderr, "each provider's default chain") {
		t.Errorf("-help speaks of clouds this program does not link:\n%s", r.stderr)
	}
	// The demo runs this repository's emulators, which this command does
	// not link: it says so rather than running nothing.
	r = run(t, nil, "-demo")
	if r.code != 2 || !strings.Contains(r.stderr, "no demo clouds") {
		t.Errorf("-demo: exit %d\n%s", r.code, r.stderr)
	}
}

func TestDryRunAndRollback(t *testing.T) {
	srv := emulator(t)
	cloud := "acme://" + acmetest.DefaultRegion + "?endpoint=" + srv.URL
	seed := func(state string) []string {
		sv, err := srv.AddServer(acmetest.ServerSpec{State: state})
		if err != nil {
			t.Fatal(err)
		}
		snap, err := srv.AddSnapshot(acmetest.SnapshotSpec{ServerID: sv.ID})
		if err != nil {
			t.Fatal(err)
		}
		return []string{"-cloud", cloud, "-instance", sv.ID, "-snapshot", snap}
	}
	running, stopped := seed(acme.StateRunning), seed(acme.StateStopped)
	restores := func() int { return srv.RestoresOf(running[3]) + srv.RestoresOf(stopped[3]) }

	// A dry run checks and changes nothing.
	r := run(t, creds, append(running, "-stop", "-start", "-dry-run", "-json")...)
	d := parse(t, r)
	if rep := d.Report; r.code != 0 || rep == nil || !rep.DryRun || len(rep.Plan) != 4 || rep.Provider != acme.Name ||
		rep.Region != acmetest.DefaultRegion || rep.InstanceID != running[3] {
		t.Fatalf("dry run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(strings.Join(d.Report.Plan, "\n"), "stop") {
		t.Errorf("the plan does not stop the running server: %q", d.Report.Plan)
	}

	// Running, without -stop: wrong state (4), nothing sent.
	r = run(t, creds, append(running, "-yes", "-json")...)
	if d := parse(t, r); r.code != 4 || d.ExitName != "wrong_state" || d.Error == nil || d.Error.Kind != "ErrInstanceState" ||
		!strings.Contains(r.stderr, "add -stop") {
		t.Errorf("running without -stop: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if n := restores() + srv.Calls(acmetest.ActionStopServer); n != 0 {
		t.Fatalf("a dry or refused run changed something (%d calls)", n)
	}

	// The rollback of the stopped server, keyed, exactly once. (A stop and
	// a start would each add seconds: the first poll of a wait comes when
	// Acme's priors say the operation may end.)
	r = run(t, creds, append(stopped, "-yes", "-json", "-key", "incident-1", "-state-dir", t.TempDir())...)
	d = parse(t, r)
	if rep := d.Report; r.code != 0 || rep == nil || rep.DryRun || !rep.Finished || rep.RequestID == "" ||
		rep.InstanceStateBefore != "stopped" || rep.SnapshotID != stopped[5] {
		t.Fatalf("rollback: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if n, m := srv.RestoresOf(stopped[3]), restores(); n != 1 || m != 1 {
		t.Errorf("%d restores of the server, %d in all; want 1", n, m)
	}
	if strings.Contains(r.stdout+r.stderr, acmetest.DefaultSecret) {
		t.Error("the output quotes the secret")
	}
}

func TestNoCredentials(t *testing.T) {
	srv := emulator(t)
	// The child's environment names no key, whatever the test's has.
	env := []string{acme.EnvKeyID + "=", acme.EnvSecret + "="}
	r := run(t, env, "-cloud", "acme://"+acmetest.DefaultRegion+"?endpoint="+srv.URL, "-instance", "srv-1", "-snapshot", "snap-1", "-dry-run")
	if r.code != 9 || !strings.Contains(r.stderr, acme.EnvKeyID) {
		t.Errorf("no credentials: exit %d, want 9\n%s", r.code, r.stderr)
	}
	if n := len(srv.Journal().Entries()); n != 0 {
		t.Errorf("%d calls sent without credentials", n)
	}
}

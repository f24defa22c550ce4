package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

func TestDemo(t *testing.T) {
	r := fleetCmd(context.Background(), env{}, "", "-demo", "-demo-servers", "24", "-demo-speed", "1000")
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"Rollbacks applied: aliyun 12 of 12 servers, tencent 12 of 12; 24 servers rolled back exactly once",
		"24 rows in", "24 rolled back", "LINE  PROVIDER"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	// stderr is not a terminal: the plan, then summary lines, not a line
	// per event of each row.
	for _, want := range []string{"Estimated time: ~", "of cloud time", "24/24 done, 0 failed, 0 running"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("progress lacks %q:\n%s", want, r.stderr)
		}
	}
}

func TestCSVFile(t *testing.T) {
	ali, tc, e := clouds(t)
	servers := seed(t, ali, tc, 4)
	file := writeFile(t, "servers.csv", csvOf(servers))
	args := append(endpoints(ali, tc), "-file", file, "-stop", "-start", "-key-prefix", "t1", "-state-dir", t.TempDir())
	r := fleetCmd(context.Background(), e, "", args...)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	rolledBackOnce(t, ali, tc, servers)
	if !strings.Contains(r.stdout, "8 rows in") || strings.Count(r.stdout, " rolled back ") != 8 {
		t.Errorf("summary:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "8/8 done, 0 failed, 0 running") || strings.Contains(r.stderr, "stop done") {
		t.Errorf("progress:\n%s", r.stderr)
	}
	for _, s := range servers {
		id := s.row.Instance
		if id == "" {
			continue
		}
		if in, _ := tc.Instance(id); in.State != "RUNNING" {
			t.Errorf("%s is %s after -start", id, in.State)
		}
	}
}

func TestJSONFromStdinAndReport(t *testing.T) {
	ali, tc, e := clouds(t)
	servers := seed(t, ali, tc, 2)
	var rows []map[string]string
	for i, s := range servers {
		rows = append(rows, map[string]string{"provider": s.row.Provider, "region": s.row.Region,
			"instance": s.row.Instance, "disk": s.row.Disk, "snapshot": s.row.Snapshot, "key": "json-" + string(rune('a'+i))})
	}
	in, _ := json.MarshalIndent(rows, "", "  ")
	reportFile := t.TempDir() + "/report.json"
	args := append(endpoints(ali, tc), "-file", "-", "-stop", "-state-dir", t.TempDir(), "-json", reportFile)
	r := fleetCmd(context.Background(), e, string(in), args...)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	rolledBackOnce(t, ali, tc, servers)
	b, err := os.ReadFile(reportFile)
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.ExitCode != 0 || len(rep.Rows) != 4 || rep.Counts["rolled back"] != 4 {
		t.Fatalf("report: %s", b)
	}
	for i, row := range rep.Rows {
		// MarshalIndent puts each object's "{" on line 2, 10, 18, ...
		if row.Line != 2+8*i || row.Key != rows[i]["key"] || row.Outcome != "rolled back" || row.Report == nil ||
			row.Report.RequestID == "" || row.Error != nil {
			t.Errorf("row %d: %+v", i, row)
		}
	}
	// The table names each row's request ID.
	if !strings.Contains(r.stdout, rep.Rows[3].Report.RequestID) {
		t.Errorf("table lacks the request ID:\n%s", r.stdout)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	ali, tc, e := clouds(t)
	servers := seed(t, ali, tc, 2)
	args := append(endpoints(ali, tc), "-file", writeFile(t, "s.csv", csvOf(servers)), "-stop", "-dry-run", "-json", "-")
	r := fleetCmd(context.Background(), e, "", args...)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var rep report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("-json - must print only JSON: %v\n%s", err, r.stdout)
	}
	if !rep.DryRun || rep.Counts["checked"] != 4 || !strings.Contains(rep.Rows[0].Detail, "would stop, roll back") {
		t.Errorf("report: %s", r.stdout)
	}
	if ali.Rollbacks()+tc.Rollbacks() != 0 || ali.Calls("StopInstance") != 0 || tc.Journal().Count("StopInstances") != 0 {
		t.Error("a dry run changed something")
	}
	if strings.Contains(r.stderr, "Estimated time") || !strings.Contains(r.stderr, "Dry run: checking 4 disks") {
		t.Errorf("plan:\n%s", r.stderr)
	}
}

func TestResumeAfterInterrupt(t *testing.T) {
	ali, tc, e := clouds(t)
	servers := seed(t, ali, tc, 12) // 12 SWAS rows: two wait a quota minute
	args := append(endpoints(ali, tc), "-file", writeFile(t, "s.csv", csvOf(servers)), "-stop", "-key-prefix", "resume",
		"-state-dir", t.TempDir())

	// Interrupt the first run once some rollbacks have been accepted.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer cancel()
		for ali.Rollbacks() < 4 || tc.Rollbacks() < 4 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	first := fleetCmd(ctx, e, "", args...)
	cancel()
	if first.code != exitInterrupted || !strings.Contains(first.stderr, "run the same command again to resume") {
		t.Fatalf("first run: exit %d\n%s\n%s", first.code, first.stdout, first.stderr)
	}
	accepted := ali.Rollbacks() + tc.Rollbacks()
	if accepted == 0 || accepted == len(servers) {
		t.Fatalf("interrupted after %d of %d rollbacks; the test needs some", accepted, len(servers))
	}

	second := fleetCmd(context.Background(), e, "", args...)
	if second.code != exitOK {
		t.Fatalf("second run: exit %d\n%s\n%s", second.code, second.stdout, second.stderr)
	}
	rolledBackOnce(t, ali, tc, servers)
	if !strings.Contains(second.stdout, "(resumed)") && !strings.Contains(second.stdout, "already done") {
		t.Errorf("the second run resumed nothing:\n%s", second.stdout)
	}

	// A third run finds everything done and changes nothing.
	before := len(ali.Journal().Entries())
	third := fleetCmd(context.Background(), e, "", args...)
	if third.code != exitOK || !strings.Contains(third.stdout, "24 already done") {
		t.Errorf("third run: exit %d\n%s", third.code, third.stdout)
	}
	for _, en := range ali.Journal().Entries()[before:] {
		if en.Applied {
			t.Errorf("third run changed something: %s", en.Action)
		}
	}
	// A dry run with the same keys knows that too.
	if dry := fleetCmd(context.Background(), e, "", append(args, "-dry-run")...); dry.code != exitOK || !strings.Contains(dry.stdout, "24 already done") {
		t.Errorf("dry run: exit %d\n%s", dry.code, dry.stdout)
	}
}

func TestRowOutcomesAndExitCode(t *testing.T) {
	ali, tc, e := clouds(t)
	servers := seed(t, ali, tc, 2) // lines 2-3 aliyun, 4-5 tencent; 2 and 4 running
	servers[3].row.Snapshot = "lhsnap-gone0001"
	args := append(endpoints(ali, tc), "-file", writeFile(t, "s.csv", csvOf(servers)), "-key-prefix", "codes",
		"-state-dir", t.TempDir(), "-json", "-")
	r := fleetCmd(context.Background(), e, "", args...)
	var rep report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("exit %d: %v\n%s", r.code, err, r.stdout)
	}
	// Not found (3) and wrong state (4): wrong state is the more severe.
	want := []struct {
		outcome string
		code    int
	}{{"wrong state", exitWrongState}, {"rolled back", exitOK}, {"wrong state", exitWrongState}, {"not found", exitNotFound}}
	for i, w := range want {
		got := rep.Rows[i]
		if got.Outcome != w.outcome || got.ExitCode != w.code || (w.code != 0) != (got.Error != nil) {
			t.Errorf("line %d: %s (exit %d), want %s (exit %d)", got.Line, got.Outcome, got.ExitCode, w.outcome, w.code)
		}
	}
	if r.code != exitWrongState || rep.ExitCode != exitWrongState || !strings.Contains(r.stderr, "need -stop") {
		t.Errorf("exit %d, report %d\n%s", r.code, rep.ExitCode, r.stderr)
	}
	if rep.Rows[3].Error.Kind != "ErrSnapshotNotFound" || rep.Rows[0].Error.Kind != "ErrInstanceState" {
		t.Errorf("error kinds: %+v %+v", rep.Rows[3].Error, rep.Rows[0].Error)
	}
	if ali.Rollbacks() != 1 || tc.Rollbacks() != 0 {
		t.Errorf("rollbacks: aliyun %d, tencent %d", ali.Rollbacks(), tc.Rollbacks())
	}
}

func TestWorstExitCode(t *testing.T) {
	tests := []struct {
		codes []int
		want  int
	}{
		{nil, exitOK},
		{[]int{exitOK, exitOK}, exitOK},
		{[]int{exitBusy, exitNotFound, exitWrongState}, exitWrongState},
		{[]int{exitWrongState, exitUsage, exitAuth}, exitAuth},
		{[]int{exitAuth, exitError}, exitError},
		{[]int{exitError, exitInterrupted}, exitInterrupted},
		{[]int{exitInterrupted, exitTimeout}, exitTimeout},
		{[]int{exitTimeout, exitFailed, exitOK}, exitFailed},
		{[]int{exitFailed, exitUnknown, exitBusy}, exitUnknown},
	}
	for _, tt := range tests {
		if got := worst(tt.codes...); got != tt.want {
			t.Errorf("worst(%v) = %d, want %d", tt.codes, got, tt.want)
		}
	}
}

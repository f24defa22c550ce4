package rollbackcli

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/internal/cli"
)

// Messages that misled (issue 16 item 6).

func TestAdviceFitsTheError(t *testing.T) {
	mismatch := &rollback.Error{Kind: rollback.ErrSnapshotMismatch}
	running := &rollback.Error{Kind: rollback.ErrInstanceState}
	if a := advice(exitWrongState, &config{}, mismatch); strings.Contains(a, "-stop") {
		t.Errorf("a snapshot of another disk: %q", a)
	}
	if a := advice(exitWrongState, &config{}, running); !strings.Contains(a, "-stop") {
		t.Errorf("a running instance: %q", a)
	}
	if a := advice(exitTimeout, &config{dryRun: true}, errors.New("x")); strings.Contains(a, "still be running") || !strings.Contains(a, "dry run") {
		t.Errorf("a dry run that timed out: %q", a)
	}
}

func TestTextReport(t *testing.T) {
	var out strings.Builder
	// A resumed run that found the rollback finished did nothing now.
	writeText(&out, &rollback.Report{Provider: "tencent", Resumed: true, Duration: 16 * time.Millisecond,
		Request: rollback.Request{Region: "ap-guangzhou", InstanceID: "lhins-1", SnapshotID: "lhsnap-1"},
		Result:  &rollback.Result{RequestID: "req-1", ClientToken: "tok-1", Attempts: 1}})
	got := out.String()
	if strings.Contains(got, "Started rolling back") || strings.Contains(got, "16ms") || !strings.Contains(got, "Already rolled back") {
		t.Errorf("resumed, finished:\n%s", got)
	}
	// Lighthouse has no client token.
	if strings.Contains(got, "token") {
		t.Errorf("a Lighthouse report speaks of a token:\n%s", got)
	}
	out.Reset()
	writeText(&out, &rollback.Report{Provider: "aliyun", Outcome: &rollback.RollbackOutcome{},
		Result: &rollback.Result{RequestID: "req-1", ClientToken: "tok-1", Attempts: 1}})
	if !strings.Contains(out.String(), "token tok-1, 1 call") {
		t.Errorf("SWAS report:\n%s", out.String())
	}
}

func TestProgressLines(t *testing.T) {
	var out strings.Builder
	p := newProgress(&out, "", time.Now)
	p.event(rollback.Event{Kind: rollback.EventStepStarted, Step: rollback.StepStop, Resource: "lhins-1", Percent: -1})
	p.event(rollback.Event{Kind: rollback.EventState, Step: rollback.StepWaitRollback, Resource: "lhins-1",
		State: "rolling-back", NativeState: "STOPPED", Percent: -1, Elapsed: 12 * time.Second})
	p.event(rollback.Event{Kind: rollback.EventStepFinished, Step: rollback.StepStart, Percent: -1, Elapsed: 2 * time.Minute})
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("lines:\n%s", out.String())
	}
	// Every line has its step in the same column.
	for i, step := range []string{"stop", "wait-rollback", "start"} {
		if col := strings.Index(lines[i], step); col != 9 {
			t.Errorf("%q: step at column %d, want 9", lines[i], col)
		}
	}
	if strings.Contains(out.String(), "(STOPPED)") {
		t.Errorf("rolling-back shown with Lighthouse's STOPPED:\n%s", out.String())
	}
	// With -v the log has the retries: progress does not repeat them.
	out.Reset()
	p.retries = false
	p.event(rollback.Event{Kind: rollback.EventRetry, Step: rollback.StepRollback, Attempt: 1, Err: errors.New("throttled"), Percent: -1})
	if out.Len() != 0 {
		t.Errorf("retry printed with -v: %q", out.String())
	}
}

func TestVerboseLogSaysARetryOnce(t *testing.T) {
	var out strings.Builder
	log := cli.Logger(&out)
	log.Debug("call failed", "op", "ResetDisk", "error", "throttled")
	log.Info("retrying", "op", "ResetDisk", "error", "throttled")
	if n := strings.Count(out.String(), "throttled"); n != 1 {
		t.Errorf("the retry appears %d times:\n%s", n, out.String())
	}
}

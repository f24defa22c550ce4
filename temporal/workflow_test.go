package temporal

import (
	"errors"
	"strings"
	"testing"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/provider"
	"go.temporal.io/sdk/temporal"
)

func steps(rep *rollback.Report) string {
	var b []string
	for _, s := range rep.Steps {
		b = append(b, string(s.Step)+"="+s.Outcome)
	}
	return strings.Join(b, " ")
}

func TestHappyPath(t *testing.T) {
	forEachCloud(t, func(t *testing.T, c *cloud, clk clock.Clock) {
		req := c.target(t, "ticket-1", true)
		env := newEnv(t, c, clk)
		rep, err := run(env, c, req, Options{StopIfRunning: true, SafetySnapshot: true, StartAfter: true})
		if err != nil {
			t.Fatal(err)
		}
		want := "check=done stop=done safety-snapshot=done rollback=done wait-rollback=done start=done"
		if got := steps(rep); got != want {
			t.Errorf("steps = %s\nwant   %s", got, want)
		}
		if n := c.rollbacks(rep.Request); n != 1 {
			t.Errorf("rollbacks = %d, want 1", n)
		}
		for _, a := range Actions {
			if n := c.calls(a); n != 1 {
				t.Errorf("%s calls = %d, want 1", a, n)
			}
		}
		if rep.Result == nil || rep.Outcome == nil || rep.SafetySnapshotID == "" || len(rep.Plan) != 5 {
			t.Errorf("report incomplete: %+v", rep)
		}
		if rep.InstanceAfter == nil || rep.InstanceAfter.State != rollback.InstanceRunning {
			t.Errorf("instance after = %+v, want running", rep.InstanceAfter)
		}
		if rep.Request.ClientToken != provider.TokenFromKey("ticket-1") {
			t.Errorf("token = %q, not derived from the key", rep.Request.ClientToken)
		}
		var p Progress
		v, err := env.QueryWorkflow(QueryProgress)
		if err != nil || v.Get(&p) != nil || p.Report == nil || len(p.Report.Steps) != 6 {
			t.Errorf("progress query = %+v, %v", p, err)
		}
	})
}

func TestDryRun(t *testing.T) {
	forEachCloud(t, func(t *testing.T, c *cloud, clk clock.Clock) {
		req := c.target(t, "dry-1", true)
		env := newEnv(t, c, clk)
		rep, err := run(env, c, req, Options{DryRun: true, StopIfRunning: true, StartAfter: true})
		if err != nil {
			t.Fatal(err)
		}
		// The plan is rollback.Run's own.
		want, err := rollback.Run(t.Context(), c.p, req, rollback.RunOptions{DryRun: true, StopIfRunning: true, StartAfter: true,
			Checkpoints: rollback.NoCheckpoints, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.DryRun || strings.Join(rep.Plan, "\n") != strings.Join(want.Plan, "\n") {
			t.Errorf("plan = %q\nwant %q", rep.Plan, want.Plan)
		}
		for _, a := range Actions {
			if n := c.calls(a); n != 0 {
				t.Errorf("dry run sent %d %s calls", n, a)
			}
		}
	})
}

func TestBadInput(t *testing.T) {
	forEachCloud(t, func(t *testing.T, c *cloud, clk clock.Clock) {
		good := c.target(t, "bad-1", false)
		running := c.target(t, "bad-running", true)
		cases := []struct {
			name string
			req  rollback.Request
			o    Options
			kind error
		}{
			{"no region", func() rollback.Request { r := good; r.Region = ""; return r }(), Options{}, rollback.ErrInvalidArgument},
			{"bad snapshot ID", func() rollback.Request { r := good; r.SnapshotID = "x y"; return r }(), Options{}, rollback.ErrInvalidArgument},
			{"bad token", func() rollback.Request { r := good; r.ClientToken = "has space"; return r }(), Options{}, rollback.ErrInvalidArgument},
			{"running", running, Options{}, rollback.ErrInstanceState},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := c.calls("")
				_, runErr := rollback.Run(t.Context(), c.p, tc.req, rollback.RunOptions{DryRun: true, Checkpoints: rollback.NoCheckpoints, Clock: clk})
				readsByRun := c.calls("") - before
				env := newEnv(t, c, clk)
				_, err := run(env, c, tc.req, tc.o)
				if !errors.Is(KindOf(err), tc.kind) || !errors.Is(runErr, tc.kind) {
					t.Fatalf("err = %v (kind %v), Run's = %v; want %v", err, KindOf(err), runErr, tc.kind)
				}
				var ae *temporal.ApplicationError
				if !errors.As(err, &ae) || !ae.NonRetryable() || ae.Type() != KindName(runErr) {
					t.Errorf("want a non-retryable ApplicationError of type %s, got %#v", KindName(runErr), err)
				}
				d, ok := DetailsOf(err)
				var re *rollback.Error
				if errors.As(runErr, &re) && (!ok || d.Field != re.Field || d.Step != rollback.StepCheck) {
					t.Errorf("details = %+v, want field %q, step check", d, re.Field)
				}
				if rep, ok := ReportOf(err); !ok || rep.Result != nil {
					t.Errorf("report = %+v, %v", rep, ok)
				}
				for _, a := range Actions {
					if n := c.calls(a); n != 0 {
						t.Errorf("sent %d %s calls", n, a)
					}
				}
				if readsByRun == 0 && c.calls("") != before {
					t.Errorf("the workflow called the cloud (%d calls) where Run did not", c.calls("")-before)
				}
			})
		}
	})
}

// TestKeyIsWorkflowID: a workflow whose ID is not its request's operation
// key refuses before anything is read or sent (one key, one workflow).
func TestKeyIsWorkflowID(t *testing.T) {
	forEachCloud(t, func(t *testing.T, c *cloud, clk clock.Clock) {
		req := c.target(t, "key-a", false)
		env := newEnv(t, c, clk)
		env.SetStartWorkflowOptions(StartOptions("", "key-b"))
		env.ExecuteWorkflow(WorkflowName, WorkflowInput{Provider: c.name, Request: req})
		err := env.GetWorkflowError()
		if d, _ := DetailsOf(err); !errors.Is(KindOf(err), rollback.ErrInvalidArgument) || d.Field != "OperationKey" {
			t.Fatalf("err = %v, details %+v", err, d)
		}
		if n := c.calls(""); n != 0 {
			t.Errorf("%d calls sent", n)
		}
	})
}

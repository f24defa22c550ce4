package tencent_test

// Scenarios of issue 11 on Lighthouse: other actors between our calls,
// read lag, replies that prove nothing, resumes after a crash. Each acts
// at an exact point through a test-side RoundTripper (testkit.Hooks).

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/internal/testkit"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// hooked returns a fixture whose client sends through h (h.Base is set
// here).
func hooked(t *testing.T, h *testkit.Hooks, fo fixtureOpts) *fixture {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	h.Base = tr
	fo.opts = append(fo.opts, rollback.WithHTTPTransport(h))
	return newFixture(t, fo)
}

// other is another actor: a client of the same server with its own
// transport, allowed to force instances off.
func (f *fixture) other() *tencent.Client {
	f.t.Helper()
	tr := &http.Transport{}
	f.t.Cleanup(tr.CloseIdleConnections)
	c, err := tencent.New(tencent.Config{Region: "ap-guangzhou", Endpoint: f.srv.URL, SecretID: testID, SecretKey: testKey, Token: testToken, AllowForcedStop: true},
		rollback.WithClock(f.clk), rollback.WithHTTPTransport(tr))
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { c.Close() })
	return c
}

// Our apply of snapshot A fails with a 5xx; before the state read, someone
// else applies snapshot B. That is not our success: ErrOutcomeUnknown, and
// nothing is resent.
func TestForeignRollbackIsNotOurs(t *testing.T) {
	h := &testkit.Hooks{}
	f := hooked(t, h, fixtureOpts{})
	in, a := f.stopped()
	b := f.snapshot(tencenttest.Snapshot{InstanceID: in.ID})
	other := f.other()
	f.srv.AddFault(tencenttest.Fault{Action: "ApplyInstanceSnapshot", Code: "InternalError", HTTPStatus: 500})
	h.After = func(action string, n int, _ *http.Request, resp *http.Response, err error) (*http.Response, error) {
		if action == "ApplyInstanceSnapshot" && n == 1 {
			if _, oerr := other.Rollback(context.Background(), req(in, b)); oerr != nil {
				t.Errorf("other actor: %v", oerr)
			}
		}
		return resp, err
	}
	res, err := f.c.Rollback(context.Background(), req(in, a))
	f.note(err)
	if !errors.Is(err, rollback.ErrOutcomeUnknown) {
		t.Fatalf("got %+v, %v; want ErrOutcomeUnknown", res, err)
	}
	if !strings.Contains(err.Error(), "another rollback") {
		t.Errorf("error does not say what it saw: %v", err)
	}
	if n := f.srv.RollbacksOf(in.ID); n != 1 {
		t.Errorf("%d rollbacks applied, want only the other actor's", n)
	}
}

// The apply is throttled; before the retry, someone starts the instance.
// The retry must not let Lighthouse force it off: the instance is checked
// before every attempt.
func TestRunningCheckedBeforeEveryAttempt(t *testing.T) {
	h := &testkit.Hooks{}
	f := hooked(t, h, fixtureOpts{})
	in, sn := f.stopped()
	f.srv.AddFault(tencenttest.Fault{Action: "ApplyInstanceSnapshot", Code: "RequestLimitExceeded"})
	h.After = func(action string, n int, _ *http.Request, resp *http.Response, err error) (*http.Response, error) {
		if action == "ApplyInstanceSnapshot" && n == 1 {
			if serr := f.srv.SetInstanceState(in.ID, tencenttest.StateRunning); serr != nil {
				t.Error(serr)
			}
		}
		return resp, err
	}
	_, err := f.c.Rollback(context.Background(), req(in, sn))
	f.note(err)
	if !errors.Is(err, rollback.ErrInstanceState) {
		t.Fatalf("err = %v, want ErrInstanceState", err)
	}
	got, _ := f.srv.Instance(in.ID)
	if n := f.srv.RollbacksOf(in.ID); n != 0 || got.State != tencenttest.StateRunning {
		t.Errorf("%d rollbacks applied, instance %s: a forced stop that was not allowed", n, got.State)
	}
}

// lag makes reads show what they showed before a mutating action was sent
// for d after it (on the fixture's clock): a cloud whose reads lag its
// writes.
func lag(f *fixture, h *testkit.Hooks, mutating string, d time.Duration) {
	var until atomic.Int64
	stale := map[string]string{}
	h.Before = func(action string, _ int, r *http.Request) (*http.Response, error) {
		if action == mutating {
			until.Store(f.clk.Now().Add(d).UnixNano())
			return nil, nil
		}
		if body, ok := stale[action]; ok && f.clk.Now().UnixNano() < until.Load() {
			return testkit.Reply(r, 200, body), nil
		}
		return nil, nil
	}
	h.After = func(action string, _ int, _ *http.Request, resp *http.Response, err error) (*http.Response, error) {
		if err == nil && strings.HasPrefix(action, "Describe") && f.clk.Now().UnixNano() >= until.Load() {
			stale[action] = testkit.ReadBody(resp)
		}
		return resp, err
	}
}

// The apply lands but its reply is lost, and for 5s the reads do not show
// it. Reading at once would see nothing and resend; the engine reads again
// once the read grace has passed, and adopts.
func TestReadLagLostReplyIsNotResent(t *testing.T) {
	h := &testkit.Hooks{}
	f := hooked(t, h, fixtureOpts{emu: []tencenttest.Option{tencenttest.WithDurations(tencenttest.Durations{Rollback: time.Second})}})
	in, sn := f.stopped()
	lag(f, h, "ApplyInstanceSnapshot", 5*time.Second)
	f.srv.AddFault(tencenttest.Fault{Action: "ApplyInstanceSnapshot", DropResponse: true})
	res, err := f.c.Rollback(context.Background(), req(in, sn))
	if f.note(err) != nil {
		t.Fatal(err)
	}
	if n := f.srv.RollbacksOf(in.ID); n != 1 || !res.Adopted || res.RequestID == "" {
		t.Errorf("%d rollbacks applied; result %+v", n, res)
	}
}

// With reads lagging longer than the grace, the resend is refused as busy
// by our own rollback: the error stays ambiguous, and the checkpoint never
// says "checked" (definitely not applied).
func TestBusyAfterLostReplyStaysAmbiguous(t *testing.T) {
	h := &testkit.Hooks{}
	f := hooked(t, h, fixtureOpts{opts: []rollback.Option{rollback.WithMaxAttempts(3)}})
	in, sn := f.stopped()
	lag(f, h, "ApplyInstanceSnapshot", time.Hour)
	f.srv.AddFault(tencenttest.Fault{Action: "ApplyInstanceSnapshot", DropResponse: true})
	cps := &rollback.MemoryCheckpoints{}
	r := req(in, sn)
	r.OperationKey = "busy-after-lost-reply"
	_, err := rollback.Run(context.Background(), f.c, r, rollback.RunOptions{Clock: f.clk, Checkpoints: cps})
	f.note(err)
	if err == nil || !rollback.IsAmbiguous(err) {
		t.Fatalf("err = %v, want an ambiguous error", err)
	}
	cp, _ := cps.Load(context.Background(), r.OperationKey)
	if cp == nil || cp.Phase != rollback.PhaseRollbackSending {
		t.Errorf("checkpoint = %+v, want phase %s", cp, rollback.PhaseRollbackSending)
	}
	if n := f.srv.RollbacksOf(in.ID); n != 1 {
		t.Errorf("%d rollbacks applied", n)
	}
}

// An empty ("{}") 200 reply to the apply proves nothing: state decides,
// and the Result carries the request that did land.
func TestEmptyReplyToApplyIsAmbiguous(t *testing.T) {
	h := &testkit.Hooks{}
	f := hooked(t, h, fixtureOpts{})
	in, sn := f.stopped()
	h.After = func(action string, n int, r *http.Request, resp *http.Response, err error) (*http.Response, error) {
		if action == "ApplyInstanceSnapshot" && n == 1 && err == nil {
			testkit.ReadBody(resp)
			return testkit.Reply(r, 200, "{}"), nil
		}
		return resp, err
	}
	res, err := f.c.Rollback(context.Background(), req(in, sn))
	if f.note(err) != nil {
		t.Fatal(err)
	}
	if res.RequestID == "" || !res.Adopted || f.srv.RollbacksOf(in.ID) != 1 {
		t.Errorf("result %+v, %d rollbacks", res, f.srv.RollbacksOf(in.ID))
	}
}

// An empty 200 reply to a read is a failure of the cloud, not "not found".
func TestEmptyReplyToReadIsInternal(t *testing.T) {
	h := &testkit.Hooks{Before: func(_ string, _ int, r *http.Request) (*http.Response, error) {
		return testkit.Reply(r, 200, `{"Response":{}}`), nil
	}}
	f := hooked(t, h, fixtureOpts{opts: []rollback.Option{rollback.WithMaxAttempts(1)}})
	for _, read := range []func() error{
		func() error { _, err := f.c.Instance(context.Background(), "", "lhins-abcd1234"); return err },
		func() error { _, err := f.c.Snapshot(context.Background(), "", "lhsnap-abcd1234"); return err },
	} {
		err := read()
		f.note(err)
		if !errors.Is(err, rollback.ErrInternal) || errors.Is(err, rollback.ErrNotFound) {
			t.Errorf("err = %v, want ErrInternal", err)
		}
	}
}

// A Run crashes once the apply is on the wire (checkpoint rollback-sending);
// the rollback lands, and someone starts the instance, or snapshots it. The
// resumed Run (same key, same store, StopIfRunning) adopts the landed
// rollback from the recorded baseline: it neither stops the instance nor
// rolls back again.
func TestResumeAfterCrashWhileOthersAct(t *testing.T) {
	for _, tc := range []struct {
		name  string
		act   func(f *fixture, c *tencent.Client, in tencenttest.Instance) error
		state string
	}{
		{"start", func(f *fixture, c *tencent.Client, in tencenttest.Instance) error {
			return c.StartInstance(context.Background(), "", in.ID)
		}, tencenttest.StateRunning},
		{"snapshot", func(f *fixture, c *tencent.Client, in tencenttest.Instance) error {
			_, err := c.CreateSnapshot(context.Background(), "", in.ID, "", "someone-elses")
			return err
		}, tencenttest.StateStopped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &testkit.Hooks{}
			f := hooked(t, h, fixtureOpts{emu: []tencenttest.Option{tencenttest.WithDurations(tencenttest.Durations{Rollback: time.Second})}})
			in, sn := f.stopped()
			ctx, crash := context.WithCancel(context.Background())
			defer crash()
			h.After = func(action string, n int, _ *http.Request, resp *http.Response, err error) (*http.Response, error) {
				if action == "ApplyInstanceSnapshot" && n == 1 {
					crash()
					if resp != nil {
						testkit.ReadBody(resp)
					}
					return nil, context.Canceled
				}
				return resp, err
			}
			cps := &rollback.MemoryCheckpoints{}
			r := req(in, sn)
			r.OperationKey = "crash-then-" + tc.name
			opts := rollback.RunOptions{Clock: f.clk, Checkpoints: cps, StopIfRunning: true}
			if _, err := rollback.Run(ctx, f.c, r, opts); err == nil {
				t.Fatal("the crashed Run succeeded")
			}
			if cp, _ := cps.Load(context.Background(), r.OperationKey); cp == nil || cp.Phase != rollback.PhaseRollbackSending {
				t.Fatalf("checkpoint after the crash = %+v", cp)
			}
			f.clk.Advance(time.Minute) // the rollback ends
			if err := tc.act(f, f.other(), in); err != nil {
				t.Fatal(err)
			}
			f.clk.Advance(5 * time.Minute) // and the other actor's operation too
			rep, err := rollback.Run(context.Background(), f.c, r, opts)
			if f.note(err) != nil {
				t.Fatal(err)
			}
			got, _ := f.srv.Instance(in.ID)
			if n := f.srv.RollbacksOf(in.ID); n != 1 || got.State != tc.state {
				t.Errorf("%d rollbacks applied, instance %s; want 1 and %s", n, got.State, tc.state)
			}
			if f.srv.Journal().Count("StopInstances") != 0 {
				t.Error("the resumed Run stopped the instance")
			}
			if rep.Result == nil || !rep.Result.Adopted {
				t.Errorf("result = %+v", rep.Result)
			}
		})
	}
}

// Report texts never claim a client token on Lighthouse, which sends none.
func TestReportClaimsNoTokenOnLighthouse(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	in, sn := f.stopped()
	rep, err := rollback.Run(context.Background(), f.c, req(in, sn), rollback.RunOptions{Clock: f.clk, DryRun: true})
	if f.note(err) != nil {
		t.Fatal(err)
	}
	for _, line := range rep.Plan {
		if strings.Contains(strings.ToLower(line), "token") {
			t.Errorf("plan claims a token: %q", line)
		}
	}
}

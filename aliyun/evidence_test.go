package aliyun_test

// Scenarios of issue 11 on SWAS: resumes after a crash while others act,
// a cloud that no longer honours an old token, another actor's reset,
// replies that prove nothing. Each acts at an exact point through a
// test-side RoundTripper (testkit.Hooks).

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/internal/testkit"
)

// second is another access key of the same account: the emulator keeps
// client tokens per key, so a client using it is a cloud that has
// forgotten the first key's tokens.
var second = aliyuntest.Credential{AccessKeyID: "LTAI5tSecondAccessKeyID", AccessKeySecret: "second-access-key-secret-0123456789"}

func evidenceEnv(t *testing.T) *env {
	t.Helper()
	return newEnv(t, []aliyuntest.Option{
		aliyuntest.WithCredential(aliyuntest.Credential{AccessKeyID: aliyuntest.DefaultAccessKeyID, AccessKeySecret: aliyuntest.DefaultAccessKeySecret}),
		aliyuntest.WithCredential(second),
		aliyuntest.WithDurations(aliyuntest.Durations{Rollback: 5 * time.Second}),
	})
}

// hooked returns a client of e's server that sends through h.
func (e *env) hooked(t *testing.T, h *testkit.Hooks, cfg aliyun.Config, opts ...rollback.Option) *aliyun.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	h.Base = tr
	return e.client(t, cfg, append(opts, rollback.WithHTTPTransport(h))...)
}

// crashAfterReset makes the client's first ResetDisk reach the server and
// then "crashes" the Run: its context is cancelled and no reply arrives.
func crashAfterReset(h *testkit.Hooks, crash context.CancelFunc) {
	h.After = func(action string, n int, _ *http.Request, resp *http.Response, err error) (*http.Response, error) {
		if action == aliyuntest.ActionResetDisk && n == 1 {
			crash()
			if resp != nil {
				testkit.ReadBody(resp)
			}
			return nil, context.Canceled
		}
		return resp, err
	}
}

// crashedRun runs once through c and crashes after the reset was sent,
// leaving the checkpoint at rollback-sending; then the reset finishes.
func (e *env) crashedRun(t *testing.T, c *aliyun.Client, h *testkit.Hooks, r rollback.Request, opts rollback.RunOptions) {
	t.Helper()
	ctx, crash := context.WithCancel(e.ctx)
	defer crash()
	crashAfterReset(h, crash)
	if _, err := rollback.Run(ctx, c, r, opts); err == nil {
		t.Fatal("the crashed Run succeeded")
	}
	if cp, _ := opts.Checkpoints.Load(e.ctx, r.OperationKey); cp == nil || cp.Phase != rollback.PhaseRollbackSending {
		t.Fatalf("checkpoint after the crash = %+v", cp)
	}
	e.clk.Advance(time.Minute) // the reset ends
	if got := e.srv.RollbacksOf(e.in.SystemDiskID); got != 1 {
		t.Fatalf("%d resets after the crash", got)
	}
}

// A Run crashes once the reset is on the wire; the reset lands and
// someone starts the server. The resumed Run with StopIfRunning adopts the
// reset from the snapshot's RollbackTime: it does not stop the server.
func TestResumeAfterCrashWhileOthersStartIt(t *testing.T) {
	e := evidenceEnv(t)
	h := &testkit.Hooks{}
	c := e.hooked(t, h, aliyun.Config{})
	r := e.request()
	r.OperationKey = "crash-then-start"
	opts := rollback.RunOptions{Clock: e.clk, Checkpoints: &rollback.MemoryCheckpoints{}, StopIfRunning: true}
	e.crashedRun(t, c, h, r, opts)
	if err := e.srv.SetInstanceStatus(e.in.ID, aliyuntest.StatusRunning); err != nil { // another actor starts it
		t.Fatal(err)
	}
	rep, err := rollback.Run(e.ctx, c, r, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.srv.RollbacksOf(e.in.SystemDiskID); got != 1 {
		t.Errorf("%d resets applied", got)
	}
	if len(e.entries(aliyuntest.ActionStopInstance)) != 0 {
		t.Error("the resumed Run stopped the server someone had started")
	}
	if rep.Result == nil || !rep.Result.Adopted {
		t.Errorf("result = %+v", rep.Result)
	}
}

// The resumed Run's token is no longer honoured by the cloud (here: the
// resume signs with another key, whose tokens the cloud never saw). The
// snapshot's RollbackTime already proves the first reset landed: nothing
// is resent.
func TestResumeWhenTheCloudForgotTheToken(t *testing.T) {
	e := evidenceEnv(t)
	h := &testkit.Hooks{}
	c := e.hooked(t, h, aliyun.Config{})
	r := e.request()
	r.OperationKey = "forgotten-token"
	opts := rollback.RunOptions{Clock: e.clk, Checkpoints: &rollback.MemoryCheckpoints{}}
	e.crashedRun(t, c, h, r, opts)
	forgetful := e.client(t, aliyun.Config{AccessKeyID: second.AccessKeyID, AccessKeySecret: second.AccessKeySecret})
	rep, err := rollback.Run(e.ctx, forgetful, r, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.srv.RollbacksOf(e.in.SystemDiskID); got != 1 {
		t.Errorf("%d resets applied", got)
	}
	if rep.Result == nil || !rep.Result.Adopted {
		t.Errorf("result = %+v", rep.Result)
	}
}

// Our reset fails with a 5xx; before anything else, another actor resets
// the disk to another snapshot. That reset is not ours: ErrOutcomeUnknown,
// never success.
func TestForeignResetIsNotOurs(t *testing.T) {
	e := evidenceEnv(t)
	other := aliyuntest.Must(e.srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: e.in.SystemDiskID}))
	h := &testkit.Hooks{}
	c := e.hooked(t, h, aliyun.Config{})
	actor := e.client(t, aliyun.Config{AccessKeyID: second.AccessKeyID, AccessKeySecret: second.AccessKeySecret})
	e.srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionResetDisk, HTTPStatus: 500, Code: "InternalError"})
	h.After = func(action string, n int, _ *http.Request, resp *http.Response, err error) (*http.Response, error) {
		if action == aliyuntest.ActionResetDisk && n == 1 {
			rq := e.request()
			rq.SnapshotID = other.ID
			if _, aerr := actor.Rollback(e.ctx, rq); aerr != nil {
				t.Errorf("other actor: %v", aerr)
			}
		}
		return resp, err
	}
	res, err := c.Rollback(e.ctx, e.request())
	if !errors.Is(err, rollback.ErrOutcomeUnknown) {
		t.Fatalf("got %+v, %v; want ErrOutcomeUnknown", res, err)
	}
	if got := e.srv.RollbacksOf(e.in.SystemDiskID); got != 1 {
		t.Errorf("%d resets applied, want only the other actor's", got)
	}
}

// An empty ("{}") 200 reply to ResetDisk proves nothing: the call is not
// "accepted" with no request ID; the token's resend gets the real answer.
func TestEmptyReplyToResetIsAmbiguous(t *testing.T) {
	e := evidenceEnv(t)
	h := &testkit.Hooks{}
	c := e.hooked(t, h, aliyun.Config{})
	h.After = func(action string, n int, r *http.Request, resp *http.Response, err error) (*http.Response, error) {
		if action == aliyuntest.ActionResetDisk && n == 1 && err == nil {
			testkit.ReadBody(resp)
			return testkit.Reply(r, 200, "{}"), nil
		}
		return resp, err
	}
	res, err := c.Rollback(e.ctx, e.request())
	if err != nil {
		t.Fatal(err)
	}
	resets := e.entries(aliyuntest.ActionResetDisk)
	if res.RequestID == "" || res.RequestID != resets[0].RequestID || e.srv.RollbacksOf(e.in.SystemDiskID) != 1 {
		t.Errorf("result %+v, first reset %s, %d applied", res, resets[0].RequestID, e.srv.RollbacksOf(e.in.SystemDiskID))
	}
}

// Reads: an empty reply is ErrInternal, not "not found"; a reply that
// lists another instance than the one asked for is not that instance.
func TestReadsCheckTheReply(t *testing.T) {
	e := evidenceEnv(t)
	h := &testkit.Hooks{}
	c := e.hooked(t, h, aliyun.Config{}, rollback.WithMaxAttempts(1))
	h.Before = func(action string, n int, r *http.Request) (*http.Response, error) {
		if n == 1 {
			return testkit.Reply(r, 200, "{}"), nil
		}
		return nil, nil
	}
	h.After = func(action string, n int, _ *http.Request, resp *http.Response, err error) (*http.Response, error) {
		if action == aliyuntest.ActionListInstances && err == nil {
			body := strings.ReplaceAll(testkit.ReadBody(resp), e.in.ID, "someone-elses-instance")
			return testkit.Reply(resp.Request, 200, body), nil
		}
		return resp, err
	}
	if _, err := c.Instance(e.ctx, e.srv.Region(), e.in.ID); !errors.Is(err, rollback.ErrInternal) || errors.Is(err, rollback.ErrNotFound) {
		t.Errorf("empty reply: err = %v, want ErrInternal", err)
	}
	if _, err := c.Snapshot(e.ctx, e.srv.Region(), e.snap.ID); !errors.Is(err, rollback.ErrInternal) {
		t.Errorf("empty reply: err = %v, want ErrInternal", err)
	}
	in, err := c.Instance(e.ctx, e.srv.Region(), e.in.ID)
	if err == nil {
		t.Errorf("a reply listing %s was taken for %s", in.ID, e.in.ID)
	}
}

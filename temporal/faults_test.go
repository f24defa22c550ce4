package temporal

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
)

// TestRetryAtEveryStep fails the first attempt of every activity, before
// it runs and after it has run (its completion lost, as when the worker
// dies just after the call), and on the wire (the rollback's reply lost).
// Every step is retried by Temporal or the library, and nothing is done
// twice.
func TestRetryAtEveryStep(t *testing.T) {
	for _, mode := range []string{"before", "after", "reply-lost"} {
		t.Run(mode, func(t *testing.T) {
			forEachCloud(t, func(t *testing.T, c *cloud, clk clock.Clock) {
				req := c.target(t, "retry-"+mode, true)
				var ics []interceptor.WorkerInterceptor
				f := &faults{after: mode == "after"}
				if mode == "reply-lost" {
					c.loseRollbackReply()
				} else {
					ics = append(ics, f)
				}
				env := newEnv(t, c, clk, ics...)
				rep, err := run(env, c, req, Options{StopIfRunning: true, SafetySnapshot: true, StartAfter: true})
				if err != nil {
					t.Fatal(err)
				}
				if n := c.rollbacks(rep.Request); n != 1 {
					t.Errorf("rollbacks = %d, want 1", n)
				}
				for _, a := range Actions {
					if n := c.calls(a); n != 1 && !(a == ActionRollback && mode == "reply-lost") {
						t.Errorf("%s calls = %d, want 1", a, n)
					}
				}
				if mode != "reply-lost" && len(f.failed) < 8 {
					t.Errorf("only %d activities failed once: %v", len(f.failed), f.failed)
				}
				if got := steps(rep); got != "check=done stop=done safety-snapshot=done rollback=done wait-rollback=done start=done" {
					t.Errorf("steps = %s", got)
				}
				if mode == "after" && rep.Result.RequestID == "" && c.name == rollback.ProviderTencent {
					// The retry resumed from the first attempt's heartbeat
					// (its Result) or adopted its rollback: either way it
					// knows the rollback's request.
					t.Errorf("the retried rollback does not name the first attempt's request: %+v", rep.Result)
				}
			})
		})
	}
}

type killKey struct{}

// killer ends the first attempt of an activity after some heartbeats, as
// a worker killed mid-activity would, and records every heartbeat.
type killer struct {
	faults
	name  string
	after int
	mu    sync.Mutex
	beats map[int32][]WaitProgress
}

func newKiller(name string, after int) *killer {
	k := &killer{name: name, after: after, beats: map[int32][]WaitProgress{}}
	k.faults.names = map[string]bool{}
	k.faults.onBeat = func(ctx context.Context, n string, attempt int32, details []any) error {
		if !strings.HasSuffix(n, "."+k.name) {
			return nil
		}
		p, _ := details[0].(WaitProgress)
		k.mu.Lock()
		k.beats[attempt] = append(k.beats[attempt], p)
		n2 := len(k.beats[attempt])
		k.mu.Unlock()
		if attempt == 1 && n2 == k.after {
			if kill, ok := ctx.Value(killKey{}).(context.CancelFunc); ok {
				kill()
			}
		}
		return nil
	}
	return k
}

func (k *killer) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &killActivity{k: k}
	i.Next = next
	return i
}

type killActivity struct {
	interceptor.ActivityInboundInterceptorBase
	k *killer
}

func (i *killActivity) Init(out interceptor.ActivityOutboundInterceptor) error {
	return i.Next.Init(&beatSpy{ActivityOutboundInterceptorBase: interceptor.ActivityOutboundInterceptorBase{Next: out}, f: &i.k.faults})
}

func (i *killActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	if !strings.HasSuffix(activityName(ctx), "."+i.k.name) || activityAttempt(ctx) != 1 {
		return i.Next.ExecuteActivity(ctx, in)
	}
	kctx, kill := context.WithCancel(ctx)
	defer kill()
	res, err := i.Next.ExecuteActivity(context.WithValue(kctx, killKey{}, kill), in)
	if kctx.Err() != nil && ctx.Err() == nil {
		return nil, errWorkerLost // the worker died mid-wait
	}
	return res, err
}

// TestWorkerRestartDuringWait kills the worker in the middle of the
// rollback wait; the next attempt resumes from the last heartbeat (its
// poll count and deadline), and the rollback finishes exactly once.
func TestWorkerRestartDuringWait(t *testing.T) {
	forEachCloud(t, func(t *testing.T, c *cloud, clk clock.Clock) {
		req := c.target(t, "restart-1", false)
		k := newKiller("WaitRollback", 3)
		env := newEnv(t, c, clk, k)
		rep, err := run(env, c, req, Options{StartAfter: true})
		if err != nil {
			t.Fatal(err)
		}
		if n := c.rollbacks(rep.Request); n != 1 || c.calls(ActionRollback) != 1 {
			t.Errorf("rollbacks = %d, calls %d; want 1", n, c.calls(ActionRollback))
		}
		first, second := k.beats[1], k.beats[2]
		if len(first) < 3 || len(second) == 0 {
			t.Fatalf("heartbeats: first attempt %d, second %d", len(first), len(second))
		}
		last, resumed := first[len(first)-1], second[0]
		if !resumed.Started.Equal(first[0].Started) || resumed.Polls != last.Polls {
			t.Errorf("second attempt began from %+v, want the first's last heartbeat %+v", resumed, last)
		}
		if got := steps(rep); got != "check=done rollback=done wait-rollback=done start=done" {
			t.Errorf("steps = %s", got)
		}
	})
}

// TestTimeout: a rollback that outlasts RollbackTimeout fails the workflow
// with ErrTimeout, and the report says the rollback was sent.
func TestTimeout(t *testing.T) {
	for _, cl := range clouds {
		t.Run(cl.name, func(t *testing.T) {
			clk := clock.NewAutoVirtual(clock.Epoch)
			c := cl.new(t, cloudOpts{clk: clk, slowRollback: true})
			req := c.target(t, "slow-1", false)
			env := newEnv(t, c, clk)
			_, err := run(env, c, req, Options{RollbackTimeout: 10 * time.Minute, StartAfter: true})
			if !errors.Is(KindOf(err), rollback.ErrTimeout) {
				t.Fatalf("err = %v, want a timeout", err)
			}
			rep, ok := ReportOf(err)
			if !ok || rep.Result == nil || rep.Result.RequestID == "" && c.name == rollback.ProviderTencent {
				t.Fatalf("report = %+v", rep)
			}
			if got := steps(rep); got != "check=done rollback=done wait-rollback=failed" {
				t.Errorf("steps = %s", got)
			}
			if c.calls(ActionStart) != 0 || c.calls(ActionRollback) != 1 {
				t.Errorf("calls: start %d, rollback %d", c.calls(ActionStart), c.calls(ActionRollback))
			}
		})
	}
}

// TestCancelMidWait signals cancel while the rollback wait runs: the wait
// is abandoned, nothing more is sent (no start), and the report says the
// rollback was sent.
func TestCancelMidWait(t *testing.T) {
	forEachCloud(t, func(t *testing.T, c *cloud, clk clock.Clock) {
		req := c.target(t, "cancel-1", false)
		f := &faults{names: map[string]bool{}}
		env := newEnv(t, c, clk, f)
		var once sync.Once
		var progress Progress
		// The test environment does not cancel a cancelled activity's
		// context (a server would, through the heartbeat); it tells this
		// listener instead.
		released := make(chan struct{})
		env.SetOnActivityCanceledListener(func(*activity.Info) { close(released) })
		f.onBeat = func(ctx context.Context, name string, attempt int32, details []any) error {
			if !strings.HasSuffix(name, ".WaitRollback") {
				return nil
			}
			once.Do(func() {
				if v, err := env.QueryWorkflow(QueryProgress); err == nil {
					_ = v.Get(&progress)
				}
				env.SignalWorkflow(SignalCancel, "operator changed their mind")
				select { // hold the wait until the workflow cancels it
				case <-ctx.Done():
				case <-released:
				case <-time.After(10 * time.Second):
				}
			})
			return nil
		}
		_, err := run(env, c, req, Options{StartAfter: true})
		if err == nil || KindOf(err) != nil {
			t.Fatalf("err = %v, want a cancellation", err)
		}
		d, _ := DetailsOf(err)
		rep, ok := ReportOf(err)
		if d.Kind != TypeCancelled || !ok || rep.Result == nil {
			t.Fatalf("details %+v, report %+v", d, rep)
		}
		if !strings.Contains(err.Error(), "already sent") || !strings.Contains(err.Error(), "operator changed") {
			t.Errorf("err = %v; want it to say the rollback was sent, and why it was cancelled", err)
		}
		if got := steps(rep); got != "check=done rollback=done wait-rollback=failed" {
			t.Errorf("steps = %s", got)
		}
		if c.calls(ActionStart) != 0 || c.rollbacks(rep.Request) != 1 {
			t.Errorf("start calls %d, rollbacks %d", c.calls(ActionStart), c.rollbacks(rep.Request))
		}
		if progress.Step != rollback.StepWaitRollback || progress.Report == nil || progress.Report.Result == nil {
			t.Errorf("progress during the wait = %+v", progress)
		}
	})
}

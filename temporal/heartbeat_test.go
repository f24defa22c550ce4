package temporal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/provider"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// silencer makes the first attempt of the Rollback activity go silent:
// after `keep` heartbeats none reaches Temporal any more (a worker cut off
// from the server, or one that died), and, with kill set, the attempt ends
// at that moment as a dying worker's would (its context cancelled, the
// attempt lost); without it the attempt runs to its end (the rollback sent)
// and then times out as the server would time it out: a heartbeat timeout.
// It records the checkpoints each attempt heartbeats.
type silencer struct {
	interceptor.WorkerInterceptorBase
	keep int
	kill bool

	mu    sync.Mutex
	beats map[int32][]*rollback.Checkpoint
}

func (s *silencer) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &silentActivity{s: s}
	i.Next = next
	return i
}

type silentActivity struct {
	interceptor.ActivityInboundInterceptorBase
	s *silencer
}

type silentKey struct{}

func (i *silentActivity) Init(out interceptor.ActivityOutboundInterceptor) error {
	return i.Next.Init(&silentOut{ActivityOutboundInterceptorBase: interceptor.ActivityOutboundInterceptorBase{Next: out}, s: i.s})
}

func (i *silentActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	if !strings.HasSuffix(activityName(ctx), ".Rollback") || activityAttempt(ctx) != 1 {
		return i.Next.ExecuteActivity(ctx, in)
	}
	kctx, kill := context.WithCancel(ctx)
	defer kill()
	res, err := i.Next.ExecuteActivity(context.WithValue(kctx, silentKey{}, kill), in)
	if kctx.Err() != nil && ctx.Err() == nil {
		return nil, errWorkerLost
	}
	if err != nil {
		return res, err
	}
	return nil, temporal.NewHeartbeatTimeoutError()
}

type silentOut struct {
	interceptor.ActivityOutboundInterceptorBase
	s *silencer
}

func (o *silentOut) RecordHeartbeat(ctx context.Context, details ...any) {
	if !strings.HasSuffix(activityName(ctx), ".Rollback") {
		o.Next.RecordHeartbeat(ctx, details...)
		return
	}
	attempt := activityAttempt(ctx)
	var cp *rollback.Checkpoint
	if len(details) == 1 {
		if b, ok := details[0].(RollbackBeat); ok {
			cp = b.Checkpoint
		}
	}
	o.s.mu.Lock()
	o.s.beats[attempt] = append(o.s.beats[attempt], cp)
	n := len(o.s.beats[attempt])
	o.s.mu.Unlock()
	if attempt != 1 || n <= o.s.keep {
		o.Next.RecordHeartbeat(ctx, details...)
	}
	if attempt == 1 && n == o.s.keep && o.s.kill {
		if kill, ok := ctx.Value(silentKey{}).(context.CancelFunc); ok {
			kill()
		}
	}
}

// TestRollbackHeartbeatLost: the first Rollback attempt's heartbeats stop
// reaching Temporal after 0, 1, 2 or 3 of them (the checkpoint at checked,
// rollback-sending, rollback-sent), and the attempt either dies right there
// or runs on, sends the rollback, and times out on its heartbeat. The retry
// starts from the last checkpoint Temporal got, at rollback-sending at
// least, so the library's witness decides: the rollback is applied once,
// never twice, and the retry resumes rather than starting over.
func TestRollbackHeartbeatLost(t *testing.T) {
	for _, kill := range []bool{false, true} {
		for keep := 0; keep <= 3; keep++ {
			if kill && keep == 0 {
				continue // dies before its first heartbeat: TestRetryAtEveryStep/before
			}
			name := fmt.Sprintf("timeout-after-%d-beats", keep)
			if kill {
				name = fmt.Sprintf("dies-after-%d-beats", keep)
			}
			t.Run(name, func(t *testing.T) {
				forEachCloud(t, func(t *testing.T, c *cloud, clk clock.Clock) {
					req := c.target(t, "beat-"+name, false)
					s := &silencer{keep: keep, kill: kill, beats: map[int32][]*rollback.Checkpoint{}}
					env := newEnv(t, c, clk, s)
					rep, err := run(env, c, req, Options{StartAfter: true})
					if err != nil {
						t.Fatal(err)
					}
					if n := c.rollbacks(rep.Request); n != 1 {
						t.Errorf("rollbacks = %d, want 1", n)
					}
					if got := c.calls(ActionRollback); got != 1 {
						t.Errorf("rollback calls = %d, want 1", got)
					}
					second := s.beats[2]
					if len(second) == 0 || second[0] == nil {
						t.Fatalf("the retry heartbeated nothing: %v", second)
					}
					if provider.PhaseBefore(second[0].Phase, rollback.PhaseRollbackSending) || second[0].Before == nil {
						t.Errorf("the retry resumed from %+v, want rollback-sending or later with the baseline", second[0])
					}
					if got := steps(rep); got != "check=done rollback=done wait-rollback=done start=done" {
						t.Errorf("steps = %s", got)
					}
				})
			})
		}
	}
}

// TestKeepAlive: an activity blocked in one long call (here: until it has
// seen its own heartbeats) still heartbeats, every quarter of its
// heartbeat timeout, so Temporal does not take its worker for dead.
func TestKeepAlive(t *testing.T) {
	beats := make(chan struct{}, 16)
	f := &faults{names: map[string]bool{}, onBeat: func(_ context.Context, name string, _ int32, details []any) error {
		if name == "blocked" && len(details) == 1 && details[0] == "alive" {
			select {
			case beats <- struct{}{}:
			default:
			}
		}
		return nil
	}}
	var s testsuite.WorkflowTestSuite
	s.SetLogger(quietLogger())
	env := s.NewTestWorkflowEnvironment()
	env.SetTestTimeout(time.Minute)
	env.SetWorkerOptions(testWorkerOptions(f))
	blocked := func(ctx context.Context) (int, error) {
		defer keepAlive(ctx, func() any { return "alive" })()
		for n := 0; ; {
			select {
			case <-beats:
				if n++; n == 3 {
					return n, nil
				}
			case <-time.After(30 * time.Second): // a failure, not a speed limit
				return n, errors.New("no heartbeat while blocked")
			}
		}
	}
	env.RegisterActivityWithOptions(blocked, activity.RegisterOptions{Name: "blocked"})
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context) (int, error) {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute, HeartbeatTimeout: 2 * time.Second})
		var n int
		err := workflow.ExecuteActivity(ctx, "blocked").Get(ctx, &n)
		return n, err
	}, workflow.RegisterOptions{Name: "keepalive"})
	env.ExecuteWorkflow("keepalive")
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
}

// noWitness is a provider that cannot tell from the cloud whether a
// rollback landed (it declares no Witness).
type noWitness struct{ rollback.Provider }

func (n noWitness) Capabilities() provider.Capabilities {
	caps := n.Provider.Capabilities()
	caps.Witness = nil
	return caps
}

// TestRetryWithoutWitness: on a provider that cannot tell, a retried
// Rollback attempt sends nothing and says the outcome is unknown, rather
// than risk a second rollback.
func TestRetryWithoutWitness(t *testing.T) {
	forEachCloud(t, func(t *testing.T, c *cloud, clk clock.Clock) {
		req := c.target(t, "no-witness-1", false)
		var s testsuite.WorkflowTestSuite
		s.SetLogger(quietLogger())
		env := s.NewTestWorkflowEnvironment()
		env.SetTestTimeout(2 * time.Minute)
		env.SetWorkerOptions(testWorkerOptions(&faults{names: map[string]bool{ActivityName(c.name, "Rollback"): true}}))
		Register(env, NewActivities(noWitness{c.p}, ActivityOptions{Wait: rollback.WaitOptions{Clock: clk}}))
		_, err := run(env, c, req, Options{})
		if !errors.Is(KindOf(err), rollback.ErrOutcomeUnknown) {
			t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
		}
		t.Log(errText(err))
		if n := c.calls(ActionRollback); n != 0 {
			t.Errorf("rollback calls = %d, want 0", n)
		}
	})
}

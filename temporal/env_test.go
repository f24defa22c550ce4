package temporal

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
)

// cloud is one emulated cloud and a client of it.
type cloud struct {
	name   string
	p      rollback.Provider
	region string
	// target seeds an instance (running or stopped) and a snapshot of its
	// system disk and returns a request for them, keyed.
	target func(t *testing.T, key string, running bool) rollback.Request
	// rollbacks counts rollbacks applied to the request's disk or instance.
	rollbacks func(req rollback.Request) int
	// calls counts calls of a mutating action (stop, start, snapshot,
	// rollback), or every call with "".
	calls func(action string) int
	// throttled counts replies that said the quota was exceeded.
	throttled func() int
	state     func(req rollback.Request) string // the instance's native state
	// times returns when each call of an API action arrived (emulator clock).
	times func(apiAction string) []time.Time
	// loseRollbackReply makes the next rollback call land with its reply
	// lost on the wire.
	loseRollbackReply func()
}

type cloudOpts struct {
	clk          clock.Clock
	slowRollback bool          // rollbacks take 2 hours
	rollback     time.Duration // how long a rollback takes (0: the default)
	limit        int           // the client's rate limit per second (0: the default)
	hooks        rollback.Hooks
}

func newAliyun(t *testing.T, o cloudOpts) *cloud {
	t.Helper()
	var sopts []aliyuntest.Option
	sopts = append(sopts, aliyuntest.WithClock(o.clk))
	if o.slowRollback {
		sopts = append(sopts, aliyuntest.WithDurations(aliyuntest.Durations{Rollback: 2 * time.Hour}))
	}
	srv := aliyuntest.NewServer(sopts...)
	t.Cleanup(srv.Close)
	p, err := aliyun.New(aliyun.Config{Region: aliyuntest.DefaultRegion, Endpoint: srv.URL,
		AccessKeyID: aliyuntest.DefaultAccessKeyID, AccessKeySecret: aliyuntest.DefaultAccessKeySecret},
		rollback.WithClock(o.clk))
	if err != nil {
		t.Fatal(err)
	}
	c := &cloud{loseRollbackReply: func() {
		srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionResetDisk, DropResponse: true})
	}}
	action := map[string]string{"rollback": aliyuntest.ActionResetDisk, "stop": aliyuntest.ActionStopInstance,
		"start": aliyuntest.ActionStartInstance, "snapshot": aliyuntest.ActionCreateSnapshot}
	*c = cloud{loseRollbackReply: c.loseRollbackReply, name: rollback.ProviderAliyun, p: p, region: aliyuntest.DefaultRegion,
		target: func(t *testing.T, key string, running bool) rollback.Request {
			status := aliyuntest.StatusStopped
			if running {
				status = aliyuntest.StatusRunning
			}
			in := aliyuntest.Must(srv.AddInstance(aliyuntest.InstanceSpec{Status: status}))
			sn := aliyuntest.Must(srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: in.SystemDiskID}))
			return rollback.Request{Region: aliyuntest.DefaultRegion, DiskID: in.SystemDiskID, SnapshotID: sn.ID, OperationKey: key}
		},
		rollbacks: func(req rollback.Request) int { return srv.RollbacksOf(req.DiskID) },
		calls: func(a string) int {
			if a == "" {
				return srv.Calls("")
			}
			return srv.Calls(action[a])
		},
		throttled: func() int {
			n := 0
			for _, e := range srv.Journal().Entries() {
				if e.Code == "Throttling.User" {
					n++
				}
			}
			return n
		},
		state: func(req rollback.Request) string {
			for _, e := range []string{req.InstanceID} {
				if v, ok := srv.Instance(e); ok {
					return v.Status
				}
			}
			d, _ := srv.Disk(req.DiskID)
			v, _ := srv.Instance(d.InstanceID)
			return v.Status
		},
	}
	return c
}

func newTencent(t *testing.T, o cloudOpts) *cloud {
	t.Helper()
	sopts := []tencenttest.Option{tencenttest.WithClock(o.clk)}
	if o.slowRollback {
		o.rollback = 2 * time.Hour
	}
	sopts = append(sopts, tencenttest.WithDurations(tencenttest.Durations{Rollback: o.rollback}))
	srv := tencenttest.NewServer(sopts...)
	t.Cleanup(srv.Close)
	p, err := tencent.New(tencent.Config{Region: tencenttest.DefaultRegion, Endpoint: srv.URL,
		SecretID: tencenttest.DefaultSecretID, SecretKey: tencenttest.DefaultSecretKey}, copts(o)...)
	if err != nil {
		t.Fatal(err)
	}
	c := &cloud{loseRollbackReply: func() {
		srv.AddFault(tencenttest.Fault{Action: "ApplyInstanceSnapshot", DropResponse: true})
	}}
	action := map[string]string{"rollback": "ApplyInstanceSnapshot", "stop": "StopInstances",
		"start": "StartInstances", "snapshot": "CreateInstanceSnapshot"}
	*c = cloud{loseRollbackReply: c.loseRollbackReply, name: rollback.ProviderTencent, p: p, region: tencenttest.DefaultRegion,
		target: func(t *testing.T, key string, running bool) rollback.Request {
			state := "STOPPED"
			if running {
				state = "RUNNING"
			}
			in, err := srv.AddInstance(tencenttest.Instance{State: state})
			if err != nil {
				t.Fatal(err)
			}
			sn, err := srv.AddSnapshot(tencenttest.Snapshot{InstanceID: in.ID})
			if err != nil {
				t.Fatal(err)
			}
			return rollback.Request{Region: tencenttest.DefaultRegion, InstanceID: in.ID, SnapshotID: sn.ID, OperationKey: key}
		},
		rollbacks: func(req rollback.Request) int { return srv.RollbacksOf(req.InstanceID) },
		calls: func(a string) int {
			if a == "" {
				return srv.Journal().Count("")
			}
			return srv.Journal().Count(action[a])
		},
		throttled: func() int {
			n := 0
			for _, e := range srv.Journal().Entries() {
				if e.Code == tencenttest.CodeRequestLimitExceeded {
					n++
				}
			}
			return n
		},
		state: func(req rollback.Request) string {
			v, _ := srv.Instance(req.InstanceID)
			return v.State
		},
		times: func(a string) []time.Time {
			var ts []time.Time
			for _, e := range srv.Journal().Entries() {
				if e.Action == a {
					ts = append(ts, e.Time)
				}
			}
			return ts
		},
	}
	return c
}

var clouds = []struct {
	name string
	new  func(*testing.T, cloudOpts) *cloud
}{{"aliyun", newAliyun}, {"tencent", newTencent}}

// forEachCloud runs f against both emulators on an auto-advancing
// virtual clock.
func forEachCloud(t *testing.T, f func(t *testing.T, c *cloud, clk clock.Clock)) {
	for _, cl := range clouds {
		t.Run(cl.name, func(t *testing.T) {
			clk := clock.NewAutoVirtual(clock.Epoch)
			f(t, cl.new(t, cloudOpts{clk: clk}), clk)
		})
	}
}

// newEnv returns a test workflow environment with c's activities (and
// the interceptors, if any).
func newEnv(t *testing.T, c *cloud, clk clock.Clock, ics ...interceptor.WorkerInterceptor) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(quietLogger())
	env := s.NewTestWorkflowEnvironment()
	env.SetTestTimeout(2 * time.Minute) // the default 3s is short on a loaded machine
	env.SetWorkerOptions(testWorkerOptions(ics...))
	acts := NewActivities(c.p, ActivityOptions{Wait: rollback.WaitOptions{Clock: clk}})
	Register(env, acts)
	return env
}

func run(env *testsuite.TestWorkflowEnvironment, c *cloud, req rollback.Request, o Options) (*rollback.Report, error) {
	env.SetStartWorkflowOptions(StartOptions("", req.OperationKey))
	env.ExecuteWorkflow(WorkflowName, WorkflowInput{Provider: c.name, Request: req, Options: o})
	if !env.IsWorkflowCompleted() {
		return nil, errors.New("workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		return nil, err
	}
	var rep rollback.Report
	if err := env.GetWorkflowResult(&rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// faults is a worker interceptor that makes activity attempts fail as a
// dying worker would: before the activity runs, or after it has run (its
// completion lost). It fails the first attempt of every activity whose
// name is in the set, once per workflow.
type faults struct {
	interceptor.WorkerInterceptorBase
	mu     sync.Mutex
	after  bool
	names  map[string]bool // "" : every activity
	failed map[string]int
	// onBeat, when set, sees every heartbeat.
	onBeat func(ctx context.Context, name string, attempt int32, details []any) error
}

var errWorkerLost = errors.New("worker lost (test)")

func (f *faults) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &faultActivity{f: f}
	i.Next = next
	return i
}

type faultActivity struct {
	interceptor.ActivityInboundInterceptorBase
	f *faults
}

func (i *faultActivity) Init(out interceptor.ActivityOutboundInterceptor) error {
	return i.Next.Init(&beatSpy{ActivityOutboundInterceptorBase: interceptor.ActivityOutboundInterceptorBase{Next: out}, f: i.f})
}

func (i *faultActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	info := activity.GetInfo(ctx)
	name := info.ActivityType.Name
	f := i.f
	f.mu.Lock()
	fire := (f.names == nil || f.names[name]) && f.failed[info.WorkflowExecution.ID+"/"+info.ActivityID] == 0
	if fire {
		if f.failed == nil {
			f.failed = map[string]int{}
		}
		f.failed[info.WorkflowExecution.ID+"/"+info.ActivityID]++
	}
	f.mu.Unlock()
	if fire && !f.after {
		return nil, errWorkerLost
	}
	res, err := i.Next.ExecuteActivity(ctx, in)
	if fire && f.after && err == nil {
		return nil, errWorkerLost
	}
	return res, err
}

type beatSpy struct {
	interceptor.ActivityOutboundInterceptorBase
	f *faults
}

func (b *beatSpy) RecordHeartbeat(ctx context.Context, details ...any) {
	b.Next.RecordHeartbeat(ctx, details...)
	if b.f.onBeat != nil {
		info := activity.GetInfo(ctx)
		_ = b.f.onBeat(ctx, info.ActivityType.Name, info.Attempt, details)
	}
}

func activityName(ctx context.Context) string { return activity.GetInfo(ctx).ActivityType.Name }

func activityAttempt(ctx context.Context) int32 { return activity.GetInfo(ctx).Attempt }

func quietLogger() log.Logger { return log.NewStructuredLogger(slog.New(slog.DiscardHandler)) }

func copts(o cloudOpts) []rollback.Option {
	opts := []rollback.Option{rollback.WithClock(o.clk)}
	if o.limit > 0 {
		opts = append(opts, rollback.WithRateLimit(o.limit, time.Second))
	}
	opts = append(opts, rollback.WithHooks(o.hooks))
	return opts
}

// testWorkerOptions are the test environment's worker options. The
// environment kills a workflow task that runs longer than the deadlock
// timeout (1s by default, in real time); on a loaded machine a fleet's
// task that starts hundreds of children can take longer, and the killed
// parent then trips the environment over its half-started children (a nil
// pointer in its parent-close handling). A minute keeps real deadlocks
// visible.
func testWorkerOptions(ics ...interceptor.WorkerInterceptor) worker.Options {
	return worker.Options{Interceptors: ics, DeadlockDetectionTimeout: time.Minute}
}

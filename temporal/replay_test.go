package temporal

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

var update = flag.Bool("update", false, "record the replay histories into testdata/replay")

// TestReplay replays the recorded histories in testdata/replay against
// today's RollbackWorkflow: a change that would make a running workflow
// take another path on replay (a new activity, a reordered step) fails
// here as a non-determinism error. go test -run TestReplay -update records
// them again, from runs on the emulators; record after a deliberate
// change, and keep the old files when running workflows must survive it.
func TestReplay(t *testing.T) {
	dir := filepath.Join("testdata", "replay")
	if *update {
		record(t, dir)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) < 4 {
		t.Fatalf("%d histories in %s; record them with -update", len(files), dir)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			RegisterWorkflows(r)
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			h, err := client.HistoryFromJSON(fh, client.HistoryJSONOptions{})
			if err != nil {
				t.Fatal(err)
			}
			key := strings.TrimSuffix(filepath.Base(f), ".json")
			if err := r.ReplayWorkflowHistoryWithOptions(replayLogger(), h, worker.ReplayWorkflowHistoryOptions{
				OriginalExecution: workflowExecution(key)}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// recorded is one activity's last attempt as the worker saw it.
type recorded struct {
	id, name, queue string
	args            []any
	result          any
	err             error
}

type recorder struct {
	interceptor.WorkerInterceptorBase
	mu   sync.Mutex
	acts []recorded
}

func (r *recorder) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &recordActivity{r: r}
	i.Next = next
	return i
}

type recordActivity struct {
	interceptor.ActivityInboundInterceptorBase
	r *recorder
}

func (i *recordActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	res, err := i.Next.ExecuteActivity(ctx, in)
	info := activity.GetInfo(ctx)
	i.r.mu.Lock()
	i.r.acts = append(i.r.acts, recorded{id: info.ActivityID, name: info.ActivityType.Name, queue: info.TaskQueue,
		args: in.Args, result: res, err: err})
	i.r.mu.Unlock()
	return res, err
}

// record runs the scenarios on the emulators and writes their histories.
func record(t *testing.T, dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	type scenario struct {
		cloud   func(*testing.T, cloudOpts) *cloud
		key     string
		running bool
		o       Options
	}
	for _, sc := range []scenario{
		{newAliyun, "aliyun-full", true, Options{StopIfRunning: true, SafetySnapshot: true, StartAfter: true}},
		{newTencent, "tencent-full", true, Options{StopIfRunning: true, SafetySnapshot: true, StartAfter: true}},
		{newTencent, "tencent-dry-run", true, Options{DryRun: true, StopIfRunning: true}},
		{newTencent, "tencent-running-refused", true, Options{}},
		{newAliyun, "aliyun-no-wait", false, Options{NoWait: true}},
	} {
		clk := clock.NewAutoVirtual(clock.Epoch)
		c := sc.cloud(t, cloudOpts{clk: clk})
		req := c.target(t, sc.key, sc.running)
		rec := &recorder{}
		env := newEnv(t, c, clk, rec)
		in := WorkflowInput{Provider: c.name, Request: req, Options: sc.o}
		rep, err := run(env, c, req, sc.o)
		h := buildHistory(t, in, rec.acts, rep, err)
		b, merr := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
		if merr != nil {
			t.Fatal(merr)
		}
		if err := os.WriteFile(filepath.Join(dir, sc.key+".json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// buildHistory writes the history a server would have recorded for a
// workflow whose activities ran one after another, each in its own
// workflow task.
func buildHistory(t *testing.T, in WorkflowInput, acts []recorded, rep *rollback.Report, runErr error) *historypb.History {
	dc := converter.GetDefaultDataConverter()
	fc := temporal.GetDefaultFailureConverter()
	payloads := func(vs ...any) *commonpb.Payloads {
		p, err := dc.ToPayloads(vs...)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	// The last attempt of each activity, in the order they were scheduled.
	last := map[string]recorded{}
	for _, a := range acts {
		last[a.id] = a
	}
	var ids []string
	for id := range last {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return len(ids[i]) < len(ids[j]) || len(ids[i]) == len(ids[j]) && ids[i] < ids[j] })

	tq := &taskqueuepb.TaskQueue{Name: WorkflowQueue(in.QueuePrefix), Kind: enumspb.TASK_QUEUE_KIND_NORMAL}
	var events []*historypb.HistoryEvent
	at := clock.Epoch
	add := func(typ enumspb.EventType, set func(e *historypb.HistoryEvent)) int64 {
		at = at.Add(time.Second)
		e := &historypb.HistoryEvent{EventId: int64(len(events) + 1), EventTime: timestamppb.New(at), EventType: typ}
		set(e)
		events = append(events, e)
		return e.EventId
	}
	workflowTask := func() int64 {
		s := add(enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, func(e *historypb.HistoryEvent) {
			e.Attributes = &historypb.HistoryEvent_WorkflowTaskScheduledEventAttributes{WorkflowTaskScheduledEventAttributes: &historypb.WorkflowTaskScheduledEventAttributes{
				TaskQueue: tq, StartToCloseTimeout: durationpb.New(10 * time.Second), Attempt: 1}}
		})
		st := add(enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED, func(e *historypb.HistoryEvent) {
			e.Attributes = &historypb.HistoryEvent_WorkflowTaskStartedEventAttributes{WorkflowTaskStartedEventAttributes: &historypb.WorkflowTaskStartedEventAttributes{
				ScheduledEventId: s, Identity: "recorder"}}
		})
		return add(enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, func(e *historypb.HistoryEvent) {
			e.Attributes = &historypb.HistoryEvent_WorkflowTaskCompletedEventAttributes{WorkflowTaskCompletedEventAttributes: &historypb.WorkflowTaskCompletedEventAttributes{
				ScheduledEventId: s, StartedEventId: st, Identity: "recorder"}}
		})
	}
	add(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, func(e *historypb.HistoryEvent) {
		e.Attributes = &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{
			WorkflowType: &commonpb.WorkflowType{Name: WorkflowName}, TaskQueue: tq, Input: payloads(in),
			WorkflowTaskTimeout: durationpb.New(10 * time.Second), OriginalExecutionRunId: "run-1", FirstExecutionRunId: "run-1", Attempt: 1}}
	})
	done := workflowTask()
	for _, id := range ids {
		a := last[id]
		s := add(enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, func(e *historypb.HistoryEvent) {
			// A worker names an activity after the event that schedules it
			// (the test environment counts 1, 2, ...).
			e.Attributes = &historypb.HistoryEvent_ActivityTaskScheduledEventAttributes{ActivityTaskScheduledEventAttributes: &historypb.ActivityTaskScheduledEventAttributes{
				ActivityId: strconv.FormatInt(e.EventId, 10), ActivityType: &commonpb.ActivityType{Name: a.name},
				TaskQueue: &taskqueuepb.TaskQueue{Name: a.queue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL}, Input: payloads(a.args...),
				StartToCloseTimeout: durationpb.New(callActivityTimeout), WorkflowTaskCompletedEventId: done}}
		})
		st := add(enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED, func(e *historypb.HistoryEvent) {
			e.Attributes = &historypb.HistoryEvent_ActivityTaskStartedEventAttributes{ActivityTaskStartedEventAttributes: &historypb.ActivityTaskStartedEventAttributes{
				ScheduledEventId: s, Identity: "recorder", Attempt: 1}}
		})
		if a.err != nil {
			add(enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED, func(e *historypb.HistoryEvent) {
				e.Attributes = &historypb.HistoryEvent_ActivityTaskFailedEventAttributes{ActivityTaskFailedEventAttributes: &historypb.ActivityTaskFailedEventAttributes{
					Failure: fc.ErrorToFailure(a.err), ScheduledEventId: s, StartedEventId: st, Identity: "recorder"}}
			})
		} else {
			add(enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, func(e *historypb.HistoryEvent) {
				e.Attributes = &historypb.HistoryEvent_ActivityTaskCompletedEventAttributes{ActivityTaskCompletedEventAttributes: &historypb.ActivityTaskCompletedEventAttributes{
					Result: payloads(a.result), ScheduledEventId: s, StartedEventId: st, Identity: "recorder"}}
			})
		}
		done = workflowTask()
	}
	if runErr != nil {
		add(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, func(e *historypb.HistoryEvent) {
			e.Attributes = &historypb.HistoryEvent_WorkflowExecutionFailedEventAttributes{WorkflowExecutionFailedEventAttributes: &historypb.WorkflowExecutionFailedEventAttributes{
				Failure: fc.ErrorToFailure(runErr), WorkflowTaskCompletedEventId: done}}
		})
	} else {
		add(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, func(e *historypb.HistoryEvent) {
			e.Attributes = &historypb.HistoryEvent_WorkflowExecutionCompletedEventAttributes{WorkflowExecutionCompletedEventAttributes: &historypb.WorkflowExecutionCompletedEventAttributes{
				Result: payloads(rep), WorkflowTaskCompletedEventId: done}}
		})
	}
	return &historypb.History{Events: events}
}

func workflowExecution(key string) workflow.Execution {
	return workflow.Execution{ID: key, RunID: "run-1"}
}

func replayLogger() log.Logger {
	if os.Getenv("REPLAY_DEBUG") != "" {
		return log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
	}
	return quietLogger()
}

package temporal

import (
	"context"
	"math"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/provider"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// DefaultQueuePrefix names the task queues when a workflow's QueuePrefix is
// empty: workflows on "rollback", reads and waits on "rollback-<provider>",
// each mutating action on "rollback-<provider>-<action>".
const DefaultQueuePrefix = "rollback"

// The mutating actions, each with its own task queue (see ActionQueue).
const (
	ActionStop     = "stop"
	ActionStart    = "start"
	ActionSnapshot = "snapshot"
	ActionRollback = "rollback"
)

// Actions lists the mutating actions.
var Actions = []string{ActionStop, ActionStart, ActionSnapshot, ActionRollback}

var actionOf = map[string]string{"Stop": ActionStop, "Start": ActionStart, "SafetySnapshot": ActionSnapshot, "Rollback": ActionRollback}

func prefixOr(p string) string {
	if p == "" {
		return DefaultQueuePrefix
	}
	return p
}

// WorkflowQueue is the task queue of the workflows.
func WorkflowQueue(prefix string) string { return prefixOr(prefix) }

// ReadQueue is the task queue of a provider's checks and waits (reads
// only).
func ReadQueue(prefix, provider string) string { return prefixOr(prefix) + "-" + provider }

// ActionQueue is the task queue of one mutating action of a provider. Its
// workers set TaskQueueActivitiesPerSecond to what keeps that action
// within the cloud's quota (QueueRate of the provider's declared Quota), and the Temporal server holds
// every worker of the queue to it together: that is how a fleet run from many hosts keeps to the
// account's quota. Give accounts with separate quotas separate prefixes.
func ActionQueue(prefix, provider, action string) string {
	return prefixOr(prefix) + "-" + provider + "-" + action
}

// actionKinds are the operation kinds of the mutating actions, the keys of
// a provider's declared quotas (provider.Capabilities.Quotas).
var actionKinds = map[string]provider.OperationKind{
	ActionStop: provider.OpStop, ActionStart: provider.OpStart,
	ActionSnapshot: provider.OpCreateSnapshot, ActionRollback: provider.OpRollback,
}

// Quota returns the account quota of a mutating action that p declares
// (provider.Capabilities.Quotas: SWAS 10 calls a minute per action,
// Lighthouse 20 a second), or the zero RateLimit when p declares none for
// it: its queue then has no limit, and only each worker's client paces
// its calls.
func Quota(p rollback.Provider, action string) provider.RateLimit {
	q, ok := provider.CapabilitiesOf(p).Quotas[actionKinds[action]]
	if !ok || q.Calls <= 0 || q.Per <= 0 {
		return provider.RateLimit{}
	}
	return q
}

// DefaultQueuePartitions is how many partitions a Temporal server gives a
// task queue unless its dynamic config says otherwise
// (matching.numTaskqueueReadPartitions).
const DefaultQueuePartitions = 4

// QueueRate returns the TaskQueueActivitiesPerSecond that keeps an action's
// queue within quota (as Quota returns it) on a server that splits the
// queue into partitions (DefaultQueuePartitions unless configured), and
// NewWorkers sets it. It is below the quota because the server's limit is
// not a window: each partition is a token bucket of rate/partitions whose
// burst is ceil(rate/partitions) (at least 1), full after any lull (between
// a fleet's continue-as-new runs, say). Over one quota window it can
// therefore dispatch partitions×burst + rate×window tasks, and QueueRate is
// the largest whole number of calls per window for which that stays within
// the quota: Lighthouse 8 a second (8 + 4×2 = 16 of 20), SWAS 6 a minute
// (6 + 4×1 = 10 of 10) with 4 partitions; 10 a second and 9 a minute with
// one. Zero (no queue limit) for the zero RateLimit.
func QueueRate(quota provider.RateLimit, partitions int) float64 {
	calls, per := quota.Calls, quota.Per
	if calls <= 0 || per <= 0 {
		return 0
	}
	partitions = max(partitions, 1)
	for n := calls; n > 1; n-- {
		r := float64(n) / per.Seconds()
		burst := max(1, int(math.Ceil(r/float64(partitions))))
		if partitions*burst+n <= calls {
			return r
		}
	}
	return 1 / per.Seconds() // more partitions than the quota has calls: one call a window, plus the bursts
}

// ActivityName is the registered name of a provider's activity, e.g.
// "tencent.Rollback".
func ActivityName(provider, name string) string { return provider + "." + name }

// Register registers the workflows on w and the provider's activities
// (named "<provider>.<Method>").
func Register(w worker.Registry, acts *Activities) {
	RegisterWorkflows(w)
	RegisterActivities(w, acts)
}

// RegisterWorkflows registers RollbackWorkflow and FleetWorkflow.
func RegisterWorkflows(w worker.WorkflowRegistry) {
	w.RegisterWorkflowWithOptions(RollbackWorkflow, workflow.RegisterOptions{Name: WorkflowName})
	w.RegisterWorkflowWithOptions(FleetWorkflow, workflow.RegisterOptions{Name: FleetWorkflowName})
}

// RegisterActivities registers the provider's activities.
func RegisterActivities(w worker.ActivityRegistry, acts *Activities) {
	w.RegisterActivityWithOptions(acts, activity.RegisterOptions{Name: providerName(acts.Provider) + "."})
}

// NewWorkers returns the workers one process runs for a provider: one for
// the workflows, one for reads and waits, and one per mutating action whose
// queue is held to the quota the provider declares across all workers
// (TaskQueueActivitiesPerSecond at QueueRate; no queue limit where it
// declares none). o is the base of every worker's options.
// Start them with worker.Run or Start; stop them with Stop.
func NewWorkers(c client.Client, prefix string, acts *Activities, o worker.Options) []worker.Worker {
	p := providerName(acts.Provider)
	wf := worker.New(c, WorkflowQueue(prefix), o)
	RegisterWorkflows(wf)
	reads := worker.New(c, ReadQueue(prefix, p), o)
	RegisterActivities(reads, acts)
	ws := []worker.Worker{wf, reads}
	for _, a := range Actions {
		ao := o
		if q := QueueRate(Quota(acts.Provider, a), DefaultQueuePartitions); q > 0 {
			ao.TaskQueueActivitiesPerSecond = q
		}
		w := worker.New(c, ActionQueue(prefix, p, a), ao)
		RegisterActivities(w, acts)
		ws = append(ws, w)
	}
	return ws
}

// Start starts a RollbackWorkflow for in with the operation key as its
// workflow ID and a reuse policy that refuses any second start of the key,
// running or finished (serviceerror.WorkflowExecutionAlreadyStarted).
func Start(ctx context.Context, c client.Client, in WorkflowInput) (client.WorkflowRun, error) {
	if in.Request.OperationKey == "" {
		return nil, provider.InvalidArgument(in.Provider, "", "OperationKey",
			"is empty; a Temporal rollback is named by its operation key (its workflow ID)")
	}
	return c.ExecuteWorkflow(ctx, StartOptions(in.QueuePrefix, in.Request.OperationKey), WorkflowName, in)
}

// StartOptions are the options Start uses: workflow ID = key, duplicates
// refused.
func StartOptions(prefix, key string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                                       key,
		TaskQueue:                                WorkflowQueue(prefix),
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}
}

// Timeouts of the activities. A mutating call's attempt is bounded by the
// library's retry layer (RetryPolicy.MaxElapsed, 2 minutes, plus one call
// timeout), so its start-to-close timeout lies beyond that: it fires only
// for a worker that hangs. A worker that died is found sooner by the
// heartbeat timeout: every activity but Check heartbeats at least every
// quarter of it (keepAlive), waits at every poll too.
const (
	callActivityTimeout = 5 * time.Minute
	waitSlack           = 5 * time.Minute
	heartbeatTimeout    = time.Minute
)

// retryPolicy is Temporal's side of the retries. The library's errors come
// back non-retryable (activityError): the library retried them already.
// What Temporal retries is what the library cannot see: a worker that died
// (start-to-close or heartbeat timeout) and a worker shutting down.
var retryPolicy = &temporal.RetryPolicy{
	InitialInterval:    time.Second,
	BackoffCoefficient: 2,
	MaximumInterval:    time.Minute,
	MaximumAttempts:    20,
}

// activityOptions are the options of one activity. wait is a wait's limit,
// or the longest the rollback may wait out an operation in progress.
func activityOptions(in WorkflowInput, name string, mutating bool, wait time.Duration) workflow.ActivityOptions {
	o := workflow.ActivityOptions{
		TaskQueue:           ReadQueue(in.QueuePrefix, in.Provider),
		StartToCloseTimeout: callActivityTimeout,
		RetryPolicy:         retryPolicy,
	}
	if name != "Check" {
		o.HeartbeatTimeout = heartbeatTimeout
	}
	if mutating {
		o.TaskQueue = ActionQueue(in.QueuePrefix, in.Provider, actionOf[name])
		o.StartToCloseTimeout += wait
		return o
	}
	if wait > 0 {
		o.StartToCloseTimeout = wait + waitSlack
		o.WaitForCancellation = true
	}
	return o
}

package temporal

import (
	"errors"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/provider"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// FleetInput is the input of FleetWorkflow.
type FleetInput struct {
	Provider string
	// Requests are the rollbacks still to run. Each needs an OperationKey:
	// it is the child workflow's ID.
	Requests    []rollback.Request
	Options     Options
	QueuePrefix string
	// MaxInFlight bounds the rollbacks running at once (0: 200). The
	// mutating calls are paced by their queues' rate limits whatever it is;
	// it bounds how many waits poll together.
	MaxInFlight int
	// PerRun is how many rollbacks one run of the workflow starts before it
	// continues as new with the rest (0: 500), so that its history stays
	// bounded (about four events per child).
	PerRun int
	// Summary is carried over from the previous runs.
	Summary FleetSummary
}

// FleetSummary counts a fleet's outcomes; QueryProgress returns it.
type FleetSummary struct {
	Total     int // requests the fleet was given
	Succeeded int
	Failed    int
	// Duplicates are requests whose key already had a workflow (a repeated
	// key, or one run before): Temporal refused them; nothing was sent.
	Duplicates int
	// Kinds counts failures by error type ("InvalidArgument", ...).
	Kinds map[string]int `json:",omitempty"`
	// Failures lists the first failures (up to MaxFailures), by key.
	Failures []FleetFailure `json:",omitempty"`
	Runs     int            // workflow runs so far (continue-as-new)
}

// FleetFailure is one failed rollback of a fleet.
type FleetFailure struct {
	Key     string
	Kind    string
	Message string
}

// MaxFailures bounds FleetSummary.Failures.
const MaxFailures = 100

// FleetWorkflow rolls back many servers: each as a child RollbackWorkflow
// whose ID is its operation key (so a key that ran before, or twice in
// the list, is refused, never run twice), at most MaxInFlight at a time,
// continuing as new every PerRun children. Reads of concurrent children
// are batched by the workers (NewActivities with Batch); mutating calls
// keep to the cloud's quota through the action queues' rate limits.
func FleetWorkflow(ctx workflow.Context, in FleetInput) (FleetSummary, error) {
	s := in.Summary
	if s.Runs == 0 {
		s.Total = len(in.Requests)
	}
	s.Runs++
	if err := workflow.SetQueryHandler(ctx, QueryProgress, func() (FleetSummary, error) { return s, nil }); err != nil {
		return s, err
	}
	maxIn, perRun := in.MaxInFlight, in.PerRun
	if maxIn <= 0 {
		maxIn = 200
	}
	if perRun <= 0 {
		perRun = 500
	}
	now, rest := in.Requests, []rollback.Request(nil)
	if len(now) > perRun {
		now, rest = now[:perRun], now[perRun:]
	}
	sel := workflow.NewSelector(ctx)
	running := 0
	record := func(key string, err error) {
		running--
		if err == nil {
			s.Succeeded++
			return
		}
		kind := TypeUnclassified
		var already *temporal.ChildWorkflowExecutionAlreadyStartedError
		switch {
		case errors.As(err, &already) || temporal.IsWorkflowExecutionAlreadyStartedError(err):
			s.Duplicates++
			kind = "Duplicate"
		default:
			s.Failed++
			if k := KindOf(err); k != nil {
				kind = sentinelName(k)
			} else if d, ok := DetailsOf(err); ok {
				kind = d.Kind
			}
		}
		if s.Kinds == nil {
			s.Kinds = map[string]int{}
		}
		s.Kinds[kind]++
		if len(s.Failures) < MaxFailures {
			s.Failures = append(s.Failures, FleetFailure{Key: key, Kind: kind, Message: errText(err)})
		}
	}
	for _, req := range now {
		for running >= maxIn {
			sel.Select(ctx)
		}
		key := req.OperationKey
		if key == "" {
			running++
			record("", provider.InvalidArgument(in.Provider, "", "OperationKey", "is empty; every fleet request needs its own key"))
			continue
		}
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:            key,
			TaskQueue:             WorkflowQueue(in.QueuePrefix),
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
			RetryPolicy:           &temporal.RetryPolicy{MaximumAttempts: 1},
		})
		f := workflow.ExecuteChildWorkflow(cctx, WorkflowName, WorkflowInput{Provider: in.Provider, Request: req,
			Options: in.Options, QueuePrefix: in.QueuePrefix})
		running++
		sel.AddFuture(f, func(f workflow.Future) { record(key, f.Get(ctx, nil)) })
	}
	for running > 0 {
		sel.Select(ctx)
	}
	if len(rest) > 0 {
		next := in
		next.Requests, next.Summary = rest, s
		return s, workflow.NewContinueAsNewError(ctx, FleetWorkflowName, next)
	}
	return s, nil
}

package memprovider

import (
	"errors"
	"fmt"
	"time"

	"github.com/cloudsnap/rollback/emulator"
	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/errmap"
)

// Error codes the provider answers with (rollback.Error.Code). Each maps to
// one sentinel (Codes); a fault may inject any of them.
const (
	CodeInvalidParameter       = "InvalidParameter"
	CodeInvalidRegion          = "InvalidRegion"
	CodeInstanceNotFound       = "InstanceNotFound"
	CodeDiskNotFound           = "DiskNotFound"
	CodeSnapshotNotFound       = "SnapshotNotFound"
	CodeIncorrectInstanceState = "IncorrectInstanceState"
	CodeIncorrectSnapshotState = "IncorrectSnapshotState"
	CodeSnapshotMismatch       = "SnapshotMismatch"
	CodeOperationInProgress    = "OperationInProgress"
	CodeThrottling             = "Throttling"
	CodeQuotaExceeded          = "QuotaExceeded"
	CodeUnauthenticated        = "Unauthenticated"
	CodeForbidden              = "Forbidden"
	// CodeInternalError and CodeServiceUnavailable are provider faults: as
	// with any 5xx, the call may have been applied (Error.Ambiguous).
	CodeInternalError      = "InternalError"
	CodeServiceUnavailable = "ServiceUnavailable"
)

// codes is the provider's code table.
var codes = errmap.Table{Exact: map[string]errmap.Rule{
	CodeInvalidParameter:       {Kind: provider.ErrInvalidArgument},
	CodeInvalidRegion:          {Kind: provider.ErrInvalidArgument, Hint: "use a region the provider serves (memprovider.WithRegions)"},
	CodeInstanceNotFound:       {Kind: provider.ErrInstanceNotFound, Hint: "check the instance ID and the region"},
	CodeDiskNotFound:           {Kind: provider.ErrDiskNotFound, Hint: "check the disk ID and the region"},
	CodeSnapshotNotFound:       {Kind: provider.ErrSnapshotNotFound, Hint: "check the snapshot ID and the region"},
	CodeIncorrectInstanceState: {Kind: provider.ErrInstanceState, Hint: "the instance must be stopped"},
	CodeIncorrectSnapshotState: {Kind: provider.ErrSnapshotState, Hint: "wait until the snapshot is ready"},
	CodeSnapshotMismatch:       {Kind: provider.ErrSnapshotMismatch, Hint: "pick a snapshot of this instance's disk"},
	CodeOperationInProgress:    {Kind: provider.ErrBusy, Hint: "another operation is in progress; wait for it to finish"},
	CodeThrottling:             {Kind: provider.ErrThrottled, Hint: "slow down"},
	CodeQuotaExceeded:          {Kind: provider.ErrQuotaExceeded, Hint: "delete an old snapshot"},
	CodeUnauthenticated:        {Kind: provider.ErrUnauthenticated},
	CodeForbidden:              {Kind: provider.ErrPermissionDenied},
	CodeInternalError:          {Kind: provider.ErrInternal, Ambiguous: true, Hint: "the provider failed; retry later"},
	CodeServiceUnavailable:     {Kind: provider.ErrInternal, Ambiguous: true, Hint: "the provider failed; retry later"},
}}

// Codes returns the sentinel each error code maps to.
func Codes() map[string]error {
	out := make(map[string]error, len(codes.Exact))
	for c, r := range codes.Exact {
		out[c] = r.Kind
	}
	return out
}

// codeOf is the code a fault uses for a sentinel.
var codeOf = map[error]string{
	provider.ErrInvalidArgument:  CodeInvalidParameter,
	provider.ErrNotFound:         CodeInstanceNotFound,
	provider.ErrInstanceNotFound: CodeInstanceNotFound,
	provider.ErrDiskNotFound:     CodeDiskNotFound,
	provider.ErrSnapshotNotFound: CodeSnapshotNotFound,
	provider.ErrInstanceState:    CodeIncorrectInstanceState,
	provider.ErrSnapshotState:    CodeIncorrectSnapshotState,
	provider.ErrSnapshotMismatch: CodeSnapshotMismatch,
	provider.ErrBusy:             CodeOperationInProgress,
	provider.ErrThrottled:        CodeThrottling,
	provider.ErrQuotaExceeded:    CodeQuotaExceeded,
	provider.ErrUnauthenticated:  CodeUnauthenticated,
	provider.ErrPermissionDenied: CodeForbidden,
	provider.ErrInternal:         CodeInternalError,
}

// mapError turns one attempt's error into a *rollback.Error.
func (p *Provider) mapError(op string, err error) error {
	var re *provider.Error
	if errors.As(err, &re) {
		return err
	}
	var ce *cloudError
	if !errors.As(err, &ce) {
		return &provider.Error{Provider: Name, Op: op, Kind: provider.ErrInternal, Message: err.Error(), Err: err}
	}
	if ce.network {
		// No reply: the call may have been applied.
		return &provider.Error{Provider: Name, Op: op, Kind: provider.ErrNetwork, Ambiguous: true,
			Message: ce.Message, Hint: "the call may or may not have been applied", Err: ce}
	}
	rule, _ := codes.Lookup(ce.Code, statusOf(ce.Code))
	return &provider.Error{Provider: Name, Op: op, Kind: rule.Kind, Ambiguous: rule.Ambiguous,
		Code: ce.Code, Message: ce.Message, RequestID: ce.RequestID, HTTPStatus: statusOf(ce.Code), Hint: rule.Hint, Err: ce}
}

// Fault is a failure injected into the calls of one action, as the
// emulators' faults are: armed when added, it fires on the Nth matching
// call from then on (0: the next) and the Times-1 after it (0: once;
// negative: every one). Its effects apply in this order: Latency, then
// Err or Code (the call fails and nothing is applied), else DropResponse
// (the call is applied and its reply lost); with AfterApply, Err or Code
// come after the call was applied.
type Fault struct {
	// Action is one of the Action constants; empty matches every action.
	Action string
	Nth    int
	Times  int
	// Latency delays the reply by this much of the provider's clock. A
	// delay of the client's call timeout or more (rollback.WithCallTimeout,
	// 30s by default) times the attempt out before anything is applied:
	// the client sees an ambiguous ErrNetwork.
	Latency time.Duration
	// Err is the sentinel the call fails with (rollback.ErrThrottled,
	// ErrBusy, ...), answered with its code. rollback.ErrNetwork is a
	// connection reset before anything was applied, and rollback.ErrInternal
	// a 5xx: both ambiguous to the client, as on a real cloud.
	Err error
	// Code is the error code to answer with (one of the Code constants, or
	// any code: unknown ones are ErrInvalidArgument), when Err is nil.
	Code    string
	Message string
	// DropResponse applies the call, then loses the reply: the client
	// sees an ambiguous ErrNetwork.
	DropResponse bool
	// AfterApply applies the call, then answers with Err or Code (with
	// the request ID of the call that applied it): a cloud that fails
	// after acting. For ErrInternal the client cannot tell it from a
	// failure before acting.
	AfterApply bool
}

// toEmu checks f and converts it to the emulators' fault.
func (f Fault) toEmu() (emulator.Fault, error) {
	ef := emulator.Fault{Action: f.Action, Nth: f.Nth, Times: f.Times, Latency: f.Latency,
		Code: f.Code, Message: f.Message, DropResponse: f.DropResponse}
	if f.Err != nil {
		if f.Code != "" {
			return ef, errors.New("memprovider: a Fault takes Err or Code, not both")
		}
		if f.Err == provider.ErrNetwork {
			ef.Reset = true
		} else if ef.Code = codeOf[f.Err]; ef.Code == "" {
			return ef, fmt.Errorf("memprovider: no error code stands for %v (use Code, FailNextRollbacks for ErrRollbackFailed)", f.Err)
		}
	}
	if f.AfterApply {
		if ef.Code == "" || ef.Reset || f.DropResponse {
			return ef, errors.New("memprovider: AfterApply goes with an Err (not ErrNetwork) or a Code, and not with DropResponse")
		}
		ef.DropResponse = true // carried as "applied, then": see serve
	}
	if f.Action != "" && !knownAction[f.Action] {
		return ef, fmt.Errorf("memprovider: unknown action %q", f.Action)
	}
	return ef, nil
}

var knownAction = map[string]bool{
	ActionRollback: true, ActionStopInstance: true, ActionStartInstance: true, ActionCreateSnapshot: true,
	ActionDescribeInstances: true, ActionDescribeSnapshots: true, ActionDescribeDisks: true,
	ActionMark: true, ActionReadMark: true,
}

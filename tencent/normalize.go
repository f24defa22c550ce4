package tencent

import (
	"time"

	lh "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/lighthouse/v20200324"

	"github.com/cloudsnap/rollback"
)

// Lighthouse's words for states and operations.
const (
	opApply    = "ApplyInstanceSnapshot"
	opRollback = "RollbackInstanceSnapshot"
	opCreate   = "CreateInstanceSnapshot"
	opStop     = "StopInstances"
	opStart    = "StartInstances"

	operating = "OPERATING"
)

var instanceStates = map[string]rollback.InstanceState{
	"PENDING":       rollback.InstancePending,
	"LAUNCH_FAILED": rollback.InstanceUnavailable,
	"RUNNING":       rollback.InstanceRunning,
	"STOPPED":       rollback.InstanceStopped,
	"STARTING":      rollback.InstanceStarting,
	"STOPPING":      rollback.InstanceStopping,
	"REBOOTING":     rollback.InstanceBusy,
	"SHUTDOWN":      rollback.InstanceUnavailable,
	"TERMINATING":   rollback.InstanceUnavailable,
}

var snapshotStates = map[string]rollback.SnapshotState{
	"NORMAL":      rollback.SnapshotReady,
	"CREATING":    rollback.SnapshotCreating,
	"ROLLBACKING": rollback.SnapshotRollingBack,
}

var operationKinds = map[string]rollback.OperationKind{
	opApply:    rollback.OpRollback,
	opRollback: rollback.OpRollback,
	opStop:     rollback.OpStop,
	opStart:    rollback.OpStart,
	opCreate:   rollback.OpCreateSnapshot,
}

var operationStates = map[string]rollback.OperationState{
	operating: rollback.OperationRunning,
	"SUCCESS": rollback.OperationSucceeded,
	"FAILED":  rollback.OperationFailed,
}

// operation maps a LatestOperation* triple. An unknown state word keeps an
// empty State, with NativeState telling what the cloud said.
func operation(name, state, requestID *string) rollback.Operation {
	if str(name) == "" && str(state) == "" && str(requestID) == "" {
		return rollback.Operation{}
	}
	kind, ok := operationKinds[str(name)]
	if !ok {
		kind = rollback.OpOther
	}
	return rollback.Operation{
		Kind: kind, Name: str(name), State: operationStates[str(state)],
		NativeState: str(state), RequestID: str(requestID),
	}
}

func normalizeInstance(region string, in *lh.Instance) *rollback.Instance {
	out := &rollback.Instance{
		Provider: rollback.ProviderTencent, Region: region,
		ID: str(in.InstanceId), Name: str(in.InstanceName),
		NativeState:     str(in.InstanceState),
		LatestOperation: operation(in.LatestOperation, in.LatestOperationState, in.LatestOperationRequestId),
	}
	if in.SystemDisk != nil {
		out.SystemDiskID = str(in.SystemDisk.DiskId)
	}
	state, ok := instanceStates[out.NativeState]
	if !ok {
		state = rollback.InstanceUnknown
	}
	running := out.LatestOperation.NativeState == operating
	if running && out.LatestOperation.Name == opApply {
		state = rollback.InstanceRollingBack
	}
	out.State = state
	out.Busy = running || state.Transitional()
	return out
}

// snapshotJSON is Snapshot plus the InstanceId that later API versions
// return and v1.0.162's model drops.
type snapshotJSON struct {
	lh.Snapshot
	InstanceId *string `json:"InstanceId,omitempty"`
}

func normalizeSnapshot(region string, sn *snapshotJSON) *rollback.Snapshot {
	out := &rollback.Snapshot{
		Provider: rollback.ProviderTencent, Region: region,
		ID: str(sn.SnapshotId), Name: str(sn.SnapshotName),
		DiskID: str(sn.DiskId), InstanceID: str(sn.InstanceId),
		NativeState:     str(sn.SnapshotState),
		LatestOperation: operation(sn.LatestOperation, sn.LatestOperationState, sn.LatestOperationRequestId),
	}
	state, ok := snapshotStates[out.NativeState]
	if !ok {
		state = rollback.SnapshotUnknown
	}
	// A creation that failed leaves an unusable snapshot.
	if out.LatestOperation.Name == opCreate && out.LatestOperation.State == rollback.OperationFailed {
		state = rollback.SnapshotFailed
	}
	out.State = state
	if sn.Percent != nil {
		out.Progress = int(min(max(*sn.Percent, 0), 100))
	}
	if t, err := time.Parse(time.RFC3339, str(sn.CreatedTime)); err == nil {
		out.CreatedAt = t
	}
	return out
}

package tencent

import (
	"time"

	lh "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/lighthouse/v20200324"

	"github.com/cloudsnap/rollback/provider"
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

var instanceStates = map[string]provider.InstanceState{
	"PENDING":       provider.InstancePending,
	"LAUNCH_FAILED": provider.InstanceUnavailable,
	"RUNNING":       provider.InstanceRunning,
	"STOPPED":       provider.InstanceStopped,
	"STARTING":      provider.InstanceStarting,
	"STOPPING":      provider.InstanceStopping,
	"REBOOTING":     provider.InstanceBusy,
	"SHUTDOWN":      provider.InstanceUnavailable,
	"TERMINATING":   provider.InstanceUnavailable,
}

var snapshotStates = map[string]provider.SnapshotState{
	"NORMAL":      provider.SnapshotReady,
	"CREATING":    provider.SnapshotCreating,
	"ROLLBACKING": provider.SnapshotRollingBack,
}

var operationKinds = map[string]provider.OperationKind{
	opApply:    provider.OpRollback,
	opRollback: provider.OpRollback,
	opStop:     provider.OpStop,
	opStart:    provider.OpStart,
	opCreate:   provider.OpCreateSnapshot,
}

var operationStates = map[string]provider.OperationState{
	operating: provider.OperationRunning,
	"SUCCESS": provider.OperationSucceeded,
	"FAILED":  provider.OperationFailed,
}

// operation maps a LatestOperation* triple. An unknown state word keeps an
// empty State, with NativeState telling what the cloud said.
func operation(name, state, requestID *string) provider.Operation {
	if str(name) == "" && str(state) == "" && str(requestID) == "" {
		return provider.Operation{}
	}
	kind, ok := operationKinds[str(name)]
	if !ok {
		kind = provider.OpOther
	}
	return provider.Operation{
		Kind: kind, Name: str(name), State: operationStates[str(state)],
		NativeState: str(state), RequestID: str(requestID),
	}
}

func normalizeInstance(region string, in *lh.Instance) *provider.Instance {
	out := &provider.Instance{
		Provider: provider.ProviderTencent, Region: region,
		ID: str(in.InstanceId), Name: str(in.InstanceName),
		NativeState:     str(in.InstanceState),
		LatestOperation: operation(in.LatestOperation, in.LatestOperationState, in.LatestOperationRequestId),
	}
	if in.SystemDisk != nil {
		out.SystemDiskID = str(in.SystemDisk.DiskId)
	}
	state, ok := instanceStates[out.NativeState]
	if !ok {
		state = provider.InstanceUnknown
	}
	running := out.LatestOperation.NativeState == operating
	if running && out.LatestOperation.Name == opApply {
		state = provider.InstanceRollingBack
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

func normalizeSnapshot(region string, sn *snapshotJSON) *provider.Snapshot {
	out := &provider.Snapshot{
		Provider: provider.ProviderTencent, Region: region,
		ID: str(sn.SnapshotId), Name: str(sn.SnapshotName),
		DiskID: str(sn.DiskId), InstanceID: str(sn.InstanceId),
		NativeState:     str(sn.SnapshotState),
		LatestOperation: operation(sn.LatestOperation, sn.LatestOperationState, sn.LatestOperationRequestId),
	}
	state, ok := snapshotStates[out.NativeState]
	if !ok {
		state = provider.SnapshotUnknown
	}
	// A creation that failed leaves an unusable snapshot.
	if out.LatestOperation.Name == opCreate && out.LatestOperation.State == provider.OperationFailed {
		state = provider.SnapshotFailed
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

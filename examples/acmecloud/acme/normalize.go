package acme

import (
	"github.com/cloudsnap/rollback/provider"
)

// Server states, as Acme reports them.
const (
	StatePending     = "pending"
	StateRunning     = "running"
	StateStopping    = "stopping"
	StateStopped     = "stopped"
	StateStarting    = "starting"
	StateRestoring   = "restoring"
	StateMaintenance = "maintenance"
	StateError       = "error"
)

// Snapshot states.
const (
	SnapshotCreating  = "creating"
	SnapshotAvailable = "available"
	SnapshotRestoring = "restoring"
	SnapshotError     = "error"
)

// Operation states (LastOperation.State, LastRestore.State).
const (
	OperationInProgress = "InProgress"
	OperationSucceeded  = "Succeeded"
	OperationFailed     = "Failed"
)

// Actions.
const (
	opRestore  = "RestoreSnapshot"
	opStop     = "StopServer"
	opStart    = "StartServer"
	opSnapshot = "CreateSnapshot"
)

var serverStates = map[string]provider.InstanceState{
	StatePending: provider.InstancePending, StateRunning: provider.InstanceRunning,
	StateStopping: provider.InstanceStopping, StateStopped: provider.InstanceStopped,
	StateStarting: provider.InstanceStarting, StateRestoring: provider.InstanceRollingBack,
	StateMaintenance: provider.InstanceBusy, StateError: provider.InstanceUnavailable,
}

var snapshotStates = map[string]provider.SnapshotState{
	SnapshotCreating: provider.SnapshotCreating, SnapshotAvailable: provider.SnapshotReady,
	SnapshotRestoring: provider.SnapshotRollingBack, SnapshotError: provider.SnapshotFailed,
}

var opKinds = map[string]provider.OperationKind{
	opRestore: provider.OpRollback, opStop: provider.OpStop, opStart: provider.OpStart, opSnapshot: provider.OpCreateSnapshot,
}

var opStates = map[string]provider.OperationState{
	OperationInProgress: provider.OperationRunning, OperationSucceeded: provider.OperationSucceeded, OperationFailed: provider.OperationFailed,
}

func normalizeOperation(action, state, requestID string) provider.Operation {
	kind, ok := opKinds[action]
	if !ok {
		kind = provider.OpOther
	}
	return provider.Operation{Kind: kind, Name: action, State: opStates[state], NativeState: state, RequestID: requestID}
}

func normalizeServer(region string, s *serverJSON) *provider.Instance {
	st, ok := serverStates[s.State]
	if !ok {
		st = provider.InstanceUnknown
	}
	in := &provider.Instance{Provider: Name, Region: region, ID: s.ServerID, Name: s.Name, State: st,
		NativeState: s.State, SystemDiskID: s.SystemDiskID}
	if lo := s.LastOperation; lo != nil {
		in.LatestOperation = normalizeOperation(lo.Action, lo.State, lo.RequestID)
	}
	in.Busy = st.Transitional() || in.LatestOperation.State == provider.OperationRunning
	return in
}

func normalizeSnapshot(region string, s *snapshotJSON) *provider.Snapshot {
	st, ok := snapshotStates[s.State]
	if !ok {
		st = provider.SnapshotUnknown
	}
	out := &provider.Snapshot{Provider: Name, Region: region, ID: s.SnapshotID, Name: s.Name,
		DiskID: s.DiskID, InstanceID: s.ServerID, State: st, NativeState: s.State,
		Progress: s.Progress, CreatedAt: s.CreatedAt}
	if st == provider.SnapshotReady {
		out.Progress = 100
	}
	if r := s.LastRestore; r != nil {
		// The snapshot's own record of its last restore: the evidence that
		// makes RestoreSnapshot exactly-once without a client token.
		out.LatestOperation = normalizeOperation(opRestore, r.State, r.RequestID)
		if r.State == OperationSucceeded {
			out.LastRollbackAt = r.At
		}
	}
	return out
}

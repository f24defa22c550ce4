package rollback

import "github.com/cloudsnap/rollback/provider"

// The provider-neutral types are defined in package provider, the contract
// every provider implements, and are the same types here (like os.FileInfo
// and fs.FileInfo): a rollback.Request is a provider.Request.

// Provider names, as they appear in Result.Provider and Error.Provider.
const (
	ProviderAliyun  = provider.ProviderAliyun
	ProviderTencent = provider.ProviderTencent
)

type (
	// Request names one logical rollback: put the disk (SWAS) or the
	// instance's system disk (Lighthouse) back to a snapshot. Region and
	// SnapshotID are required, and InstanceID or DiskID (see
	// provider.Request for every field).
	Request = provider.Request
	// Result is what the cloud said when it accepted a rollback: its
	// request ID and client token, how many calls were sent, whether an
	// earlier attempt was adopted, what was rolled back, and the snapshot
	// as read before sending, against which WaitRollback judges the end.
	Result = provider.Result
	// Provider is a cloud: what Run, RunBatch and the waiters need (see
	// provider.Provider). Open one with Open, aliyun.New or tencent.New.
	Provider = provider.Provider
	// Roller is the one-call rollback: Rollback(ctx, Request).
	Roller = provider.Roller
	// Inspector reads instances and snapshots; the waiters take one.
	Inspector = provider.Inspector

	// Instance is an instance as a provider reads it: its ID, region,
	// normalized State (the cloud's own beside it), system disk and last
	// operation, the same on every cloud.
	Instance = provider.Instance
	// Snapshot is a snapshot as a provider reads it: the disk and instance
	// it is of, its normalized State and progress, and the last rollback
	// to it, the same on every cloud.
	Snapshot = provider.Snapshot
	// Disk is a disk as a provider reads it: the instance it belongs to,
	// and whether it is that instance's system disk.
	Disk = provider.Disk
	// Operation is the last operation a cloud reports on a resource (a
	// rollback, a stop, ...), with its state and request ID; the zero
	// value means none is reported.
	Operation = provider.Operation

	// InstanceState is an instance's state, the same on every cloud.
	InstanceState = provider.InstanceState
	// SnapshotState is a snapshot's state, the same on every cloud.
	SnapshotState = provider.SnapshotState
	// OperationKind is what an operation does.
	OperationKind = provider.OperationKind
	// OperationState is how an operation stands.
	OperationState = provider.OperationState
)

// Instance states.
const (
	InstancePending     = provider.InstancePending
	InstanceRunning     = provider.InstanceRunning
	InstanceStopping    = provider.InstanceStopping
	InstanceStopped     = provider.InstanceStopped
	InstanceStarting    = provider.InstanceStarting
	InstanceRollingBack = provider.InstanceRollingBack
	InstanceBusy        = provider.InstanceBusy
	InstanceUnavailable = provider.InstanceUnavailable
	InstanceUnknown     = provider.InstanceUnknown
)

// Snapshot states.
const (
	SnapshotReady       = provider.SnapshotReady
	SnapshotCreating    = provider.SnapshotCreating
	SnapshotRollingBack = provider.SnapshotRollingBack
	SnapshotFailed      = provider.SnapshotFailed
	SnapshotUnknown     = provider.SnapshotUnknown
)

// Operation kinds and states.
const (
	OpRollback       = provider.OpRollback
	OpStop           = provider.OpStop
	OpStart          = provider.OpStart
	OpCreateSnapshot = provider.OpCreateSnapshot
	OpOther          = provider.OpOther

	OperationRunning   = provider.OperationRunning
	OperationSucceeded = provider.OperationSucceeded
	OperationFailed    = provider.OperationFailed
)

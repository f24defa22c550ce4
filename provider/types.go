package provider

import (
	"context"
	"time"
)

// Provider names, as they appear in Result.Provider and Error.Provider.
const (
	ProviderAliyun  = "aliyun"
	ProviderTencent = "tencent"
)

// Request names one logical rollback: put the disk (SWAS) or the instance's
// system disk (Lighthouse) back to a snapshot.
type Request struct {
	// Region is the cloud region, e.g. "cn-hangzhou" or "ap-guangzhou".
	// Required.
	Region string
	// InstanceID is the SWAS server ID or the Lighthouse "lhins-..." ID.
	// Required on Lighthouse; optional on SWAS, where it is found from the
	// disk when empty.
	InstanceID string
	// DiskID is the SWAS "d-..." disk ID (required there). On Lighthouse it
	// is optional and, when given, must be the instance's system disk.
	DiskID string
	// SnapshotID is the SWAS "s-..." or Lighthouse "lhsnap-..." snapshot ID.
	// Required.
	SnapshotID string
	// ClientToken is the idempotency key of this logical rollback: every
	// retry sends the same one, so the cloud applies it at most once. Printable
	// ASCII without spaces, 1 to 64 characters. When empty it is derived from
	// OperationKey, or else generated once per Rollback call. Lighthouse has
	// no token on the wire; there it names the operation in logs, reports and
	// checkpoints, and exactly-once comes from reading state instead.
	ClientToken string
	// OperationKey is a caller's stable name for this rollback (a ticket
	// number, a deployment ID). When ClientToken is empty the token is derived
	// from it (TokenFromKey), so a process that restarts and retries the same
	// operation sends the same token and cannot roll back twice.
	OperationKey string
}

// Result describes an accepted rollback.
type Result struct {
	Provider string // Capabilities.Name: "aliyun", "tencent", ...
	// RequestID is the provider's request ID of the accepted rollback call.
	RequestID string
	// ClientToken is the token used (see Request.ClientToken).
	ClientToken string
	// Attempts is how many rollback calls were sent on the wire.
	Attempts int
	// Adopted is true when no reply confirmed the call but state read
	// afterwards proved that an earlier attempt had landed (Lighthouse, after
	// a lost response), or when the cloud answered a resent token with the
	// first call's result. The rollback was applied exactly once either way.
	Adopted bool
	// InstanceID and DiskID are what was rolled back, including IDs the
	// provider looked up (a SWAS instance found from its disk).
	InstanceID string
	DiskID     string
	// Before is the snapshot as read just before the first rollback call. The
	// rollback waiter compares later reads against it.
	Before *Snapshot
	// SentAt is the time (on the client's clock) of the first rollback call.
	SentAt time.Time
}

// Roller performs one logical rollback: validate, rate-limit, call, retry, map
// errors. It does not stop, wait or restart anything.
type Roller interface {
	Rollback(ctx context.Context, req Request) (*Result, error)
}

// Inspector reads normalized state. Both provider clients implement it.
type Inspector interface {
	Instance(ctx context.Context, region, instanceID string) (*Instance, error)
	Snapshot(ctx context.Context, region, snapshotID string) (*Snapshot, error)
}

// Provider is everything the safe workflow needs. *aliyun.Client and
// *tencent.Client implement it.
type Provider interface {
	Roller
	Inspector
	// StopInstance asks the cloud to stop the instance and returns once the
	// request is accepted; use rollback.WaitInstance to wait for InstanceStopped.
	StopInstance(ctx context.Context, region, instanceID string) error
	// StartInstance asks the cloud to start the instance and returns once
	// the request is accepted.
	StartInstance(ctx context.Context, region, instanceID string) error
	// CreateSnapshot starts a snapshot of the disk (SWAS) or the instance's
	// system disk (Lighthouse, where diskID may be empty) and returns it,
	// usually still creating; use rollback.WaitSnapshot to wait until it is ready.
	CreateSnapshot(ctx context.Context, region, instanceID, diskID, name string) (*Snapshot, error)
	// Capabilities declares what the provider offers beyond these methods
	// (see Capabilities); it is called once per Run, wait or batch.
	Capabilities() Capabilities
}

// BatchInspector reads many instances of one region with as few calls as the
// cloud allows (Lighthouse: 100 IDs per DescribeInstances; SWAS: a JSON list
// per ListInstances). Both provider clients implement it; waiters for many
// instances use it when present. Instances that do not exist are absent from
// the result.
type BatchInspector interface {
	Instances(ctx context.Context, region string, instanceIDs []string) ([]*Instance, error)
}

// DiskInspector reads a disk. The SWAS client implements it; the workflow uses
// it to find the instance of a disk and to check that a disk is a system disk.
type DiskInspector interface {
	Disk(ctx context.Context, region, diskID string) (*Disk, error)
}

// Preflight is the state of a rollback's instance and snapshot, read by
// the caller immediately before the rollback call.
type Preflight struct {
	Instance *Instance
	Snapshot *Snapshot
}

// PreflightRoller is a Roller that can take the state its caller has just
// read instead of reading it again: the same checks run on it, and on
// Lighthouse it is the exactly-once baseline. Both clients implement it; Run
// uses it so that, in RunBatch, those reads are batched too. The state must
// be fresh (read right before the call): an operation that started since
// would be mistaken for this rollback after an ambiguous failure.
type PreflightRoller interface {
	RollbackWithPreflight(ctx context.Context, req Request, pf Preflight) (*Result, error)
}

// RequestValidator checks a Request against a provider's own rules (ID
// formats, required fields) without calling the cloud. Both clients
// implement it; Run calls it before anything else, so a malformed ID never
// reaches the wire, not even in a read.
type RequestValidator interface {
	ValidateRequest(req Request) error
}

// InstanceState is an instance's state, the same on every cloud.
type InstanceState string

// Instance states. NativeState keeps the cloud's own word.
const (
	InstancePending     InstanceState = "pending"      // being created
	InstanceRunning     InstanceState = "running"      //
	InstanceStopping    InstanceState = "stopping"     //
	InstanceStopped     InstanceState = "stopped"      //
	InstanceStarting    InstanceState = "starting"     //
	InstanceRollingBack InstanceState = "rolling-back" // a disk is being reset to a snapshot
	InstanceBusy        InstanceState = "busy"         // another transitional state (upgrading, rebooting, ...)
	InstanceUnavailable InstanceState = "unavailable"  // disabled, expired, terminating or failed to launch
	InstanceUnknown     InstanceState = "unknown"      // a state this library does not know
)

// Transitional reports whether the state is on its way to another one by
// itself, so waiting is the right response.
func (s InstanceState) Transitional() bool {
	switch s {
	case InstancePending, InstanceStopping, InstanceStarting, InstanceRollingBack, InstanceBusy:
		return true
	}
	return false
}

// Instance is a normalized view of a server.
type Instance struct {
	Provider    string
	Region      string
	ID          string
	Name        string
	State       InstanceState
	NativeState string // the cloud's own state word, e.g. "Stopped", "STOPPED"
	// Busy reports an operation in progress: a transitional state, or on
	// Lighthouse a LatestOperationState of OPERATING.
	Busy         bool
	SystemDiskID string
	// LatestOperation is the last operation the cloud reports for the
	// instance (Lighthouse). It is the zero Operation on SWAS.
	LatestOperation Operation
}

// SnapshotState is a snapshot's state, the same on every cloud.
type SnapshotState string

// Snapshot states.
const (
	SnapshotReady       SnapshotState = "ready"        // usable for a rollback
	SnapshotCreating    SnapshotState = "creating"     //
	SnapshotRollingBack SnapshotState = "rolling-back" // a rollback from it is running
	SnapshotFailed      SnapshotState = "failed"       // creation failed; unusable
	SnapshotUnknown     SnapshotState = "unknown"      // a state this library does not know
)

// Snapshot is a normalized view of a disk snapshot.
type Snapshot struct {
	Provider    string
	Region      string
	ID          string
	Name        string
	DiskID      string // the disk it was taken from
	InstanceID  string // the instance of that disk, when the cloud says
	State       SnapshotState
	NativeState string
	// Progress is the creation progress, 0 to 100.
	Progress  int
	CreatedAt time.Time
	// LastRollbackAt is when a disk was last rolled back to this snapshot
	// (SWAS RollbackTime); zero when never or not reported.
	LastRollbackAt time.Time
	// LatestOperation is the last operation the cloud reports for the
	// snapshot (Lighthouse: CreateInstanceSnapshot, RollbackInstanceSnapshot).
	LatestOperation Operation
}

// Disk is a normalized view of a disk.
type Disk struct {
	Provider    string
	Region      string
	ID          string
	InstanceID  string
	System      bool // the instance's system disk
	NativeState string
	// Busy reports that the disk is being re-initialised or attached.
	Busy   bool
	SizeGB int
}

// OperationKind names what an Operation did, the same on every cloud.
type OperationKind string

// Operation kinds.
const (
	OpRollback       OperationKind = "rollback"
	OpStop           OperationKind = "stop"
	OpStart          OperationKind = "start"
	OpCreateSnapshot OperationKind = "create-snapshot"
	OpOther          OperationKind = "other"
)

// MutatingKinds are the kinds of the actions a cloud's quota counts, the
// keys of Capabilities.Quotas.
var MutatingKinds = []OperationKind{OpRollback, OpStop, OpStart, OpCreateSnapshot}

// QuotaEach returns Quotas with the same quota l for every mutating kind
// (clouds that count each action in its own window of the same size), or
// nil when l is no limit (Calls or Per <= 0).
func QuotaEach(l RateLimit) map[OperationKind]RateLimit {
	if l.Calls <= 0 || l.Per <= 0 {
		return nil
	}
	m := make(map[OperationKind]RateLimit, len(MutatingKinds))
	for _, k := range MutatingKinds {
		m[k] = l
	}
	return m
}

// OperationState is the state of an Operation.
type OperationState string

// Operation states.
const (
	OperationRunning   OperationState = "running"
	OperationSucceeded OperationState = "succeeded"
	OperationFailed    OperationState = "failed"
)

// Operation is the last operation a cloud reports on a resource. The zero
// value means none is reported.
type Operation struct {
	Kind        OperationKind
	Name        string // the cloud's name, e.g. "RollbackInstanceSnapshot"
	State       OperationState
	NativeState string // e.g. "OPERATING"
	RequestID   string // the request that started it
}

// IsZero reports whether no operation is recorded.
func (o Operation) IsZero() bool { return o == Operation{} }

// BatchSnapshotInspector reads many snapshots of one region with as few calls
// as the cloud allows. Waits for many rollbacks use it when present.
type BatchSnapshotInspector interface {
	Snapshots(ctx context.Context, region string, snapshotIDs []string) ([]*Snapshot, error)
}

// Package tencenttest is a wire-level emulator of the Tencent Cloud
// Lighthouse API (version 2020-03-24), for testing code that rolls
// instances back to snapshots, in the manner of net/http/httptest.
//
// It speaks the real API 3.0 protocol, so the official SDK (or any other
// client) talks to it unchanged: JSON POST (or the SDK's GET form), the
// X-TC-* headers, TC3-HMAC-SHA256 signatures verified against known
// credentials, and errors as {"Response":{"Error":{"Code","Message"},"RequestId"}}
// with HTTP 200, in English when X-TC-Language is en-US (Chinese otherwise,
// as the cloud does by default).
//
//	srv := tencenttest.NewServer(tencenttest.WithClock(clk))
//	defer srv.Close()
//	in, _ := srv.AddInstance(tencenttest.Instance{State: tencenttest.StateStopped})
//	sn, _ := srv.AddSnapshot(tencenttest.Snapshot{InstanceID: in.ID})
//	// point the client at srv.URL with tencenttest.DefaultSecretID/DefaultSecretKey
//
// # The shape every emulator here shares
//
// tencenttest and aliyuntest are one product with two protocols, built on
// package emulator; what is the same concept has the same name and
// signature in both:
//
//   - Construction: NewServer (listening on 127.0.0.1), NewHandler (not
//     listening), Close, URL, Endpoint, Clock, Region, Durations,
//     Credential. NewSTS(srv) issues temporary keys (STS.Issue returns a
//     Credential and its expiry).
//   - Options: WithClock, WithCredential(Credential), WithCredentials,
//     WithSessionCredentials,
//     WithRegions, WithDurations (Stop, Start, Rollback, CreateSnapshot, and
//     the cloud's own extra fields), WithRateLimit(action, RateWindow)
//     (action "" for every action), WithoutRateLimits, WithSnapshotQuota
//     (0 the default, negative no limit), WithReadLag, WithoutTimestampCheck.
//   - Seeders return (value, error) and seed nothing on error: AddInstance,
//     AddSnapshot, Set*. Must(v, err) panics instead, for demos and tests.
//   - Faults and hooks: AddFault(Fault), ClearFaults, PendingFaults, Before,
//     After, FailNextRollbacks; other actors: Actor*, with ActorError.
//   - Observation: Journal() *Journal of emulator.Entry (the same type in
//     both), Calls(action), Rollbacks, RollbacksOf, Instance, Snapshot.
//
// What only Lighthouse has: SetBusy (an operation in progress), SetDiskSize,
// SetDiskBusy, ReplaceSystemDisk, WithConcurrentRollbacks,
// WithDeniedActions, Start, DescribeInstancesDeniedActions. Lighthouse takes no
// ClientToken on these actions, so there is no WithTokenWindow.
//
// # State
//
// Instances and snapshots change state on the emulator's clock
// (WithClock; clock.NewVirtual makes a test fully deterministic). Nothing
// runs in the background: every read computes the state from timestamps.
//
//   - StopInstances: RUNNING -> STOPPING -> STOPPED; StartInstances: STOPPED
//     -> STARTING -> RUNNING. Both set the instance's LatestOperation to the
//     action, OPERATING until done, then SUCCESS, with the call's request ID.
//   - CreateInstanceSnapshot: a new snapshot CREATING with Percent growing to
//     100, then NORMAL; the snapshot's and the instance's LatestOperation is
//     CreateInstanceSnapshot (the instance is busy while its disk is copied).
//   - ApplyInstanceSnapshot: the instance must be STOPPED or RUNNING with no
//     operation in progress, the snapshot NORMAL and of the instance's system
//     disk, of the disk's current size. A RUNNING instance is forced off first
//     (STOPPING for Durations.Stop). The instance's LatestOperation becomes
//     ApplyInstanceSnapshot and the snapshot's RollbackInstanceSnapshot, both
//     OPERATING with the call's request ID; the snapshot is ROLLBACKING with
//     Percent growing. After Durations.Rollback both are SUCCESS (FAILED after
//     FailNextRollbacks), the snapshot NORMAL and the instance STOPPED.
//   - Seeded transitional states (PENDING, STARTING, STOPPING, REBOOTING) run
//     their course; LAUNCH_FAILED, SHUTDOWN and TERMINATING stay.
//
// # Error codes from state
//
// Eighteen of the twenty codes of the ApplyInstanceSnapshot page come from
// state, not only from AddFault; the two left, FailedOperation and
// InternalError .DescribeInstanceStatus, are the cloud failing to read a
// status, which no state of an account causes. Beyond the cases below:
//
//   - ResourceNotFound.DiskNotFound: a snapshot of the instance's system
//     disk from before ReplaceSystemDisk (a reinstall); only the original
//     disk can be rolled back.
//   - UnsupportedOperation.DiskBusy: a snapshot of the disk is CREATING.
//   - UnsupportedOperation.DiskLatestOperationUnfinished: SetDiskBusy.
//   - UnsupportedOperation.SnapshotBusy: the snapshot is ROLLBACKING (a
//     rollback or a DeleteSnapshots with it).
//   - UnsupportedOperation.SystemBusy: WithConcurrentRollbacks rollbacks
//     are already in progress in the region.
//   - FailedOperation.SnapshotOperationFailed: the snapshot's
//     CreateInstanceSnapshot operation FAILED (seeded).
//   - UnauthorizedOperation.NoPermission: WithDeniedActions.
//   - UnsupportedOperation.InstanceExpired (a common code): the instance is
//     past its ExpiredTime, isolated (SHUTDOWN, IsolatedTime set).
//   - LimitExceeded.SnapshotQuotaLimitExceeded: WithSnapshotQuota.
//
// # Choices where the cloud's documents are silent
//
//   - A snapshot of another instance: ResourceNotFound.SnapshotNotFound.
//   - An operation in progress: OperationDenied.InstanceCreating while PENDING,
//     OperationDenied.InstanceOperationInProgress while STARTING, STOPPING or
//     REBOOTING, UnsupportedOperation.LatestOperationUnfinished when the state
//     is stable but LatestOperationState is OPERATING (a rollback, a snapshot,
//     SetBusy). A state that forbids the action:
//     UnsupportedOperation.InvalidInstanceState (stopping a stopped instance
//     included).
//   - A region not served: UnsupportedRegion. A wrong version: NoSuchVersion.
//     An unknown action: InvalidAction. An unknown parameter: UnknownParameter.
//   - A missing or garbled Authorization header:
//     AuthFailure.InvalidAuthorization; a credential scope whose date or
//     service does not match: AuthFailure.SignatureFailure; a missing
//     X-TC-Timestamp: MissingParameter. X-TC-Timestamp is checked against
//     the wall clock (the SDK signs with it), 5 minutes either way.
//   - More than 100 IDs, or Limit over 100: InvalidParameterValue.LimitExceeded
//     / InvalidParameterValue. IDs and Filters together:
//     InvalidParameter.ParameterConflict.
//   - IDs are well-formed when they are the prefix (lhins-, lhsnap-) and
//     lower-case letters or digits; otherwise *IdMalformed.
//
// # Rate limit, faults, journal
//
// Each action accepts 20 requests per second per SecretId (WithRateLimit,
// WithoutRateLimits),
// in a sliding window on the emulator clock; beyond, RequestLimitExceeded.
// AddFault injects failures into the calls of an action (see Fault): an error
// code with any HTTP status (a non-200 carries the error envelope, which the
// SDK reports as ClientError.HttpStatusCodeError), a raw body, latency (if the
// client gives up while waiting, nothing is applied), a connection reset
// before applying, or the response lost after applying. Faults count calls
// that passed authentication and routing, before the rate limit. The Journal
// records every request with its parameters (never credentials or
// signatures) and whether it was applied; Rollbacks and RollbacksOf count
// applied rollbacks.
//
// # Other actors, hooks, read lag
//
// Before and After run a function at the n-th request of an action (before
// it is handled, or after it changed state and before the reply leaves), on
// the request's goroutine. ActorStartInstance, ActorStopInstance,
// ActorCreateSnapshot and ActorApplySnapshot change state as someone else
// using the same account would, through the same action code, journaled
// with Entry.Actor OtherActor. WithReadLag / SetReadLag make
// DescribeInstances and DescribeSnapshots show InstanceState,
// SnapshotState, Percent and the LatestOperation* fields of a changed
// resource as they were before the change, for the lag after it (see
// SetReadLag for exactly what lags).
package tencenttest

// Package aliyuntest is a wire-level emulator of Alibaba Cloud Simple
// Application Server (SWAS, API 2020-06-01), in the manner of
// net/http/httptest: start one with NewServer, point any SWAS client at its
// URL (the official SDK, our aliyun package, your own code) and assert on
// what happened.
//
//	srv := aliyuntest.NewServer(aliyuntest.WithClock(clk))
//	defer srv.Close()
//	in := aliyuntest.Must(srv.AddInstance(aliyuntest.InstanceSpec{Status: aliyuntest.StatusStopped}))
//	snap := aliyuntest.Must(srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: in.SystemDiskID}))
//	// ... roll back with any client, then:
//	srv.Rollbacks(), srv.Journal().Entries()
//
// It imports only the standard library and this module's clock; it shares
// no code with the SDK or with the aliyun package, so a bug in a client
// cannot hide behind the same bug in its test server.
//
// # The shape every emulator here shares
//
// aliyuntest and tencenttest are one product with two protocols, built on
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
// What only SWAS has: Credential.Inactive, WithTokenWindow
// (ClientToken), NewTLSServer, disks (Disk, DataDiskIDs), tags.
//
// # Protocol
//
// RPC style: POST (GET accepted), parameters in the query (a form body is
// merged in). The server checks Version=2020-06-01, Format=JSON,
// SignatureMethod=HMAC-SHA1, SignatureVersion=1.0, a known and active
// AccessKeyId, the HMAC-SHA1 signature (StringToSign, Sign), the
// SecurityToken of STS credentials, a Timestamp within 15 minutes of wall
// time (the SDK signs with wall time whatever clock the server runs on) and
// a SignatureNonce not seen before. Successful replies are JSON with flat
// arrays ("Instances":[...]); errors are
// {"RequestId","HostId","Code","Message","Recommend"}, every field a
// string, with the HTTP status below. Request IDs are upper-case UUIDs and
// also sent in the x-acs-request-id header.
//
// # Actions
//
// ResetDisk, ListInstances, ListInstanceStatus, ListDisks, ListSnapshots,
// StopInstance, StartInstance, CreateSnapshot and DeleteSnapshot. The list
// actions take their ID filters as JSON arrays (InstanceIds, DiskIds,
// SnapshotIds; at most 100), page with PageSize (1-100, default 10) and
// PageNumber, and honour every filter of the SDK's request models:
// ListInstances by Status, InstanceName, Tag.N (every key must be there,
// with the value when one is given), ChargeType, ResourceGroupId, PlanType
// and PublicIpAddresses; ListDisks by InstanceId, DiskType, Tag.N and
// ResourceGroupId; ListSnapshots by DiskId, InstanceId, SourceDiskType,
// Tag.N and ResourceGroupId (a disk's or snapshot's group is its server's).
// A parameter a list action does not take, or a value outside a filter's
// set, is refused with 400 InvalidParameter.<Name>: never silently ignored,
// so a test scoped by a filter cannot pass on the whole account. Servers
// carry the model's fields (Uuid, ResourceGroupId, PlanType, ResourceSpec,
// Image, NetworkAttributes, Tags, ...); InstanceSpec seeds the ones filters
// read. The
// InstanceId filter of ListSnapshots matches snapshots of that instance's
// disks, but the InstanceId field is reported only for system-disk
// snapshots, as on SWAS. Every resource belongs to one region; asking
// another region does not find it.
//
// TagResources, ListTagResources and UntagResources follow swas-open's SDK
// models: ResourceType (instance, snapshot, disk; customimage, command and
// firewallrule are accepted but hold nothing), ResourceId.N (at most 50,
// each existing in the region, else 404 InvalidResourceId.NotFound),
// Tag.N.Key/Value (at most 20; keys 1 to 64 characters, not starting with
// aliyun or acs:; values at most 64) and TagKey.N or All=true to remove.
// A resource holds at most 20 tags (400 QuotaExceed.TagsPerResource,
// chosen here). ListTagResources needs ResourceId.N or Tag.N (400
// MissingParameter.ResourceIdOrTag), lists one pair per resource and tag
// ({"TagResources":{"TagResource":[...]}}), 50 a page with NextToken. List
// replies carry each resource's Tags. Tag calls take ClientTokens like the
// other mutating calls.
//
// # State
//
// State changes are deadlines on the server's clock (WithClock; the wall
// clock by default), applied lazily when someone looks: no goroutine runs
// in the background, and a clock.Virtual decides everything.
//
//   - StopInstance: Running -> Stopping -> Stopped after Durations.Stop.
//     StartInstance: Stopped -> Starting -> Running after Durations.Start.
//     From any other status: 403 IncorrectInstanceStatus.
//   - ResetDisk: the instance must be Stopped (else 403
//     IncorrectInstanceStatus.ResetDisk). It goes Resetting and the disk
//     ReIniting at once; after Durations.Rollback both return to
//     Stopped/In_use and the snapshot's RollbackTime becomes that
//     completion time. After FailNextRollbacks the same happens except that
//     RollbackTime is left alone: a failed rollback.
//   - CreateSnapshot: the instance must be Running or Stopped (else 403
//     IncorrectInstanceStatus) and have fewer snapshots than the quota
//     (WithSnapshotQuota, default 3 per server, else 403
//     QuotaExceed.Snapshot). The snapshot is Progressing, its Progress
//     ("NN%") grows linearly, and it is Accomplished after
//     Durations.CreateSnapshot.
//   - DeleteSnapshot refuses a Progressing snapshot (403
//     IncorrectSnapshotStatus).
//   - Seeding: AddInstance, AddSnapshot (any status), SetInstanceStatus
//     (including Pending, Upgrading, Disabled), SetInstanceBusy (a status
//     for a while, then back). Past InstanceSpec.ExpiredTime a server is
//     Disabled (BusinessStatus Expired), as an unrenewed one is.
//
// # Idempotency
//
// A call carrying a ClientToken (ASCII, at most 64 characters, else 400
// InvalidClientToken.ValueNotSupported) is remembered per access key and
// action once it has changed state. The same token with the same
// parameters gets the first answer again, RequestId included, and changes
// nothing; with other parameters it gets 400 IdempotentParameterMismatch.
// A token whose call was refused is not remembered and may be used again.
//
// # Rate limits
//
// Like SWAS: 10 calls per minute per access key for each of ResetDisk,
// StopInstance, StartInstance and CreateSnapshot (a sliding window on the
// server's clock; WithRateLimit, WithoutRateLimits). A call over the quota
// gets 400 Throttling.User "Request was denied due to user flow control."
//
// # Faults
//
// AddFault arms a Fault (see its documentation): an error code instead of
// applying the Nth call, added latency, a connection reset before applying,
// or the response lost after applying. Faults count only well-formed,
// authenticated calls, and fire before the rate limit. A call delayed by
// Latency is still applied if its client gives up meanwhile, as on a real
// server. An injected Code takes its usual status and message from the
// table below unless the Fault sets them; an unknown code is 400, and a
// raw Body without a known code is 502.
//
// # Journal and counters
//
// Journal records every request when it is answered (or dropped), so a
// resend always follows the attempt it repeats: action, region, arrival
// time on the server's clock, API parameters (never the AccessKeyId,
// Signature, SignatureNonce, Timestamp or SecurityToken), status, code,
// request ID, the fault that fired and whether state changed. A Fault with
// HTTPStatus 200 and a Body answers with that body as a success: a canned
// reply.
// Rollbacks and RollbacksOf count accepted ResetDisk calls.
//
// # Other actors, hooks, read lag, forgotten tokens
//
// Before and After run a function at the n-th request of an action (before
// it is handled, or after it changed state and before the reply leaves), on
// the request's goroutine. ActorStartInstance, ActorStopInstance,
// ActorCreateSnapshot and ActorResetDisk change state as someone else using
// the same account would, through the same action code, journaled with
// Entry.Actor OtherActor (Calls does not count them). WithReadLag /
// SetReadLag make the List actions show the Status of changed instances and
// disks and the Status, Progress and RollbackTime of changed snapshots as
// they were before the change, for the lag after it (see SetReadLag).
// WithTokenWindow / SetTokenWindow make the server forget a ClientToken a
// while after its first accepted use.
//
// # Error codes
//
// From the SWAS documentation: 404 InvalidDiskId.NotFound, 404
// InvalidSnapshotId.NotFound, 500 InternalError, 403
// IncorrectInstanceStatus.ResetDisk, 400 Throttling.User. From the common
// Alibaba Cloud gateway: 404 InvalidAccessKeyId.NotFound, 400
// InvalidAccessKeyId.Inactive, 400 SignatureDoesNotMatch (its message ends
// with the server's string to sign, as the real one does), 400
// SignatureNonceUsed, 400 InvalidTimeStamp.Expired / .Format, 400
// InvalidSecurityToken.MismatchWithAccessKey, 404 InvalidAction.NotFound,
// 400 InvalidVersion, 400 UnsupportedHTTPMethod, 400 MissingParameter
// (protocol parameters), 400 Missing<Name> (action parameters, e.g.
// MissingDiskId), 400 InvalidParameter.<Name>, 400
// IdempotentParameterMismatch, 404 InvalidInstanceId.NotFound, 403
// IncorrectInstanceStatus, 503 ServiceUnavailable (a drop over HTTP/2).
//
// Chosen by this emulator where the SWAS documents are silent: 400
// InvalidRegionId (a region the server does not serve), 403
// InvalidSnapshotId.DiskMismatch (ResetDisk with a snapshot of another
// disk), 403 InvalidSnapshotId.NotReady (ResetDisk with a snapshot that is
// not Accomplished), 403 IncorrectSnapshotStatus (deleting a Progressing
// snapshot), 403 QuotaExceed.Snapshot, 400
// InvalidClientToken.ValueNotSupported.
package aliyuntest

// Package aliyun rolls back Alibaba Cloud Simple Application Server (SWAS)
// disks through the official SDK (services/swas-open, API 2020-06-01).
//
// *Client implements rollback.Provider, rollback.BatchInspector,
// rollback.BatchSnapshotInspector, rollback.DiskInspector,
// rollback.RequestValidator and rollback.Namer:
//
//	c, err := aliyun.New(aliyun.Config{Region: "cn-hangzhou"}) // keys from ALIBABA_CLOUD_*
//	res, err := c.Rollback(ctx, rollback.Request{
//		Region: "cn-hangzhou", DiskID: "d-...", SnapshotID: "s-...",
//		OperationKey: "ticket-1234", // the same key always sends the same ClientToken
//	})
//
// Rollback sends one ResetDisk. The instance must already be Stopped;
// rollback.Run stops it, waits and restarts it when asked. See the
// aliyuntest package for an emulator to test against.
//
// # What the client takes care of
//
//   - Endpoint: https://swas.<region>.aliyuncs.com of each call's region,
//     always explicit, so the SDK never falls back to plain HTTP (its
//     default) or asks the location service. Config.Endpoint overrides it;
//     plain http:// only for loopback hosts unless
//     rollback.WithInsecureHTTP.
//   - Credentials: Config, else the ALIBABA_CLOUD_ACCESS_KEY_ID,
//     ALIBABA_CLOUD_ACCESS_KEY_SECRET and ALIBABA_CLOUD_SECURITY_TOKEN
//     environment variables; nothing else (the SDK's default chain would
//     read profile files and probe the ECS metadata service). No
//     credentials is ErrUnauthenticated, naming those variables.
//   - Concurrency: the SDK client is not safe for concurrent use, so each
//     call in flight uses an SDK client of its own from a pool; cancelling
//     a call's context aborts its HTTP request at once.
//   - Retries: the SDK's are off; ours retry throttling, internal errors
//     and network failures with jittered exponential backoff
//     (rollback.WithRetryPolicy). ResetDisk, StopInstance, StartInstance
//     and CreateSnapshot send a ClientToken that every retry reuses.
//   - Rate limit: ResetDisk, StopInstance, StartInstance and CreateSnapshot
//     are each paced to 10 calls per minute per Client, SWAS's quota per
//     account (rollback.WithRateLimit, rollback.WithoutRateLimit). Clients
//     sharing one account share its quota: use one Client per account.
//   - Errors: every error is a *rollback.Error matching a sentinel
//     (errors.Is) with the SWAS code, message, request ID and HTTP status;
//     errors.As reaches the SDK's *errors.ServerError. The SDK writes the
//     AccessKeyId and the signature into its transport errors and the
//     server quotes them in SignatureDoesNotMatch; they are removed from
//     every error and log line.
//   - Input: disk IDs "d-...", snapshot IDs "s-...", client tokens and
//     regions are checked before anything is sent (ErrInvalidArgument,
//     naming the field).
//
// # State
//
// Instance statuses map as Running, Stopped, Starting, Stopping, Pending
// to their namesakes, Resetting to rollback.InstanceRollingBack, Upgrading
// to rollback.InstanceBusy and Disabled to rollback.InstanceUnavailable.
// Snapshots: Accomplished is ready, Progressing creating, Failed failed;
// Progress comes from "NN%" and LastRollbackAt from RollbackTime. A
// rollback has finished when the instance leaves Resetting; it succeeded
// when the snapshot's RollbackTime moved past Result.Before's.
//
// ResetDisk goes through the library's exactly-once engine
// (internal/once) with SWAS's evidence. Result.Adopted is set when a reply
// proves that an earlier attempt landed (SWAS answers a resent ClientToken
// with the first call's request ID, seen again), or when the call failed
// after an ambiguous attempt (lost replies, timeouts, an empty reply) and
// the state, read at once and again after the read grace
// (rollback.WithReadGrace), shows the snapshot's RollbackTime past
// Result.Before's. A reset under way (Resetting) names no snapshot: it is
// waited out and judged when it ends, and one that ends without a new
// RollbackTime (it failed, or was another's) is rollback.ErrOutcomeUnknown,
// as is state that cannot be read. After a lost reply the resend's answer
// cannot be told from a first application; the ClientToken still makes it
// exactly once while the cloud remembers the token. The Client is a
// rollback.RollbackWitness: rollback.Run asks it before resuming an
// operation whose reset may have been sent, so a resume never relies on
// the cloud still honouring an old token.
//
// Reads check their replies: an empty reply is rollback.ErrInternal, never
// "not found", and only the IDs asked for are returned.
//
// The SDK prints signed request URLs to stdout when the DEBUG environment
// variable contains "sdk"; leave it unset in production.
package aliyun

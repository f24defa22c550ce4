// Package aliyun rolls back Alibaba Cloud Simple Application Server (SWAS)
// disks through the official SDK (services/swas-open, API 2020-06-01).
//
// *Client is a rollback.Provider that declares, in Capabilities, batch
// reads of instances and snapshots, disk reads, request validation, wait
// priors, a rollback witness and an operation marker:
//
//	c, err := aliyun.New(aliyun.Config{Region: "cn-hangzhou"}) // credentials from the default chain
//	res, err := c.Rollback(ctx, rollback.Request{
//		Region: "cn-hangzhou", DiskID: "d-...", SnapshotID: "s-...",
//		OperationKey: "ticket-1234", // the same key always sends the same ClientToken
//	})
//
// Rollback sends one ResetDisk. The instance must already be Stopped;
// rollback.Run stops it, waits and restarts it when asked. See the
// aliyuntest package for an emulator to test against.
//
// Importing the package registers the "aliyun" scheme with rollback.Open:
// rollback.Open(ctx, "aliyun://cn-hangzhou?profile=ops") is New with the
// Config the URL describes (see URLOpener for its parameters).
//
// # What the client takes care of
//
//   - Endpoint: https://swas.<region>.aliyuncs.com of each call's region,
//     always explicit, so the SDK never falls back to plain HTTP (its
//     default) or asks the location service. Config.Endpoint overrides it;
//     plain http:// only for loopback hosts unless
//     rollback.WithInsecureHTTP.
//   - Credentials: see below.
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
// (provider/once) with SWAS's evidence. Result.Adopted is set when a reply
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
// provider.RollbackWitness: rollback.Run asks it before resuming an
// operation whose reset may have been sent, so a resume never relies on
// the cloud still honouring an old token.
//
// Reads check their replies: an empty reply is rollback.ErrInternal, never
// "not found", and only the IDs asked for are returned.
//
// The SDK prints signed request URLs to stdout when the DEBUG environment
// variable contains "sdk"; leave it unset in production.
//
// # Credentials
//
// Config's AccessKeyID/AccessKeySecret (and SecurityToken) are used as
// they are. Otherwise New finds credentials the way the Alibaba Cloud SDK's
// default chain (credentials.NewDefaultCredentialsProvider) and the aliyun
// CLI do, in this order, and fails with ErrUnauthenticated naming each
// source tried when none has any:
//
//  1. the environment: ALIBABA_CLOUD_ACCESS_KEY_ID,
//     ALIBABA_CLOUD_ACCESS_KEY_SECRET and ALIBABA_CLOUD_SECURITY_TOKEN;
//  2. an OIDC token file (ACK RRSA): ALIBABA_CLOUD_ROLE_ARN,
//     ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE,
//     exchanged with STS AssumeRoleWithOIDC;
//  3. the aliyun CLI's ~/.aliyun/config.json, profile Config.Profile, else
//     ALIBABA_CLOUD_PROFILE, else its current one (off with
//     ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true);
//  4. the credentials file ALIBABA_CLOUD_CREDENTIALS_FILE or
//     ~/.alibabacloud/credentials;
//  5. the ECS instance's RAM role from the metadata service
//     (http://100.100.100.200, IMDSv2 first; role ALIBABA_CLOUD_ECS_METADATA;
//     off with ALIBABA_CLOUD_ECS_METADATA_DISABLED=true);
//  6. ALIBABA_CLOUD_CREDENTIALS_URI.
//
// Config.StaticOnly stops after the environment. Config.RoleARN assumes a
// role (STS AssumeRole, RoleSessionName, RoleDuration) with whatever was
// found. Temporary credentials are renewed before they expire, once for all
// calls of the Client; a call that meets InvalidSecurityToken.Expired
// anyway refreshes them and is sent once more. Every key, secret and token
// is removed from errors and logs, rotated ones included.
// Config.STSEndpoint and MetadataEndpoint move STS and the metadata
// service (an emulator: see aliyuntest.NewSTS).
package aliyun

// Package tencent rolls Tencent Cloud Lighthouse instances back to a
// snapshot (ApplyInstanceSnapshot, API version 2020-03-24) through the
// official Go SDK, behind the provider-neutral rollback.Provider interface.
//
// # Client
//
// New takes a Config (region, credentials or the default chain below,
// endpoint) and rollback options (clock, logger, retry policy,
// rate limit, HTTP transport, per-attempt timeout). One Client serves every
// allowed region, chosen per call, and any number of goroutines: each call
// borrows an SDK client of its own, whose requests carry the call's context,
// so cancelling the context aborts the HTTP request at once (the SDK itself
// takes no context). Replies come in English (X-TC-Language en-US).
//
// Importing the package registers the "tencent" scheme with rollback.Open:
// rollback.Open(ctx, "tencent://ap-guangzhou?profile=ops") is New with the
// Config the URL describes (see URLOpener for its parameters).
//
// The SDK's constructor sets the process-wide log flags; New and every later
// SDK client construction put them back at once. The SDK's debug dump (which
// prints the Authorization header) is never enabled, and every error and log
// line passes through a redactor that removes the SecretId, SecretKey, token
// and signatures.
//
// # Exactly once without a token
//
// ApplyInstanceSnapshot has no client token, so a resend after a lost reply
// could roll back twice. Every mutating call goes through the library's
// exactly-once engine (provider/once) with Lighthouse's evidence. Rollback
// reads the snapshot and the instance before sending and records their
// LatestOperation and LatestOperationRequestId. After any failure that
// leaves open whether the call was applied (a network error other than a
// failure to connect, a 5xx, InternalError, an unreadable or empty reply),
// and after a busy reply that may be caused by such an earlier attempt, it
// sends nothing until it has read them again, at once and once the read
// grace (rollback.WithReadGrace) has passed: a RollbackInstanceSnapshot
// operation on the snapshot with a new request ID means the call landed,
// and Rollback succeeds with that request ID and Result.Adopted; an
// ApplyInstanceSnapshot on the instance that the snapshot does not name is
// someone else's rollback, ErrOutcomeUnknown; only no change permits a
// resend, and the instance is checked again before it (RUNNING is refused
// unless Config.AllowForcedStop). Unreadable state gives
// ErrOutcomeUnknown, whose message says what to check. StopInstance,
// StartInstance and CreateSnapshot use the same engine with their own
// evidence (the instance's state; a new snapshot). The Client is a
// provider.RollbackWitness, which rollback.Run asks before it resumes an
// operation whose rollback may have been sent.
//
// Rollback also refuses, before sending anything: a snapshot that is not
// NORMAL (ErrSnapshotState) or not of the instance's system disk
// (ErrSnapshotMismatch), a DiskID that is not the system disk
// (ErrInvalidArgument), an instance with an operation in progress (ErrBusy)
// and a RUNNING instance (ErrInstanceState), which the cloud would shut down
// without asking, unless Config.AllowForcedStop is set.
//
// # Errors
//
// Every error is a *rollback.Error with Provider "tencent", the action in
// Op, the cloud's Code, Message and RequestId, and the SDK's
// *errors.TencentCloudSDKError (redacted) in Err. The twenty codes of the
// ApplyInstanceSnapshot page, the common ones (RequestLimitExceeded,
// AuthFailure.*, InternalError, InvalidParameter*, MissingParameter, ...) and
// LimitExceeded.SnapshotQuotaLimitExceeded map to rollback's sentinels; see
// the codes table in errors.go. A non-200 reply, which the SDK reports as
// ClientError.HttpStatusCodeError with the body only in its message, gets its
// code, message and request ID back from that body when it carries the
// cloud's envelope, and is classified by its status otherwise.
//
// # Testing
//
// Package tencenttest is a wire-level Lighthouse emulator; point
// Config.Endpoint at it and share its clock (rollback.WithClock) so that
// minutes of cloud time pass in microseconds.
//
// # Credentials
//
// Config's SecretID/SecretKey (and Token) are used as they are. Otherwise
// New finds credentials in this order, the tccli and Tencent Cloud SDK
// conventions, and fails with ErrUnauthenticated naming each source tried
// when none has any:
//
//  1. the environment: TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY and
//     TENCENTCLOUD_SESSION_TOKEN (or TENCENTCLOUD_SECURITY_TOKEN);
//  2. a TKE OIDC token file: TKE_PROVIDER_ID, TKE_WEB_IDENTITY_TOKEN_FILE,
//     TKE_ROLE_ARN (and TKE_REGION), exchanged with STS
//     AssumeRoleWithWebIdentity;
//  3. tccli's profile ~/.tccli/<profile>.credential, profile Config.Profile,
//     else TENCENTCLOUD_PROFILE, else "default";
//  4. the credentials file TENCENTCLOUD_CREDENTIALS_FILE or
//     ~/.tencentcloud/credentials (INI: secret_id, secret_key, token);
//  5. the instance's CAM role from the metadata service
//     (http://metadata.tencentyun.com; off with
//     TENCENTCLOUD_METADATA_DISABLED=true).
//
// Config.StaticOnly stops after the environment. Config.RoleARN assumes a
// role (STS AssumeRole through the SDK's sts client, RoleSessionName,
// RoleDuration) with whatever was found. Temporary credentials are renewed
// before they expire, once for all calls of the Client; a call that meets
// AuthFailure.TokenFailure anyway refreshes them and is sent once more.
// Every SecretId, SecretKey and token is removed from errors and logs,
// rotated ones included. Config.STSEndpoint and MetadataEndpoint move STS
// and the metadata service (an emulator: see tencenttest.NewSTS).
package tencent

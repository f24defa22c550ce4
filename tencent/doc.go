// Package tencent rolls Tencent Cloud Lighthouse instances back to a
// snapshot (ApplyInstanceSnapshot, API version 2020-03-24) through the
// official Go SDK, behind the provider-neutral rollback.Provider interface.
//
// # Client
//
// New takes a Config (region, credentials or the TENCENTCLOUD_* environment
// variables, endpoint) and rollback options (clock, logger, retry policy,
// rate limit, HTTP transport, per-attempt timeout). One Client serves every
// allowed region, chosen per call, and any number of goroutines: each call
// borrows an SDK client of its own, whose requests carry the call's context,
// so cancelling the context aborts the HTTP request at once (the SDK itself
// takes no context). Replies come in English (X-TC-Language en-US).
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
// exactly-once engine (internal/once) with Lighthouse's evidence. Rollback
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
// rollback.RollbackWitness, which rollback.Run asks before it resumes an
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
package tencent

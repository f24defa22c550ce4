// Package rollback rolls a cloud server's disk back to a snapshot, the same
// way on Alibaba Cloud Simple Application Server (SWAS, ResetDisk) and
// Tencent Cloud Lighthouse (ApplyInstanceSnapshot), and makes that one
// destructive call safe, exactly-once, clear and observable.
//
// A rollback erases everything written since the snapshot. Run is the way
// to do it that people trust at 3 a.m.:
//
//	p, err := tencent.New(tencent.Config{Region: "ap-guangzhou"}) // credentials from TENCENTCLOUD_*
//	rep, err := rollback.Run(ctx, p, rollback.Request{
//		Region:       "ap-guangzhou",
//		InstanceID:   "lhins-1234abcd",
//		SnapshotID:   "lhsnap-1234abcd",
//		OperationKey: "incident-4711", // same key after a crash: resumed, never applied twice
//	}, rollback.RunOptions{StopIfRunning: true, SafetySnapshot: true, StartAfter: true})
//
// Run checks before it acts (the snapshot exists, is ready and belongs to
// this disk; the instance is stopped, or is stopped only when you ask),
// can snapshot the current disk first so the rollback can be undone, sends
// the rollback exactly once, waits for it with polls that adapt to how long
// such operations take, optionally starts the instance again, and returns a
// Report of every step. RunOptions.DryRun makes every check and reports the
// plan without changing anything.
//
// # Providers
//
// The provider packages implement Provider over the clouds' official Go
// SDKs: github.com/cloudsnap/rollback/aliyun and
// github.com/cloudsnap/rollback/tencent. Their emulators,
// github.com/cloudsnap/rollback/aliyun/aliyuntest and
// github.com/cloudsnap/rollback/tencent/tencenttest, speak each cloud's
// wire protocol (signatures included) and keep state on a clock you
// control, so you can test your own tooling end to end without an account.
//
// Open picks the provider from a URL, so that a program needs no switch
// over clouds: "tencent://ap-guangzhou", "aliyun://cn-hangzhou?profile=ops".
// Importing a provider package registers its scheme (provider.Register,
// Schemes).
//
// For unit tests of code that calls Run, package memprovider is a provider
// that is its own cloud, in memory ("mem://").
//
// The types shared with providers (Request, Instance, Error, Option,
// Checkpoint, ...) are defined in package provider, the contract a
// provider implements, and named here by aliases. To write a provider for
// another cloud, read package provider, its call path (provider/invoke,
// provider/errmap, provider/once) and the conformance suite
// (providertest).
//
// # Errors
//
// Every error a provider returns is a *Error that errors.Is matches to one
// of the sentinels (ErrInstanceState, ErrSnapshotNotFound, which is also
// ErrNotFound, ErrThrottled, ...), that carries the cloud's code, message
// and request ID, and whose Error() says what to do where that is known.
// errors.As reaches the SDK's own error. Bad input is an ErrInvalidArgument
// naming the field, raised before anything is sent. IsRetryable tells
// whether an error is worth retrying; the clients already retry those, with
// exponential backoff and full jitter, and throttling waits longer.
//
// # Exactly once
//
// Every retry of a rollback reuses one client token: the caller's, one
// derived from Request.OperationKey (so a restarted process reuses it), or
// a random one. SWAS deduplicates by token. Lighthouse has no token: its
// client records the instance's and snapshot's latest operations before the
// first attempt and, after an ambiguous failure, reads them again before
// any resend. When the outcome cannot be known the error is
// ErrOutcomeUnknown; the library never guesses.
//
// # Time
//
// Every wait, retry and rate-limit pause reads a clock.Clock (WithClock,
// RunOptions.Clock, WaitOptions.Clock): the wall clock by default, a
// virtual or scaled clock in tests and demos, shared with the emulators.
package rollback

// Package memprovider is an in-memory cloud for unit tests of code that
// calls rollback.Run, RunBatch or the waiters: like gocloud's memblob, no
// HTTP, no SDK and no credentials, but the same state machine as the
// wire-level emulators (aliyun/aliyuntest, tencent/tencenttest) and the
// same fault injection.
//
// A Provider is the cloud and its client in one value. As a client it is a
// rollback.Provider with every optional interface Run uses (batched
// instance and snapshot reads, disk reads, pre-flight, request validation,
// wait priors, the rollback witness and operation marks of the
// exactly-once engine), and its calls take the library's own call path:
// rate limit, retries and retry budget, hooks, error mapping to
// *rollback.Error with codes (Codes) that map to the sentinels. As a
// cloud it keeps regions, instances with their system disks, snapshots,
// operations that take time on a clock.Clock (Durations), the latest
// operation of every resource with the request ID that started it, busy
// states, and the rollbacks applied to each instance (RollbacksOf).
//
// The test's side:
//
//   - seeders return (value, error): AddServer, AddInstance, AddSnapshot;
//   - faults: FailNext(action, n, sentinel), LoseNextReply (applied, reply
//     lost: the ambiguous case), AddFault for latency, codes, counts and
//     errors after the call was applied (Fault.AfterApply),
//     FailNextRollbacks (accepted, then failed), WithQuota (throttling);
//   - the world around the client: Actor* methods change resources as
//     someone else would, Before/After run code at the n-th call of an
//     action, SetReadLag makes reads lag writes, SetBusy keeps an
//     instance busy;
//   - what happened: Calls, Journal, RollbacksOf, ViewInstance.
//
// Give the provider the test's clock (WithClock(clock.NewAutoVirtual(...)))
// and pass the same clock to rollback.RunOptions: a rollback that takes a
// minute then runs in microseconds, and the same test makes the same
// changing calls with the same outcomes every time (the library's waits
// and retries jitter their delays, so when reads happen varies). Seeded
// IDs are sequential ("ins-000001", "disk-000001", "snap-000002"), so they
// can be asserted. Concurrent Runs (RunBatch) need clock.NewScaled
// instead: on an auto-advancing clock every sleeper pushes time forward
// for all, and waits time out.
//
// Semantics the emulators share: a rollback needs the instance stopped and
// idle and the snapshot ready and of its disk; it shows the instance and
// the snapshot RollingBack with a latest operation Rollback/Operating
// carrying the call's request ID, and ends Success (the snapshot's
// LastRollbackAt set) or Failed. By default the provider does not
// deduplicate client tokens (as Lighthouse): after a lost reply,
// exactly-once comes from evidence (the snapshot's rollback operation with
// a new request ID) read at least the read grace later. WithClientTokens
// makes it apply a token once and answer a resend with the first call's
// request ID (as SWAS), and its client then resends without proof. It keeps operation marks on the
// instance (as SWAS tags), so a keyed Run that lost its checkpoint can
// prove what it sent. A call that times out during injected latency
// applies nothing; LoseNextReply is the "applied, reply lost" case.
//
// Open serves the "mem://" scheme of rollback.Open.
package memprovider

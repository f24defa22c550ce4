// Package pgstore keeps rollback checkpoints and rate-limit windows in
// PostgreSQL, so that the replicas of a service share them: one Run at a
// time owns an operation key across every replica, and the cloud's quota
// holds for the whole deployment, not per process.
//
// Store implements rollback.Checkpointer. Each Acquire, Save and Release is
// one transaction that locks the key's row (SELECT ... FOR UPDATE; a new
// key's row is created with INSERT ... ON CONFLICT DO NOTHING, and a
// writer that loses that race locks the winner's row instead), applies the
// contract's rules (provider.CheckAcquire, provider.CheckSave) to the
// stored record and writes the new one. The record is the Checkpoint's
// JSON, kept as text beside its version, owner, lease and phase (columns
// for people and queries; the JSON is what is read back), so an unreadable
// record or one of an unknown version is rollback.ErrCheckpointCorrupt.
//
// Limiter implements rollback.Limiter: a sliding window per provider and
// action (and Scope, one per cloud account), as a log of reserved call
// slots in a table. A waiter locks the window's row, reserves the first
// slot that keeps at most Calls slots in any window of Per (plus a margin
// for network jitter), commits and sleeps until its slot, so callers from
// every replica are served in the order they came.
//
// Both create their tables on first use; Migrate creates them up front, for
// deployments that run schema changes separately. Leases and slots are
// judged on the library's clock (rollback.WithClock; the wall clock by
// default), so replicas need synchronised clocks, as for any lease.
package pgstore

// Package temporal runs this library's rollbacks as Temporal workflows, for
// teams that have outgrown one process: replicas of a service, fleets of
// thousands run from several hosts, rollbacks that must survive any crash.
// It is a nested module (github.com/cloudsnap/rollback/temporal), so that
// importers of the root module never inherit Temporal's dependencies.
//
// # Pieces
//
//   - Activities: the steps of rollback.Run over any rollback.Provider
//     (Check, Stop, SafetySnapshot, Rollback, Start, and the waits
//     WaitInstance, WaitSnapshot, WaitRollback that heartbeat every poll and
//     resume from the last heartbeat). Register them with Register or
//     NewWorkers; their names are "<provider>.<Method>".
//   - RollbackWorkflow: rollback.Run's steps, options (Options) and report
//     (*rollback.Report). Its workflow ID is the operation key; Start starts
//     it with a reuse policy that refuses any second start of the key, which
//     makes Temporal's duplicate check the cross-host "one key, one actor".
//     QueryProgress returns the report so far; SignalCancel stops it cleanly.
//   - FleetWorkflow: many rollbacks as child workflows (IDs = their keys),
//     MaxInFlight at a time, continuing as new every PerRun so history stays
//     bounded. Workers built with ActivityOptions.Batch merge the concurrent
//     children's reads into batched calls, as rollback.RunBatch does.
//
// # Exactly once across retries
//
// The library's retry layer retries transient faults inside one activity
// attempt; what reaches the activity boundary is returned to Temporal as a
// non-retryable ApplicationError whose type names the rollback sentinel
// ("InvalidArgument", "Timeout", ...; KindOf maps it back, DetailsOf gives
// the hint and request ID). Temporal's retry policy therefore only retries
// what the library cannot see (a worker that died, a heartbeat timeout), and
// the two never multiply. The Rollback activity is rollback.Run's rollback
// step (Run with NoWait) over a Checkpointer kept in the activity's
// heartbeats, so the library's own exactly-once rules decide: a retried
// attempt resumes from the last checkpoint Temporal got, taken to be at
// rollback-sending at least (heartbeats are throttled, and a dying
// attempt's last ones are lost), and the provider's RollbackWitness judges
// the cloud against the baseline Check read before anything was sent:
// ours landed is adopted, nothing landed is sent with the token derived
// from the operation key, cannot tell is ErrOutcomeUnknown. Every activity
// but Check heartbeats at least every 15s under a one-minute heartbeat
// timeout, so a dead worker's attempt is retried within a minute.
//
// # Quotas across workers
//
// Each mutating action of each provider has its own task queue
// (ActionQueue) whose workers set TaskQueueActivitiesPerSecond to
// QueueRate, so all workers together keep to the quota the provider
// declares (provider.Capabilities.Quotas, read by Quota: SWAS 10 a minute,
// Lighthouse 20 a second; a provider that declares none gets no queue
// limit, only its clients' own pacing). QueueRate is below the quota
// because the server's limit is a token bucket per queue partition that
// bursts after a lull: with the default 4 partitions, Lighthouse queues
// run at 8 a second and SWAS queues at 6 a minute. The provider client's
// own limiter remains as a second guard in each worker.
//
// examples/temporal has a worker, a starter and an emulated cloud to try it
// with a local Temporal (temporal server start-dev).
package temporal

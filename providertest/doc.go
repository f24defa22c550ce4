// Package providertest is the conformance suite for rollback providers:
// every rollback.Run scenario, fault, evidence rule, ownership rule,
// RunBatch, the waiters and each optional capability, run against a
// provider client over its own emulator or fake. A provider, in any
// module, is correct when Run passes for it unchanged; the SWAS and
// Lighthouse clients of this module run it from their own tests.
//
// # How to run it for your provider
//
// Write a Harness: your client over a fresh emulator (or in-memory fake)
// whose timed state changes read the clock the suite hands the Factory.
// Six methods are required: Provider, Request, NewTarget, Durations,
// Rollbacks and Calls. Then, in your provider's tests:
//
//	func TestConformance(t *testing.T) { providertest.Run(t, newHarness) }
//
// The suite builds a fresh Harness per scenario, almost always on an
// auto-advancing virtual clock (clock.NewAutoVirtual): a ten-minute
// rollback takes no real time, so the suite stays fast. Your emulator and
// your client must both read that clock.
//
// Optional knobs (SnapshotCreator, BusyMaker, RollbackFailer,
// ReplyDropper, Refuser, RollbackHooker, TokenForgetter,
// OtherActor, ReadLagger, AbsentTargets) are interfaces the Harness may
// also implement; each scenario that needs one the Harness lacks is
// skipped with a message naming it, and nothing else is. Likewise a
// provider without an optional capability (batch reads, disk reads,
// pre-flight, request validation, a rollback witness, operation marks,
// wait priors, its own checkpoints) has only the scenarios of that
// capability skipped. Run your tests with -v to see what was skipped and
// why.
//
// The suite counts calls through Harness.Calls to check what a Run sent:
// a scenario that asserts "nothing was sent" fails if your emulator counts
// a call in the wrong kind, so count every read as CallDescribe.
package providertest

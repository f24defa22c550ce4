// Package chaos runs the fault matrix and the randomized chaos soak
// against any rollback provider, from that provider's own tests, and
// judges it by the invariants the built-in clouds are held to: exactly one
// rollback, the right sentinel for the faults that fired, no credential or
// signature in any error, event, report or log line. (No goroutine may
// outlive a Run either: run the tests under goleak.VerifyTestMain.)
//
// A provider author writes an Env: the provider's client over its own
// emulator or fake, which seeds targets, injects faults by kind into the
// call of a role (rollback, stop, start, snapshot, describe), counts the
// rollbacks applied to each target, tells whether one succeeded and what
// state the instance is in, journals the calls, and lists the secrets and
// signatures to scan for. Its Profile names the calls by role and says
// what the cloud cannot tell (Traits). Optional interfaces add the world
// around the client: Busier, Actors (other actors between the client's
// calls), ReadLagger, TokenForgetter and Clients (a second process); an
// Env without them still runs the core soak and the matrix.
//
//	func newEnv(cfg chaos.Config) (chaos.Env, error) { ... }
//
//	func TestSoak(t *testing.T)        { chaos.Soak(t, newEnv, chaos.SoakConfig{}) }
//	func TestFaultMatrix(t *testing.T) { chaos.Matrix(t, newEnv, chaos.MatrixConfig{Specs: mySpecs}) }
//
// # Fault matrix
//
// Matrix runs rollback.Run with StopIfRunning, SafetySnapshot and StartAfter
// against every API call it makes x every fault kind (5xx, a gateway's 502,
// throttling, busy, connection reset, reply lost after applying, reply
// slower than the per-attempt timeout), injected once and persistently,
// plus combined cells for the outcomes no single fault reaches. With a
// spec, each cell is held to its expected outcome (ParseOutcome); without
// one, to the soak's invariants.
//
// # Chaos soak
//
// Soak runs randomized Runs (random workflows, timings, faults, crashes
// with resumes, with and without checkpoints; half of them inside
// RunBatch on a scaled clock; and, with the world interfaces, other
// actors, read lag, lost checkpoints and overlapping Runs judged by
// JudgeWorld). The package registers its flags in the test binary:
//
//	go test -race -run Soak -v ./mypkg                     # 2,000 runs
//	go test -race -run Soak -v -timeout 30m ./mypkg -soak.runs=20000
//	go test -race -run Soak -v ./mypkg -soak.seed=7 -soak.only=123  # replay one unit
//
// (or CHAOS_SOAK_RUNS, CHAOS_SOAK_SEED, CHAOS_SOAK_ONLY,
// CHAOS_SOAK_WORKERS). A failure names its unit and the command that
// replays it alone.
//
// # Judging and scanning
//
// Outcome, Observe and Sentinel name how a Run ended; Capture (a
// slog.Handler keeping raw text) and Scanner find secrets and signatures
// in what a Run wrote; ErrorTexts lists every text of an error chain.
// They serve any test that wants the same checks.
package chaos

// Package chaos proves the library's reliability promises against the two
// wire-level emulators: exactly one rollback, the right error, no secret in
// any error or log line, no leaked goroutine (goleak checks the package).
//
// The fault matrix, the soak, the judges and the secret scan are public, in
// providertest/chaos (pchaos here), so that any provider runs them. This
// package holds what is particular to the two clouds: Env (a provider
// client over its own emulator on 127.0.0.1, with the emulator's native
// faults and a transport that records every signature it sends), Public
// and Factory (Env as the harness's provider-neutral pchaos.Env: fault
// kinds become native codes, journal entries become calls), Profiles (the
// calls by role, the busy sentinel, the data-disk variant, the traits),
// the matrix's expected outcomes, the world scenarios and the regression
// scenarios. Capture, Scanner, Outcome and friends are aliases of the
// public ones, for the tests elsewhere (otel, credtest) that use them.
//
// # Fault matrix
//
// TestFaultMatrix runs pchaos.Matrix on both clouds at once: rollback.Run
// with StopIfRunning, SafetySnapshot and StartAfter against every API call
// it makes x every fault kind (5xx, throttling, busy, connection reset,
// reply lost after applying, reply slower than the per-attempt timeout),
// injected once and persistently, plus combined cells for the outcomes no
// single fault reaches. The expected outcome of each cell is data
// (matrixSpec); -v prints the observed matrix.
//
//	go test -race -run FaultMatrix -v ./internal/chaos
//
// # Chaos soak
//
// TestSoak runs pchaos.Soak on both clouds at once, half the runs each:
// randomized Runs (random workflows, timings, faults, crashes with
// resumes, with and without checkpoints; half of them inside RunBatch),
// each judged against the invariants. A failure names its cloud, its unit
// and the command that replays it alone.
//
//	go test -race -run Soak -v ./internal/chaos                      # CI: 2,000 runs
//	go test -race -run Soak -v -timeout 30m ./internal/chaos -soak.runs=20000
//	CHAOS_SOAK_RUNS=20000 go test -race -run Soak -v -timeout 30m ./internal/chaos
//	go test -race -run 'Soak/aliyun' -v ./internal/chaos -soak.seed=7 -soak.only=123  # replay
//
// # The world around the Run (issue 11)
//
// The World tests (world_test.go) put the Run among others: another actor
// starts, stops, snapshots or rolls back the server between its calls (the
// emulators' Before/After hooks and Actor* methods), two Runs of one key
// overlap (two goroutines, or two clients sharing a FileCheckpoints
// directory), a resumed Run finds its checkpoint lost, reads lag writes,
// SWAS forgets old tokens. judgeWorld holds them to four invariants: never
// two rollbacks for one key, never a success that was not ours, never a
// forced stop that was not allowed, never a checkpoint phase that moves
// backwards (pchaos.JudgeWorld). The soak draws the same worlds for about
// a third of its sequential units. Cases that failed before issue 11's
// engine are still marked by needsEngine (worldFixed, now true).
//
//	go test -race -run World -v ./internal/chaos
//
// # Scenarios
//
// The Scenario tests are deterministic reproductions of what the matrix
// and the soak found, one per fix. TestResumeFromStateAfterStart holds the
// lost-checkpoint rule: resumed without checkpoints after the crashed Run
// had started the instance, SWAS proves its rollback from its mark and
// Lighthouse refuses with ErrOutcomeUnknown; neither rolls back again.
package chaos

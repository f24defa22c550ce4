// Package chaos proves the library's reliability promises against the two
// wire-level emulators: exactly one rollback, the right error, no secret in
// any error or log line, no leaked goroutine.
//
// It holds tests only, and the helpers they share: Env (a provider client
// over its own emulator, with fault injection), Capture and Scanner (every
// log line and error text, searched for credentials and signatures), and
// Outcome (how a Run ended: failed step, sentinel, rollbacks applied).
//
//   - TestFaultMatrix: every API call rollback.Run makes x every fault kind,
//     once and persistently, on both clouds; the expected outcome of each
//     cell is a table (matrixSpec) and the observed matrix is printed with
//     -v.
//
//     go test -race -run FaultMatrix -v ./internal/chaos
package chaos

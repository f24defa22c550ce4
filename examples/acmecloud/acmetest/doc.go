// Package acmetest is a wire-level emulator of Acme Compute, the fictional
// cloud of package acme: an HTTP server on 127.0.0.1 that speaks the API
// (POST /v1/{Action}, JSON, HMAC-signed), checks every signature, and keeps
// state on a clock.Clock, so that tests on a virtual clock run minutes of
// cloud time in microseconds.
//
// State: servers with a system disk, snapshots of it, and operations that
// take time (Durations): a stop, a start, a restore, a snapshot's creation.
// A server in an operation is busy and refuses another (ServerBusy); a
// restore needs it stopped (InvalidServerState) and the snapshot available
// (SnapshotNotReady). Each snapshot reports its last restore (request ID,
// server, state, time), which is what the client's exactly-once engine
// reads after a lost reply.
//
// Faults (AddFault), counted from when they are armed (Nth, Times; negative
// Times: every call): fail calls of an action with a code or a gateway's
// raw page, reset the connection before applying, apply a call and then
// drop the connection without a reply, add real-time latency; each is
// journaled with its Label. FailNextRestores makes accepted restores fail
// in the cloud. The chaos soak's Env over it is chaos_test.go.
// Per-action rate windows answer Throttled. Other actors (the console,
// another tool) change state with the Actor... methods, which the journal
// marks as theirs.
//
// Harness adapts a Server and an acme.Client to the library's conformance
// suite.
package acmetest

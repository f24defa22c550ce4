// Package acme is a provider for Acme Compute, a fictional cloud, written
// outside the cloudsnap/rollback module with only its public packages: the
// proof that a third cloud needs no change to the library.
//
// Acme's API is JSON over HTTP: POST /v1/{Action} with a JSON body that
// names the region, replies carrying a RequestId, errors as
// {"Error": {"Code", "Message"}} with a 4xx or 5xx status, and calls signed
// with HMAC-SHA256 (Sign). The actions are DescribeServers and
// DescribeSnapshots (up to 50 IDs per call), StopServer, StartServer,
// CreateSnapshot and RestoreSnapshot.
//
// What the client takes from the library, and from where:
//
//   - the contract: provider.Provider with Capabilities (batched reads of
//     servers and snapshots, pre-flight, request validation with
//     provider.RequestRules, wait priors, a rollback witness and a
//     provider.MemoryCheckpoints);
//   - options: provider.ResolveOptions over the rollback.With... options;
//   - the call path: provider/invoke (retries with a budget, hooks, logs),
//     provider/errmap (Acme's codes in one table, transport failures),
//     provider/sdkhttp (a pool of wire clients over a Binder that applies
//     the per-attempt timeout; ParseEndpoint: HTTPS unless the host is
//     loopback or WithInsecureHTTP is given);
//   - rate limits: the client's own sliding window per mutating action, or
//     the shared provider.Limiter given with WithLimiter (limits.go), since
//     invoke.Invoker's limiter field has a type internal to the root module;
//   - exactly-once: provider/once. RestoreSnapshot has no idempotency
//     token; each snapshot reports its last restore's request ID, server
//     and time, which is the evidence a lost reply is judged by.
//
// Every error is a *provider.Error (errors.Is against rollback's
// sentinels), and no error or log line carries the secret.
//
// Package acmetest is Acme's wire-level emulator.
package acme

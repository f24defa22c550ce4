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
//     provider.RequestRules, wait priors in a provider.Priors table, a
//     rollback witness and a provider.MemoryCheckpoints); the reads are
//     provider.BatchReader (50 IDs a call; one ID for the single read,
//     provider.NotFound when the reply lacks it);
//   - options: provider.ResolveOptions over the rollback.With... options;
//   - the call path: provider/invoke (retries with a budget, hooks, logs),
//     provider/errmap (Acme's codes in one table, transport failures),
//     provider/sdkhttp (a pool of wire clients over a Binder that applies
//     the per-attempt timeout; ParseEndpoint: HTTPS unless the host is
//     loopback or WithInsecureHTTP is given);
//   - rate limits: provider/ratelimit's window per mutating action
//     (invoke.Invoker.Limits), or the shared provider.Limiter given with
//     WithLimiter;
//   - exactly-once: provider/once. RestoreSnapshot has no idempotency
//     token; each snapshot reports its last restore's request ID, server
//     and time, which is the evidence a lost reply is judged by, with the
//     rule Lighthouse's also uses (once.Latest, naming the server); starts
//     and stops are judged with once.Reached, snapshots with
//     once.NewSnapshot;
//   - the URL opener: provider/openurl; redaction: provider/redact.
//
// Every error is a *provider.Error (errors.Is against rollback's
// sentinels), and no error or log line carries the secret.
//
// Package acmetest is Acme's wire-level emulator.
package acme

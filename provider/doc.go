// Package provider is the contract a rollback provider implements, and
// everything it needs for it, so that a provider for another cloud, in any
// module, uses only public packages. Users of the library call package
// rollback (Run, RunBatch, the waiters, Open), which names this package's
// types by aliases: a rollback.Request is a provider.Request, and one
// errors.Is target serves both.
//
// A provider implements Provider (Rollback, Instance, Snapshot,
// StopInstance, StartInstance, CreateSnapshot) and declares in
// Capabilities what else it offers: batch reads (BatchInspector), disk
// reads, pre-flight, request validation (RequestValidator, with
// RequestRules and the Check functions for ID formats), wait priors, an
// operation marker and, above all, a RollbackWitness, without which an
// ambiguous rollback can only end in ErrOutcomeUnknown. Every error it
// returns is a *Error whose Kind is one of the sentinels.
//
// The rest of the kit is in sub-packages: invoke, the call path (rate
// limit, per-attempt timeout, retries and the retry budget, hooks, logs
// with secrets removed); errmap, a table from the cloud's error codes to
// sentinels; once, the exactly-once engine for the rollback call;
// sdkhttp and openurl, endpoints and the scheme://region?param= URL rules;
// ratelimit, the client-side pace. Register makes the provider's URL
// scheme known to rollback.Open. Package providertest is the conformance
// suite to run against an emulator (package emulator helps write one).
//
// examples/acmecloud in the repository is a complete provider in a module
// of its own, written against these packages only.
package provider

package provider

// Capabilities declares the optional parts of the contract a provider
// implements, in one place instead of interfaces discovered by type
// assertion. A nil field is a capability the provider lacks: rollback.Run, RunBatch
// and the waiters then fall back to what the core methods allow (one read
// per instance, no batching of preflight reads, no evidence after an
// ambiguous attempt, so ErrOutcomeUnknown). The zero value declares none.
//
// A provider usually returns itself in every field it implements:
//
//	func (c *Client) Capabilities() provider.Capabilities {
//		return provider.Capabilities{Name: "acme", BatchInstances: c, Witness: c}
//	}
//
// providertest checks every declared capability.
//
// A wrapper that embeds a Provider passes its capabilities on, pointing at
// the wrapped value: one that overrides a method must also override
// Capabilities where a capability stands in for that method (Preflight
// for Rollback, BatchInstances for Instance, ...), or calls bypass it.
type Capabilities struct {
	// Name is the provider's name, as in Result.Provider and Instance.Provider
	// ("aliyun", "tencent"); it labels logs, metrics and reports.
	Name string

	// BatchInstances reads many instances in few calls; the batched
	// waiters and RunBatch's read coalescer use it.
	BatchInstances BatchInspector
	// BatchSnapshots reads many snapshots in few calls.
	BatchSnapshots BatchSnapshotInspector
	// Disks reads a disk: Run finds the instance of a disk-only Request
	// with it and checks that the disk is the one the snapshot is of.
	Disks DiskInspector
	// Preflight takes the state Run has just read instead of reading it
	// again (RunBatch batches those reads).
	Preflight PreflightRoller
	// Validator checks a Request's IDs before anything is sent, even a read.
	Validator RequestValidator
	// Priors say how long operations usually take, for the first wait of a
	// process (see WaitPriors).
	Priors WaitPriors
	// Witness judges from the cloud's state whether a rollback landed
	// after a baseline: the exactly-once engine's evidence, without which
	// an ambiguous attempt or a resumed Run ends in ErrOutcomeUnknown.
	Witness RollbackWitness
	// Marker records on the cloud that an operation key is about to send
	// (see OperationMarker): what lets a keyed Run that lost its
	// checkpoint prove it never sent.
	Marker OperationMarker
	// Quotas declare the cloud's account quota of each mutating action
	// (OpRollback, OpStop, OpStart, OpCreateSnapshot): at most Calls in any
	// window of Per, shared by every client of the account. Tools that
	// spread calls over many processes pace to it (the temporal module's
	// task-queue rates, fleet estimates). A provider that paces below the
	// cloud's quota may declare its own pace instead, so that those tools
	// stay below too. Keep it consistent with the client's default
	// RateLimit. Nil or an absent kind: unknown, and tools fall back to the
	// client's own pacing.
	Quotas map[OperationKind]RateLimit
	// Checkpoints is where Runs made with this provider keep checkpoints
	// when RunOptions names no store: a client-scoped store keeps keys of
	// unrelated clients apart. Nil: rollback.DefaultCheckpoints.
	Checkpoints Checkpointer
}

// CapabilitiesOf returns x's declared capabilities, or none when x does not
// declare them (a bare Inspector handed to a waiter, say).
func CapabilitiesOf(x any) Capabilities {
	if c, ok := x.(interface{ Capabilities() Capabilities }); ok {
		return c.Capabilities()
	}
	return Capabilities{}
}

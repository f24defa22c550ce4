package provider

import "time"

// WaitPriors is implemented by providers that know how long their
// operations usually take. A wait whose rollback.Learner has seen nothing of its
// kind yet (the first wait of a process with no learner file) starts from
// the provider's window instead of knowing nothing; the first operation
// that ends replaces it with what was learned.
//
// op is "rollback", "snapshot", or "instance-" followed by an InstanceWait's
// Name ("instance-stopped", "instance-running",
// "instance-idle (running or stopped)").
type WaitPriors interface {
	// WaitPrior returns the window in which an operation of op usually
	// ends, measured from the moment it was accepted; ok is false when the
	// provider has no prior for op.
	WaitPrior(op string) (lo, hi time.Duration, ok bool)
}

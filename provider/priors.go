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

// Priors is a provider's table of WaitPriors: for each op, the window
// {lo, hi} in which it usually ends. A client whose priors are fixed
// implements WaitPriors by returning its table's WaitPrior:
//
//	var waitPriors = provider.Priors{"rollback": {40 * time.Second, 90 * time.Second}}
//
//	func (c *Client) WaitPrior(op string) (lo, hi time.Duration, ok bool) {
//		return waitPriors.WaitPrior(op)
//	}
type Priors map[string][2]time.Duration

// WaitPrior returns op's window; ok is false when the table has none.
func (p Priors) WaitPrior(op string) (lo, hi time.Duration, ok bool) {
	w, ok := p[op]
	return w[0], w[1], ok
}

package rollback

import "github.com/cloudsnap/rollback/provider"

// priorOf returns p's prior for op, if it has one that makes sense.
func priorOf(p any, op string) estimate {
	wp := provider.CapabilitiesOf(p).Priors
	if wp == nil {
		return estimate{}
	}
	lo, hi, ok := wp.WaitPrior(op)
	if !ok || lo < 0 || hi <= 0 || lo > hi || hi > learnerMaxSpan {
		return estimate{}
	}
	return estimate{lo: lo, hi: hi}
}

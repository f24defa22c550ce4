package tencent

import (
	"time"

	"github.com/cloudsnap/rollback/provider"
)

// waitPriors are the windows in which Lighthouse operations usually end,
// measured from the call that started them: stops and starts take a quarter
// to half a minute, ApplyInstanceSnapshot of a small system disk takes about a minute; snapshots a minute or two (and report progress, which then paces the wait). They only shape the first wait of a process that
// has learned nothing yet (provider.WaitPriors); what the learner sees
// replaces them. Each is at most 2.5x wide (internal/bench's
// TestProviderPriors holds that, and that a cold wait on the emulator's
// duration for the operation lags at most half the Terraform-style
// waiter). A prior that is wrong costs a bounded lag: the first poll comes
// at half the window's start, and then the wait never jumps ahead by more
// than MaxDelay or a sixth of the start.
var waitPriors = map[string][2]time.Duration{
	"instance-stopped": {10 * time.Second, 25 * time.Second},
	"instance-running": {15 * time.Second, 35 * time.Second},
	"rollback":         {40 * time.Second, 90 * time.Second},
	"snapshot":         {60 * time.Second, 150 * time.Second},
}

// WaitPrior implements provider.WaitPriors.
func (c *Client) WaitPrior(op string) (lo, hi time.Duration, ok bool) {
	return provider.Priors(waitPriors).WaitPrior(op)
}

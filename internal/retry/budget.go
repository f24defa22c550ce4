package retry

import (
	"errors"
	"sync"

	"github.com/cloudsnap/rollback/provider"
)

// Budget is a client-wide retry quota, in the spirit of the AWS SDK's
// retry quota (aws-sdk-go-v2 aws/ratelimit.TokenRateLimit): a bucket of
// tokens that every retry of an outage-kind failure spends and successes
// refill. While the cloud is healthy the bucket stays full and changes
// nothing; during an outage of every call it drains after a few dozen
// retries, and from then on each call makes one attempt and fails at once
// with its own error (ErrInternal, ErrNetwork), instead of every server of
// a fleet retrying five times. When the outage ends, first attempts
// succeed again and each success puts a token back: no operator action.
//
// A budget only ever withholds retries, so it never sends a call that
// would not have been sent anyway: the exactly-once rules of a rollback
// call are untouched.
type Budget struct {
	mu       sync.Mutex
	tokens   int
	capacity int
}

// Costs, as the AWS SDK's defaults: a retry after a 5xx costs 5 tokens, one
// after a timeout or connection failure 10 (they hold a connection for
// long); a first attempt that succeeds refills 1, and a retry that succeeds
// gives back what it cost.
const (
	RetryCost       = 5
	NetworkCost     = 10
	SuccessIncrease = 1
)

// NewBudget returns a full budget of capacity tokens.
func NewBudget(capacity int) *Budget { return &Budget{tokens: capacity, capacity: capacity} }

// Tokens returns the tokens left.
func (b *Budget) Tokens() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tokens
}

// cost is what retrying err spends: only the failures an outage is made of.
// Throttling and busy resources have their own pacing (the rate limiter,
// the waits) and are not a sign that the cloud is down.
func cost(err error) int {
	switch {
	case errors.Is(err, provider.ErrNetwork):
		return NetworkCost
	case errors.Is(err, provider.ErrInternal):
		return RetryCost
	}
	return 0
}

// spend takes n tokens if there are that many.
func (b *Budget) spend(n int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokens < n {
		return false
	}
	b.tokens -= n
	return true
}

// refill puts n tokens back, up to the capacity.
func (b *Budget) refill(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens = min(b.tokens+n, b.capacity)
}

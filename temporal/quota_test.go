package temporal

import (
	"math"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/memprovider"
	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/tencent"
)

// TestQueueRateKeepsQuota drives the Temporal server's task-queue limit as
// the server implements it (per partition, a token bucket of rate/partitions
// with a burst of ceil(rate/partitions), full at the start, as after a lull)
// with an endless backlog, and counts the dispatches in every window of
// the cloud's quota: QueueRate never lets more through than the quota,
// while the cloud's quota itself (Quota) would.
func TestQueueRateKeepsQuota(t *testing.T) {
	quotas := map[string]provider.RateLimit{
		rollback.ProviderTencent: tencent.DefaultRateLimit,
		rollback.ProviderAliyun:  {Calls: aliyun.DefaultRateLimitCalls, Per: aliyun.DefaultRateLimitPer},
		"10 a second, as acme":   {Calls: 10, Per: time.Second},
	}
	for p, q := range quotas {
		calls, per := q.Calls, q.Per
		quota := float64(calls) / per.Seconds()
		for _, parts := range []int{1, 2, 4, 8} {
			r := QueueRate(q, parts)
			if got := maxDispatched(r, parts, per); got > calls {
				t.Errorf("%s, %d partitions: QueueRate %.4f/s dispatches %d in %s; quota %d", p, parts, r, got, per, calls)
			}
			if r <= 0 || r > quota {
				t.Errorf("%s, %d partitions: QueueRate %.4f/s", p, parts, r)
			}
		}
		if got := maxDispatched(quota, DefaultQueuePartitions, per); calls > 1 && got <= calls {
			t.Errorf("%s: the quota as the queue rate dispatches only %d in %s; the simulation shows no burst", p, got, per)
		}
	}
	if r := QueueRate(tencent.DefaultRateLimit, DefaultQueuePartitions); r != 8 {
		t.Errorf("Lighthouse queue rate = %v, want 8", r)
	}
	if r := QueueRate(quotas[rollback.ProviderAliyun], DefaultQueuePartitions); math.Abs(r-0.1) > 1e-9 {
		t.Errorf("SWAS queue rate = %v, want 0.1 (6 a minute)", r)
	}
	if r := QueueRate(provider.RateLimit{}, DefaultQueuePartitions); r != 0 {
		t.Errorf("no quota: queue rate %v, want 0 (no limit)", r)
	}
}

// TestQuotaIsDeclared: the queues' quotas come from what the provider
// declares, whatever its name; none declared is no queue limit.
func TestQuotaIsDeclared(t *testing.T) {
	limited := memprovider.New(memprovider.WithQuota(3, time.Minute))
	for _, a := range Actions {
		if q := Quota(limited, a); q != (provider.RateLimit{Calls: 3, Per: time.Minute}) {
			t.Errorf("%s: quota %+v, want the declared 3 a minute", a, q)
		}
		if q := Quota(memprovider.New(), a); q != (provider.RateLimit{}) {
			t.Errorf("%s: quota %+v of a provider that declares none", a, q)
		}
	}
}

// maxDispatched simulates the partitions' token buckets for ten windows
// and returns the most dispatches within any window of length per.
func maxDispatched(rate float64, parts int, per time.Duration) int {
	step := per / 10000
	each := rate / float64(parts)
	burst := math.Max(1, math.Ceil(each))
	tokens := make([]float64, parts)
	for i := range tokens {
		tokens[i] = burst
	}
	var at []time.Duration
	for now := time.Duration(0); now < 10*per; now += step {
		for i := range tokens {
			tokens[i] = math.Min(burst, tokens[i]+each*step.Seconds())
			for tokens[i] >= 1 {
				tokens[i]--
				at = append(at, now)
			}
		}
	}
	best, lo := 0, 0
	for hi := range at {
		for at[hi]-at[lo] >= per {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// countingInspector counts reads.
type countingInspector struct {
	rollback.Inspector
	calls atomic.Int64
}

func (c *countingInspector) Instance(ctx context.Context, region, id string) (*rollback.Instance, error) {
	c.calls.Add(1)
	return c.Inspector.Instance(ctx, region, id)
}

// waitStrategy waits until the instance is idle and returns when it saw it.
type waitStrategy struct {
	name string
	wait func(ctx context.Context, p rollback.Inspector, clk clock.Clock, id string) error
}

// pollEvery polls at 0 and then after each delay that next returns.
func pollEvery(next func(i int) time.Duration) func(context.Context, rollback.Inspector, clock.Clock, string) error {
	return func(ctx context.Context, p rollback.Inspector, clk clock.Clock, id string) error {
		for i := 0; ; i++ {
			in, err := p.Instance(ctx, tencenttest.DefaultRegion, id)
			if err != nil {
				return err
			}
			if !in.Busy {
				return nil
			}
			if err := clock.Sleep(ctx, clk, next(i)); err != nil {
				return err
			}
		}
	}
}

// strategies are the waiters compared. Ours runs three ways: warm in
// process (one Learner for every wait), warm from file (every wait in a new
// process, that is a new Learner opened from the file the earlier ones
// saved to) and cold (a new Learner and no file: nothing known).
func strategies(tb testing.TB) []waitStrategy {
	ours := func(learner func() *rollback.Learner) func(context.Context, rollback.Inspector, clock.Clock, string) error {
		return func(ctx context.Context, p rollback.Inspector, clk clock.Clock, id string) error {
			_, err := rollback.WaitInstance(ctx, p, tencenttest.DefaultRegion, id, rollback.UntilIdle,
				rollback.WaitOptions{Clock: clk, Learner: learner(), Timeout: time.Hour})
			return err
		}
	}
	shared := &rollback.Learner{}
	file := filepath.Join(tb.TempDir(), rollback.LearnerFileName)
	return []waitStrategy{
		{"ours", ours(func() *rollback.Learner { return shared })},
		{"ours-file", ours(func() *rollback.Learner { return rollback.OpenLearner(file) })},
		{"ours-cold", ours(func() *rollback.Learner { return &rollback.Learner{} })},
		{"fixed-15s", pollEvery(func(int) time.Duration { return 15 * time.Second })},
		{"terraform", pollEvery(func(i int) time.Duration {
			return min(100*time.Millisecond<<i, 10*time.Second)
		})},
	}
}

// waitStats is what one strategy showed over a series of operations.
type waitStats struct {
	lags  []time.Duration
	calls int64
	ops   int
}

func (s waitStats) quantile(q float64) time.Duration {
	l := slices.Clone(s.lags)
	slices.Sort(l)
	return l[int(q*float64(len(l)-1))]
}

func (s waitStats) callsPerWait() float64 { return float64(s.calls) / float64(s.ops) }

// measureWaits runs n operations of about d (within +-10%, the same
// timeline for every strategy) and waits for each with st.
func measureWaits(tb testing.TB, st waitStrategy, d time.Duration, n int, seed uint64) waitStats {
	tb.Helper()
	clk := clock.NewAutoVirtual(time.Time{})
	srv := tencenttest.NewServer(tencenttest.WithClock(clk), tencenttest.WithoutRateLimits())
	defer srv.Close()
	c, err := tencent.New(tencent.Config{Region: tencenttest.DefaultRegion, Endpoint: srv.URL,
		SecretID: tencenttest.DefaultSecretID, SecretKey: tencenttest.DefaultSecretKey},
		rollback.WithClock(clk), rollback.WithoutRateLimit())
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	in, _ := srv.AddInstance(tencenttest.Instance{State: "STOPPED"})
	p := &countingInspector{Inspector: c}
	rng := rand.New(rand.NewPCG(seed, 1))
	var stats waitStats
	for range n {
		dur := time.Duration(float64(d) * (0.9 + 0.2*rng.Float64()))
		start := clk.Now()
		if _, err := srv.SetBusy(in.ID, "ResetInstance", dur); err != nil {
			tb.Fatal(err)
		}
		if err := st.wait(context.Background(), p, clk, in.ID); err != nil {
			tb.Fatal(err)
		}
		stats.lags = append(stats.lags, clk.Now().Sub(start)-dur)
		stats.ops++
		clk.Advance(time.Minute) // a pause between operations
	}
	stats.calls = p.calls.Load()
	return stats
}

var opDurations = []time.Duration{5 * time.Second, 30 * time.Second, 120 * time.Second}

// BenchmarkWaiters compares the strategies on the same timelines and
// reports detection lag (p50, p95) and describe calls per wait, with our
// ratios to the Terraform-style waiter.
func BenchmarkWaiters(b *testing.B) {
	for _, d := range opDurations {
		b.Run(d.String(), func(b *testing.B) {
			all := map[string]waitStats{}
			sts := strategies(b)
			for i := 0; i < b.N; i++ {
				for _, st := range strategies(b) {
					all[st.name] = measureWaits(b, st, d, 100, uint64(i)+1)
				}
			}
			for _, st := range sts {
				s := all[st.name]
				b.ReportMetric(s.quantile(0.5).Seconds(), st.name+"-p50-lag-s")
				b.ReportMetric(s.quantile(0.95).Seconds(), st.name+"-p95-lag-s")
				b.ReportMetric(s.callsPerWait(), st.name+"-calls/wait")
			}
			tf := all["terraform"]
			for _, name := range []string{"ours", "ours-file"} {
				ours := all[name]
				b.ReportMetric(ratio(ours.quantile(0.5), tf.quantile(0.5)), "lag-p50-"+name+"/tf")
				b.ReportMetric(ratio(ours.quantile(0.95), tf.quantile(0.95)), "lag-p95-"+name+"/tf")
				b.ReportMetric(ours.callsPerWait()/tf.callsPerWait(), "calls-"+name+"/tf")
			}
		})
	}
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// TestWaiterTargets holds our waiter to issue 7's target on 5s, 30s and
// 120s operations: detection lag at most half the Terraform-style waiter's
// (p50 and p95), with no more describe calls per wait; and issue 18's: the
// same for the first wait of every process, which learns from the file the
// earlier processes saved (ours-file).
func TestWaiterTargets(t *testing.T) {
	for _, d := range opDurations {
		all := map[string]waitStats{}
		// Only the waiters the targets compare: the benchmark reports the
		// others (cold, fixed 15 s) on the same timelines.
		sts := slices.DeleteFunc(strategies(t), func(st waitStrategy) bool {
			return st.name != "ours" && st.name != "ours-file" && st.name != "terraform"
		})
		for _, st := range sts {
			// 100 operations: the first two, before anything is learned,
			// must not be what the 95th percentile measures.
			all[st.name] = measureWaits(t, st, d, 100, 7)
		}
		tf := all["terraform"]
		var line string
		for _, st := range sts {
			s := all[st.name]
			line += fmt.Sprintf("\n  %-10s p50 %6.2fs p95 %6.2fs %5.1f calls/wait", st.name,
				s.quantile(0.5).Seconds(), s.quantile(0.95).Seconds(), s.callsPerWait())
		}
		t.Logf("%v:%s", d, line)
		for _, name := range []string{"ours", "ours-file"} {
			ours := all[name]
			if ours.quantile(0.5) > tf.quantile(0.5)/2 || ours.quantile(0.95) > tf.quantile(0.95)/2 {
				t.Errorf("%v: %s lag p50 %v p95 %v, Terraform-style p50 %v p95 %v: want at most half", d, name,
					ours.quantile(0.5), ours.quantile(0.95), tf.quantile(0.5), tf.quantile(0.95))
			}
			if ours.callsPerWait() > tf.callsPerWait() {
				t.Errorf("%v: %s %.1f calls per wait, Terraform-style %.1f", d, name, ours.callsPerWait(), tf.callsPerWait())
			}
		}
	}
}

// priorInspector answers an idle wait with the provider's prior for op, as
// WaitRollback would for a rollback.
type priorInspector struct {
	rollback.Inspector
	priors provider.WaitPriors
	op     string
}

func (p priorInspector) WaitPrior(string) (time.Duration, time.Duration, bool) {
	return p.priors.WaitPrior(p.op)
}

// TestColdWaitWithPrior measures the first wait of a process that has no
// learner file: 60 s operations (a Lighthouse rollback on the emulator's
// default durations), each waited for by a new Learner, with Lighthouse's
// rollback prior and without, next to the Terraform-style waiter. It holds
// that the prior makes the cold wait no worse than knowing nothing, at no
// more calls; the numbers are in BENCHMARKS.md.
func TestColdWaitWithPrior(t *testing.T) {
	ours := func(prior bool) func(context.Context, rollback.Inspector, clock.Clock, string) error {
		return func(ctx context.Context, p rollback.Inspector, clk clock.Clock, id string) error {
			if prior {
				p = priorInspector{Inspector: p, priors: p.(*countingInspector).Inspector.(provider.WaitPriors), op: "rollback"}
			}
			_, err := rollback.WaitInstance(ctx, p, tencenttest.DefaultRegion, id, rollback.UntilIdle,
				rollback.WaitOptions{Clock: clk, Learner: &rollback.Learner{}, Timeout: time.Hour})
			return err
		}
	}
	sts := []waitStrategy{{"cold+prior", ours(true)}, {"cold", ours(false)}, strategies(t)[len(strategies(t))-1]}
	all := map[string]waitStats{}
	var line string
	for _, st := range sts {
		s := measureWaits(t, st, 60*time.Second, 50, 11)
		all[st.name] = s
		line += fmt.Sprintf("\n  %-10s p50 %6.2fs p95 %6.2fs %5.1f calls/wait", st.name,
			s.quantile(0.5).Seconds(), s.quantile(0.95).Seconds(), s.callsPerWait())
	}
	t.Logf("60s operations, first wait of a process:%s", line)
	withPrior, cold := all["cold+prior"], all["cold"]
	if withPrior.quantile(0.5) > cold.quantile(0.5) || withPrior.callsPerWait() > cold.callsPerWait() {
		t.Errorf("the prior made the first wait worse")
	}
}

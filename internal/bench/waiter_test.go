package bench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
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

// strategies are the waiters compared on operations of about d. Ours runs
// three ways: warm in process (one Learner for every wait), warm from file
// (every wait in a new process, that is a new Learner opened from the file
// the earlier ones saved to) and cold (a new Learner and no file). All three
// wait behind a provider that declares a prior for the operation
// (benchPrior), as ours do; "ours-noprior" is cold behind a provider that
// declares none.
func strategies(tb testing.TB, d time.Duration) []waitStrategy {
	ours := func(learner func() *rollback.Learner, prior bool) func(context.Context, rollback.Inspector, clock.Clock, string) error {
		return func(ctx context.Context, p rollback.Inspector, clk clock.Clock, id string) error {
			if prior {
				p = priorInspector{Inspector: p, priors: benchPrior(d)}
			}
			_, err := rollback.WaitInstance(ctx, p, tencenttest.DefaultRegion, id, rollback.UntilIdle,
				rollback.WaitOptions{Clock: clk, Learner: learner(), Timeout: time.Hour})
			return err
		}
	}
	shared := &rollback.Learner{}
	file := filepath.Join(tb.TempDir(), rollback.LearnerFileName)
	return []waitStrategy{
		{"ours", ours(func() *rollback.Learner { return shared }, true)},
		{"ours-file", ours(func() *rollback.Learner { return rollback.OpenLearner(file) }, true)},
		{"ours-cold", ours(func() *rollback.Learner { return &rollback.Learner{} }, true)},
		{"ours-noprior", ours(func() *rollback.Learner { return &rollback.Learner{} }, false)},
		{"fixed-15s", pollEvery(func(int) time.Duration { return 15 * time.Second })},
		terraform,
	}
}

// terraform polls at 0, then after 100 ms doubling to 10 s, as Terraform's
// StateChangeConf does.
var terraform = waitStrategy{"terraform", pollEvery(func(i int) time.Duration {
	return min(100*time.Millisecond<<i, 10*time.Second)
})}

// priorWidth is how much later a prior's window ends than it starts
// (hi/lo): the widest any of our providers declares (TestProviderPriors
// holds them to it).
const priorWidth = 2.5

// benchPrior is the prior a provider would declare for operations of about
// d: a window as wide as the widest of ours, centred on d the way ours are
// centred on the emulators' durations.
func benchPrior(d time.Duration) fixedPrior {
	f := math.Sqrt(priorWidth)
	return fixedPrior{lo: time.Duration(float64(d) / f), hi: time.Duration(float64(d) * f)}
}

// fixedPrior declares one window for every operation.
type fixedPrior struct{ lo, hi time.Duration }

func (f fixedPrior) WaitPrior(string) (time.Duration, time.Duration, bool) { return f.lo, f.hi, true }

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
	if st.name == terraform.name {
		// The same timeline gives the same stats: measure it once.
		key := tfKey{d, n, seed}
		tfMu.Lock()
		s, ok := tfStats[key]
		tfMu.Unlock()
		if ok {
			return s
		}
		defer func() {
			tfMu.Lock()
			tfStats[key] = s
			tfMu.Unlock()
		}()
		s = measureWaitsOnce(tb, st, d, n, seed)
		return s
	}
	return measureWaitsOnce(tb, st, d, n, seed)
}

// The Terraform-style waiter's stats per timeline: it has no jitter and
// no state, so a timeline always gives the same.
type tfKey struct {
	d    time.Duration
	n    int
	seed uint64
}

var (
	tfMu    sync.Mutex
	tfStats = map[tfKey]waitStats{}
)

func measureWaitsOnce(tb testing.TB, st waitStrategy, d time.Duration, n int, seed uint64) waitStats {
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
			sts := strategies(b, d)
			for i := 0; i < b.N; i++ {
				for _, st := range strategies(b, d) {
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
			for _, name := range []string{"ours", "ours-file", "ours-cold"} {
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
// same for the first wait of every process, whether it learns from the
// file the earlier processes saved (ours-file) or knows only its
// provider's prior (ours-cold).
func TestWaiterTargets(t *testing.T) {
	for _, d := range opDurations {
		// Only the waiters the targets compare: the benchmark reports the
		// others (no prior, fixed 15 s) on the same timelines.
		sts := slices.DeleteFunc(strategies(t, d), func(st waitStrategy) bool {
			return st.name == "ours-noprior" || st.name == "fixed-15s"
		})
		// 100 operations: the first two, before anything is learned,
		// must not be what the 95th percentile measures.
		holdHalfTerraform(t, d.String(), sts, d, 100, 7, "ours", "ours-file", "ours-cold")
	}
}

// holdHalfTerraform measures every strategy of sts on the same n
// operations of about d (the Terraform-style waiter once per timeline: see
// measureWaits), logs them, and fails unless each named strategy lags at most half the
// Terraform-style waiter's (p50 and p95) with no more calls per wait.
func holdHalfTerraform(t *testing.T, label string, sts []waitStrategy, d time.Duration, n int, seed uint64, names ...string) {
	t.Helper()
	all := map[string]waitStats{}
	var line string
	for _, st := range sts {
		s := measureWaits(t, st, d, n, seed)
		all[st.name] = s
		line += fmt.Sprintf("\n  %-12s p50 %6.2fs p95 %6.2fs %5.1f calls/wait", st.name,
			s.quantile(0.5).Seconds(), s.quantile(0.95).Seconds(), s.callsPerWait())
	}
	t.Logf("%s:%s", label, line)
	tf := all["terraform"]
	for _, name := range names {
		ours := all[name]
		if ours.quantile(0.5) > tf.quantile(0.5)/2 || ours.quantile(0.95) > tf.quantile(0.95)/2 {
			t.Errorf("%s: %s lag p50 %v p95 %v, Terraform-style p50 %v p95 %v: want at most half", label, name,
				ours.quantile(0.5), ours.quantile(0.95), tf.quantile(0.5), tf.quantile(0.95))
		}
		if ours.callsPerWait() > tf.callsPerWait() {
			t.Errorf("%s: %s %.1f calls per wait, Terraform-style %.1f", label, name, ours.callsPerWait(), tf.callsPerWait())
		}
	}
}

// priorInspector declares priors's window for every wait, as a provider's
// client would for the operation waited for.
type priorInspector struct {
	rollback.Inspector
	priors provider.WaitPriors
	op     string // the operation whose prior to use; "" passes op on
}

func (p priorInspector) Capabilities() provider.Capabilities {
	return provider.Capabilities{Priors: p}
}

func (p priorInspector) WaitPrior(op string) (time.Duration, time.Duration, bool) {
	if p.op != "" {
		op = p.op
	}
	return p.priors.WaitPrior(op)
}

// TestProviderPriors holds each provider's priors, operation by operation,
// to issue 18's cold-wait target on the emulators' durations for that
// operation: the first wait of a process with no learner file lags at most
// half the Terraform-style waiter (p50 and p95) with no more calls. It also
// holds every prior to cover the emulator's duration within priorWidth,
// which is what BenchmarkWaiters' cold column assumes.
func TestProviderPriors(t *testing.T) {
	lh, err := tencent.New(tencent.Config{Region: tencenttest.DefaultRegion, Endpoint: "http://127.0.0.1:1",
		SecretID: tencenttest.DefaultSecretID, SecretKey: tencenttest.DefaultSecretKey})
	if err != nil {
		t.Fatal(err)
	}
	defer lh.Close()
	swas, err := aliyun.New(aliyun.Config{Region: aliyuntest.DefaultRegion, Endpoint: "127.0.0.1:1",
		AccessKeyID: aliyuntest.DefaultAccessKeyID, AccessKeySecret: aliyuntest.DefaultAccessKeySecret})
	if err != nil {
		t.Fatal(err)
	}
	defer swas.Close()
	lhd := tencenttest.DefaultDurations
	cases := []struct {
		cloud  string
		priors provider.WaitPriors
		op     string
		d      time.Duration // the emulator's duration
	}{
		{"lighthouse", lh, "instance-stopped", lhd.Stop},
		{"lighthouse", lh, "instance-running", lhd.Start},
		{"lighthouse", lh, "rollback", lhd.Rollback},
		{"lighthouse", lh, "snapshot", lhd.CreateSnapshot},
		{"swas", swas, "instance-stopped", aliyuntest.DefaultDurations.Stop},
		{"swas", swas, "instance-running", aliyuntest.DefaultDurations.Start},
		{"swas", swas, "rollback", aliyuntest.DefaultDurations.Rollback},
		{"swas", swas, "snapshot", aliyuntest.DefaultDurations.CreateSnapshot},
	}
	for _, c := range cases {
		lo, hi, ok := c.priors.WaitPrior(c.op)
		if !ok || c.d < lo || c.d > hi || float64(hi) > priorWidth*float64(lo)*1.0001 {
			t.Errorf("%s %s: prior %v-%v (ok %v) does not cover %v within %vx", c.cloud, c.op, lo, hi, ok, c.d, priorWidth)
			continue
		}
		cold := func(ctx context.Context, p rollback.Inspector, clk clock.Clock, id string) error {
			p = priorInspector{Inspector: p, priors: c.priors, op: c.op}
			_, err := rollback.WaitInstance(ctx, p, tencenttest.DefaultRegion, id, rollback.UntilIdle,
				rollback.WaitOptions{Clock: clk, Learner: &rollback.Learner{}, Timeout: time.Hour})
			return err
		}
		holdHalfTerraform(t, fmt.Sprintf("%s %s (%v)", c.cloud, c.op, c.d),
			[]waitStrategy{{"cold+prior", cold}, terraform}, c.d, 50, 11, "cold+prior")
	}
}

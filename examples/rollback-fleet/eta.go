package main

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/cloudsnap/rollback"
)

// stepTimes are how long a rollback's steps are expected to take.
type stepTimes struct{ stop, snapshot, rollback, start time.Duration }

// typicalTimes are rough figures for the real clouds, for the estimate
// only; the demo uses its emulators' own. Other providers' come from their
// priors (timesOf).
var typicalTimes = map[string]stepTimes{
	rollback.ProviderAliyun:  {stop: 30 * time.Second, snapshot: 2 * time.Minute, rollback: time.Minute, start: 30 * time.Second},
	rollback.ProviderTencent: {stop: 30 * time.Second, snapshot: 2 * time.Minute, rollback: 90 * time.Second, start: 30 * time.Second},
}

// defaultTimes are the figures of a provider without typical times or
// priors.
var defaultTimes = stepTimes{stop: 30 * time.Second, snapshot: 2 * time.Minute, rollback: 90 * time.Second, start: 30 * time.Second}

// timesOf returns the step times of provider name (client p): the env's
// (the demo's), the real clouds' typical ones, else the middle of each
// prior the provider declares (Capabilities.Priors), else defaultTimes.
func timesOf(e env, name string, p rollback.Provider) stepTimes {
	if t, ok := e.times[name]; ok {
		return t
	}
	if t, ok := typicalTimes[name]; ok {
		return t
	}
	t := defaultTimes
	if pr := p.Capabilities().Priors; pr != nil {
		for _, f := range []struct {
			op string
			d  *time.Duration
		}{
			{"rollback", &t.rollback}, {"snapshot", &t.snapshot},
			{"instance-" + rollback.UntilStopped.Name, &t.stop}, {"instance-" + rollback.UntilRunning.Name, &t.start},
		} {
			if lo, hi, ok := pr.WaitPrior(f.op); ok && hi > 0 {
				*f.d = (lo + hi) / 2
			}
		}
	}
	return t
}

// quota is a client's limit on each mutating action, and what it is.
type quota struct {
	calls int // 0: none known
	per   time.Duration
	about string
}

// quotaOf is the quota that paces p's rows: the strictest one the provider
// declares for a mutating action (Capabilities.Quotas). None declared: the
// estimate leaves the quota out.
func quotaOf(p rollback.Provider) quota {
	caps := p.Capabilities()
	var q rollback.RateLimit
	for _, l := range caps.Quotas {
		if l.Calls > 0 && l.Per > 0 && (q.Calls == 0 || float64(l.Calls)/l.Per.Seconds() < float64(q.Calls)/q.Per.Seconds()) {
			q = l
		}
	}
	if q.Calls == 0 {
		return quota{about: caps.Name + " declares no quota"}
	}
	per := "per " + q.Per.String()
	switch q.Per {
	case time.Second:
		per = "a second"
	case time.Minute:
		per = "a minute"
	}
	return quota{q.Calls, q.Per, fmt.Sprintf("%s allows each action %d times %s", caps.Name, q.Calls, per)}
}

// checkTime is a rough allowance for a row's reads before it changes
// anything.
const checkTime = 5 * time.Second

// model estimates how long a provider's rows take.
type model struct {
	quota       quota
	chain       time.Duration // one row's steps, end to end
	concurrency int
}

func newModel(q quota, times stepTimes, c *config) model {
	chain := checkTime + times.rollback
	if c.stop {
		chain += times.stop
	}
	if c.backup {
		chain += times.snapshot
	}
	if c.start {
		chain += times.start
	}
	return model{quota: q, chain: chain, concurrency: c.concurrency}
}

// estimate is how long n rollbacks take. Each action's quota lets its
// calls through per window (the client keeps a 5% margin); the steps of
// different rows overlap, so the quota paces the whole batch once, and
// the last row still runs all its steps. Too few slots (-concurrency)
// pace it too.
func (m model) estimate(n int) time.Duration {
	if n <= 0 {
		return 0
	}
	var span time.Duration
	if m.quota.calls > 0 {
		window := m.quota.per + m.quota.per/20
		span = time.Duration((n-1)/m.quota.calls) * window
	}
	if m.concurrency > 0 {
		span = max(span, time.Duration((n-1)/m.concurrency)*m.chain)
	}
	return span + m.chain
}

// describePlan prints what the fleet will do and how long it should take,
// and returns the estimate.
func describePlan(w io.Writer, c *config, rows []row, models map[string]model, realTime func(time.Duration) string) time.Duration {
	count := map[string]int{}
	regions := map[string][]string{}
	for _, r := range rows {
		count[r.Provider]++
		if !slices.Contains(regions[r.Provider], r.Region) {
			regions[r.Provider] = append(regions[r.Provider], r.Region)
		}
	}
	verb := "Rolling back"
	if c.dryRun {
		verb = "Dry run: checking"
	}
	fmt.Fprintf(w, "%s %d disks: %s.\n", verb, len(rows), strings.Join(steps(c), ", "))
	var eta time.Duration
	for _, p := range providersOf(rows) {
		d := models[p].estimate(count[p])
		eta = max(eta, d)
		if c.dryRun {
			fmt.Fprintf(w, "  %-8s %4d in %s\n", p, count[p], strings.Join(regions[p], ", "))
			continue
		}
		fmt.Fprintf(w, "  %-8s %4d in %s: ~%s (%s)\n", p, count[p], strings.Join(regions[p], ", "), fmtETA(d), models[p].quota.about)
	}
	if !c.dryRun {
		fmt.Fprintf(w, "Estimated time: ~%s%s; the clouds run in parallel.\n", fmtETA(eta), realTime(eta))
	}
	return eta
}

func steps(c *config) []string {
	var s []string
	if c.stop {
		s = append(s, "stop if running")
	}
	if c.backup {
		s = append(s, "snapshot the disk first")
	}
	s = append(s, "roll back", "wait")
	if c.start {
		s = append(s, "start")
	}
	return s
}

// providersOf lists the providers of rows, in a fixed order.
func providersOf(rows []row) []string {
	var ps []string
	for _, r := range rows {
		if !slices.Contains(ps, r.Provider) {
			ps = append(ps, r.Provider)
		}
	}
	slices.Sort(ps)
	return ps
}

// fmtETA keeps an estimate from looking more precise than it is: "40s",
// "16m", "2h05m".
func fmtETA(d time.Duration) string {
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Round(time.Minute)/time.Minute))
	}
	d = d.Round(5 * time.Minute)
	return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// confirm asks for "yes" on the terminal.
func confirm(stdin io.Reader, stderr io.Writer, n int) error {
	fmt.Fprintf(stderr, "Everything written to these %d disks since their snapshots will be lost.\nType yes to continue: ", n)
	line, _ := bufio.NewReader(stdin).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		return errNotConfirmed
	}
	return nil
}

package main

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/tencent"
)

// stepTimes are how long a rollback's steps are expected to take.
type stepTimes struct{ stop, snapshot, rollback, start time.Duration }

// typicalTimes are rough figures for the real clouds, for the estimate
// only; the demo uses its emulators' own.
var typicalTimes = map[string]stepTimes{
	rollback.ProviderAliyun:  {stop: 30 * time.Second, snapshot: 2 * time.Minute, rollback: time.Minute, start: 30 * time.Second},
	rollback.ProviderTencent: {stop: 30 * time.Second, snapshot: 2 * time.Minute, rollback: 90 * time.Second, start: 30 * time.Second},
}

// quota is a client's limit on each mutating action, and what it is.
type quota struct {
	calls int
	per   time.Duration
	about string
}

var quotas = map[string]quota{
	rollback.ProviderAliyun: {aliyun.DefaultRateLimitCalls, aliyun.DefaultRateLimitPer,
		fmt.Sprintf("SWAS allows ResetDisk, StopInstance, StartInstance and CreateSnapshot %d times a minute per account", aliyun.DefaultRateLimitCalls)},
	rollback.ProviderTencent: {tencent.DefaultRateLimit.Calls, tencent.DefaultRateLimit.Per,
		fmt.Sprintf("Lighthouse allows each action %d times a second", tencent.DefaultRateLimit.Calls)},
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

func newModel(provider string, times stepTimes, c *config) model {
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
	return model{quota: quotas[provider], chain: chain, concurrency: c.concurrency}
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
	window := m.quota.per + m.quota.per/20
	span := time.Duration((n-1)/m.quota.calls) * window
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

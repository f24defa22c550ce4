package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/memprovider"
	"github.com/cloudsnap/rollback/tencent"
)

func TestEstimateFollowsTheQuota(t *testing.T) {
	c := &config{stop: true, concurrency: 100}
	swas := testModel(rollback.ProviderAliyun, c)
	// 10 ResetDisk calls a minute: 200 servers take about 20 minutes.
	if d := swas.estimate(200); d < 20*time.Minute || d > 23*time.Minute {
		t.Errorf("200 SWAS servers: %v", d)
	}
	if d := swas.estimate(1); d != swas.chain {
		t.Errorf("one server: %v, want its steps %v", d, swas.chain)
	}
	lh := testModel(rollback.ProviderTencent, c)
	if d := lh.estimate(200); d > 5*time.Minute {
		t.Errorf("200 Lighthouse servers: %v", d)
	}
	// Too few slots pace a batch too.
	c.concurrency = 1
	if one := testModel(rollback.ProviderTencent, c); one.estimate(10) != 10*one.chain {
		t.Errorf("10 servers one at a time: %v", one.estimate(10))
	}
	for d, want := range map[time.Duration]string{40 * time.Second: "40s", 16*time.Minute + 20*time.Second: "16m", 2*time.Hour + 3*time.Minute: "2h05m"} {
		if got := fmtETA(d); got != want {
			t.Errorf("fmtETA(%v) = %s, want %s", d, got, want)
		}
	}
}

// testModel is the model of an aliyun or tencent client, from the quota
// it declares.
func testModel(p string, c *config) model {
	q := map[string]rollback.RateLimit{
		rollback.ProviderAliyun:  {Calls: aliyun.DefaultRateLimitCalls, Per: aliyun.DefaultRateLimitPer},
		rollback.ProviderTencent: tencent.DefaultRateLimit,
	}[p]
	return newModel(quotaOf(memprovider.New(memprovider.WithQuota(q.Calls, q.Per))), typicalTimes[p], c)
}

// TestDeclaredQuota: the estimate paces to what a provider declares, and
// leaves out a quota it does not declare.
func TestDeclaredQuota(t *testing.T) {
	q := quotaOf(memprovider.New(memprovider.WithQuota(3, time.Minute)))
	if q.calls != 3 || q.per != time.Minute || q.about != "mem allows each action 3 times a minute" {
		t.Errorf("declared quota %+v", q)
	}
	none := newModel(quotaOf(memprovider.New()), defaultTimes, &config{concurrency: 1000})
	if none.quota.calls != 0 || none.estimate(500) != none.chain {
		t.Errorf("no quota declared: %+v, estimate %v", none.quota, none.estimate(500))
	}
	// Priors stand in for typical times.
	if got := timesOf(env{}, memprovider.Name, memprovider.New()); got == defaultTimes || got.rollback <= 0 {
		t.Errorf("memprovider's step times %+v, want its priors", got)
	}
}

func TestConfirm(t *testing.T) {
	var prompt bytes.Buffer
	if err := confirm(strings.NewReader("no\n"), &prompt, 3); err != errNotConfirmed {
		t.Errorf("no: %v", err)
	}
	if !strings.Contains(prompt.String(), "these 3 disks") || !strings.Contains(prompt.String(), "Type yes") {
		t.Errorf("prompt %q", prompt.String())
	}
	if err := confirm(strings.NewReader("yes\n"), &prompt, 3); err != nil {
		t.Errorf("yes: %v", err)
	}
	if code, _ := classify(errNotConfirmed); code != exitNotConfirmed {
		t.Errorf("exit %d", code)
	}
}

func TestLiveLine(t *testing.T) {
	var out bytes.Buffer
	clk := clock.NewVirtual(time.Time{})
	rows := []row{{Line: 2, Provider: "aliyun", Disk: "d-1"}, {Line: 3, Provider: "aliyun", Disk: "d-2"}, {Line: 4, Provider: "tencent", Instance: "lhins-1"}}
	models := map[string]model{}
	for _, p := range []string{"aliyun", "tencent"} {
		models[p] = testModel(p, &config{concurrency: 100})
	}
	p := newProgressTicks(&out, true, clk, rows, models, nil) // as on a terminal, without the ticker
	p.event(0, rollback.Event{Kind: rollback.EventStepStarted, Step: rollback.StepRollback})
	p.event(2, rollback.Event{Kind: rollback.EventStepStarted, Step: rollback.StepWaitRollback})
	clk.Advance(3 * time.Minute)
	p.done(2, rollback.BatchResult{Report: &rollback.Report{Duration: time.Minute}})
	p.done(0, rollback.BatchResult{Err: &rollback.Error{Kind: rollback.ErrInstanceState, Message: "instance i-1 is running"}})
	p.redraw()
	p.close()
	lines := strings.Split(out.String(), "\r")
	last := strings.TrimSpace(lines[len(lines)-1])
	if want := "3m0s  1/3 done, 1 failed, 0 running | queued 1 | ETA ~"; !strings.HasPrefix(last, want) {
		t.Errorf("live line %q, want %q...", last, want)
	}
	// The failure stands above the live line; the success does not.
	if !strings.Contains(out.String(), "line 2    aliyun  d-1  wrong state: instance in wrong state: instance i-1 is running\n") ||
		strings.Contains(out.String(), "lhins-1  rolled back") {
		t.Errorf("output %q", out.String())
	}
}

// Without a terminal, a fleet prints a summary line per tick and its
// failures, not a line per event of each row (issue 16 item 7).
func TestPlainSummary(t *testing.T) {
	var out bytes.Buffer
	clk := clock.NewVirtual(time.Time{})
	var rows []row
	for i := range 100 {
		rows = append(rows, row{Line: i + 2, Provider: "tencent", Instance: fmt.Sprintf("lhins-%08d", i)})
	}
	models := map[string]model{"tencent": testModel("tencent", &config{concurrency: 100})}
	p := newProgressTicks(&out, false, clk, rows, models, nil)
	for i := range rows {
		for _, s := range []rollback.Step{rollback.StepCheck, rollback.StepRollback, rollback.StepWaitRollback} {
			p.event(i, rollback.Event{Kind: rollback.EventStepStarted, Step: s})
			p.event(i, rollback.Event{Kind: rollback.EventState, Step: s, State: "stopped"})
			p.event(i, rollback.Event{Kind: rollback.EventStepFinished, Step: s})
		}
		if i < 60 {
			p.done(i, rollback.BatchResult{Report: &rollback.Report{}})
		}
	}
	p.done(60, rollback.BatchResult{Err: &rollback.Error{Kind: rollback.ErrInstanceState, Message: "instance is running"}})
	if got := out.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, "wrong state") {
		t.Fatalf("before a tick, want only the failure:\n%s", got)
	}
	out.Reset()
	clk.Advance(5 * time.Minute)
	p.tick()
	if got := out.String(); !strings.HasPrefix(got, "    5m0s  60/100 done, 1 failed, 39 running | wait-rollback 39 | ETA ~") || strings.Count(got, "\n") != 1 {
		t.Errorf("summary line %q", got)
	}
	out.Reset()
	p.close()
	if got := out.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, "60/100 done") {
		t.Errorf("final line %q", got)
	}
}

package credtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/internal/chaos"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// fleetRun is what one fleet measured.
type fleetRun struct {
	n, failed, authErrors int
	makespan              time.Duration // on the emulators' clock
	wall                  time.Duration
	fetches               int // credentials issued to the client
	resent                int // calls sent again after an expired-token reply
	leaks                 []string
	samples               []string // a few errors, for the log
}

func (r fleetRun) String() string {
	return fmt.Sprintf("%d servers in %v of clock time (%v wall): %d failed, %d authentication errors, %d credential fetches, %d calls re-sent after an expired token, %d leaks",
		r.n, r.makespan.Round(time.Minute), r.wall.Round(time.Millisecond), r.failed, r.authErrors, r.fetches, r.resent, len(r.leaks))
}

// isolate clears every credential variable and home file of both clouds.
func isolate(t testing.TB) {
	for _, k := range []string{aliyun.EnvAccessKeyID, aliyun.EnvAccessKeySecret, aliyun.EnvSecurityToken, aliyun.EnvRoleARN,
		aliyun.EnvOIDCProviderARN, aliyun.EnvOIDCTokenFile, aliyun.EnvCredentialsFile, aliyun.EnvCredentialsURI, aliyun.EnvProfile,
		tencent.EnvSecretID, tencent.EnvSecretKey, tencent.EnvSessionToken, tencent.EnvSecurityToken, tencent.EnvTKEProviderID,
		tencent.EnvTKETokenFile, tencent.EnvTKERoleARN, tencent.EnvCredentialsFile, tencent.EnvProfile} {
		t.Setenv(k, "")
	}
	t.Setenv("HOME", t.TempDir())
	t.Setenv(aliyun.EnvECSMetadataDisabled, "true")
	t.Setenv(tencent.EnvMetadataDisabled, "true")
}

// finish scans the batch's results and the captured logs.
func finish(r *fleetRun, results []rollback.BatchResult, logs *chaos.Capture, scan *chaos.Scanner) {
	for _, res := range results {
		var texts []string
		if res.Err != nil {
			if r.failed < 3 || errors.Is(res.Err, rollback.ErrUnauthenticated) && r.authErrors < 3 {
				r.samples = append(r.samples, res.Err.Error())
			}
			r.failed++
			if errors.Is(res.Err, rollback.ErrUnauthenticated) {
				r.authErrors++
			}
			texts = append(texts, chaos.ErrorTexts(res.Err)...)
		}
		if res.Report != nil {
			b, _ := json.Marshal(res.Report)
			texts = append(texts, string(b), fmt.Sprintf("%+v", *res.Report))
		}
		for _, s := range texts {
			r.leaks = append(r.leaks, scan.Leaks(s)...)
		}
	}
	for _, line := range logs.Lines() {
		if strings.Contains(line, "credentials expired") {
			r.resent++
		}
		r.leaks = append(r.leaks, scan.Leaks(line)...)
	}
}

// fleetSpec is one fleet: n servers on a clock speed times faster than
// real time. The instance role's first credentials last firstLife (they
// were fetched a while before the run), every later one an hour; when
// expireEarly, the cloud calls every credential expired once, a third of
// the way through.
type fleetSpec struct {
	n             int
	speed         float64
	rollbackTakes time.Duration
	firstLife     time.Duration
	expireEarly   bool
	// serverLimits: the emulator throttles too. The client paces itself
	// either way; the tests leave the server's limit off so that a busy
	// machine (a slow scaled clock) cannot turn pacing slop into failures
	// that have nothing to do with credentials.
	serverLimits bool
}

// swasFleet rolls back a fleet of SWAS servers (10 a minute: n/10 minutes)
// with the ECS instance role's credentials.
func swasFleet(t testing.TB, f fleetSpec) fleetRun {
	isolate(t)
	t.Setenv(aliyun.EnvECSMetadataDisabled, "false")
	n, clk := f.n, clock.NewScaled(f.speed)
	var limits aliyuntest.Option
	if !f.serverLimits {
		limits = aliyuntest.WithoutRateLimits()
	}
	srv := aliyuntest.NewServer(aliyuntest.WithClock(clk), aliyuntest.WithDurations(aliyuntest.Durations{Rollback: f.rollbackTakes}), limits)
	defer srv.Close()
	sts := aliyuntest.NewSTS(srv)
	defer sts.Close()
	sts.SetLifetime(f.firstLife)
	logs := chaos.NewCapture()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c, err := aliyun.New(aliyun.Config{Region: srv.Region(), Endpoint: srv.URL, MetadataEndpoint: sts.MetadataURL},
		rollback.WithClock(clk), rollback.WithLogger(slog.New(logs)), rollback.WithHTTPTransport(tr))
	if err != nil {
		t.Fatal(err)
	}
	sts.SetLifetime(time.Hour)
	var reqs []rollback.Request
	for range n {
		in := aliyuntest.Must(srv.AddInstance(aliyuntest.InstanceSpec{Status: aliyuntest.StatusStopped}))
		sn := aliyuntest.Must(srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: in.SystemDiskID}))
		reqs = append(reqs, rollback.Request{Region: srv.Region(), InstanceID: in.ID, DiskID: in.SystemDiskID, SnapshotID: sn.ID})
	}
	var done atomic.Int64
	start, wall := clk.Now(), time.Now()
	results := rollback.RunBatch(context.Background(), c, reqs, rollback.RunOptions{Clock: clk, Logger: slog.New(logs)},
		rollback.BatchOptions{Done: func(int, rollback.BatchResult) {
			if f.expireEarly && done.Add(1) == int64(n/3) {
				sts.ExpireAll()
			}
		}})
	r := fleetRun{n: n, makespan: clk.Now().Sub(start), wall: time.Since(wall), fetches: sts.Count("metadata")}
	finish(&r, results, logs, chaos.NewScanner(append(sts.Secrets(), aliyuntest.DefaultAccessKeySecret), nil))
	return r
}

// lighthouseFleet rolls back a fleet of Lighthouse instances with the CVM
// role's credentials.
func lighthouseFleet(t testing.TB, f fleetSpec) fleetRun {
	isolate(t)
	t.Setenv(tencent.EnvMetadataDisabled, "false")
	n, clk := f.n, clock.NewScaled(f.speed)
	var limits tencenttest.Option
	if !f.serverLimits {
		limits = tencenttest.WithoutRateLimits()
	}
	srv := tencenttest.NewServer(tencenttest.WithClock(clk), tencenttest.WithDurations(tencenttest.Durations{Rollback: f.rollbackTakes}), limits)
	defer srv.Close()
	sts := tencenttest.NewSTS(srv)
	defer sts.Close()
	sts.SetLifetime(f.firstLife)
	logs := chaos.NewCapture()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c, err := tencent.New(tencent.Config{Region: tencenttest.DefaultRegion, Endpoint: srv.URL, MetadataEndpoint: sts.MetadataURL},
		rollback.WithClock(clk), rollback.WithLogger(slog.New(logs)), rollback.WithHTTPTransport(tr))
	if err != nil {
		t.Fatal(err)
	}
	sts.SetLifetime(time.Hour)
	defer c.Close()
	var reqs []rollback.Request
	for range n {
		in, _ := srv.AddInstance(tencenttest.Instance{State: "STOPPED"})
		sn, _ := srv.AddSnapshot(tencenttest.Snapshot{InstanceID: in.ID})
		reqs = append(reqs, rollback.Request{Region: tencenttest.DefaultRegion, InstanceID: in.ID, SnapshotID: sn.ID})
	}
	var done atomic.Int64
	start, wall := clk.Now(), time.Now()
	results := rollback.RunBatch(context.Background(), c, reqs,
		rollback.RunOptions{Clock: clk, Logger: slog.New(logs), RollbackTimeout: max(3*f.rollbackTakes, rollback.DefaultRollbackTimeout)},
		rollback.BatchOptions{Done: func(int, rollback.BatchResult) {
			if f.expireEarly && done.Add(1) == int64(n/3) {
				sts.ExpireAll()
			}
		}})
	r := fleetRun{n: n, makespan: clk.Now().Sub(start), wall: time.Since(wall), fetches: sts.Count("metadata")}
	finish(&r, results, logs, chaos.NewScanner(append(sts.Secrets(), tencenttest.DefaultSecretKey), nil))
	return r
}

func check(t *testing.T, r fleetRun, minClock time.Duration) {
	t.Helper()
	t.Log(r)
	for _, s := range r.samples {
		t.Log(s)
	}
	if r.failed > 0 || r.authErrors > 0 {
		t.Errorf("%d failed, %d with authentication errors", r.failed, r.authErrors)
	}
	if r.makespan < minClock {
		t.Errorf("the fleet took %v of clock time, want at least %v (longer than its credentials last)", r.makespan, minClock)
	}
	if r.resent == 0 {
		t.Error("no call met an expired token: the mid-run expiry was not exercised")
	}
	// One fetch at New, one per hour, one after the early expiry, and a
	// little slack: never one per call.
	if maxFetches := 3 + int(r.makespan/(50*time.Minute)); r.fetches > maxFetches {
		t.Errorf("%d credential fetches in %v, want at most %d", r.fetches, r.makespan, maxFetches)
	}
	for _, l := range r.leaks {
		t.Errorf("leak: %s", l)
	}
}

// The fleets of the tests are small enough for the suite; the benchmarks
// run the full fleets: a 100-minute SWAS fleet (1,000 servers at 10 a
// minute) that outlives one-hour credentials, and 1,000 Lighthouse
// instances (about two minutes at 20 calls a second) started one minute
// before the credentials in hand expire, as the clock speed the 20-per-
// second limit allows (10x, as in internal/bench) would take an hour of
// wall time for an hour-long fleet.
var (
	testSWAS       = fleetSpec{n: 60, speed: 100, rollbackTakes: 45 * time.Second, firstLife: 2 * time.Minute, expireEarly: true}
	testLighthouse = fleetSpec{n: 300, speed: 20, rollbackTakes: 30 * time.Second, firstLife: 40 * time.Second, expireEarly: true}
	fullSWAS       = fleetSpec{n: 1000, speed: 100, rollbackTakes: 45 * time.Second, firstLife: time.Hour, expireEarly: true, serverLimits: true}
	fullLighthouse = fleetSpec{n: 1000, speed: 10, rollbackTakes: time.Minute, firstLife: time.Minute, expireEarly: true, serverLimits: true}
)

// TestSWASFleetOutlivesItsCredentials: the credentials in hand expire two
// minutes into a six-minute fleet, and the cloud expires all of them once
// more a third of the way through.
func TestSWASFleetOutlivesItsCredentials(t *testing.T) {
	check(t, swasFleet(t, testSWAS), 5*time.Minute)
}

// TestLighthouseFleetOutlivesItsCredentials: 300 instances; the
// credentials in hand expire 40 seconds in, and the cloud expires all of
// them once more a third of the way through.
func TestLighthouseFleetOutlivesItsCredentials(t *testing.T) {
	check(t, lighthouseFleet(t, testLighthouse), 45*time.Second)
}

func benchFleet(b *testing.B, run func(testing.TB, fleetSpec) fleetRun, f fleetSpec) {
	for range b.N {
		r := run(b, f)
		b.Log(r)
		if r.failed > 0 || r.authErrors > 0 || len(r.leaks) > 0 {
			b.Errorf("%d failed, %d authentication errors, %d leaks: %v", r.failed, r.authErrors, len(r.leaks), r.samples)
		}
		b.ReportMetric(r.makespan.Minutes(), "clock-min")
		b.ReportMetric(float64(r.authErrors), "auth-errors")
		b.ReportMetric(float64(r.fetches), "cred-fetches")
		b.ReportMetric(float64(r.resent), "resent")
	}
}

// BenchmarkSWASFleetCredentials: 1,000 SWAS servers, 100 minutes of clock
// (a minute of wall time at 100x), one-hour credentials.
func BenchmarkSWASFleetCredentials(b *testing.B) { benchFleet(b, swasFleet, fullSWAS) }

// BenchmarkLighthouseFleetCredentials: 1,000 Lighthouse instances, the
// credentials in hand expiring a minute in, then one-hour ones.
func BenchmarkLighthouseFleetCredentials(b *testing.B) {
	benchFleet(b, lighthouseFleet, fullLighthouse)
}

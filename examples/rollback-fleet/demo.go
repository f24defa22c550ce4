package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/internal/cli"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// Regions of the demo's emulated servers: two per cloud, to show that one
// client serves them all.
var (
	demoAliyunRegions  = []string{"cn-hangzhou", "cn-shanghai"}
	demoTencentRegions = []string{"ap-guangzhou", "ap-shanghai"}
)

// runDemo starts both emulators in this process on a clock -demo-speed
// times faster than real time, seeds -demo-servers servers across both
// clouds, each with a snapshot (every tenth running, so -stop matters), and
// rolls them all back as a fleet, with the clouds' real rate limits.
func runDemo(ctx context.Context, c *config, e env) int {
	wallStart := time.Now()
	clk := clock.NewScaled(c.demoSpeed)
	ali := aliyuntest.NewServer(aliyuntest.WithClock(clk), aliyuntest.WithRegions(demoAliyunRegions...))
	defer ali.Close()
	tc := tencenttest.NewServer(tencenttest.WithClock(clk), tencenttest.WithRegions(demoTencentRegions...))
	defer tc.Close()

	rows, err := seedDemo(ali, tc, c.demoServers)
	if err != nil {
		return fail(e.stderr, c, err)
	}
	c.stop, c.yes, c.keyPrefix = true, true, "demo"
	// Durations learned on a fast clock mean nothing to later waits on the
	// wall clock: the demo keeps its own.
	e.clock, e.speed, e.learner = clk, c.demoSpeed, &rollback.Learner{}
	at, tt := ali.Durations(), tencenttest.DefaultDurations
	e.times = map[string]stepTimes{
		rollback.ProviderAliyun:  {stop: at.Stop, snapshot: at.CreateSnapshot, rollback: at.Rollback, start: at.Start},
		rollback.ProviderTencent: {stop: tt.Stop, snapshot: tt.CreateSnapshot, rollback: tt.Rollback, start: tt.Start},
	}
	dir, err := os.MkdirTemp("", "fleet-demo-")
	if err != nil {
		return fail(e.stderr, c, err)
	}
	defer os.RemoveAll(dir)
	c.stateDir = dir

	// With -json -, stdout carries the JSON document and nothing else.
	text := e.stdout
	if c.jsonFile == "-" {
		text = e.stderr
	}
	fmt.Fprintf(text, "Demo: %d servers on two emulated clouds in this process, running %gx faster than real time.\n", len(rows), c.demoSpeed)
	fmt.Fprintln(text, "Every tenth server is running, so it is stopped first. Times are cloud time.")
	fmt.Fprintln(text)
	// The emulators' credentials go in the openers' Config: a URL never
	// carries credentials.
	code := runRows(ctx, c, e, rows, nil, cloudSet{
		urls: map[string]string{
			rollback.ProviderAliyun:  cli.CloudURL(rollback.ProviderAliyun, demoAliyunRegions[0], ali.URL, "", false),
			rollback.ProviderTencent: cli.CloudURL(rollback.ProviderTencent, demoTencentRegions[0], tc.URL, "", false),
		},
		openers: map[string]rollback.OpenFunc{
			rollback.ProviderAliyun: (&aliyun.URLOpener{Config: aliyun.Config{
				AccessKeyID: aliyuntest.DefaultAccessKeyID, AccessKeySecret: aliyuntest.DefaultAccessKeySecret}}).OpenURL,
			rollback.ProviderTencent: (&tencent.URLOpener{Config: tencent.Config{
				SecretID: tencenttest.DefaultSecretID, SecretKey: tencenttest.DefaultSecretKey}}).OpenURL,
		},
	})

	once, nAli, nTc := 0, 0, 0
	for _, r := range rows {
		n := 0
		if r.Provider == rollback.ProviderAliyun {
			n, nAli = ali.RollbacksOf(r.Disk), nAli+1
		} else {
			n, nTc = tc.RollbacksOf(r.Instance), nTc+1
		}
		if n == 1 {
			once++
		}
	}
	fmt.Fprintf(text, "Rollbacks applied: aliyun %d of %d servers, tencent %d of %d; %d servers rolled back exactly once. Wall time %s.\n",
		ali.Rollbacks(), nAli, tc.Rollbacks(), nTc, once, time.Since(wallStart).Round(10*time.Millisecond))
	fmt.Fprintln(text, "Next: 'go run ./examples/rollback-fleet -help' for real use; credentials come from the environment.")
	return code
}

// seedDemo creates n servers, about half on each cloud, spread over two
// regions each, every one with a snapshot of its system disk; every tenth
// is running.
func seedDemo(ali *aliyuntest.Server, tc *tencenttest.Server, n int) ([]row, error) {
	var rows []row
	yesterday := ali.Clock().Now().Add(-24 * time.Hour)
	for i := range n {
		running := i/2%10 == 0
		if i%2 == 0 {
			region := demoAliyunRegions[i/2%len(demoAliyunRegions)]
			status := aliyuntest.StatusStopped
			if running {
				status = aliyuntest.StatusRunning
			}
			in := aliyuntest.Must(ali.AddInstance(aliyuntest.InstanceSpec{Region: region, Name: fmt.Sprintf("web-%03d", i/2+1), Status: status}))
			snap := aliyuntest.Must(ali.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: in.SystemDiskID, Name: "nightly", CreatedAt: yesterday}))
			rows = append(rows, row{Line: i + 2, Provider: rollback.ProviderAliyun, Region: region, Instance: in.ID, Disk: in.SystemDiskID, Snapshot: snap.ID})
			continue
		}
		region := demoTencentRegions[i/2%len(demoTencentRegions)]
		state := tencenttest.StateStopped
		if running {
			state = tencenttest.StateRunning
		}
		in, err := tc.AddInstance(tencenttest.Instance{Region: region, Name: fmt.Sprintf("api-%03d", i/2+1), State: state})
		if err != nil {
			return nil, err
		}
		snap, err := tc.AddSnapshot(tencenttest.Snapshot{InstanceID: in.ID, Name: "nightly"})
		if err != nil {
			return nil, err
		}
		rows = append(rows, row{Line: i + 2, Provider: rollback.ProviderTencent, Region: region, Instance: in.ID, Snapshot: snap.ID})
	}
	return rows, nil
}

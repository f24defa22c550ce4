package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// The demo's servers have fixed IDs, so its example requests can be
// copied as they are.
const (
	demoTencentInstance = "lhins-demo0001"
	demoTencentSnapshot = "lhsnap-demo0001"
	demoAliyunDisk      = "d-demo00000000000001"
	demoAliyunSnapshot  = "s-demo00000000000001"
)

// demo is both emulators and their clients, on one fast clock.
type demo struct {
	clock     clock.Clock
	ali       *aliyuntest.Server
	tc        *tencenttest.Server
	providers map[string]rollback.Provider
}

// startDemo starts the emulators with a running server on each cloud, and
// a snapshot of its disk.
func startDemo(speed float64, logger *slog.Logger, hooks rollback.Hooks) (*demo, error) {
	clk := clock.NewScaled(speed)
	d := &demo{clock: clk, ali: aliyuntest.NewServer(aliyuntest.WithClock(clk)), tc: tencenttest.NewServer(tencenttest.WithClock(clk))}
	in := aliyuntest.Must(d.ali.AddInstance(aliyuntest.InstanceSpec{Name: "web-1", Status: aliyuntest.StatusRunning, SystemDiskID: demoAliyunDisk}))
	aliyuntest.Must(d.ali.AddSnapshot(aliyuntest.SnapshotSpec{ID: demoAliyunSnapshot, DiskID: in.SystemDiskID, Name: "nightly"}))
	if _, err := d.tc.AddInstance(tencenttest.Instance{ID: demoTencentInstance, Name: "api-1", State: tencenttest.StateRunning}); err != nil {
		d.close()
		return nil, err
	}
	if _, err := d.tc.AddSnapshot(tencenttest.Snapshot{ID: demoTencentSnapshot, InstanceID: demoTencentInstance, Name: "nightly"}); err != nil {
		d.close()
		return nil, err
	}
	opts := []rollback.Option{rollback.WithClock(clk), rollback.WithLogger(logger), rollback.WithHooks(hooks)}
	ac, err := aliyun.New(aliyun.Config{Region: aliyuntest.DefaultRegion, Endpoint: d.ali.URL,
		AccessKeyID: aliyuntest.DefaultAccessKeyID, AccessKeySecret: aliyuntest.DefaultAccessKeySecret}, opts...)
	if err != nil {
		d.close()
		return nil, err
	}
	tc, err := tencent.New(tencent.Config{Region: tencenttest.DefaultRegion, Endpoint: d.tc.URL,
		SecretID: tencenttest.DefaultSecretID, SecretKey: tencenttest.DefaultSecretKey}, opts...)
	if err != nil {
		ac.CloseIdleConnections()
		d.close()
		return nil, err
	}
	d.providers = map[string]rollback.Provider{rollback.ProviderAliyun: ac, rollback.ProviderTencent: tc}
	return d, nil
}

func (d *demo) close() {
	closeAll(d.providers)
	d.ali.Close()
	d.tc.Close()
}

// demoBodies are the demo's example requests, by provider.
var demoBodies = map[string]string{
	rollback.ProviderTencent: `{"provider":"tencent","region":"ap-guangzhou","instance":"` + demoTencentInstance +
		`","snapshot":"` + demoTencentSnapshot + `","stop":true,"backup":true,"start":true}`,
	rollback.ProviderAliyun: `{"provider":"aliyun","region":"cn-hangzhou","disk":"` + demoAliyunDisk +
		`","snapshot":"` + demoAliyunSnapshot + `","stop":true,"start":true}`,
}

func printDemoRequests(w io.Writer, url string) {
	fmt.Fprintf(w, `
Roll back the emulated Lighthouse server (stop, safety snapshot, rollback, start):

  curl -i %[1]s/rollbacks -H 'Idempotency-Key: demo-1' -d '%[2]s'
  curl '%[1]s/rollbacks/demo-1?wait=30s'

Send the POST again: the same operation, not a second rollback. Change its
body and keep the key: 422. The SWAS server:

  curl -i %[1]s/rollbacks -H 'Idempotency-Key: demo-2' -d '%[3]s'

`, url, demoBodies[rollback.ProviderTencent], demoBodies[rollback.ProviderAliyun])
}

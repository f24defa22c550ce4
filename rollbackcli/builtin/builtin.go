// Package builtin links this repository's two clouds into a program built
// on rollbackcli: importing it registers aliyun:// and tencent:// with
// rollback.Open (by importing the provider packages) and their emulators
// as -demo's clouds (rollbackcli.RegisterDemo). examples/rollback imports
// it; a provider's own command need not, and then carries neither cloud's
// SDK.
package builtin

import (
	"fmt"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/rollbackcli"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

func init() {
	rollbackcli.RegisterDemo(rollback.ProviderAliyun, demoAliyun)
	rollbackcli.RegisterDemo(rollback.ProviderTencent, demoTencent)
}

// demoAliyun starts the SWAS emulator with three running servers, each
// with a snapshot of its system disk taken yesterday, and targets the
// first.
func demoAliyun(clk clock.Clock, opts []rollback.Option) (*rollbackcli.DemoCloud, error) {
	srv := aliyuntest.NewServer(aliyuntest.WithClock(clk))
	p, err := aliyun.New(aliyun.Config{
		Region: aliyuntest.DefaultRegion, Endpoint: srv.URL,
		AccessKeyID: aliyuntest.DefaultAccessKeyID, AccessKeySecret: aliyuntest.DefaultAccessKeySecret,
	}, opts...)
	if err != nil {
		srv.Close()
		return nil, err
	}
	var first rollback.Request
	for i := range 3 {
		in, err := srv.AddInstance(aliyuntest.InstanceSpec{Name: fmt.Sprintf("web-%d", i+1), Status: aliyuntest.StatusRunning})
		if err != nil {
			srv.Close()
			return nil, err
		}
		snap, err := srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: in.SystemDiskID, Name: "nightly",
			CreatedAt: srv.Clock().Now().Add(-24 * time.Hour)})
		if err != nil {
			srv.Close()
			return nil, err
		}
		if i == 0 {
			first = rollback.Request{Region: aliyuntest.DefaultRegion, DiskID: in.SystemDiskID, SnapshotID: snap.ID}
		}
	}
	return &rollbackcli.DemoCloud{Provider: p, Request: first, Applied: srv.Rollbacks, Close: srv.Close}, nil
}

// demoTencent starts the Lighthouse emulator with three running instances
// with a snapshot each, and targets the first.
func demoTencent(clk clock.Clock, opts []rollback.Option) (*rollbackcli.DemoCloud, error) {
	srv := tencenttest.NewServer(tencenttest.WithClock(clk))
	p, err := tencent.New(tencent.Config{
		Region: tencenttest.DefaultRegion, Endpoint: srv.URL,
		SecretID: tencenttest.DefaultSecretID, SecretKey: tencenttest.DefaultSecretKey,
	}, opts...)
	if err != nil {
		srv.Close()
		return nil, err
	}
	var first rollback.Request
	for i := range 3 {
		in, err := srv.AddInstance(tencenttest.Instance{Name: fmt.Sprintf("api-%d", i+1), State: "RUNNING"})
		if err != nil {
			srv.Close()
			return nil, err
		}
		snap, err := srv.AddSnapshot(tencenttest.Snapshot{InstanceID: in.ID, Name: "nightly"})
		if err != nil {
			srv.Close()
			return nil, err
		}
		if i == 0 {
			first = rollback.Request{Region: tencenttest.DefaultRegion, InstanceID: in.ID, SnapshotID: snap.ID}
		}
	}
	return &rollbackcli.DemoCloud{Provider: p, Request: first, Applied: srv.Rollbacks, Close: srv.Close}, nil
}

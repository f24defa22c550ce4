package bench

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	swas "github.com/aliyun/alibaba-cloud-sdk-go/services/swas-open"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	lh "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/lighthouse/v20200324"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// overheadPair is one provider's two ways of sending the same rollback to
// the same emulator: the raw SDK call, and our client's. Each returns when
// the call is accepted; next readies the emulator for another rollback.
type overheadPair struct {
	raw, ours func() error
	// hooked is ours through a second client that has rollback.Hooks set
	// (countingHooks): what observing every call and attempt costs.
	hooked func() error
	next   func()
	close  func()
}

// countingHooks are the cheapest hooks that still see every event: the
// cost they add is the hook machinery's own (the OpenTelemetry adapter's
// is measured in the otel module).
func countingHooks() rollback.Hooks {
	var n atomic.Int64
	return rollback.Hooks{
		CallStart: func(ctx context.Context, _ *rollback.CallInfo) context.Context { n.Add(1); return ctx },
		CallEnd:   func(context.Context, *rollback.CallInfo) { n.Add(1) },
		AttemptStart: func(ctx context.Context, _ *rollback.CallInfo, _ *rollback.AttemptInfo) context.Context {
			n.Add(1)
			return ctx
		},
		AttemptEnd: func(context.Context, *rollback.CallInfo, *rollback.AttemptInfo) { n.Add(1) },
	}
}

// The emulator's clock is advanced by hand after each rollback, so the
// instance is stopped and idle again for the next one without any waiting;
// rate limits are off on both sides: this measures the call, not pacing.

func aliyunPair(tb testing.TB) overheadPair {
	clk := clock.NewVirtual(time.Time{})
	srv := aliyuntest.NewServer(aliyuntest.WithClock(clk), aliyuntest.WithoutRateLimits())
	in := aliyuntest.Must(srv.AddInstance(aliyuntest.InstanceSpec{Status: aliyuntest.StatusStopped}))
	sn := aliyuntest.Must(srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: in.SystemDiskID}))

	rawClient, err := swas.NewClientWithOptions(aliyuntest.DefaultRegion, sdk.NewConfig(),
		credentials.NewStaticAKCredentialsProvider(aliyuntest.DefaultAccessKeyID, aliyuntest.DefaultAccessKeySecret))
	if err != nil {
		tb.Fatal(err)
	}
	rawClient.Domain = strings.TrimPrefix(srv.URL, "http://")
	rawTransport := &http.Transport{}
	rawClient.SetTransport(rawTransport)

	ours, err := aliyun.New(aliyun.Config{Region: aliyuntest.DefaultRegion, Endpoint: srv.URL,
		AccessKeyID: aliyuntest.DefaultAccessKeyID, AccessKeySecret: aliyuntest.DefaultAccessKeySecret},
		rollback.WithClock(clk), rollback.WithoutRateLimit())
	if err != nil {
		tb.Fatal(err)
	}
	hooked, err := aliyun.New(aliyun.Config{Region: aliyuntest.DefaultRegion, Endpoint: srv.URL,
		AccessKeyID: aliyuntest.DefaultAccessKeyID, AccessKeySecret: aliyuntest.DefaultAccessKeySecret},
		rollback.WithClock(clk), rollback.WithoutRateLimit(), rollback.WithHooks(countingHooks()))
	if err != nil {
		tb.Fatal(err)
	}
	snap, err := ours.Snapshot(context.Background(), aliyuntest.DefaultRegion, sn.ID)
	if err != nil {
		tb.Fatal(err)
	}
	req := rollback.Request{Region: aliyuntest.DefaultRegion, InstanceID: in.ID, DiskID: in.SystemDiskID, SnapshotID: sn.ID}
	pf := provider.Preflight{Snapshot: snap}
	return overheadPair{
		raw: func() error {
			r := swas.CreateResetDiskRequest()
			r.DiskId, r.SnapshotId, r.ClientToken = in.SystemDiskID, sn.ID, provider.NewClientToken()
			_, err := rawClient.ResetDisk(r)
			return err
		},
		ours: func() error {
			_, err := ours.RollbackWithPreflight(context.Background(), req, pf)
			return err
		},
		hooked: func() error {
			_, err := hooked.RollbackWithPreflight(context.Background(), req, pf)
			return err
		},
		next: func() { clk.Advance(time.Hour) },
		close: func() {
			rawTransport.CloseIdleConnections()
			ours.CloseIdleConnections()
			hooked.CloseIdleConnections()
			srv.Close()
		},
	}
}

func tencentPair(tb testing.TB) overheadPair {
	clk := clock.NewVirtual(time.Time{})
	srv := tencenttest.NewServer(tencenttest.WithClock(clk), tencenttest.WithoutRateLimits())
	in, _ := srv.AddInstance(tencenttest.Instance{State: "STOPPED"})
	sn, _ := srv.AddSnapshot(tencenttest.Snapshot{InstanceID: in.ID})

	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = strings.TrimPrefix(srv.URL, "http://")
	cpf.HttpProfile.Scheme = "HTTP"
	cpf.Language = "en-US"
	rawClient, err := lh.NewClient(common.NewCredential(tencenttest.DefaultSecretID, tencenttest.DefaultSecretKey), tencenttest.DefaultRegion, cpf)
	if err != nil {
		tb.Fatal(err)
	}
	rawTransport := &http.Transport{}
	rawClient.WithHttpTransport(rawTransport)

	ours, err := tencent.New(tencent.Config{Region: tencenttest.DefaultRegion, Endpoint: srv.URL,
		SecretID: tencenttest.DefaultSecretID, SecretKey: tencenttest.DefaultSecretKey},
		rollback.WithClock(clk), rollback.WithoutRateLimit())
	if err != nil {
		tb.Fatal(err)
	}
	hooked, err := tencent.New(tencent.Config{Region: tencenttest.DefaultRegion, Endpoint: srv.URL,
		SecretID: tencenttest.DefaultSecretID, SecretKey: tencenttest.DefaultSecretKey},
		rollback.WithClock(clk), rollback.WithoutRateLimit(), rollback.WithHooks(countingHooks()))
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	inst, err := ours.Instance(ctx, tencenttest.DefaultRegion, in.ID)
	if err != nil {
		tb.Fatal(err)
	}
	snap, err := ours.Snapshot(ctx, tencenttest.DefaultRegion, sn.ID)
	if err != nil {
		tb.Fatal(err)
	}
	req := rollback.Request{Region: tencenttest.DefaultRegion, InstanceID: in.ID, SnapshotID: sn.ID}
	pf := provider.Preflight{Instance: inst, Snapshot: snap}
	return overheadPair{
		raw: func() error {
			r := lh.NewApplyInstanceSnapshotRequest()
			r.InstanceId, r.SnapshotId = common.StringPtr(in.ID), common.StringPtr(sn.ID)
			_, err := rawClient.ApplyInstanceSnapshot(r)
			return err
		},
		ours: func() error {
			_, err := ours.RollbackWithPreflight(ctx, req, pf)
			return err
		},
		hooked: func() error {
			_, err := hooked.RollbackWithPreflight(ctx, req, pf)
			return err
		},
		next:  func() { clk.Advance(time.Hour) },
		close: func() { rawTransport.CloseIdleConnections(); ours.Close(); hooked.Close(); srv.Close() },
	}
}

// BenchmarkRollbackOverhead alternates the raw SDK call and ours in one
// loop, so both see the same machine, and reports each one's time per call
// and our overhead in percent. Ours is timed twice, side by side: without
// hooks (the zero value, as shipped) and with hooks set (hooked-ns/call;
// hooks-% is what setting them adds to ours).
func BenchmarkRollbackOverhead(b *testing.B) {
	for _, p := range []struct {
		name string
		make func(testing.TB) overheadPair
	}{{"aliyun", aliyunPair}, {"tencent", tencentPair}} {
		b.Run(p.name, func(b *testing.B) {
			pair := p.make(b)
			defer pair.close()
			// Alternate which goes first, so that neither gains from its
			// position (a warm connection, the other's garbage).
			var raw, ours, hooked time.Duration
			var oursCPU, hookedCPU time.Duration // CPU time holds on a loaded machine
			var cpu *time.Duration
			timed := func(call func() error) time.Duration {
				c0, t0 := cpuNow(), time.Now()
				if err := call(); err != nil {
					b.Fatal(err)
				}
				d := time.Since(t0)
				if cpu != nil {
					*cpu += cpuNow() - c0
				}
				pair.next()
				return d
			}
			mine := func(call func() error, c *time.Duration) time.Duration {
				cpu = c
				defer func() { cpu = nil }()
				return timed(call)
			}
			for i := 0; i < b.N; i++ {
				switch i % 3 {
				case 0:
					raw += timed(pair.raw)
					ours += mine(pair.ours, &oursCPU)
					hooked += mine(pair.hooked, &hookedCPU)
				case 1:
					ours += mine(pair.ours, &oursCPU)
					hooked += mine(pair.hooked, &hookedCPU)
					raw += timed(pair.raw)
				default:
					hooked += mine(pair.hooked, &hookedCPU)
					raw += timed(pair.raw)
					ours += mine(pair.ours, &oursCPU)
				}
			}
			b.ReportMetric(float64(raw.Nanoseconds())/float64(b.N), "raw-ns/call")
			b.ReportMetric(float64(ours.Nanoseconds())/float64(b.N), "ours-ns/call")
			b.ReportMetric(100*(float64(ours)/float64(raw)-1), "overhead-%")
			b.ReportMetric(float64(hooked.Nanoseconds())/float64(b.N), "hooked-ns/call")
			b.ReportMetric(100*(float64(hooked)/float64(ours)-1), "hooks-%")
			b.ReportMetric(float64(oursCPU.Nanoseconds())/float64(b.N), "ours-cpu-ns/call")
			b.ReportMetric(float64(hookedCPU.Nanoseconds())/float64(b.N), "hooked-cpu-ns/call")
			b.ReportMetric(100*(float64(hookedCPU)/float64(oursCPU)-1), "hooks-cpu-%")
		})
	}
}

// BenchmarkRollbackAllocs reports allocations of each way separately.
func BenchmarkRollbackAllocs(b *testing.B) {
	for _, p := range []struct {
		name string
		make func(testing.TB) overheadPair
	}{{"aliyun", aliyunPair}, {"tencent", tencentPair}} {
		for _, way := range []string{"raw", "ours", "hooked"} {
			b.Run(p.name+"/"+way, func(b *testing.B) {
				pair := p.make(b)
				defer pair.close()
				call := map[string]func() error{"raw": pair.raw, "ours": pair.ours, "hooked": pair.hooked}[way]
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if err := call(); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					pair.next()
					b.StartTimer()
				}
			})
		}
	}
}

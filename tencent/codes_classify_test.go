package tencent

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	sdkerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	lh "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/lighthouse/v20200324"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// The codes the emulator produces from states that Rollback's own reads
// refuse before sending (so TestSeedPageCodesFromStateMapToSentinels cannot
// see them on the wire), produced through the official SDK and mapped by
// the provider's table.
func TestStateCodesClassify(t *testing.T) {
	clk := clock.NewVirtual(time.Time{})
	srv := tencenttest.NewServer(tencenttest.WithClock(clk))
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint, cpf.HttpProfile.Scheme = srv.Endpoint(), "HTTP"
	sdk, err := lh.NewClient(common.NewCredential(tencenttest.DefaultSecretID, tencenttest.DefaultSecretKey), tencenttest.DefaultRegion, cpf)
	if err != nil {
		t.Fatal(err)
	}
	sdk.WithHttpTransport(tr)

	stopped := tencenttest.Instance{State: tencenttest.StateStopped}
	seed := func(in tencenttest.Instance, sn tencenttest.Snapshot) (string, string) {
		i := tencenttest.Must(srv.AddInstance(in))
		sn.InstanceID = i.ID
		return i.ID, tencenttest.Must(srv.AddSnapshot(sn)).ID
	}
	tests := []struct {
		code string
		kind error
		arm  func() (string, string)
	}{
		{"ResourceNotFound.DiskNotFound", rollback.ErrDiskNotFound, func() (string, string) {
			in, sn := seed(stopped, tencenttest.Snapshot{})
			tencenttest.Must(srv.ReplaceSystemDisk(in))
			return in, sn
		}},
		{"FailedOperation.SnapshotOperationFailed", rollback.ErrInternal, func() (string, string) {
			return seed(stopped, tencenttest.Snapshot{LatestOperation: tencenttest.OpCreateInstanceSnapshot, LatestOperationState: tencenttest.OperationFailed})
		}},
		{"UnsupportedOperation.InstanceExpired", rollback.ErrInstanceState, func() (string, string) {
			now := clk.Now()
			return seed(tencenttest.Instance{State: tencenttest.StateStopped, CreatedTime: now.AddDate(-1, 0, 0), ExpiredTime: now}, tencenttest.Snapshot{})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			in, sn := tt.arm()
			r := lh.NewApplyInstanceSnapshotRequest()
			r.InstanceId, r.SnapshotId = common.StringPtr(in), common.StringPtr(sn)
			_, err := sdk.ApplyInstanceSnapshot(r)
			var se *sdkerrors.TencentCloudSDKError
			if !errors.As(err, &se) || se.Code != tt.code {
				t.Fatalf("emulator answered %v, want %s", err, tt.code)
			}
			if e := classify("ApplyInstanceSnapshot", se, func(s string) string { return s }); !errors.Is(e, tt.kind) || e.Ambiguous {
				t.Errorf("mapped to %v (ambiguous %v), want %v", e.Kind, e.Ambiguous, tt.kind)
			}
		})
	}
	if srv.Rollbacks() != 0 {
		t.Errorf("rollbacks = %d", srv.Rollbacks())
	}
}

package tencent_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// Both providers treat an empty Request.Region alike: refused before
// anything is sent, as rollback.Run refuses it (issue 16 item 10).
func TestEmptyRequestRegionRefusedOnBoth(t *testing.T) {
	tc := tencenttest.NewServer()
	defer tc.Close()
	ali := aliyuntest.NewServer()
	defer ali.Close()
	in, _ := tc.AddInstance(tencenttest.Instance{State: "STOPPED"})
	sn, _ := tc.AddSnapshot(tencenttest.Snapshot{InstanceID: in.ID})
	a := aliyuntest.Must(ali.AddInstance(aliyuntest.InstanceSpec{Status: aliyuntest.StatusStopped}))
	as := aliyuntest.Must(ali.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: a.SystemDiskID}))
	tcc, err := tencent.New(tencent.Config{Region: tencenttest.DefaultRegion, Endpoint: tc.URL,
		SecretID: tencenttest.DefaultSecretID, SecretKey: tencenttest.DefaultSecretKey})
	if err != nil {
		t.Fatal(err)
	}
	defer tcc.Close()
	alc, err := aliyun.New(aliyun.Config{Region: aliyuntest.DefaultRegion, Endpoint: ali.URL,
		AccessKeyID: aliyuntest.DefaultAccessKeyID, AccessKeySecret: aliyuntest.DefaultAccessKeySecret})
	if err != nil {
		t.Fatal(err)
	}
	defer alc.Close()
	for _, c := range []struct {
		p   rollback.Provider
		req rollback.Request
	}{
		{tcc, rollback.Request{InstanceID: in.ID, SnapshotID: sn.ID}},
		{alc, rollback.Request{DiskID: a.SystemDiskID, SnapshotID: as.ID}},
	} {
		v := c.p.(provider.RequestValidator)
		_, rerr := c.p.Rollback(context.Background(), c.req)
		for _, err := range []error{v.ValidateRequest(c.req), rerr} {
			var e *rollback.Error
			if !errors.As(err, &e) || !errors.Is(err, rollback.ErrInvalidArgument) || e.Field != "Region" {
				t.Errorf("%T: empty Region: %v", c.p, err)
			}
		}
	}
	if n := tc.Journal().Count("") + len(ali.Journal().Entries()); n != 0 {
		t.Errorf("%d calls sent", n)
	}
}

// An endpoint whose TLS certificate is not trusted is a misconfiguration
// that no retry fixes: ErrInvalidArgument at once, on both providers, as
// README's table says.
func TestUntrustedTLSIsInvalidArgumentOnBoth(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	tcc, err := tencent.New(tencent.Config{Region: "ap-guangzhou", Endpoint: srv.URL, SecretID: "AKIDtls", SecretKey: "tls"})
	if err != nil {
		t.Fatal(err)
	}
	defer tcc.Close()
	alc, err := aliyun.New(aliyun.Config{Region: "cn-hangzhou", Endpoint: srv.URL, AccessKeyID: "AKIDtls", AccessKeySecret: "tls"})
	if err != nil {
		t.Fatal(err)
	}
	defer alc.Close()
	_, terr := tcc.Instance(context.Background(), "ap-guangzhou", "lhins-1a2b3c4d")
	_, aerr := alc.Instance(context.Background(), "cn-hangzhou", "ace0706b2ac4454d984295a94213ba3b")
	for _, err := range []error{terr, aerr} {
		var e *rollback.Error
		if !errors.As(err, &e) || !errors.Is(err, rollback.ErrInvalidArgument) || rollback.IsRetryable(err) || e.Attempts > 1 {
			t.Errorf("untrusted certificate: %v (%+v)", err, e)
		}
	}
}

package main

import (
	"context"
	"errors"
	"io"
	"net/url"
	"testing"

	"go.uber.org/goleak"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestProvider opens the worker's client both ways: a -cloud name with
// -endpoint, and a -cloud URL; the emulator's credentials are used when
// the environment has none.
func TestProvider(t *testing.T) {
	srv := tencenttest.NewServer()
	defer srv.Close()
	t.Setenv("TENCENTCLOUD_SECRET_ID", "")
	t.Setenv("TENCENTCLOUD_SECRET_KEY", "")
	ctx := context.Background()
	for _, args := range [][3]string{
		{"tencent", "", srv.URL},
		{"tencent://ap-guangzhou?endpoint=" + url.QueryEscape(srv.URL), "", ""},
	} {
		p, name, err := provider(ctx, args[0], args[1], args[2], nil)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		if c, ok := p.(io.Closer); ok {
			defer c.Close()
		}
		if name != rollback.ProviderTencent {
			t.Errorf("%q: provider %q", args, name)
		}
		if _, err := p.Instance(ctx, tencenttest.DefaultRegion, "lhins-00000000"); !errors.Is(err, rollback.ErrInstanceNotFound) {
			t.Errorf("%q: Instance on the emulator: %v", args, err)
		}
	}
	for _, args := range [][3]string{
		{"tencent://ap-guangzhou", "ap-beijing", ""},
		{"gcp", "", ""},
		{"tencent://ap-guangzhou?bogus=1", "", ""},
	} {
		if _, _, err := provider(ctx, args[0], args[1], args[2], nil); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
	if got := providerName("Aliyun://cn-hangzhou"); got != rollback.ProviderAliyun {
		t.Errorf("providerName = %q", got)
	}
}

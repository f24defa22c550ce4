package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/internal/testkit"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// TestCloudFlag serves the clouds -cloud names, and only those, whatever
// credentials the environment holds for others.
func TestCloudFlag(t *testing.T) {
	tc := tencenttest.NewServer()
	defer tc.Close()
	t.Setenv("TENCENTCLOUD_SECRET_ID", tencenttest.DefaultSecretID)
	t.Setenv("TENCENTCLOUD_SECRET_KEY", tencenttest.DefaultSecretKey)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIfixture")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "fixture")
	c, err := parseFlags([]string{"-cloud", "tencent://" + tencenttest.DefaultRegion + "?endpoint=" + url.QueryEscape(tc.URL)}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	providers, err := openClouds(ctx, c, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(providers)
	if len(providers) != 1 || providers[rollback.ProviderTencent] == nil {
		t.Fatalf("serving %v", providers)
	}
	_, err = providers[rollback.ProviderTencent].Instance(ctx, tencenttest.DefaultRegion, "lhins-00000000")
	if !errors.Is(err, rollback.ErrInstanceNotFound) {
		t.Errorf("Instance on the emulator: %v", err)
	}
}

func TestCloudFlagRefused(t *testing.T) {
	const secret = "pa55w0rdInTheURL"
	for _, tt := range []struct {
		args []string
		say  string
	}{
		{[]string{"-cloud", "tencent://AKIDabc:" + secret + "@ap-guangzhou"}, "never carries credentials"},
		{[]string{"-cloud", "tencent:ap-guangzhou"}, "SCHEME://REGION"},
		{[]string{"-cloud", "tencent://ap-guangzhou", "-cloud", "tencent://ap-beijing"}, "given twice"},
		{[]string{"-cloud", "aliyun://cn-hangzhou", "-aliyun-endpoint", "http://127.0.0.1:1"}, "set the endpoint in the URL"},
		{[]string{"-cloud", "gcp://us-east1"}, "gcp:// is not a provider this command knows (aliyun, tencent)"},
		{[]string{"-cloud", "tencent://ap-guangzhou?secret_key=" + secret}, `unknown query parameter "secret_key"`},
		{[]string{"-demo", "-cloud", "tencent://ap-guangzhou"}, "drop -cloud"},
	} {
		var stdout, stderr testkit.SyncBuffer
		args := append(tt.args, "-addr", "127.0.0.1:0", "-state-dir", t.TempDir())
		code := run(context.Background(), args, env{stdout: &stdout, stderr: &stderr})
		if code != exitUsage || !strings.Contains(stderr.String(), tt.say) {
			t.Errorf("%v: exit %d: %s", tt.args, code, stderr.String())
		}
		if strings.Contains(stdout.String()+stderr.String(), secret) {
			t.Errorf("%v: the output quotes the secret", tt.args)
		}
	}
}

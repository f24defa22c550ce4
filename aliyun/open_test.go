package aliyun_test

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
)

func closeProvider(t *testing.T, p rollback.Provider) {
	t.Helper()
	if c, ok := p.(io.Closer); ok {
		t.Cleanup(func() { _ = c.Close() })
	}
}

// TestOpenEmulator opens the client through rollback.Open, credentials
// from the environment, and reads from the emulator: its signature
// checks pass and its answers reach the caller.
func TestOpenEmulator(t *testing.T) {
	srv := aliyuntest.NewServer()
	defer srv.Close()
	t.Setenv(aliyun.EnvAccessKeyID, aliyuntest.DefaultAccessKeyID)
	t.Setenv(aliyun.EnvAccessKeySecret, aliyuntest.DefaultAccessKeySecret)
	t.Setenv(aliyun.EnvSecurityToken, "")
	ctx := context.Background()
	raw := "aliyun://" + aliyuntest.DefaultRegion + "?static_only=true&endpoint=" + url.QueryEscape(srv.URL)
	p, err := rollback.Open(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	closeProvider(t, p)
	if n, ok := p.(interface{ Name() string }); !ok || n.Name() != rollback.ProviderAliyun {
		t.Errorf("Open gave %T", p)
	}
	const missing = "0123456789abcdef0123456789abcdef"
	if _, err = p.Instance(ctx, aliyuntest.DefaultRegion, missing); !errors.Is(err, rollback.ErrInstanceNotFound) {
		t.Errorf("Instance on the emulator: %v, want ErrInstanceNotFound", err)
	}

	// The URLOpener's Config gives credentials that no URL carries.
	t.Setenv(aliyun.EnvAccessKeyID, "")
	t.Setenv(aliyun.EnvAccessKeySecret, "")
	u, _ := url.Parse("aliyun://" + aliyuntest.DefaultRegion + "?endpoint=" + srv.URL)
	o := &aliyun.URLOpener{Config: aliyun.Config{AccessKeyID: aliyuntest.DefaultAccessKeyID, AccessKeySecret: aliyuntest.DefaultAccessKeySecret}}
	p, err = o.OpenURL(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	closeProvider(t, p)
	if _, err = p.Instance(ctx, aliyuntest.DefaultRegion, missing); !errors.Is(err, rollback.ErrInstanceNotFound) {
		t.Errorf("Instance with the opener's credentials: %v", err)
	}
}

// TestOpenParameters maps query parameters to Config; nothing is sent.
func TestOpenParameters(t *testing.T) {
	t.Setenv(aliyun.EnvAccessKeyID, "LTAIfixture")
	t.Setenv(aliyun.EnvAccessKeySecret, "fixtureSecret")
	ctx := context.Background()
	for _, tt := range []struct {
		url  string
		kind error // nil: opens
	}{
		{"aliyun://cn-hangzhou", nil},
		{"aliyun://cn-hangzhou?profile=ops&role_session_name=s&role_duration=30m", nil},
		{"aliyun://cn-hangzhou?endpoint=swas-vpc.cn-hangzhou.aliyuncs.com", nil},
		{"aliyun://cn-hangzhou?endpoint=http://swas.example.com", rollback.ErrInvalidArgument},
		{"aliyun://cn-hangzhou?endpoint=http://swas.example.com&insecure_http=true", nil},
		{"aliyun://cn-hangzhou?international=true", rollback.ErrInvalidArgument}, // a tencent parameter
		{"aliyun://cn-hangzhou?sts_endpoint=https://sts.example.com&metadata_endpoint=http://127.0.0.1:1", nil},
		{"aliyun://cn-hangzhou?static_only=false", nil},
		{"aliyun://cn-hangzhou?static_only=nope", rollback.ErrInvalidArgument},
	} {
		p, err := rollback.Open(ctx, tt.url)
		switch {
		case tt.kind == nil && err != nil:
			t.Errorf("Open(%q): %v", tt.url, err)
		case tt.kind != nil && !errors.Is(err, tt.kind):
			t.Errorf("Open(%q) = %v, want %v", tt.url, err, tt.kind)
		}
		if err == nil {
			closeProvider(t, p)
		}
	}
}

// TestOpenStaticOnly: static_only keeps the default chain to the
// environment, whose absence is ErrUnauthenticated.
func TestOpenStaticOnly(t *testing.T) {
	t.Setenv(aliyun.EnvAccessKeyID, "")
	t.Setenv(aliyun.EnvAccessKeySecret, "")
	t.Setenv(aliyun.EnvSecurityToken, "")
	_, err := rollback.Open(context.Background(), "aliyun://cn-hangzhou?static_only=true")
	if !errors.Is(err, rollback.ErrUnauthenticated) {
		t.Errorf("static_only without credentials: %v", err)
	}
}

// TestOpenErrorsInURLTerms: plain HTTP to a remote host names the URL
// parameter that allows it, not the Go option a URL user cannot pass.
func TestOpenErrorsInURLTerms(t *testing.T) {
	t.Setenv(aliyun.EnvAccessKeyID, "LTAIfixture")
	t.Setenv(aliyun.EnvAccessKeySecret, "fixtureSecret")
	_, err := rollback.Open(context.Background(), "aliyun://cn-hangzhou?endpoint=http://swas.example.com")
	if !errors.Is(err, rollback.ErrInvalidArgument) || !strings.Contains(err.Error(), "add insecure_http=true to the URL") ||
		strings.Contains(err.Error(), "WithInsecureHTTP") {
		t.Errorf("Open = %v", err)
	}
}

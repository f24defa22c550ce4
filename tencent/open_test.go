package tencent_test

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
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
	srv := tencenttest.NewServer()
	defer srv.Close()
	t.Setenv(tencent.EnvSecretID, tencenttest.DefaultSecretID)
	t.Setenv(tencent.EnvSecretKey, tencenttest.DefaultSecretKey)
	t.Setenv(tencent.EnvSessionToken, "")
	t.Setenv(tencent.EnvSecurityToken, "")
	ctx := context.Background()
	raw := "tencent://" + tencenttest.DefaultRegion + "?static_only=true&endpoint=" + url.QueryEscape(srv.URL)
	p, err := rollback.Open(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	closeProvider(t, p)
	if n, ok := p.(interface{ Name() string }); !ok || n.Name() != rollback.ProviderTencent {
		t.Errorf("Open gave %T", p)
	}
	_, err = p.Instance(ctx, tencenttest.DefaultRegion, "lhins-00000000")
	if !errors.Is(err, rollback.ErrInstanceNotFound) {
		t.Errorf("Instance on the emulator: %v, want ErrInstanceNotFound", err)
	}

	// The same URL unescaped reads the same, and the URLOpener's Config
	// gives credentials that no URL carries.
	t.Setenv(tencent.EnvSecretID, "")
	t.Setenv(tencent.EnvSecretKey, "")
	u, _ := url.Parse("tencent://" + tencenttest.DefaultRegion + "?endpoint=" + srv.URL)
	o := &tencent.URLOpener{Config: tencent.Config{SecretID: tencenttest.DefaultSecretID, SecretKey: tencenttest.DefaultSecretKey}}
	p, err = o.OpenURL(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	closeProvider(t, p)
	if _, err = p.Instance(ctx, tencenttest.DefaultRegion, "lhins-00000000"); !errors.Is(err, rollback.ErrInstanceNotFound) {
		t.Errorf("Instance with the opener's credentials: %v", err)
	}
}

// TestOpenParameters maps query parameters to Config; nothing is sent.
func TestOpenParameters(t *testing.T) {
	t.Setenv(tencent.EnvSecretID, testID)
	t.Setenv(tencent.EnvSecretKey, testKey)
	ctx := context.Background()
	for _, tt := range []struct {
		url  string
		kind error // nil: opens
	}{
		{"tencent://ap-guangzhou", nil},
		{"tencent://ap-guangzhou/", nil},
		{"tencent://ap-guangzhou?international=true&profile=ops&role_session_name=s&role_duration=30m&allow_forced_stop", nil},
		{"tencent://ap-guangzhou?endpoint=lighthouse.internal.example.com", nil},
		{"tencent://ap-guangzhou?endpoint=http://lighthouse.example.com", rollback.ErrInvalidArgument},
		{"tencent://ap-guangzhou?endpoint=http://lighthouse.example.com&insecure_http=true", nil},
		{"tencent://xx-newregion-1", rollback.ErrInvalidArgument},
		{"tencent://xx-newregion-1?allow_unknown_region=1", nil},
		{"tencent://ap-beijing?allowed_regions=ap-guangzhou", rollback.ErrInvalidArgument},
		{"tencent://ap-beijing?allowed_regions=ap-guangzhou,ap-beijing", nil},
		{"tencent://ap-guangzhou?international=yes", rollback.ErrInvalidArgument},
		{"tencent://ap-guangzhou?region=ap-beijing", rollback.ErrInvalidArgument},
		{"tencent://ap-guangzhou?sts_endpoint=https://sts.example.com&metadata_endpoint=http://127.0.0.1:1", nil},
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
// environment, whose absence is ErrUnauthenticated naming the variables.
func TestOpenStaticOnly(t *testing.T) {
	t.Setenv(tencent.EnvSecretID, "")
	t.Setenv(tencent.EnvSecretKey, "")
	t.Setenv(tencent.EnvSessionToken, "")
	t.Setenv(tencent.EnvSecurityToken, "")
	_, err := rollback.Open(context.Background(), "tencent://ap-guangzhou?static_only=true")
	if !errors.Is(err, rollback.ErrUnauthenticated) {
		t.Errorf("static_only without credentials: %v", err)
	}
}

// TestOpenErrorsInURLTerms: a mistake that a URL parameter fixes names the
// parameter, not the Go option or Config field a URL user cannot set.
func TestOpenErrorsInURLTerms(t *testing.T) {
	t.Setenv(tencent.EnvSecretID, testID)
	t.Setenv(tencent.EnvSecretKey, testKey)
	for raw, want := range map[string]string{
		"tencent://ap-guangzhou?endpoint=http://lighthouse.example.com": "add insecure_http=true to the URL",
		"tencent://xx-newregion-1":                                      "allow_unknown_region=true in the URL",
		// A secret put in the query is refused, not quoted, and told where
		// credentials go.
		"tencent://ap-guangzhou?SecretKey=s3cr3tVALUE": "a URL never carries credentials",
		// A secret pasted without its name is not quoted as a name.
		"tencent://ap-guangzhou?s3cr3tAKIDz1x2c3v4b5n6m7q8w9e0r": "a long or unusual name, not quoted",
	} {
		_, err := rollback.Open(context.Background(), raw)
		if !errors.Is(err, rollback.ErrInvalidArgument) || !strings.Contains(err.Error(), want) ||
			strings.Contains(err.Error(), "WithInsecureHTTP") || strings.Contains(err.Error(), "Config.") {
			t.Errorf("Open(%q) = %v, want it to say %q", raw, err, want)
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("Open(%q) quotes the secret: %v", raw, err)
		}
	}
}

package tencent_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/internal/testkit"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// credEnv is a Lighthouse emulator with its STS and metadata service, and
// a process environment with no credentials anywhere.
type credEnv struct {
	clk  *clock.Virtual
	srv  *tencenttest.Server
	sts  *tencenttest.STS
	id   string
	home string
	logs *testkit.SyncBuffer
}

func newCredEnv(t *testing.T, clk *clock.Virtual) *credEnv {
	t.Helper()
	if clk == nil {
		clk = clock.NewAutoVirtual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	}
	srv := tencenttest.NewServer(tencenttest.WithClock(clk))
	t.Cleanup(srv.Close)
	sts := tencenttest.NewSTS(srv)
	t.Cleanup(sts.Close)
	e := &credEnv{clk: clk, srv: srv, sts: sts, home: t.TempDir(), logs: &testkit.SyncBuffer{}}
	for _, k := range []string{tencent.EnvSecretID, tencent.EnvSecretKey, tencent.EnvSessionToken, tencent.EnvSecurityToken,
		tencent.EnvTKERegion, tencent.EnvTKEProviderID, tencent.EnvTKETokenFile, tencent.EnvTKERoleARN,
		tencent.EnvCredentialsFile, tencent.EnvProfile} {
		t.Setenv(k, "")
	}
	t.Setenv("HOME", e.home)
	t.Setenv(tencent.EnvMetadataDisabled, "true")
	in, err := srv.AddInstance(tencenttest.Instance{State: "STOPPED"})
	if err != nil {
		t.Fatal(err)
	}
	e.id = in.ID
	return e
}

func (e *credEnv) client(t *testing.T, cfg tencent.Config) (*tencent.Client, error) {
	t.Helper()
	cfg.Region, cfg.Endpoint = tencenttest.DefaultRegion, e.srv.URL
	if cfg.STSEndpoint == "" {
		cfg.STSEndpoint = e.sts.STSURL
	}
	if cfg.MetadataEndpoint == "" {
		cfg.MetadataEndpoint = e.sts.MetadataURL
	}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return tencent.New(cfg, rollback.WithClock(e.clk), rollback.WithHTTPTransport(tr),
		rollback.WithLogger(slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
}

func (e *credEnv) mustClient(t *testing.T, cfg tencent.Config) *tencent.Client {
	t.Helper()
	c, err := e.client(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *credEnv) call(c *tencent.Client) error {
	_, err := c.Instance(context.Background(), tencenttest.DefaultRegion, e.id)
	return err
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCredentialSources(t *testing.T) {
	id, key := tencenttest.DefaultSecretID, tencenttest.DefaultSecretKey
	cases := []struct {
		name  string
		setup func(t *testing.T, e *credEnv, cfg *tencent.Config)
		count string
	}{
		{"environment", func(t *testing.T, e *credEnv, _ *tencent.Config) {
			t.Setenv(tencent.EnvSecretID, id)
			t.Setenv(tencent.EnvSecretKey, key)
		}, ""},
		{"environment with a session token", func(t *testing.T, e *credEnv, _ *tencent.Config) {
			c, _ := e.sts.Issue(time.Hour)
			t.Setenv(tencent.EnvSecretID, c.SecretID)
			t.Setenv(tencent.EnvSecretKey, c.SecretKey)
			t.Setenv(tencent.EnvSessionToken, c.Token)
		}, ""},
		{"TKE OIDC token file", func(t *testing.T, e *credEnv, _ *tencent.Config) {
			file := filepath.Join(e.home, "token")
			writeFile(t, file, tencenttest.DefaultWebIdentityToken)
			t.Setenv(tencent.EnvTKERegion, tencenttest.DefaultRegion)
			t.Setenv(tencent.EnvTKEProviderID, "tke-oidc")
			t.Setenv(tencent.EnvTKETokenFile, file)
			t.Setenv(tencent.EnvTKERoleARN, "qcs::cam::uin/1:roleName/pod")
		}, "AssumeRoleWithWebIdentity"},
		{"tccli profile named in Config", func(t *testing.T, e *credEnv, cfg *tencent.Config) {
			writeFile(t, filepath.Join(e.home, ".tccli", "ops.credential"), `{"secretId":"`+id+`","secretKey":"`+key+`"}`)
			cfg.Profile = "ops"
		}, ""},
		{"credentials file", func(t *testing.T, e *credEnv, _ *tencent.Config) {
			writeFile(t, filepath.Join(e.home, ".tencentcloud", "credentials"), "[default]\nsecret_id = "+id+"\nsecret_key = "+key+"\n")
		}, ""},
		{"CVM role", func(t *testing.T, e *credEnv, _ *tencent.Config) {
			t.Setenv(tencent.EnvMetadataDisabled, "false")
		}, "metadata"},
		{"assumed role", func(t *testing.T, e *credEnv, cfg *tencent.Config) {
			cfg.SecretID, cfg.SecretKey = id, key
			cfg.RoleARN, cfg.RoleSessionName, cfg.RoleDuration = "qcs::cam::uin/1:roleName/deploy", "ci", 30*time.Minute
		}, "AssumeRole"},
		{"assumed role over the CVM role", func(t *testing.T, e *credEnv, cfg *tencent.Config) {
			t.Setenv(tencent.EnvMetadataDisabled, "false")
			cfg.RoleARN = "qcs::cam::uin/1:roleName/deploy"
		}, "AssumeRole"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newCredEnv(t, nil)
			var cfg tencent.Config
			tc.setup(t, e, &cfg)
			c := e.mustClient(t, cfg)
			if err := e.call(c); err != nil {
				t.Fatal(err)
			}
			if tc.count != "" && e.sts.Count(tc.count) != 1 {
				t.Errorf("%s served %d times, want 1", tc.count, e.sts.Count(tc.count))
			}
		})
	}
}

func TestCredentialChainOrder(t *testing.T) {
	e := newCredEnv(t, nil)
	t.Setenv(tencent.EnvMetadataDisabled, "false")
	if err := e.call(e.mustClient(t, tencent.Config{})); err != nil || e.sts.Count("metadata") != 1 {
		t.Fatalf("CVM role: %v", err)
	}
	// A profile comes before the metadata service.
	writeFile(t, filepath.Join(e.home, ".tccli", "default.credential"),
		`{"secretId":"`+tencenttest.DefaultSecretID+`","secretKey":"`+tencenttest.DefaultSecretKey+`"}`)
	if err := e.call(e.mustClient(t, tencent.Config{})); err != nil || e.sts.Count("metadata") != 1 {
		t.Fatalf("profile before the CVM role: %v", err)
	}
	// TKE OIDC comes before a profile, and a bad token does not fall
	// through to it.
	file := filepath.Join(e.home, "token")
	writeFile(t, file, "wrong")
	t.Setenv(tencent.EnvTKEProviderID, "tke-oidc")
	t.Setenv(tencent.EnvTKETokenFile, file)
	t.Setenv(tencent.EnvTKERoleARN, "qcs::cam::uin/1:roleName/pod")
	_, err := e.client(t, tencent.Config{})
	if !errors.Is(err, rollback.ErrUnauthenticated) || !strings.Contains(err.Error(), "TKE OIDC") || !strings.Contains(err.Error(), "WebIdentityTokenError") {
		t.Fatalf("bad TKE token: %v", err)
	}
	// The environment comes first of all.
	t.Setenv(tencent.EnvSecretID, tencenttest.DefaultSecretID)
	t.Setenv(tencent.EnvSecretKey, tencenttest.DefaultSecretKey)
	if err := e.call(e.mustClient(t, tencent.Config{})); err != nil {
		t.Fatalf("environment first: %v", err)
	}
	// StaticOnly reads the environment only.
	t.Setenv(tencent.EnvSecretID, "")
	t.Setenv(tencent.EnvSecretKey, "")
	if _, err := e.client(t, tencent.Config{StaticOnly: true}); !errors.Is(err, rollback.ErrUnauthenticated) {
		t.Fatalf("StaticOnly: %v", err)
	}
}

func TestCredentialErrorsNameTheSource(t *testing.T) {
	e := newCredEnv(t, nil)
	_, err := e.client(t, tencent.Config{})
	if !errors.Is(err, rollback.ErrUnauthenticated) {
		t.Fatalf("nothing configured: %v", err)
	}
	for _, want := range []string{"environment", "TKE OIDC", "tccli profile", "credentials file", "CVM role", tencent.EnvSecretID} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %q: %v", want, err)
		}
	}
	_, err = e.client(t, tencent.Config{SecretID: "AKIDunknown", SecretKey: "very-secret-value", RoleARN: "qcs::cam::uin/1:roleName/deploy"})
	if !errors.Is(err, rollback.ErrUnauthenticated) || !strings.Contains(err.Error(), "roleName/deploy") ||
		!strings.Contains(err.Error(), "AuthFailure.SecretIdNotFound") || strings.Contains(err.Error(), "very-secret-value") {
		t.Errorf("bad base key: %v", err)
	}
	if _, err := e.client(t, tencent.Config{SecretID: "a", SecretKey: "b", RoleARN: "deploy"}); !errors.Is(err, rollback.ErrInvalidArgument) {
		t.Errorf("malformed role ARN: %v", err)
	}
}

func TestMetadataServiceDownOrSlow(t *testing.T) {
	e := newCredEnv(t, nil)
	t.Setenv(tencent.EnvMetadataDisabled, "false")
	e.sts.SetDown(true)
	_, err := e.client(t, tencent.Config{})
	if !errors.Is(err, rollback.ErrNetwork) || !strings.Contains(err.Error(), "CVM role") || !strings.Contains(err.Error(), "503") {
		t.Fatalf("metadata down: %v", err)
	}
	e.sts.SetDown(false)
	c := e.mustClient(t, tencent.Config{})
	e.sts.SetDown(true)
	e.clk.Advance(57 * time.Minute)
	if err := e.call(c); err != nil {
		t.Fatalf("refresh failed while the credentials were still valid: %v", err)
	}
	e.sts.SetDown(false)
	e.clk.Advance(time.Minute)
	if err := e.call(c); err != nil {
		t.Fatalf("after the metadata service came back: %v", err)
	}
	if e.sts.Count("metadata") != 2 { // at New, and after it came back
		t.Errorf("metadata served credentials %d times, want 2", e.sts.Count("metadata"))
	}
	e.sts.SetDelay(tencent.MetadataTimeout + 5*time.Second)
	_, err = e.client(t, tencent.Config{})
	if err == nil || !strings.Contains(err.Error(), "CVM role") || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("slow metadata service: %v", err)
	}
}

func TestExpiredTokenRefreshedOnceAndSentAgain(t *testing.T) {
	e := newCredEnv(t, nil)
	t.Setenv(tencent.EnvMetadataDisabled, "false")
	c := e.mustClient(t, tencent.Config{})
	e.sts.ExpireAll()
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.call(c); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := e.sts.Count("metadata"); n != 2 {
		t.Errorf("metadata asked %d times, want 2 (one refresh shared by 16 calls)", n)
	}
}

func TestConcurrentRefreshUnderRace(t *testing.T) {
	clk := clock.NewVirtual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	e := newCredEnv(t, clk)
	t.Setenv(tencent.EnvMetadataDisabled, "false")
	c := e.mustClient(t, tencent.Config{})
	for range 12 {
		clk.Advance(20 * time.Minute)
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := e.call(c); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	if n := e.sts.Count("metadata"); n < 4 || n > 6 {
		t.Errorf("metadata asked %d times in 4 hours of 96 calls, want about 5", n)
	}
}

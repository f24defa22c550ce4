package aliyun_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/internal/testkit"
)

// credEnv is a SWAS emulator with its STS, metadata service and URI, and a
// process environment with no credentials anywhere.
type credEnv struct {
	clk  *clock.Virtual
	srv  *aliyuntest.Server
	sts  *aliyuntest.STS
	in   aliyuntest.InstanceSpec
	home string
	logs *testkit.SyncBuffer
}

func newCredEnv(t *testing.T, clk *clock.Virtual) *credEnv {
	t.Helper()
	if clk == nil {
		clk = clock.NewAutoVirtual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	}
	srv := aliyuntest.NewServer(aliyuntest.WithClock(clk), aliyuntest.WithoutRateLimits())
	t.Cleanup(srv.Close)
	sts := aliyuntest.NewSTS(srv)
	t.Cleanup(sts.Close)
	e := &credEnv{clk: clk, srv: srv, sts: sts, home: t.TempDir(), logs: &testkit.SyncBuffer{}}
	for _, k := range []string{aliyun.EnvAccessKeyID, aliyun.EnvAccessKeySecret, aliyun.EnvSecurityToken, aliyun.EnvProfile,
		aliyun.EnvRoleARN, aliyun.EnvRoleSessionName, aliyun.EnvOIDCProviderARN, aliyun.EnvOIDCTokenFile, aliyun.EnvCredentialsFile,
		aliyun.EnvCLIProfileDisabled, aliyun.EnvECSMetadata, aliyun.EnvIMDSv1Disabled, aliyun.EnvCredentialsURI} {
		t.Setenv(k, "")
	}
	t.Setenv("HOME", e.home)
	t.Setenv(aliyun.EnvECSMetadataDisabled, "true")
	e.in = aliyuntest.Must(srv.AddInstance(aliyuntest.InstanceSpec{Status: aliyuntest.StatusStopped}))
	return e
}

// client builds a client on the chain (cfg has no keys unless the test
// sets them) with the emulator's endpoints.
func (e *credEnv) client(t *testing.T, cfg aliyun.Config) (*aliyun.Client, error) {
	t.Helper()
	cfg.Region, cfg.Endpoint = e.srv.Region(), e.srv.URL
	if cfg.STSEndpoint == "" {
		cfg.STSEndpoint = e.sts.STSURL
	}
	if cfg.MetadataEndpoint == "" {
		cfg.MetadataEndpoint = e.sts.MetadataURL
	}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return aliyun.New(cfg, rollback.WithClock(e.clk), rollback.WithHTTPTransport(tr),
		rollback.WithLogger(slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
}

func (e *credEnv) mustClient(t *testing.T, cfg aliyun.Config) *aliyun.Client {
	t.Helper()
	c, err := e.client(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *credEnv) call(c *aliyun.Client) error {
	_, err := c.Instance(context.Background(), e.srv.Region(), e.in.ID)
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

func (e *credEnv) cliProfile(t *testing.T, name, id, secret string) {
	writeFile(t, filepath.Join(e.home, ".aliyun", "config.json"), fmt.Sprintf(
		`{"current":"default","profiles":[{"name":"default","mode":"AK","access_key_id":"bad","access_key_secret":"bad"},`+
			`{"name":%q,"mode":"AK","access_key_id":%q,"access_key_secret":%q}]}`, name, id, secret))
}

func TestCredentialSources(t *testing.T) {
	static := aliyuntest.Credential{AccessKeyID: aliyuntest.DefaultAccessKeyID, AccessKeySecret: aliyuntest.DefaultAccessKeySecret}
	cases := []struct {
		name  string
		setup func(t *testing.T, e *credEnv, cfg *aliyun.Config)
		count string // the STS action that must have served it, if any
	}{
		{"environment", func(t *testing.T, e *credEnv, _ *aliyun.Config) {
			t.Setenv(aliyun.EnvAccessKeyID, static.AccessKeyID)
			t.Setenv(aliyun.EnvAccessKeySecret, static.AccessKeySecret)
		}, ""},
		{"environment with an STS token", func(t *testing.T, e *credEnv, _ *aliyun.Config) {
			c, _ := e.sts.Issue(time.Hour)
			t.Setenv(aliyun.EnvAccessKeyID, c.AccessKeyID)
			t.Setenv(aliyun.EnvAccessKeySecret, c.AccessKeySecret)
			t.Setenv(aliyun.EnvSecurityToken, c.SecurityToken)
		}, ""},
		{"OIDC token file", func(t *testing.T, e *credEnv, _ *aliyun.Config) {
			file := filepath.Join(e.home, "oidc-token")
			writeFile(t, file, aliyuntest.DefaultOIDCToken)
			t.Setenv(aliyun.EnvRoleARN, "acs:ram::1:role/pod")
			t.Setenv(aliyun.EnvOIDCProviderARN, "acs:ram::1:oidc-provider/ack")
			t.Setenv(aliyun.EnvOIDCTokenFile, file)
		}, "AssumeRoleWithOIDC"},
		{"CLI profile named in Config", func(t *testing.T, e *credEnv, cfg *aliyun.Config) {
			e.cliProfile(t, "ops", static.AccessKeyID, static.AccessKeySecret)
			cfg.Profile = "ops"
		}, ""},
		{"CLI profile named in the environment", func(t *testing.T, e *credEnv, _ *aliyun.Config) {
			e.cliProfile(t, "ops", static.AccessKeyID, static.AccessKeySecret)
			t.Setenv(aliyun.EnvProfile, "ops")
		}, ""},
		{"credentials file", func(t *testing.T, e *credEnv, _ *aliyun.Config) {
			file := filepath.Join(e.home, "creds.ini")
			writeFile(t, file, "[default]\ntype = access_key\naccess_key_id = "+static.AccessKeyID+"\naccess_key_secret = "+static.AccessKeySecret+"\n")
			t.Setenv(aliyun.EnvCredentialsFile, file)
		}, ""},
		{"ECS instance role", func(t *testing.T, e *credEnv, _ *aliyun.Config) {
			t.Setenv(aliyun.EnvECSMetadataDisabled, "false")
		}, "metadata"},
		{"credentials URI", func(t *testing.T, e *credEnv, _ *aliyun.Config) {
			t.Setenv(aliyun.EnvCredentialsURI, e.sts.URIURL)
		}, "uri"},
		{"assumed role", func(t *testing.T, e *credEnv, cfg *aliyun.Config) {
			cfg.AccessKeyID, cfg.AccessKeySecret = static.AccessKeyID, static.AccessKeySecret
			cfg.RoleARN, cfg.RoleSessionName, cfg.RoleDuration = "acs:ram::1:role/deploy", "ci", 30*time.Minute
		}, "AssumeRole"},
		{"assumed role over the chain", func(t *testing.T, e *credEnv, cfg *aliyun.Config) {
			t.Setenv(aliyun.EnvECSMetadataDisabled, "false")
			cfg.RoleARN = "acs:ram::1:role/deploy"
		}, "AssumeRole"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newCredEnv(t, nil)
			var cfg aliyun.Config
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
	t.Setenv(aliyun.EnvECSMetadataDisabled, "false")
	t.Setenv(aliyun.EnvCredentialsURI, e.sts.URIURL)
	// The metadata service comes before the URI.
	if err := e.call(e.mustClient(t, aliyun.Config{})); err != nil || e.sts.Count("metadata") != 1 || e.sts.Count("uri") != 0 {
		t.Fatalf("metadata before URI: %v, metadata %d, uri %d", err, e.sts.Count("metadata"), e.sts.Count("uri"))
	}
	// A profile comes before the metadata service.
	e.cliProfile(t, "default2", aliyuntest.DefaultAccessKeyID, aliyuntest.DefaultAccessKeySecret)
	if err := e.call(e.mustClient(t, aliyun.Config{Profile: "default2"})); err != nil || e.sts.Count("metadata") != 1 {
		t.Fatalf("profile before metadata: %v, metadata %d", err, e.sts.Count("metadata"))
	}
	// OIDC comes before a profile: its bad token fails, and the chain
	// does not fall through to other credentials.
	file := filepath.Join(e.home, "oidc-token")
	writeFile(t, file, "wrong-token")
	t.Setenv(aliyun.EnvRoleARN, "acs:ram::1:role/pod")
	t.Setenv(aliyun.EnvOIDCProviderARN, "acs:ram::1:oidc-provider/ack")
	t.Setenv(aliyun.EnvOIDCTokenFile, file)
	_, err := e.client(t, aliyun.Config{Profile: "default2"})
	if !errors.Is(err, rollback.ErrUnauthenticated) || !strings.Contains(err.Error(), "OIDC") || !strings.Contains(err.Error(), "AuthenticationFail.OIDCToken.Invalid") {
		t.Fatalf("bad OIDC token: %v", err)
	}
	// The environment comes first of all.
	t.Setenv(aliyun.EnvAccessKeyID, aliyuntest.DefaultAccessKeyID)
	t.Setenv(aliyun.EnvAccessKeySecret, aliyuntest.DefaultAccessKeySecret)
	if err := e.call(e.mustClient(t, aliyun.Config{})); err != nil || e.sts.Count("AssumeRoleWithOIDC") != 0 {
		t.Fatalf("environment first: %v", err)
	}
	// StaticOnly reads nothing else.
	t.Setenv(aliyun.EnvAccessKeyID, "")
	t.Setenv(aliyun.EnvAccessKeySecret, "")
	_, err = e.client(t, aliyun.Config{StaticOnly: true})
	if !errors.Is(err, rollback.ErrUnauthenticated) || e.sts.Count("metadata") != 1 {
		t.Fatalf("StaticOnly: %v", err)
	}
}

func TestCredentialErrorsNameTheSource(t *testing.T) {
	e := newCredEnv(t, nil)
	_, err := e.client(t, aliyun.Config{})
	var re *rollback.Error
	if !errors.As(err, &re) || re.Kind != rollback.ErrUnauthenticated || re.Field != "AccessKeyID" {
		t.Fatalf("nothing configured: %v", err)
	}
	for _, want := range []string{"environment", "OIDC", "CLI profile", "credentials file", "metadata", "URI", aliyun.EnvAccessKeyID} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %q: %v", want, err)
		}
	}
	// A role assumed with a key STS does not know: the error names the
	// role, the signing source and STS's code, and no secret.
	_, err = e.client(t, aliyun.Config{AccessKeyID: "LTAIunknown", AccessKeySecret: "very-secret-value", RoleARN: "acs:ram::1:role/deploy"})
	if !errors.Is(err, rollback.ErrUnauthenticated) || !strings.Contains(err.Error(), "acs:ram::1:role/deploy") ||
		!strings.Contains(err.Error(), "InvalidAccessKeyId.NotFound") || strings.Contains(err.Error(), "very-secret-value") {
		t.Errorf("bad base key: %v", err)
	}
	if _, err := e.client(t, aliyun.Config{AccessKeyID: "a", AccessKeySecret: "b", RoleARN: "role/x"}); !errors.Is(err, rollback.ErrInvalidArgument) {
		t.Errorf("malformed role ARN: %v", err)
	}
	if _, err := e.client(t, aliyun.Config{AccessKeyID: "a", AccessKeySecret: "b", RoleARN: "acs:ram::1:role/x", RoleDuration: time.Minute}); !errors.Is(err, rollback.ErrInvalidArgument) {
		t.Errorf("1-minute role session: %v", err)
	}
}

func TestMetadataServiceDownOrSlow(t *testing.T) {
	e := newCredEnv(t, nil)
	t.Setenv(aliyun.EnvECSMetadataDisabled, "false")
	e.sts.SetDown(true)
	_, err := e.client(t, aliyun.Config{})
	if !errors.Is(err, rollback.ErrNetwork) || !strings.Contains(err.Error(), "ECS instance role") || !strings.Contains(err.Error(), "503") {
		t.Fatalf("metadata down: %v", err)
	}
	e.sts.SetDown(false)
	c := e.mustClient(t, aliyun.Config{})
	// Down at refresh time: the credentials in hand serve until they
	// expire; then calls fail with the source named, and recover with it.
	e.sts.SetDown(true)
	e.clk.Advance(57 * time.Minute) // past the refresh point, before expiry
	if err := e.call(c); err != nil {
		t.Fatalf("refresh failed while the credentials were still valid: %v", err)
	}
	e.clk.Advance(5 * time.Minute) // expired now
	err = e.call(c)
	if !errors.Is(err, rollback.ErrNetwork) || !strings.Contains(err.Error(), "metadata") {
		t.Fatalf("expired with the metadata service down: %v", err)
	}
	e.sts.SetDown(false)
	e.clk.Advance(time.Minute) // the retry pause after a failed fetch
	if err := e.call(c); err != nil {
		t.Fatalf("after the metadata service came back: %v", err)
	}
	// Slow: New gives up after MetadataTimeout and says so.
	e.sts.SetDelay(aliyun.MetadataTimeout + 5*time.Second)
	_, err = e.client(t, aliyun.Config{})
	if err == nil || !strings.Contains(err.Error(), "metadata") || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("slow metadata service: %v", err)
	}
}

func TestExpiredTokenRefreshedOnceAndSentAgain(t *testing.T) {
	e := newCredEnv(t, nil)
	t.Setenv(aliyun.EnvECSMetadataDisabled, "false")
	c := e.mustClient(t, aliyun.Config{})
	if err := e.call(c); err != nil {
		t.Fatal(err)
	}
	// The cloud calls the credentials expired before the client expected.
	e.sts.ExpireAll()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- e.call(c)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := e.sts.Count("metadata"); n != 2 {
		t.Errorf("metadata asked %d times, want 2 (one refresh shared by 16 calls)", n)
	}
	if !strings.Contains(e.logs.String(), "credentials expired") {
		t.Error("the re-send was not logged")
	}
}

func TestConcurrentRefreshUnderRace(t *testing.T) {
	clk := clock.NewVirtual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	e := newCredEnv(t, clk)
	t.Setenv(aliyun.EnvECSMetadataDisabled, "false")
	c := e.mustClient(t, aliyun.Config{})
	for range 12 { // 4 hours in 20-minute steps
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
	// One fetch at New, then one per hour: never one per call.
	if n := e.sts.Count("metadata"); n < 4 || n > 6 {
		t.Errorf("metadata asked %d times in 4 hours of 96 calls, want about 5", n)
	}
}

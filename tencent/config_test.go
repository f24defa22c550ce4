package tencent_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/tencent"
)

func TestNewRegions(t *testing.T) {
	base := tencent.Config{SecretID: testID, SecretKey: testKey}
	for _, region := range tencent.Regions() {
		cfg := base
		cfg.Region = region
		c, err := tencent.New(cfg)
		if err != nil {
			t.Fatalf("%s: %v", region, err)
		}
		c.Close()
	}
	if len(tencent.Regions()) != 15 {
		t.Errorf("%d regions", len(tencent.Regions()))
	}
	cfg := base
	_, err := tencent.New(cfg)
	if !errors.Is(err, rollback.ErrInvalidArgument) || !strings.Contains(err.Error(), "Region") {
		t.Errorf("no region: %v", err)
	}
	cfg.Region = "ap-mumbai"
	_, err = tencent.New(cfg)
	if !errors.Is(err, rollback.ErrInvalidArgument) || !strings.Contains(err.Error(), "ap-guangzhou, ap-hongkong") || !strings.Contains(err.Error(), "AllowUnknownRegion") {
		t.Errorf("unknown region: %v", err)
	}
	cfg.AllowUnknownRegion = true
	c, err := tencent.New(cfg)
	if err != nil {
		t.Errorf("AllowUnknownRegion: %v", err)
	} else {
		c.Close()
	}
	cfg = base
	cfg.Region, cfg.AllowedRegions = "ap-mumbai", []string{"ap-mumbai"}
	c, err = tencent.New(cfg)
	if err != nil {
		t.Fatalf("AllowedRegions: %v", err)
	}
	defer c.Close()
	if _, err := c.Instance(context.Background(), "ap-guangzhou", "lhins-abc"); !errors.Is(err, rollback.ErrInvalidArgument) {
		t.Errorf("region outside AllowedRegions: %v", err)
	}
}

func TestNewCredentials(t *testing.T) {
	for _, v := range []string{tencent.EnvSecretID, tencent.EnvSecretKey, tencent.EnvSessionToken, tencent.EnvSecurityToken} {
		t.Setenv(v, "")
	}
	// Nothing else of the default chain may answer.
	t.Setenv("HOME", t.TempDir())
	t.Setenv(tencent.EnvMetadataDisabled, "true")
	cfg := tencent.Config{Region: "ap-guangzhou"}
	_, err := tencent.New(cfg)
	if !errors.Is(err, rollback.ErrUnauthenticated) || !strings.Contains(err.Error(), "TENCENTCLOUD_SECRET_ID") || !strings.Contains(err.Error(), "TENCENTCLOUD_SECRET_KEY") {
		t.Errorf("no credentials: %v", err)
	}
	t.Setenv(tencent.EnvSecretID, testID)
	_, err = tencent.New(cfg)
	if !errors.Is(err, rollback.ErrInvalidArgument) || !strings.Contains(err.Error(), "TENCENTCLOUD_SECRET_KEY") {
		t.Errorf("half the environment: %v", err)
	}
	t.Setenv(tencent.EnvSecretKey, testKey)
	c, err := tencent.New(cfg)
	if err != nil {
		t.Fatalf("environment: %v", err)
	}
	c.Close()
	_, err = tencent.New(tencent.Config{Region: "ap-guangzhou", SecretID: "AKIDonly"})
	if !errors.Is(err, rollback.ErrInvalidArgument) || !strings.Contains(err.Error(), "SecretKey") {
		t.Errorf("id without key: %v", err)
	}
}

func TestNewEndpoints(t *testing.T) {
	cfg := tencent.Config{Region: "ap-guangzhou", SecretID: testID, SecretKey: testKey, Endpoint: "http://lighthouse.example.com"}
	if _, err := tencent.New(cfg); !errors.Is(err, rollback.ErrInvalidArgument) {
		t.Errorf("plain HTTP to a remote host: %v", err)
	}
	c, err := tencent.New(cfg, rollback.WithInsecureHTTP())
	if err != nil {
		t.Errorf("with WithInsecureHTTP: %v", err)
	} else {
		c.Close()
	}
	cfg.Endpoint = "https://host/path"
	if _, err := tencent.New(cfg); !errors.Is(err, rollback.ErrInvalidArgument) {
		t.Errorf("path: %v", err)
	}
}

// recorder is a transport that records requests and refuses to dial, so no
// test reaches the internet.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	return nil, fmt.Errorf("recorder: refusing to dial %s", req.URL.Host)
}

func TestDefaultEndpointsAreHTTPS(t *testing.T) {
	for _, tc := range []struct {
		intl bool
		host string
	}{{false, "lighthouse.tencentcloudapi.com"}, {true, "lighthouse.intl.tencentcloudapi.com"}} {
		rec := &recorder{}
		c, err := tencent.New(tencent.Config{Region: "ap-tokyo", International: tc.intl, SecretID: testID, SecretKey: testKey},
			rollback.WithHTTPTransport(rec), rollback.WithMaxAttempts(1))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Instance(context.Background(), "", "lhins-abc12345")
		if !errors.Is(err, rollback.ErrNetwork) || strings.Contains(err.Error(), testKey) {
			t.Errorf("err = %v", err)
		}
		if len(rec.reqs) != 1 {
			t.Fatalf("%d requests", len(rec.reqs))
		}
		r := rec.reqs[0]
		if r.URL.Scheme != "https" || r.URL.Host != tc.host || r.Method != http.MethodPost {
			t.Errorf("request to %s %s", r.Method, r.URL)
		}
		// The SDK writes header keys as is, not canonicalised.
		h := func(k string) string { return strings.Join(r.Header[k], ",") }
		if h("X-TC-Language") != "en-US" || h("X-TC-Region") != "ap-tokyo" || h("X-TC-Action") != "DescribeInstances" {
			t.Errorf("headers %v", r.Header)
		}
	}
}

func TestNewLeavesGlobalLogFlags(t *testing.T) {
	old := log.Flags()
	defer log.SetFlags(old)
	log.SetFlags(log.Lmicroseconds | log.LUTC)
	want := log.Flags()
	f := newFixture(t, fixtureOpts{})
	if got := log.Flags(); got != want {
		t.Fatalf("log flags %d after New, want %d", got, want)
	}
	// Later SDK clients (another region, concurrent calls) put them back too.
	in := f.instance(instanceInRegion("ap-tokyo"))
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.note(errOnly(f.c.Instance(context.Background(), "ap-tokyo", in.ID)))
		}()
	}
	wg.Wait()
	if got := log.Flags(); got != want {
		t.Errorf("log flags %d after calls, want %d", got, want)
	}
}

func errOnly[T any](_ T, err error) error { return err }

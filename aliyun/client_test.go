package aliyun_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
)

func TestNewChecksConfig(t *testing.T) {
	cases := []struct {
		name  string
		cfg   aliyun.Config
		opts  []rollback.Option
		kind  error
		field string
	}{
		{"no region", aliyun.Config{AccessKeyID: "a", AccessKeySecret: "b"}, nil, rollback.ErrInvalidArgument, "Region"},
		{"bad region", aliyun.Config{Region: "CN hangzhou", AccessKeyID: "a", AccessKeySecret: "b"}, nil, rollback.ErrInvalidArgument, "Region"},
		{"plain http to a remote host", aliyun.Config{Region: "cn-hangzhou", Endpoint: "http://swas.cn-hangzhou.aliyuncs.com", AccessKeyID: "a", AccessKeySecret: "b"}, nil, rollback.ErrInvalidArgument, "Endpoint"},
		{"endpoint with a path", aliyun.Config{Region: "cn-hangzhou", Endpoint: "https://example.com/api", AccessKeyID: "a", AccessKeySecret: "b"}, nil, rollback.ErrInvalidArgument, "Endpoint"},
		{"no credentials", aliyun.Config{Region: "cn-hangzhou"}, nil, rollback.ErrUnauthenticated, "AccessKeyID"},
		{"no secret", aliyun.Config{Region: "cn-hangzhou", AccessKeyID: "a"}, nil, rollback.ErrUnauthenticated, "AccessKeySecret"},
		{"no key ID", aliyun.Config{Region: "cn-hangzhou", AccessKeySecret: "b"}, nil, rollback.ErrUnauthenticated, "AccessKeyID"},
	}
	// Nothing of the default chain may answer: no home files, no metadata.
	t.Setenv("HOME", t.TempDir())
	t.Setenv(aliyun.EnvECSMetadataDisabled, "true")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := aliyun.New(tc.cfg, tc.opts...)
			re := asError(t, err, tc.kind)
			if re.Field != tc.field || re.Op != "New" {
				t.Errorf("Field %q Op %q, want %q New: %v", re.Field, re.Op, tc.field, err)
			}
		})
	}
	_, err := aliyun.New(aliyun.Config{Region: "cn-hangzhou"})
	for _, v := range []string{aliyun.EnvAccessKeyID, aliyun.EnvAccessKeySecret, aliyun.EnvSecurityToken} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("missing-credentials error does not name %s: %v", v, err)
		}
	}
	for _, ep := range []string{"http://127.0.0.1:8080", "http://localhost:1", "swas-vpc.cn-hangzhou.aliyuncs.com", "https://swas.cn-hangzhou.aliyuncs.com"} {
		if _, err := aliyun.New(aliyun.Config{Region: "cn-hangzhou", Endpoint: ep, AccessKeyID: "a", AccessKeySecret: "b"}); err != nil {
			t.Errorf("endpoint %s refused: %v", ep, err)
		}
	}
	if _, err := aliyun.New(aliyun.Config{Region: "cn-hangzhou", Endpoint: "http://10.0.0.1", AccessKeyID: "a", AccessKeySecret: "b"}, rollback.WithInsecureHTTP()); err != nil {
		t.Errorf("WithInsecureHTTP did not allow plain http: %v", err)
	}
}

func TestEnvironmentCredentials(t *testing.T) {
	srv := aliyuntest.NewServer(aliyuntest.WithCredential(aliyuntest.Credential{
		AccessKeyID: "STS.envkey", AccessKeySecret: "env-secret", SecurityToken: "env-token",
	}))
	defer srv.Close()
	in := aliyuntest.Must(srv.AddInstance(aliyuntest.InstanceSpec{}))
	t.Setenv(aliyun.EnvAccessKeyID, "STS.envkey")
	t.Setenv(aliyun.EnvAccessKeySecret, "env-secret")
	t.Setenv(aliyun.EnvSecurityToken, "env-token")
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c, err := aliyun.New(aliyun.Config{Region: srv.Region(), Endpoint: srv.URL}, rollback.WithHTTPTransport(tr))
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Instance(context.Background(), srv.Region(), in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != in.ID || got.State != rollback.InstanceRunning {
		t.Errorf("instance = %+v", got)
	}
	// Config wins over the environment, and is not mixed with it: a key
	// from Config without a token is refused by this STS-only server.
	c, err = aliyun.New(aliyun.Config{Region: srv.Region(), Endpoint: srv.URL, AccessKeyID: "STS.envkey", AccessKeySecret: "env-secret"},
		rollback.WithHTTPTransport(tr), rollback.WithMaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Instance(context.Background(), srv.Region(), in.ID)
	asError(t, err, rollback.ErrInvalidArgument) // MissingParameter SecurityToken
}

// recorder is a transport that records requests and refuses to dial.
type recorder struct {
	mu   sync.Mutex
	urls []*url.URL
}

var errRefused = errors.New("recorder: refusing to dial")

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	u := *req.URL
	r.urls = append(r.urls, &u)
	return nil, errRefused
}

func TestDefaultEndpointIsHTTPSPerRegion(t *testing.T) {
	rec := &recorder{}
	c, err := aliyun.New(aliyun.Config{Region: "cn-hangzhou", AccessKeyID: "LTAIrecorded", AccessKeySecret: "sec"},
		rollback.WithHTTPTransport(rec), rollback.WithMaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = c.Instance(ctx, "cn-hangzhou", "i-abc")
	re := asError(t, err, rollback.ErrNetwork)
	if strings.Contains(err.Error(), "LTAIrecorded") || strings.Contains(fmt.Sprint(re.Err), "LTAIrecorded") {
		t.Errorf("error carries the key ID: %v", err)
	}
	_, _ = c.Snapshot(ctx, "ap-southeast-1", "s-abc")
	_, _ = c.Rollback(ctx, rollback.Request{Region: "us-west-1", DiskID: "d-1", SnapshotID: "s-1"})

	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := []string{"swas.cn-hangzhou.aliyuncs.com", "swas.ap-southeast-1.aliyuncs.com", "swas.us-west-1.aliyuncs.com"}
	if len(rec.urls) != len(want) {
		t.Fatalf("sent %d requests, want %d: %v", len(rec.urls), len(want), rec.urls)
	}
	for i, u := range rec.urls {
		if u.Scheme != "https" {
			t.Errorf("request %d went over %s", i, u.Scheme)
		}
		if u.Host != want[i] {
			t.Errorf("request %d went to %s, want %s", i, u.Host, want[i])
		}
		if strings.Contains(u.Host, "location") {
			t.Errorf("request %d asked the location service", i)
		}
		if region := u.Query().Get("RegionId"); !strings.Contains(want[i], region) {
			t.Errorf("request %d has RegionId %s for host %s", i, region, u.Host)
		}
	}
}

func TestExplicitEndpointServesEveryRegion(t *testing.T) {
	rec := &recorder{}
	c, err := aliyun.New(aliyun.Config{Region: "cn-hangzhou", Endpoint: "swas-vpc.cn-hangzhou.aliyuncs.com", AccessKeyID: "a", AccessKeySecret: "b"},
		rollback.WithHTTPTransport(rec), rollback.WithMaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.Instance(context.Background(), "cn-beijing", "i-1")
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.urls) != 1 || rec.urls[0].String()[:len("https://swas-vpc.cn-hangzhou.aliyuncs.com/")] != "https://swas-vpc.cn-hangzhou.aliyuncs.com/" {
		t.Fatalf("sent %v", rec.urls)
	}
	if got := rec.urls[0].Query().Get("RegionId"); got != "cn-beijing" {
		t.Errorf("RegionId = %s", got)
	}
}

func TestTLSEndpoint(t *testing.T) {
	srv := aliyuntest.NewTLSServer()
	defer srv.Close()
	in := aliyuntest.Must(srv.AddInstance(aliyuntest.InstanceSpec{Status: aliyuntest.StatusStopped}))
	snap := aliyuntest.Must(srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: in.SystemDiskID}))
	cred := srv.Credential()
	c, err := aliyun.New(aliyun.Config{Region: srv.Region(), Endpoint: srv.URL, AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret},
		rollback.WithHTTPTransport(srv.Client().Transport))
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Rollback(context.Background(), rollback.Request{Region: srv.Region(), DiskID: in.SystemDiskID, SnapshotID: snap.ID})
	if err != nil {
		t.Fatal(err)
	}
	if res.InstanceID != in.ID || srv.Rollbacks() != 1 {
		t.Errorf("result %+v, rollbacks %d", res, srv.Rollbacks())
	}
	// Without the test CA the handshake fails before anything is sent.
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c, err = aliyun.New(aliyun.Config{Region: srv.Region(), Endpoint: srv.URL, AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret},
		rollback.WithHTTPTransport(tr), rollback.WithMaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Instance(context.Background(), srv.Region(), in.ID)
	// An untrusted certificate is a configuration error: no retry can fix
	// it, so it fails at once, and nothing was applied.
	if re := asError(t, err, rollback.ErrInvalidArgument); re.Ambiguous || !strings.Contains(re.Hint, "WithHTTPTransport") {
		t.Errorf("a certificate failure: %v", err)
	}
}

func TestName(t *testing.T) {
	e := newEnv(t, nil)
	var n interface{ Name() string } = e.c
	if n.Name() != "aliyun" {
		t.Errorf("Name() = %q", n.Name())
	}
}

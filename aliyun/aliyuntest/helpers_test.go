package aliyuntest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	swas "github.com/aliyun/alibaba-cloud-sdk-go/services/swas-open"
	"go.uber.org/goleak"

	"github.com/cloudsnap/rollback/clock"
)

func TestMain(m *testing.M) {
	// The SDK sets proxies from the environment on its transports; tests
	// must only ever talk to 127.0.0.1.
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"} {
		os.Unsetenv(k)
	}
	goleak.VerifyTestMain(m)
}

// rtFunc hides an *http.Transport from the SDK, which would otherwise
// rewrite its dialer, TLS config and proxy on every request.
type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type sdkOpts struct {
	id, secret, token string
	region            string
}

// newSDK returns the official SWAS client pointed at srv.
func newSDK(t *testing.T, srv *Server, o sdkOpts) *swas.Client {
	t.Helper()
	if o.id == "" {
		c := srv.Credential()
		o.id, o.secret, o.token = c.AccessKeyID, c.AccessKeySecret, c.SecurityToken
	}
	if o.region == "" {
		o.region = srv.Region()
	}
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var tr *http.Transport
	if ct, ok := srv.Client().Transport.(*http.Transport); ok {
		tr = ct.Clone()
	} else {
		tr = &http.Transport{}
	}
	t.Cleanup(tr.CloseIdleConnections)
	cfg := sdk.NewConfig().WithScheme(strings.ToUpper(u.Scheme)).WithAutoRetry(false)
	cfg.Transport = rtFunc(tr.RoundTrip)
	var cred credentials.CredentialsProvider = credentials.NewStaticAKCredentialsProvider(o.id, o.secret)
	if o.token != "" {
		cred = credentials.NewStaticSTSCredentialsProvider(o.id, o.secret, o.token)
	}
	c, err := swas.NewClientWithOptions(o.region, cfg, cred)
	if err != nil {
		t.Fatal(err)
	}
	c.Domain = u.Host
	c.SetReadTimeout(10 * time.Second)
	c.SetCloseTrace(true)
	return c
}

// serverError asserts err is an SDK server error with code and status.
func serverError(t *testing.T, err error, code string, status int) *sdkerrors.ServerError {
	t.Helper()
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("want ServerError %s, got %T %v", code, err, err)
	}
	if se.ErrorCode() != code || se.HttpStatus() != status {
		t.Fatalf("want %s (HTTP %d), got %s (HTTP %d): %s", code, status, se.ErrorCode(), se.HttpStatus(), se.Message())
	}
	if !isUpperUUID(se.RequestId()) {
		t.Errorf("request ID %q is not an upper-case UUID", se.RequestId())
	}
	return se
}

func isUpperUUID(s string) bool {
	if len(s) != 36 || strings.ToUpper(s) != s {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789ABCDEF", c) {
				return false
			}
		}
	}
	return true
}

func nonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// signedParams returns the common parameters of a correctly signed request
// for action; mutate runs before signing.
func signedParams(srv *Server, method, action string, api map[string]string, mutate func(map[string]string)) map[string]string {
	c := srv.Credential()
	p := map[string]string{
		"Version": APIVersion, "Action": action, "Format": "JSON",
		"Timestamp":       time.Now().UTC().Format(timeFormat),
		"SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureType": "",
		"SignatureNonce": nonce(), "AccessKeyId": c.AccessKeyID, "RegionId": srv.Region(),
	}
	for k, v := range api {
		p[k] = v
	}
	if mutate != nil {
		mutate(p)
	}
	p["Signature"] = Sign(StringToSign(method, p), c.AccessKeySecret)
	return p
}

type rawReply struct {
	status int
	body   map[string]any
}

// rawDo sends params as a query with method and decodes the JSON reply.
func rawDo(t *testing.T, srv *Server, method string, params map[string]string) rawReply {
	t.Helper()
	v := url.Values{}
	for k, val := range params {
		v.Set(k, val)
	}
	req, err := http.NewRequest(method, srv.URL+"/?"+v.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("reply is not JSON: %s", b)
	}
	return rawReply{resp.StatusCode, body}
}

func (r rawReply) code() string { s, _ := r.body["Code"].(string); return s }

// fixture is a server on a manual virtual clock with one Stopped instance
// and an Accomplished snapshot of its system disk.
type fixture struct {
	srv  *Server
	clk  *clock.Virtual
	sdk  *swas.Client
	in   InstanceSpec
	snap SnapshotSpec
}

func newFixture(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	clk := clock.NewVirtual(time.Time{})
	srv := NewServer(append([]Option{WithClock(clk)}, opts...)...)
	t.Cleanup(srv.Close)
	in := Must(srv.AddInstance(InstanceSpec{Status: StatusStopped}))
	snap := Must(srv.AddSnapshot(SnapshotSpec{DiskID: in.SystemDiskID}))
	return &fixture{srv: srv, clk: clk, sdk: newSDK(t, srv, sdkOpts{}), in: in, snap: snap}
}

func (f *fixture) resetDisk(diskID, snapID, token string) (*swas.ResetDiskResponse, error) {
	req := swas.CreateResetDiskRequest()
	req.DiskId, req.SnapshotId, req.ClientToken = diskID, snapID, token
	return f.sdk.ResetDisk(req)
}

func (f *fixture) status(t *testing.T, id string) string {
	t.Helper()
	v, ok := f.srv.Instance(id)
	if !ok {
		t.Fatalf("instance %s not found", id)
	}
	return v.Status
}

func jsonList(ids ...string) string {
	b, _ := json.Marshal(ids)
	return string(b)
}

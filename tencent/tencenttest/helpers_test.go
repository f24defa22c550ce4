package tencenttest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	sdkerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	lh "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/lighthouse/v20200324"
	"go.uber.org/goleak"

	"github.com/cloudsnap/rollback/clock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// env is one emulator on a manual virtual clock and an official SDK client
// pointed at it.
type env struct {
	t   *testing.T
	srv *Server
	clk *clock.Virtual
	sdk *lh.Client
	tr  *http.Transport
}

type sdkOpt func(cred *common.Credential, cpf *profile.ClientProfile, region *string)

func newEnv(t *testing.T, opts ...Option) *env {
	t.Helper()
	clk := clock.NewVirtual(time.Time{})
	srv := NewServer(append([]Option{WithClock(clk)}, opts...)...)
	e := &env{t: t, srv: srv, clk: clk, tr: &http.Transport{}}
	t.Cleanup(func() {
		e.tr.CloseIdleConnections()
		srv.Close()
	})
	e.sdk = e.client()
	return e
}

// client returns an SDK client for the emulator; opts adjust it.
func (e *env) client(opts ...sdkOpt) *lh.Client {
	cred := common.NewCredential(DefaultSecretID, DefaultSecretKey)
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = e.srv.Endpoint()
	cpf.HttpProfile.Scheme = "HTTP"
	cpf.HttpProfile.ReqTimeout = 10
	cpf.Language = "en-US"
	region := DefaultRegion
	for _, o := range opts {
		o(cred, cpf, &region)
	}
	c, err := lh.NewClient(cred, region, cpf)
	if err != nil {
		e.t.Fatal(err)
	}
	c.WithHttpTransport(e.tr)
	return c
}

func (e *env) instance(in Instance) Instance {
	e.t.Helper()
	got, err := e.srv.AddInstance(in)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

func (e *env) snapshot(sn Snapshot) Snapshot {
	e.t.Helper()
	got, err := e.srv.AddSnapshot(sn)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

func (e *env) apply(inst, snap string) (string, error) {
	req := lh.NewApplyInstanceSnapshotRequest()
	req.InstanceId, req.SnapshotId = common.StringPtr(inst), common.StringPtr(snap)
	resp, err := e.sdk.ApplyInstanceSnapshot(req)
	if err != nil {
		return "", err
	}
	return *resp.Response.RequestId, nil
}

func (e *env) describeInstance(id string) *lh.Instance {
	e.t.Helper()
	req := lh.NewDescribeInstancesRequest()
	req.InstanceIds = common.StringPtrs([]string{id})
	resp, err := e.sdk.DescribeInstances(req)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(resp.Response.InstanceSet) != 1 {
		e.t.Fatalf("DescribeInstances(%s): %d instances", id, len(resp.Response.InstanceSet))
	}
	return resp.Response.InstanceSet[0]
}

func (e *env) describeSnapshot(id string) *lh.Snapshot {
	e.t.Helper()
	req := lh.NewDescribeSnapshotsRequest()
	req.SnapshotIds = common.StringPtrs([]string{id})
	resp, err := e.sdk.DescribeSnapshots(req)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(resp.Response.SnapshotSet) != 1 {
		e.t.Fatalf("DescribeSnapshots(%s): %d snapshots", id, len(resp.Response.SnapshotSet))
	}
	return resp.Response.SnapshotSet[0]
}

// code returns the SDK error's code, failing the test for other errors.
func code(t *testing.T, err error) string {
	t.Helper()
	var se *sdkerrors.TencentCloudSDKError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a TencentCloudSDKError", err, err)
	}
	return se.Code
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// wantOp checks a LatestOperation triple.
func wantOp(t *testing.T, what string, name, state, rid *string, wantName, wantState, wantRID string) {
	t.Helper()
	if deref(name) != wantName || deref(state) != wantState || (wantRID != "" && deref(rid) != wantRID) {
		t.Errorf("%s LatestOperation = %s/%s/%s, want %s/%s/%s", what, deref(name), deref(state), deref(rid), wantName, wantState, wantRID)
	}
}

// rawRequest is a hand-built, hand-signed API call, for what the SDK
// cannot be made to send (stale timestamps, unknown actions, odd headers).
type rawRequest struct {
	method    string // POST by default
	action    string
	version   string // Version by default; "-" for none
	region    string // DefaultRegion by default
	body      string // "{}" by default for POST
	query     string
	timestamp int64 // now by default
	secretID  string
	secretKey string
	auth      string // replaces the Authorization header when not empty; "-" for none
	lang      string
	token     string
}

func (e *env) raw(r rawRequest) (int, map[string]any) {
	e.t.Helper()
	if r.method == "" {
		r.method = http.MethodPost
	}
	if r.version == "" {
		r.version = Version
	}
	if r.region == "" {
		r.region = DefaultRegion
	}
	if r.body == "" && r.method == http.MethodPost {
		r.body = "{}"
	}
	if r.timestamp == 0 {
		r.timestamp = time.Now().Unix()
	}
	if r.secretID == "" {
		r.secretID, r.secretKey = DefaultSecretID, DefaultSecretKey
	}
	u := e.srv.URL + "/"
	if r.query != "" {
		u += "?" + r.query
	}
	req, err := http.NewRequest(r.method, u, strings.NewReader(r.body))
	if err != nil {
		e.t.Fatal(err)
	}
	ct := "application/json"
	if r.method == http.MethodGet {
		ct = "application/x-www-form-urlencoded"
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("X-TC-Action", r.action)
	if r.version != "-" {
		req.Header.Set("X-TC-Version", r.version)
	}
	req.Header.Set("X-TC-Region", r.region)
	req.Header.Set("X-TC-Timestamp", strconv.FormatInt(r.timestamp, 10))
	if r.lang != "" {
		req.Header.Set("X-TC-Language", r.lang)
	}
	if r.token != "" {
		req.Header.Set("X-TC-Token", r.token)
	}
	switch r.auth {
	case "":
		req.Header.Set("Authorization", testSign(r.method, req.Host, r.query, ct, r.body, r.timestamp, r.secretID, r.secretKey))
	case "-":
	default:
		req.Header.Set("Authorization", r.auth)
	}
	resp, err := e.tr.RoundTrip(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		e.t.Fatalf("reply %q is not JSON: %v", b, err)
	}
	return resp.StatusCode, out
}

// rawCode returns Response.Error.Code of a raw reply ("" for success).
func rawCode(out map[string]any) string {
	r, _ := out["Response"].(map[string]any)
	er, _ := r["Error"].(map[string]any)
	c, _ := er["Code"].(string)
	return c
}

func rawMessage(out map[string]any) string {
	r, _ := out["Response"].(map[string]any)
	er, _ := r["Error"].(map[string]any)
	c, _ := er["Message"].(string)
	return c
}

// testSign is an independent TC3-HMAC-SHA256 signer, written from the
// published algorithm, not from the emulator's code.
func testSign(method, host, query, ct, body string, ts int64, id, key string) string {
	h := func(s string) string { x := sha256.Sum256([]byte(s)); return hex.EncodeToString(x[:]) }
	mac := func(k []byte, s string) []byte { m := hmac.New(sha256.New, k); m.Write([]byte(s)); return m.Sum(nil) }
	canonical := fmt.Sprintf("%s\n/\n%s\ncontent-type:%s\nhost:%s\n\ncontent-type;host\n%s", method, query, ct, host, h(body))
	date := time.Unix(ts, 0).UTC().Format("2006-01-02")
	scope := date + "/lighthouse/tc3_request"
	sts := fmt.Sprintf("TC3-HMAC-SHA256\n%d\n%s\n%s", ts, scope, h(canonical))
	k := mac(mac(mac([]byte("TC3"+key), date), "lighthouse"), "tc3_request")
	sig := hex.EncodeToString(mac(k, sts))
	return fmt.Sprintf("TC3-HMAC-SHA256 Credential=%s/%s, SignedHeaders=content-type;host, Signature=%s", id, scope, sig)
}

// shortTimeout is an SDK transport that gives up after d of real time.
type shortTimeout struct {
	base http.RoundTripper
	d    time.Duration
}

func (s shortTimeout) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(r.Context(), s.d)
	resp, err := s.base.RoundTrip(r.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	cancel()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, err
}

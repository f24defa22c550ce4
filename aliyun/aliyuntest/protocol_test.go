package aliyuntest

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	swas "github.com/aliyun/alibaba-cloud-sdk-go/services/swas-open"
)

func TestSDKSignatureAccepted(t *testing.T) {
	f := newFixture(t)
	resp, err := f.resetDisk(f.in.SystemDiskID, f.snap.ID, "tok-1")
	if err != nil {
		t.Fatal(err)
	}
	if !isUpperUUID(resp.RequestId) {
		t.Errorf("RequestId %q is not an upper-case UUID", resp.RequestId)
	}
	if got := resp.GetHttpHeaders()["X-Acs-Request-Id"]; len(got) != 1 || got[0] != resp.RequestId {
		t.Errorf("x-acs-request-id header = %v, want %s", got, resp.RequestId)
	}
	j := f.srv.Journal().Entries()
	if len(j) != 1 {
		t.Fatalf("journal has %d entries, want 1", len(j))
	}
	e := j[0]
	if e.Action != ActionResetDisk || e.Region != DefaultRegion || !e.Applied || e.HTTPStatus != 200 || e.RequestID != resp.RequestId {
		t.Errorf("journal entry = %+v", e)
	}
	want := map[string]string{"DiskId": f.in.SystemDiskID, "SnapshotId": f.snap.ID, "ClientToken": "tok-1"}
	if len(e.Params) != len(want) {
		t.Errorf("journal params = %v, want exactly %v", e.Params, want)
	}
	for k, v := range want {
		if e.Params[k] != v {
			t.Errorf("journal param %s = %q, want %q", k, e.Params[k], v)
		}
	}
}

func TestSDKWrongSecretIsSignatureDoesNotMatch(t *testing.T) {
	f := newFixture(t)
	c := newSDK(t, f.srv, sdkOpts{id: DefaultAccessKeyID, secret: "not-the-secret"})
	_, err := c.ListInstances(swas.CreateListInstancesRequest())
	se := serverError(t, err, "SignatureDoesNotMatch", 400)
	// The SDK compares its string to sign with ours: equal strings prove
	// that the emulator canonicalizes exactly as the SDK does, so the
	// only difference is the secret.
	if !strings.Contains(se.Recommend(), "InvalidAccessKeySecret") {
		t.Errorf("SDK recommend = %q; the strings to sign differ", se.Recommend())
	}
	if f.srv.Journal().Entries()[0].Applied {
		t.Error("a refused call was applied")
	}
}

func TestSDKUnknownAndInactiveKeys(t *testing.T) {
	srv := NewServer(
		WithCredential(Credential{AccessKeyID: "LTAIactive", AccessKeySecret: "s1"}),
		WithCredential(Credential{AccessKeyID: "LTAIinactive", AccessKeySecret: "s2", Inactive: true}),
	)
	defer srv.Close()
	_, err := newSDK(t, srv, sdkOpts{id: "LTAIunknown", secret: "x"}).ListInstances(swas.CreateListInstancesRequest())
	serverError(t, err, "InvalidAccessKeyId.NotFound", 404)
	_, err = newSDK(t, srv, sdkOpts{id: "LTAIinactive", secret: "s2"}).ListInstances(swas.CreateListInstancesRequest())
	serverError(t, err, "InvalidAccessKeyId.Inactive", 400)
	if _, err := newSDK(t, srv, sdkOpts{id: "LTAIactive", secret: "s1"}).ListInstances(swas.CreateListInstancesRequest()); err != nil {
		t.Fatal(err)
	}
	if srv.Credential().AccessKeyID != "LTAIactive" {
		t.Errorf("Credential() = %+v, want the first configured key", srv.Credential())
	}
}

func TestSDKSecurityToken(t *testing.T) {
	srv := NewServer(WithCredential(Credential{AccessKeyID: "STS.key", AccessKeySecret: "sec", SecurityToken: "tok"}))
	defer srv.Close()
	if _, err := newSDK(t, srv, sdkOpts{}).ListInstances(swas.CreateListInstancesRequest()); err != nil {
		t.Fatalf("STS credential refused: %v", err)
	}
	_, err := newSDK(t, srv, sdkOpts{id: "STS.key", secret: "sec"}).ListInstances(swas.CreateListInstancesRequest())
	serverError(t, err, "MissingParameter", 400)
	_, err = newSDK(t, srv, sdkOpts{id: "STS.key", secret: "sec", token: "other"}).ListInstances(swas.CreateListInstancesRequest())
	serverError(t, err, "InvalidSecurityToken.MismatchWithAccessKey", 400)
}

func TestReplayedNonceRefused(t *testing.T) {
	f := newFixture(t)
	// Record the SDK's signed request, then send it again verbatim.
	var (
		mu   sync.Mutex
		last *url.URL
	)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := newSDK(t, f.srv, sdkOpts{})
	c.SetTransport(rtFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		last = r.URL
		mu.Unlock()
		return tr.RoundTrip(r)
	}))
	if _, err := c.ListInstances(swas.CreateListInstancesRequest()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	replay := last.String()
	mu.Unlock()
	resp, err := http.Post(replay, "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	j := f.srv.Journal().Entries()
	if got := j[len(j)-1]; got.Code != "SignatureNonceUsed" || got.HTTPStatus != 400 {
		t.Errorf("replay answered %d %s, want 400 SignatureNonceUsed", got.HTTPStatus, got.Code)
	}
}

func TestProtocolRefusals(t *testing.T) {
	f := newFixture(t)
	old := time.Now().Add(-20 * time.Minute).UTC().Format(timeFormat)
	cases := []struct {
		name   string
		method string
		action string
		api    map[string]string
		mutate func(map[string]string)
		status int
		code   string
	}{
		{"GET accepted", http.MethodGet, ActionListInstances, nil, nil, 200, ""},
		{"PUT refused", http.MethodPut, ActionListInstances, nil, nil, 400, "UnsupportedHTTPMethod"},
		{"unknown action", http.MethodPost, "DescribeEverything", nil, nil, 404, "InvalidAction.NotFound"},
		{"wrong version", http.MethodPost, ActionListInstances, nil, func(p map[string]string) { p["Version"] = "2017-01-01" }, 400, "InvalidVersion"},
		{"XML format", http.MethodPost, ActionListInstances, nil, func(p map[string]string) { p["Format"] = "XML" }, 400, "InvalidParameter.Format"},
		{"other signature method", http.MethodPost, ActionListInstances, nil, func(p map[string]string) { p["SignatureMethod"] = "HMAC-SHA256" }, 400, "InvalidParameter.SignatureMethod"},
		{"no nonce", http.MethodPost, ActionListInstances, nil, func(p map[string]string) { delete(p, "SignatureNonce") }, 400, "MissingParameter"},
		{"expired timestamp", http.MethodPost, ActionListInstances, nil, func(p map[string]string) { p["Timestamp"] = old }, 400, "InvalidTimeStamp.Expired"},
		{"bad timestamp", http.MethodPost, ActionListInstances, nil, func(p map[string]string) { p["Timestamp"] = "yesterday" }, 400, "InvalidTimeStamp.Format"},
		{"unserved region", http.MethodPost, ActionListInstances, nil, func(p map[string]string) { p["RegionId"] = "us-west-1" }, 400, "InvalidRegionId"},
		{"missing DiskId", http.MethodPost, ActionResetDisk, map[string]string{"SnapshotId": "s-1"}, nil, 400, "MissingDiskId"},
		{"bad list", http.MethodPost, ActionListDisks, map[string]string{"DiskIds": "d-1,d-2"}, nil, 400, "InvalidParameter.DiskIds"},
		{"page too big", http.MethodPost, ActionListDisks, map[string]string{"PageSize": "101"}, nil, 400, "InvalidParameter.PageSize"},
		{"long token", http.MethodPost, ActionStopInstance, map[string]string{"InstanceId": "x", "ClientToken": strings.Repeat("a", 65)}, nil, 400, "InvalidClientToken.ValueNotSupported"},
		{"non-ASCII token", http.MethodPost, ActionStopInstance, map[string]string{"InstanceId": "x", "ClientToken": "é"}, nil, 400, "InvalidClientToken.ValueNotSupported"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := rawDo(t, f.srv, tc.method, signedParams(f.srv, tc.method, tc.action, tc.api, tc.mutate))
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("got %d %q (%v), want %d %q", r.status, r.code(), r.body["Message"], tc.status, tc.code)
			}
			if tc.code != "" {
				for _, k := range []string{"RequestId", "HostId", "Code", "Message", "Recommend"} {
					if _, ok := r.body[k].(string); !ok {
						t.Errorf("error field %s = %#v, want a string", k, r.body[k])
					}
				}
			}
		})
	}
}

func TestTamperedParameterFailsSignature(t *testing.T) {
	f := newFixture(t)
	p := signedParams(f.srv, http.MethodPost, ActionListInstances, map[string]string{"PageSize": "10"}, nil)
	p["PageSize"] = "20"
	if r := rawDo(t, f.srv, http.MethodPost, p); r.code() != "SignatureDoesNotMatch" {
		t.Fatalf("tampered request answered %d %q", r.status, r.code())
	}
	// Signed for POST, sent as GET: the method is part of the signature.
	p = signedParams(f.srv, http.MethodPost, ActionListInstances, nil, nil)
	if r := rawDo(t, f.srv, http.MethodGet, p); r.code() != "SignatureDoesNotMatch" {
		t.Fatalf("method swap answered %d %q", r.status, r.code())
	}
}

func TestJournalHoldsNoCredentials(t *testing.T) {
	f := newFixture(t)
	_, _ = f.resetDisk(f.in.SystemDiskID, f.snap.ID, "")
	_, _ = newSDK(t, f.srv, sdkOpts{id: "LTAIother", secret: "x"}).ListInstances(swas.CreateListInstancesRequest())
	for _, e := range f.srv.Journal().Entries() {
		for k, v := range e.Params {
			for _, bad := range []string{"AccessKeyId", "Signature", "SignatureNonce", "Timestamp", "SecurityToken"} {
				if k == bad {
					t.Errorf("journal records %s", k)
				}
			}
			if strings.Contains(v, DefaultAccessKeyID) || strings.Contains(v, "LTAIother") {
				t.Errorf("journal param %s carries an access key ID", k)
			}
		}
	}
}

func TestTLSServer(t *testing.T) {
	srv := NewTLSServer()
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "https://127.0.0.1:") {
		t.Fatalf("URL = %s", srv.URL)
	}
	in := Must(srv.AddInstance(InstanceSpec{}))
	req := swas.CreateListInstancesRequest()
	req.InstanceIds = jsonList(in.ID)
	resp, err := newSDK(t, srv, sdkOpts{}).ListInstances(req)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Instances) != 1 || resp.Instances[0].InstanceId != in.ID {
		t.Fatalf("instances = %+v", resp.Instances)
	}
}

func TestNonStringCodeNeverSent(t *testing.T) {
	// Every error reply must keep Code a string: the SDK type-asserts it.
	f := newFixture(t)
	f.srv.AddFault(Fault{Action: ActionListInstances, Code: "Some.Unknown"})
	_, err := f.sdk.ListInstances(swas.CreateListInstancesRequest())
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) || se.ErrorCode() != "Some.Unknown" || se.HttpStatus() != 400 {
		t.Fatalf("err = %v", err)
	}
}

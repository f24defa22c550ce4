package tencenttest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	lh "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/lighthouse/v20200324"
)

func TestSignatureChecks(t *testing.T) {
	e := newEnv(t, WithSessionCredentials("AKIDsession", "sessionkey", "tok-123"))
	in := e.instance(Instance{})
	describe := func(c *lh.Client) error {
		req := lh.NewDescribeInstancesRequest()
		req.InstanceIds = common.StringPtrs([]string{in.ID})
		_, err := c.DescribeInstances(req)
		return err
	}
	if err := describe(e.sdk); err != nil {
		t.Fatalf("good signature rejected: %v", err)
	}
	wrongKey := e.client(func(c *common.Credential, _ *profile.ClientProfile, _ *string) { c.SecretKey = "wrong" })
	if err := describe(wrongKey); code(t, err) != CodeAuthFailureSignatureFailure {
		t.Errorf("wrong key: %v", err)
	}
	unknown := e.client(func(c *common.Credential, _ *profile.ClientProfile, _ *string) { c.SecretId = "AKIDnobody" })
	if err := describe(unknown); code(t, err) != CodeAuthFailureSecretIDNotFound {
		t.Errorf("unknown id: %v", err)
	}
	session := e.client(func(c *common.Credential, _ *profile.ClientProfile, _ *string) {
		c.SecretId, c.SecretKey, c.Token = "AKIDsession", "sessionkey", "tok-123"
	})
	if err := describe(session); err != nil {
		t.Errorf("session credentials rejected: %v", err)
	}
	badToken := e.client(func(c *common.Credential, _ *profile.ClientProfile, _ *string) {
		c.SecretId, c.SecretKey, c.Token = "AKIDsession", "sessionkey", "tok-999"
	})
	if err := describe(badToken); code(t, err) != CodeAuthFailureTokenFailure {
		t.Errorf("bad token: %v", err)
	}
	get := e.client(func(_ *common.Credential, p *profile.ClientProfile, _ *string) { p.HttpProfile.ReqMethod = "GET" })
	if err := describe(get); err != nil {
		t.Errorf("GET form rejected: %v", err)
	}
	unsigned := e.client(func(_ *common.Credential, p *profile.ClientProfile, _ *string) { p.UnsignedPayload = true })
	if err := describe(unsigned); err != nil {
		t.Errorf("unsigned payload rejected: %v", err)
	}

	now := time.Now().Unix()
	raws := []struct {
		name string
		r    rawRequest
		code string
	}{
		{"good raw", rawRequest{action: "DescribeInstances"}, ""},
		{"stale", rawRequest{action: "DescribeInstances", timestamp: now - 301}, CodeAuthFailureSignatureExpire},
		{"future", rawRequest{action: "DescribeInstances", timestamp: now + 400}, CodeAuthFailureSignatureExpire},
		{"almost stale", rawRequest{action: "DescribeInstances", timestamp: now - 250}, ""},
		{"no authorization", rawRequest{action: "DescribeInstances", auth: "-"}, CodeAuthFailureInvalidAuthorization},
		{"garbled", rawRequest{action: "DescribeInstances", auth: "TC3-HMAC-SHA256 nonsense"}, CodeAuthFailureInvalidAuthorization},
		{"other algorithm", rawRequest{action: "DescribeInstances", auth: "HMAC-SHA1 Credential=x"}, CodeAuthFailureInvalidAuthorization},
		{"body tampered", rawRequest{action: "DescribeInstances", auth: testSign("POST", e.srv.Endpoint(), "", "application/json", `{"Limit":1}`, now, DefaultSecretID, DefaultSecretKey)}, CodeAuthFailureSignatureFailure},
	}
	for _, tt := range raws {
		t.Run(tt.name, func(t *testing.T) {
			status, out := e.raw(tt.r)
			if status != http.StatusOK || rawCode(out) != tt.code {
				t.Errorf("HTTP %d code %q, want 200 %q (%v)", status, rawCode(out), tt.code, out)
			}
		})
	}
	// The clock of the state machines does not matter to signatures.
	e.clk.Advance(24 * time.Hour)
	if err := describe(e.sdk); err != nil {
		t.Errorf("virtual clock ahead of wall time broke signatures: %v", err)
	}
}

func TestRouting(t *testing.T) {
	e := newEnv(t, WithRegions("ap-guangzhou", "ap-tokyo"))
	tests := []struct {
		name string
		r    rawRequest
		code string
	}{
		{"unknown action", rawRequest{action: "RebootTheWorld"}, CodeInvalidAction},
		{"no action", rawRequest{}, CodeMissingParameter},
		{"wrong version", rawRequest{action: "DescribeInstances", version: "2017-03-12"}, CodeNoSuchVersion},
		{"no version", rawRequest{action: "DescribeInstances", version: "-"}, CodeMissingParameter},
		{"region not served", rawRequest{action: "DescribeInstances", region: "ap-mumbai"}, CodeUnsupportedRegion},
		{"unknown parameter", rawRequest{action: "DescribeInstances", body: `{"Colour":"red"}`}, CodeUnknownParameter},
		{"not JSON", rawRequest{action: "DescribeInstances", body: `{"Limit":`}, CodeInvalidParameter},
		{"not an object", rawRequest{action: "DescribeInstances", body: `[1]`}, CodeInvalidParameter},
		{"bad integer", rawRequest{action: "DescribeInstances", body: `{"Limit":"many"}`}, CodeInvalidParameter},
		{"method", rawRequest{action: "DescribeInstances", method: http.MethodPut}, CodeUnsupportedProtocol},
		{"GET form", rawRequest{action: "DescribeInstances", method: http.MethodGet, query: "Limit=5&Offset=0"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := e.raw(tt.r)
			if status != http.StatusOK || rawCode(out) != tt.code {
				t.Errorf("HTTP %d code %q, want 200 %q (%v)", status, rawCode(out), tt.code, out)
			}
			r := out["Response"].(map[string]any)
			if id, _ := r["RequestId"].(string); len(id) != 36 {
				t.Errorf("RequestId %q", id)
			}
		})
	}
	tokyo := e.client(func(_ *common.Credential, _ *profile.ClientProfile, r *string) { *r = "ap-tokyo" })
	e.instance(Instance{}) // in ap-guangzhou
	resp, err := tokyo.DescribeInstances(lh.NewDescribeInstancesRequest())
	if err != nil || *resp.Response.TotalCount != 0 {
		t.Errorf("ap-tokyo sees ap-guangzhou's instance: %v", err)
	}
}

func TestLanguages(t *testing.T) {
	e := newEnv(t)
	_, en := e.raw(rawRequest{action: "ApplyInstanceSnapshot", body: `{"InstanceId":"lhins-nothere1","SnapshotId":"lhsnap-nothere1"}`, lang: "en-US"})
	_, zh := e.raw(rawRequest{action: "ApplyInstanceSnapshot", body: `{"InstanceId":"lhins-nothere1","SnapshotId":"lhsnap-nothere1"}`})
	if rawCode(en) != CodeInstanceIDNotFound || rawCode(zh) != CodeInstanceIDNotFound {
		t.Fatalf("codes %q %q", rawCode(en), rawCode(zh))
	}
	if !strings.Contains(rawMessage(en), "does not exist") {
		t.Errorf("English message %q", rawMessage(en))
	}
	if !strings.Contains(rawMessage(zh), "不存在") {
		t.Errorf("Chinese message %q", rawMessage(zh))
	}
}

func TestDescribeInstancesLimitsAndPaging(t *testing.T) {
	e := newEnv(t, WithoutRateLimits())
	var ids []string
	for i := 0; i < 101; i++ {
		ids = append(ids, e.instance(Instance{Name: map[bool]string{true: "web", false: "db"}[i%2 == 0]}).ID)
	}
	req := lh.NewDescribeInstancesRequest()
	req.InstanceIds = common.StringPtrs(ids[:100])
	req.Limit = common.Int64Ptr(100)
	resp, err := e.sdk.DescribeInstances(req)
	if err != nil {
		t.Fatal(err)
	}
	if *resp.Response.TotalCount != 100 || len(resp.Response.InstanceSet) != 100 {
		t.Errorf("100 IDs: total %d, set %d", *resp.Response.TotalCount, len(resp.Response.InstanceSet))
	}
	req.InstanceIds = common.StringPtrs(ids)
	if _, err := e.sdk.DescribeInstances(req); code(t, err) != CodeLimitExceeded {
		t.Errorf("101 IDs: %v", err)
	}
	req.InstanceIds = common.StringPtrs([]string{ids[0], "lhins-absent01"})
	resp, err = e.sdk.DescribeInstances(req)
	if err != nil || *resp.Response.TotalCount != 1 {
		t.Errorf("unknown IDs are left out: %v", err)
	}
	req.InstanceIds = common.StringPtrs([]string{"nope"})
	if _, err := e.sdk.DescribeInstances(req); code(t, err) != CodeInstanceIDMalformed {
		t.Errorf("malformed: %v", err)
	}

	// Paging without IDs: default Limit 20.
	page := lh.NewDescribeInstancesRequest()
	resp, err = e.sdk.DescribeInstances(page)
	if err != nil || *resp.Response.TotalCount != 101 || len(resp.Response.InstanceSet) != 20 {
		t.Fatalf("default page: %v", err)
	}
	page.Offset, page.Limit = common.Int64Ptr(100), common.Int64Ptr(100)
	resp, err = e.sdk.DescribeInstances(page)
	if err != nil || len(resp.Response.InstanceSet) != 1 || *resp.Response.InstanceSet[0].InstanceId != ids[100] {
		t.Errorf("last page: %v", err)
	}
	page.Limit = common.Int64Ptr(101)
	if _, err := e.sdk.DescribeInstances(page); code(t, err) != CodeInvalidParameterValue {
		t.Errorf("Limit 101: %v", err)
	}

	byName := lh.NewDescribeInstancesRequest()
	byName.Filters = []*lh.Filter{{Name: common.StringPtr("instance-name"), Values: common.StringPtrs([]string{"web"})}}
	resp, err = e.sdk.DescribeInstances(byName)
	if err != nil || *resp.Response.TotalCount != 51 {
		t.Errorf("instance-name filter: %v %v", err, resp.ToJsonString())
	}
	byName.InstanceIds = common.StringPtrs(ids[:1])
	if _, err := e.sdk.DescribeInstances(byName); code(t, err) != CodeInvalidParameterConflict {
		t.Errorf("IDs and filters: %v", err)
	}
	bad := lh.NewDescribeInstancesRequest()
	bad.Filters = []*lh.Filter{{Name: common.StringPtr("instance-id"), Values: common.StringPtrs(ids[:1])}}
	if _, err := e.sdk.DescribeInstances(bad); code(t, err) != CodeInvalidFilter {
		t.Errorf("instance-id filter: %v", err)
	}
	bad.Filters = []*lh.Filter{{Name: common.StringPtr("instance-name"), Values: common.StringPtrs([]string{"a", "b", "c", "d", "e", "f"})}}
	if _, err := e.sdk.DescribeInstances(bad); code(t, err) != CodeFilterValueLimitExceeded {
		t.Errorf("6 values: %v", err)
	}
}

func TestDescribeSnapshotsFilters(t *testing.T) {
	e := newEnv(t)
	a := e.instance(Instance{})
	b := e.instance(Instance{})
	a1 := e.snapshot(Snapshot{InstanceID: a.ID, Name: "nightly"})
	e.snapshot(Snapshot{InstanceID: a.ID, Name: "weekly"})
	b1 := e.snapshot(Snapshot{InstanceID: b.ID, Name: "nightly"})
	count := func(fs ...*lh.Filter) int64 {
		t.Helper()
		req := lh.NewDescribeSnapshotsRequest()
		req.Filters = fs
		resp, err := e.sdk.DescribeSnapshots(req)
		if err != nil {
			t.Fatal(err)
		}
		return *resp.Response.TotalCount
	}
	f := func(name string, vs ...string) *lh.Filter {
		return &lh.Filter{Name: common.StringPtr(name), Values: common.StringPtrs(vs)}
	}
	if n := count(); n != 3 {
		t.Errorf("all: %d", n)
	}
	if n := count(f("instance-id", a.ID)); n != 2 {
		t.Errorf("instance-id: %d", n)
	}
	if n := count(f("disk-id", b.DiskID)); n != 1 {
		t.Errorf("disk-id: %d", n)
	}
	if n := count(f("snapshot-name", "nightly")); n != 2 {
		t.Errorf("snapshot-name: %d", n)
	}
	if n := count(f("snapshot-name", "nightly"), f("instance-id", b.ID)); n != 1 {
		t.Errorf("two filters: %d", n)
	}
	if n := count(f("snapshot-id", a1.ID, b1.ID)); n != 2 {
		t.Errorf("snapshot-id: %d", n)
	}
	req := lh.NewDescribeSnapshotsRequest()
	req.SnapshotIds = common.StringPtrs([]string{"lhsnap-"})
	if _, err := e.sdk.DescribeSnapshots(req); code(t, err) != CodeSnapshotIDMalformed {
		t.Errorf("malformed: %v", err)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t)
	in := e.instance(Instance{})
	req := lh.NewDescribeInstancesRequest()
	req.InstanceIds = common.StringPtrs([]string{in.ID})
	for i := 0; i < 20; i++ {
		if _, err := e.sdk.DescribeInstances(req); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	if _, err := e.sdk.DescribeInstances(req); code(t, err) != CodeRequestLimitExceeded {
		t.Fatalf("21st call: %v", err)
	}
	// Other actions have their own windows.
	if _, err := e.sdk.DescribeSnapshots(lh.NewDescribeSnapshotsRequest()); err != nil {
		t.Errorf("other action throttled: %v", err)
	}
	e.clk.Advance(time.Second)
	if _, err := e.sdk.DescribeInstances(req); err != nil {
		t.Errorf("after a second: %v", err)
	}
	throttled := 0
	for _, en := range e.srv.Journal().Entries() {
		if en.Code == CodeRequestLimitExceeded {
			throttled++
			if en.HTTPStatus != http.StatusOK {
				t.Errorf("throttled with HTTP %d", en.HTTPStatus)
			}
		}
	}
	if throttled != 1 {
		t.Errorf("throttled entries = %d", throttled)
	}
}

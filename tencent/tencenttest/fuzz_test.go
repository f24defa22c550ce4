package tencenttest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudsnap/rollback/clock"
)

// FuzzServeHTTP sends arbitrary requests, signed with the right key or not:
// any method, action, version, region, content type, query, body and
// Authorization header. The emulator must never panic, and every reply must
// be the cloud's well-formed envelope: HTTP 200, JSON,
// {"Response":{"RequestId":"..."}} with, on error,
// "Error":{"Code":"<non-empty>","Message":"..."} (the SDK reads these
// fields blindly).
func FuzzServeHTTP(f *testing.F) {
	srv := New(WithClock(clock.NewVirtual(time.Time{})), WithoutRateLimits())
	in, err := srv.AddInstance(Instance{State: StateStopped})
	if err != nil {
		f.Fatal(err)
	}
	sn, err := srv.AddSnapshot(Snapshot{InstanceID: in.ID})
	if err != nil {
		f.Fatal(err)
	}
	ids := func(s string) string {
		return strings.NewReplacer("$INS", in.ID, "$SNAP", sn.ID).Replace(s)
	}
	// method, action, version, region, content type, query, body, sign, timestamp offset (s), Authorization when unsigned
	f.Add(uint8(0), "DescribeInstances", Version, DefaultRegion, "application/json", "", `{"InstanceIds":["$INS"],"Limit":100}`, true, int64(0), "")
	f.Add(uint8(0), "DescribeSnapshots", Version, DefaultRegion, "application/json", "", `{"SnapshotIds":["$SNAP"]}`, true, int64(0), "")
	f.Add(uint8(0), "ApplyInstanceSnapshot", Version, DefaultRegion, "application/json", "", `{"InstanceId":"$INS","SnapshotId":"$SNAP"}`, true, int64(0), "")
	f.Add(uint8(0), "StartInstances", Version, DefaultRegion, "application/json; charset=utf-8", "", `{"InstanceIds":["$INS","$INS"]}`, true, int64(0), "")
	f.Add(uint8(0), "CreateInstanceSnapshot", Version, DefaultRegion, "application/json", "", `{"InstanceId":"$INS","SnapshotName":"`+strings.Repeat("名", 61)+`"}`, true, int64(0), "")
	f.Add(uint8(0), "DescribeInstances", Version, DefaultRegion, "application/json", "", `{"Filters":[{"Name":"instance-name","Values":[1,{"a":[]}]}],"Offset":-1,"Limit":1e99}`, true, int64(0), "")
	f.Add(uint8(0), "DescribeSnapshots", Version, DefaultRegion, "application/json", "", `[1,2]`, true, int64(0), "")
	f.Add(uint8(0), "DeleteSnapshots", Version, DefaultRegion, "application/json", "", `{"SnapshotIds":null,"X":{"Y":{"Z":[[[]]]}}}`, true, int64(0), "")
	f.Add(uint8(1), "DescribeInstances", Version, DefaultRegion, "application/x-www-form-urlencoded", "InstanceIds.0=$INS&Limit=abc&Offset=%zz", "", true, int64(0), "")
	f.Add(uint8(0), "NoSuchAction", "2017-03-12", "mars-1", "text/plain", "", "{", true, int64(-3600), "")
	f.Add(uint8(0), "DescribeInstances", Version, DefaultRegion, "application/json", "", "{}", false, int64(0), "TC3-HMAC-SHA256 Credential=x/y/z/tc3_request, SignedHeaders=, Signature=")
	f.Add(uint8(0), "DescribeInstances", Version, DefaultRegion, "application/json", "", "{}", false, int64(0), "TC3-HMAC-SHA256 Credential=AKID/2026-01-01/lighthouse/tc3_request, SignedHeaders=content-type;host;;x, Signature=00")
	f.Add(uint8(2), "", "", "", "", "", "", false, int64(0), "")
	f.Fuzz(func(t *testing.T, method uint8, action, version, region, ct, query, body string, sign bool, skew int64, auth string) {
		m := []string{http.MethodPost, http.MethodGet, http.MethodPut, http.MethodHead}[int(method)%4]
		body, query = ids(body), ids(query)
		ts := time.Now().Unix() + skew%100000
		req := &http.Request{
			Method: m, URL: &url.URL{Path: "/", RawQuery: query}, Host: "lighthouse.tencentcloudapi.com",
			Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)),
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		}
		set := func(k, v string) {
			if v != "" {
				req.Header[k] = []string{v} // as sent, even if not a valid header value
			}
		}
		set("Content-Type", ct)
		set("X-Tc-Action", action)
		set("X-Tc-Version", version)
		set("X-Tc-Region", region)
		set("X-Tc-Timestamp", strconv.FormatInt(ts, 10))
		if sign {
			set("Authorization", testSign(m, req.Host, query, ct, body, ts, DefaultSecretID, DefaultSecretKey))
		} else {
			set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)

		if w.Code != http.StatusOK {
			t.Fatalf("status %d for %s %q: %q", w.Code, m, action, w.Body.String())
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q", ct)
		}
		var out struct {
			Response map[string]json.RawMessage
		}
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || out.Response == nil {
			t.Fatalf("reply is not the envelope: %q (%v)", w.Body.String(), err)
		}
		var rid string
		if err := json.Unmarshal(out.Response["RequestId"], &rid); err != nil || rid == "" {
			t.Fatalf("RequestId missing or not a string: %q", w.Body.String())
		}
		raw, isErr := out.Response["Error"]
		if !isErr {
			if _, known := actions[action]; !known {
				t.Fatalf("success for unknown action %q: %q", action, w.Body.String())
			}
			return
		}
		var e struct{ Code, Message *string }
		if err := json.Unmarshal(raw, &e); err != nil || e.Code == nil || *e.Code == "" || e.Message == nil {
			t.Fatalf("malformed Error: %q (%v)", raw, err)
		}
	})
}

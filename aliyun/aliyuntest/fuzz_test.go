package aliyuntest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// FuzzServeHTTP sends arbitrary queries, signed and unsigned: the server must
// never panic, and every reply must be JSON whose error fields are strings
// (the SDK panics on anything else).
func FuzzServeHTTP(f *testing.F) {
	srv := NewHandler()
	in := Must(srv.AddInstance(InstanceSpec{Status: StatusStopped}))
	snap := Must(srv.AddSnapshot(SnapshotSpec{DiskID: in.SystemDiskID}))
	f.Add(true, ActionResetDisk, "DiskId", in.SystemDiskID, "SnapshotId", snap.ID)
	f.Add(true, ActionListInstances, "InstanceIds", `["a","b"]`, "PageSize", "0")
	f.Add(true, ActionListDisks, "DiskIds", `[1,2]`, "PageNumber", "-1")
	f.Add(true, ActionStopInstance, "InstanceId", in.ID, "ClientToken", "\x00")
	f.Add(false, "", "Version", "", "Signature", "%%")
	f.Add(true, ActionCreateSnapshot, "DiskId", in.SystemDiskID, "SnapshotName", "")
	f.Fuzz(func(t *testing.T, sign bool, action, k1, v1, k2, v2 string) {
		api := map[string]string{k1: v1, k2: v2}
		var p map[string]string
		if sign {
			p = signedParams(srv, http.MethodPost, action, api, nil)
		} else {
			p = map[string]string{"Action": action, k1: v1, k2: v2}
		}
		v := url.Values{}
		for k, val := range p {
			v.Set(k, val)
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/?"+v.Encode(), nil))
		var body map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("reply %d is not JSON: %q", w.Code, w.Body.String())
		}
		if w.Code != http.StatusOK {
			for _, k := range []string{"RequestId", "HostId", "Code", "Message", "Recommend"} {
				if _, ok := body[k].(string); !ok {
					t.Fatalf("error field %s = %#v", k, body[k])
				}
			}
		}
	})
}

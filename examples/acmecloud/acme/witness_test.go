package acme_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/provider"

	"example.com/acmecloud/acme"
)

// The witness takes a restore for ours only when it names our server: a
// cloud (or a proxy) reporting the snapshot's last restore on another
// server is CannotTell, never success.
func TestWitnessNeedsOurServer(t *testing.T) {
	for _, tc := range []struct {
		server string
		want   provider.Verdict
	}{
		{"srv-ours", provider.OursLanded},
		{"srv-other", provider.CannotTell},
		{"", provider.CannotTell},
	} {
		t.Run(fmt.Sprintf("%q", tc.server), func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, `{"RequestId":"req-read","Snapshots":[{"SnapshotId":"snap-1","ServerId":"srv-ours","DiskId":"vol-1","State":"available",
					"LastRestore":{"RequestId":"req-new","ServerId":%q,"State":"Succeeded","At":"2026-01-01T00:00:00Z"}}],
					"Servers":[{"ServerId":"srv-ours","State":"stopped","SystemDiskId":"vol-1"}]}`, tc.server)
			}))
			defer ts.Close()
			c, err := acme.New(acme.Config{Region: "eu-west", Endpoint: ts.URL, KeyID: "k", Secret: "s"}, rollback.WithClock(auto()))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			before := &rollback.Snapshot{ID: "snap-1", LatestOperation: rollback.Operation{Kind: rollback.OpRollback, RequestID: "req-old"}}
			req := rollback.Request{Region: "eu-west", InstanceID: "srv-ours", SnapshotID: "snap-1"}
			ev, err := c.WitnessRollback(context.Background(), req, before, time.Time{})
			if err != nil || ev.Verdict != tc.want {
				t.Fatalf("verdict %v (%s), %v; want %v", ev.Verdict, ev.Detail, err, tc.want)
			}
		})
	}
}

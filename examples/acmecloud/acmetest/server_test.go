package acmetest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"

	"example.com/acmecloud/acme"
	"example.com/acmecloud/acmetest"
)

// post sends one call as a client would, signed with secret.
func post(t *testing.T, srv *acmetest.Server, action, secret string, body any) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/"+action, bytes.NewReader(raw))
	date := srv.Clock().Now().UTC().Format(time.RFC3339)
	req.Header.Set(acme.DateHeader, date)
	if secret != "" {
		req.Header.Set("Authorization", acme.Sign(acmetest.DefaultKeyID, secret, action, date, raw))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func code(out map[string]any) string {
	e, _ := out["Error"].(map[string]any)
	c, _ := e["Code"].(string)
	return c
}

func TestAuthIsChecked(t *testing.T) {
	srv := acmetest.NewServer(acmetest.WithClock(clock.NewAutoVirtual(time.Time{})))
	defer srv.Close()
	defer http.DefaultClient.CloseIdleConnections()
	sv, _ := srv.AddServer(acmetest.ServerSpec{})
	body := map[string]any{"Region": acmetest.DefaultRegion, "ServerIds": []string{sv.ID}}
	for _, secret := range []string{"", "wrong-secret"} {
		st, out := post(t, srv, "DescribeServers", secret, body)
		if st != 401 || code(out) != acme.CodeAuthFailed || out["RequestId"] == "" {
			t.Fatalf("secret %q: HTTP %d %v", secret, st, out)
		}
		if strings.Contains(out["Error"].(map[string]any)["Message"].(string), acmetest.DefaultSecret) {
			t.Fatal("the refusal quotes the secret")
		}
	}
	if st, out := post(t, srv, "DescribeServers", acmetest.DefaultSecret, body); st != 200 || len(out["Servers"].([]any)) != 1 {
		t.Fatalf("signed: HTTP %d %v", st, out)
	}
	many := make([]string, acme.MaxIDs+1)
	for i := range many {
		many[i] = sv.ID
	}
	if st, out := post(t, srv, "DescribeServers", acmetest.DefaultSecret, map[string]any{"Region": acmetest.DefaultRegion, "ServerIds": many}); st != 400 || code(out) != acme.CodeInvalidParameter {
		t.Fatalf("%d IDs: HTTP %d %v", len(many), st, out)
	}
}

func TestRateWindowThrottles(t *testing.T) {
	clk := clock.NewVirtual(time.Time{})
	srv := acmetest.NewServer(acmetest.WithClock(clk), acmetest.WithRateLimit("DescribeServers", acmetest.RateWindow{Calls: 2, Per: time.Second}))
	defer srv.Close()
	defer http.DefaultClient.CloseIdleConnections()
	sv, _ := srv.AddServer(acmetest.ServerSpec{})
	body := map[string]any{"Region": acmetest.DefaultRegion, "ServerIds": []string{sv.ID}}
	var got []int
	for range 3 {
		st, _ := post(t, srv, "DescribeServers", acmetest.DefaultSecret, body)
		got = append(got, st)
	}
	clk.Advance(time.Second)
	st, _ := post(t, srv, "DescribeServers", acmetest.DefaultSecret, body)
	got = append(got, st)
	if want := []int{200, 200, 429, 200}; !slices.Equal(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
}

func TestStateTakesTimeAndOthersAct(t *testing.T) {
	clk := clock.NewVirtual(time.Time{})
	h := acmetest.NewHarness(t, clk)
	tg := h.NewTarget(t, true)
	ctx := context.Background()
	if err := h.Server.ActorStop(tg.InstanceID); err != nil {
		t.Fatal(err)
	}
	in, err := h.Client.Instance(ctx, "", tg.InstanceID)
	if err != nil || in.State != rollback.InstanceStopping || !in.Busy {
		t.Fatalf("after a stop: %+v, %v", in, err)
	}
	if _, err := h.Client.Rollback(ctx, h.Request(tg)); !errors.Is(err, rollback.ErrBusy) {
		t.Fatalf("restore of a stopping server: %v", err)
	}
	clk.Advance(acmetest.DefaultDurations.Stop)
	h.SetReadLag(5 * time.Second)
	res, err := h.Client.Rollback(ctx, h.Request(tg))
	if err != nil {
		t.Fatal(err)
	}
	// Reads lag: the restore is not visible for 5s; writes see it at once.
	if in, _ := h.Client.Instance(ctx, "", tg.InstanceID); in.State != rollback.InstanceStopped {
		t.Fatalf("a lagged read shows %s", in.State)
	}
	if err := h.Server.ActorStart(tg.InstanceID); err == nil {
		t.Fatal("a restoring server was started")
	}
	clk.Advance(5 * time.Second)
	if in, _ := h.Client.Instance(ctx, "", tg.InstanceID); in.State != rollback.InstanceRollingBack || in.LatestOperation.RequestID != res.RequestID {
		t.Fatalf("after the lag: %+v", in)
	}
	clk.Advance(acmetest.DefaultDurations.Restore)
	snap, _ := h.Client.Snapshot(ctx, "", tg.SnapshotID)
	if snap.State != rollback.SnapshotReady || snap.LatestOperation.State != rollback.OperationSucceeded {
		t.Fatalf("after the restore: %+v", snap)
	}
	actor, client := 0, 0
	for _, e := range h.Server.Journal().Entries() {
		if e.Actor {
			actor++
		} else {
			client++
		}
	}
	if actor != 2 || h.Rollbacks(tg) != 1 || h.Calls(acmetest.CallStop) != 0 {
		t.Fatalf("journal: %d actor entries, %d client; %d restores", actor, client, h.Rollbacks(tg))
	}
}

func TestHistoryHooksAndJournal(t *testing.T) {
	clk := clock.NewAutoVirtual(time.Time{})
	h := acmetest.NewHarness(t, clk)
	sv, _ := h.Server.AddServer(acmetest.ServerSpec{})
	snap, err := h.Server.AddSnapshot(acmetest.SnapshotSpec{ServerID: sv.ID, RestoredAgo: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := h.Client.Snapshot(ctx, "", snap)
	if err != nil || s.LatestOperation.Kind != rollback.OpRollback || !s.LastRollbackAt.Equal(clk.Now().Add(-time.Hour)) {
		t.Fatalf("seeded history: %+v, %v", s, err)
	}
	// A fault armed, then cleared; a hook before the first restore call
	// makes the server busy, so that call is refused and retried.
	h.Server.FailNext(acmetest.ActionRestoreSnapshot, acme.CodeAccessDenied, 1)
	h.Server.ClearFaults()
	h.Server.Before(acmetest.ActionRestoreSnapshot, 1, func() {
		if err := h.Server.SetBusy(sv.ID, time.Second); err != nil {
			t.Error(err)
		}
	})
	h.Server.DropNextReply(acmetest.ActionRestoreSnapshot) // the refusal's reply is lost: ambiguous, proved, resent
	req := rollback.Request{Region: acmetest.DefaultRegion, InstanceID: sv.ID, SnapshotID: snap}
	res, err := h.Client.Rollback(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	ours := h.Server.ClientRestores(sv.ID)
	if len(ours) != 1 || ours[0] != res.RequestID || h.Server.RestoresOf(sv.ID) != 1 {
		t.Fatalf("client restores %v (result %s), %d in all", ours, res.RequestID, h.Server.RestoresOf(sv.ID))
	}
	var codes []string
	for _, e := range h.Server.Journal().Entries() {
		if e.Action == acmetest.ActionRestoreSnapshot {
			codes = append(codes, e.Code)
		}
	}
	if len(codes) != 2 || codes[0] != acme.CodeServerBusy || codes[1] != "" {
		t.Fatalf("restore calls answered %q", codes)
	}
}

package rollbacksvc_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/examples/rollback-service/rollbacksvc"
	"github.com/cloudsnap/rollback/internal/testkit"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

const (
	aliceToken = "alice-secret-0123456789abcdef"
	bobToken   = "bob-secret-0123456789abcdef00"
)

func newGuarded(t *testing.T, c *clouds, store rollback.Checkpointer, log *slog.Logger, ready func(context.Context) error) *service {
	t.Helper()
	toks, err := rollbacksvc.ParseTokens(strings.NewReader("# callers\nalice:" + aliceToken + "\nbob:" + bobToken + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	svc := rollbacksvc.New(rollbacksvc.Config{
		Providers:   map[string]rollback.Provider{"aliyun": c.aliyun, "tencent": c.tencent},
		Checkpoints: store,
		RunOptions:  rollback.RunOptions{Clock: c.clk, Wait: rollback.WaitOptions{Learner: &rollback.Learner{}}},
		Tokens:      toks,
		AccessLog:   log,
		Ready:       ready,
	})
	srv := httptest.NewServer(svc)
	t.Cleanup(func() {
		srv.Close()
		if err := svc.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return &service{svc, srv}
}

// send is a raw request with the given headers.
func (s *service) send(t *testing.T, method, path, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, s.srv.URL+path, strings.NewReader(body))
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp, b.String()
}

func TestAuthentication(t *testing.T) {
	c := newClouds(t, tencenttest.DefaultDurations)
	var logs testkit.SyncBuffer
	s := newGuarded(t, c, nil, slog.New(slog.NewTextHandler(&logs, nil)), nil)
	_, body := c.tencentServer(t, tencenttest.StateStopped, "")
	for name, auth := range map[string]string{"none": "", "wrong": "Bearer not-a-token-at-all-0000", "basic": "Basic " + aliceToken} {
		resp, raw := s.send(t, "POST", "/rollbacks", body, map[string]string{"Idempotency-Key": "a-1", "Authorization": auth})
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %s %s", name, resp.Status, raw)
		}
	}
	nothingSent(t, c)

	// Keys are per caller: alice's and bob's "k" are two operations.
	_, otherBody := c.tencentServer(t, tencenttest.StateStopped, "")
	resp, raw := s.send(t, "POST", "/rollbacks", body, map[string]string{"Idempotency-Key": "k", "Authorization": "Bearer " + aliceToken})
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("alice: %s %s", resp.Status, raw)
	}
	resp, raw = s.send(t, "POST", "/rollbacks", otherBody, map[string]string{"Idempotency-Key": "k", "Authorization": "bearer " + bobToken})
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("bob, same key, another rollback: %s %s", resp.Status, raw)
	}
	resp, raw = s.send(t, "GET", "/rollbacks/k?wait=30s", "", map[string]string{"Authorization": "Bearer " + bobToken})
	if resp.StatusCode != http.StatusOK || !strings.Contains(raw, otherBody[strings.Index(otherBody, "lhins-"):][:14]) {
		t.Errorf("bob's k: %s %s", resp.Status, raw)
	}
	s.send(t, "GET", "/rollbacks/k?wait=30s", "", map[string]string{"Authorization": "Bearer " + aliceToken})
	if strings.Contains(logs.String(), aliceToken) || strings.Contains(logs.String(), bobToken) {
		t.Errorf("a token reached the access log:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "caller=alice") || !strings.Contains(logs.String(), "status=401") {
		t.Errorf("access log:\n%s", logs.String())
	}
}

// TestDNSRebinding: a page on attacker.example whose name now resolves to
// 127.0.0.1 sends its own Host (and Origin): refused, nothing sent.
func TestDNSRebinding(t *testing.T) {
	c := newClouds(t, tencenttest.DefaultDurations)
	s := newService(t, c, nil)
	_, body := c.tencentServer(t, tencenttest.StateStopped, "")
	for _, hdr := range []map[string]string{
		{"Host": "attacker.example:8080"},
		{"Host": "attacker.example"},
		{"Origin": "http://attacker.example:8080"},
		{"Origin": "null"},
	} {
		hdr["Idempotency-Key"] = "r-1"
		resp, raw := s.send(t, "POST", "/rollbacks", body, hdr)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%v: %s %s", hdr, resp.Status, raw)
		}
	}
	nothingSent(t, c)
	resp, raw := s.send(t, "POST", "/rollbacks", body, map[string]string{"Idempotency-Key": "r-1", "Host": "localhost", "Origin": "http://localhost:8080"})
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("from localhost: %s %s", resp.Status, raw)
	}
	s.wait(t, "r-1")
}

func TestBodyTooLarge(t *testing.T) {
	c := newClouds(t, tencenttest.DefaultDurations)
	s := newService(t, c, nil)
	big := `{"provider":"tencent","region":"` + strings.Repeat("x", 70<<10) + `"}`
	r := s.post(t, "big-1", big)
	if r.code != http.StatusRequestEntityTooLarge || !strings.Contains(r.err.Message, "65536 bytes") {
		t.Errorf("%d %s", r.code, r.raw)
	}
	nothingSent(t, c)
}

// TestOneKeyPerDisk: while a key rolls a disk back, another key for the
// same disk is a 409; once it ended, a new key may roll it back again.
func TestOneKeyPerDisk(t *testing.T) {
	slow := tencenttest.DefaultDurations
	slow.Rollback = 5 * time.Minute
	c := newClouds(t, slow)
	// A store that outlives the process: with the in-memory default, a new
	// key on a Lighthouse snapshot rolled back to before is refused
	// (its checkpoint could have been lost with an earlier process).
	s := newService(t, c, rollback.FileCheckpoints{Dir: t.TempDir()})
	id, body := c.tencentServer(t, tencenttest.StateStopped, "")
	if r := s.post(t, "d-1", body); r.code != http.StatusAccepted {
		t.Fatalf("POST: %d %s", r.code, r.raw)
	}
	r := s.post(t, "d-2", body)
	if r.code != http.StatusConflict || !strings.Contains(r.err.Message, id) || !strings.Contains(r.err.Message, "another idempotency key") {
		t.Errorf("second key, same disk: %d %s", r.code, r.raw)
	}
	s.wait(t, "d-1")
	if r := s.post(t, "d-2", body); r.code != http.StatusAccepted {
		t.Errorf("second key after the first ended: %d %s", r.code, r.raw)
	}
	if st := s.wait(t, "d-2"); st.State != rollbacksvc.StateSucceeded {
		t.Errorf("second key: %+v", st)
	}
}

// TestFingerprintSurvivesRestart: the same key with other options (not
// only another target) is a 422 in the next process too.
func TestFingerprintSurvivesRestart(t *testing.T) {
	c := newClouds(t, tencenttest.DefaultDurations)
	store := rollback.FileCheckpoints{Dir: t.TempDir()}
	s := newService(t, c, store)
	_, body := c.tencentServer(t, tencenttest.StateStopped, "")
	if r := s.post(t, "f-1", body); r.code != http.StatusAccepted {
		t.Fatalf("POST: %d %s", r.code, r.raw)
	}
	s.wait(t, "f-1")
	if err := s.svc.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	next := newService(t, c, store)
	r := next.post(t, "f-1", strings.Replace(body, "}", `,"backup":true}`, 1))
	if r.code != http.StatusUnprocessableEntity || !strings.Contains(r.err.Message, "used for a different request") {
		t.Errorf("other options after a restart: %d %s", r.code, r.raw)
	}
	if r := next.post(t, "f-1", body); r.code != http.StatusOK || r.status.State != rollbacksvc.StateSucceeded {
		t.Errorf("the same request after a restart: %d %s", r.code, r.raw)
	}
}

func TestHealth(t *testing.T) {
	c := newClouds(t, tencenttest.DefaultDurations)
	var down error
	s := newGuarded(t, c, nil, nil, func(context.Context) error { return down })
	// No token and a foreign Host: health checks need neither.
	for _, p := range []string{"/healthz", "/readyz"} {
		if resp, raw := s.send(t, "GET", p, "", map[string]string{"Host": "10.0.0.7:8080"}); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %s %s", p, resp.Status, raw)
		}
	}
	down = context.DeadlineExceeded
	if resp, _ := s.send(t, "GET", "/readyz", "", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz with the store down: %s", resp.Status)
	}
	down = nil
	s.svc.Shutdown(context.Background())
	if resp, _ := s.send(t, "GET", "/readyz", "", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz while shutting down: %s", resp.Status)
	}
	if resp, _ := s.send(t, "GET", "/healthz", "", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("healthz while shutting down: %s", resp.Status)
	}
}

// TestReplicasShareFacts: two services on one store (replicas) agree on a
// key's request and a disk's key: the same key with another body is 422
// on the other replica, another key for a disk one replica is rolling back
// is 409 on the other, and the same key on the other replica is 409
// ErrKeyHeld with the Location, which it follows.
func TestReplicasShareFacts(t *testing.T) {
	slow := tencenttest.DefaultDurations
	slow.Rollback = 5 * time.Minute
	c := newClouds(t, slow)
	store := &rollback.MemoryCheckpoints{}
	// A lease a busy machine's pauses cannot outlast on this fast clock
	// (an hour: 7s), so that a's Run keeps the key while b follows it.
	a, b := newServiceLease(t, c, store, time.Hour), newServiceLease(t, c, store, time.Hour)
	id, body := c.tencentServer(t, tencenttest.StateStopped, "")
	if r := a.post(t, "x-1", body); r.code != http.StatusAccepted {
		t.Fatalf("POST to a: %d %s", r.code, r.raw)
	}
	if r := b.post(t, "x-1", strings.Replace(body, "}", `,"start":true}`, 1)); r.code != http.StatusUnprocessableEntity {
		t.Errorf("another body on b: %d %s", r.code, r.raw)
	}
	if r := b.post(t, "x-2", body); r.code != http.StatusConflict || !strings.Contains(r.err.Message, "another idempotency key") {
		t.Errorf("another key for the disk on b: %d %s", r.code, r.raw)
	}
	r := b.post(t, "x-1", body)
	if r.code != http.StatusConflict || r.err.Sentinel != "ErrKeyHeld" || !r.err.Retryable || r.location != "/rollbacks/x-1" {
		t.Errorf("the same key on b: %d %q %s", r.code, r.location, r.raw)
	}
	if st := b.wait(t, "x-1"); st.State != rollbacksvc.StateSucceeded {
		t.Errorf("b following a's operation: %+v", st)
	}
	if n := c.tc.RollbacksOf(id); n != 1 {
		t.Errorf("%d rollbacks", n)
	}
}

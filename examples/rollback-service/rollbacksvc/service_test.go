package rollbacksvc_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/examples/rollback-service/rollbacksvc"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clouds are both emulators on one fast clock, with a client each.
type clouds struct {
	clk     *clock.Scaled
	ali     *aliyuntest.Server
	tc      *tencenttest.Server
	aliyun  *aliyun.Client
	tencent *tencent.Client
}

func newClouds(t *testing.T, tcDurations tencenttest.Durations, opts ...rollback.Option) *clouds {
	t.Helper()
	c := &clouds{clk: clock.NewScaled(500)}
	c.ali = aliyuntest.NewServer(aliyuntest.WithClock(c.clk))
	t.Cleanup(c.ali.Close)
	c.tc = tencenttest.NewServer(tencenttest.WithClock(c.clk), tencenttest.WithDurations(tcDurations))
	t.Cleanup(c.tc.Close)
	opts = append([]rollback.Option{rollback.WithClock(c.clk)}, opts...)
	var err error
	c.aliyun, err = aliyun.New(aliyun.Config{Region: aliyuntest.DefaultRegion, Endpoint: c.ali.URL,
		AccessKeyID: aliyuntest.DefaultAccessKeyID, AccessKeySecret: aliyuntest.DefaultAccessKeySecret}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.aliyun.CloseIdleConnections)
	c.tencent, err = tencent.New(tencent.Config{Region: tencenttest.DefaultRegion, Endpoint: c.tc.URL,
		SecretID: tencenttest.DefaultSecretID, SecretKey: tencenttest.DefaultSecretKey}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.tencent.Close() })
	return c
}

// tencentServer seeds a Lighthouse instance with a snapshot and returns
// the request body that rolls it back.
func (c *clouds) tencentServer(t *testing.T, state string, extra string) (id, body string) {
	t.Helper()
	in, err := c.tc.AddInstance(tencenttest.Instance{State: state})
	if err != nil {
		t.Fatal(err)
	}
	sn, err := c.tc.AddSnapshot(tencenttest.Snapshot{InstanceID: in.ID})
	if err != nil {
		t.Fatal(err)
	}
	return in.ID, `{"provider":"tencent","region":"ap-guangzhou","instance":"` + in.ID + `","snapshot":"` + sn.ID + `"` + extra + `}`
}

// service is a Service behind an httptest server.
type service struct {
	svc *rollbacksvc.Service
	srv *httptest.Server
}

func newService(t *testing.T, c *clouds, store rollback.Checkpointer) *service {
	t.Helper()
	return newServiceLease(t, c, store, 0)
}

// newServiceLease is newService with Runs' LeaseTTL.
func newServiceLease(t *testing.T, c *clouds, store rollback.Checkpointer, lease time.Duration) *service {
	t.Helper()
	svc := rollbacksvc.New(rollbacksvc.Config{
		Providers:   map[string]rollback.Provider{"aliyun": c.aliyun, "tencent": c.tencent},
		Checkpoints: store,
		RunOptions:  rollback.RunOptions{Clock: c.clk, LeaseTTL: lease, Wait: rollback.WaitOptions{Learner: &rollback.Learner{}}},
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

// reply is a decoded answer: a Status, or an error with the operation.
type reply struct {
	code     int
	location string
	status   rollbacksvc.Status
	err      *rollbacksvc.ErrorInfo
	raw      string
}

func (s *service) do(t *testing.T, method, path, key, body string) reply {
	t.Helper()
	req, _ := http.NewRequest(method, s.srv.URL+path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := reply{code: resp.StatusCode, location: resp.Header.Get("Location"), raw: string(b)}
	if resp.StatusCode >= 300 {
		var e struct {
			Error *rollbacksvc.ErrorInfo `json:"error"`
		}
		if err := json.Unmarshal(b, &e); err != nil || e.Error == nil {
			t.Fatalf("%s %s: %d with body %s", method, path, resp.StatusCode, b)
		}
		r.err = e.Error
		return r
	}
	if err := json.Unmarshal(b, &r.status); err != nil {
		t.Fatalf("%s %s: %v: %s", method, path, err, b)
	}
	return r
}

func (s *service) post(t *testing.T, key, body string) reply {
	t.Helper()
	return s.do(t, "POST", "/rollbacks", key, body)
}

// wait GETs the operation until it has ended.
func (s *service) wait(t *testing.T, key string) rollbacksvc.Status {
	t.Helper()
	r := s.do(t, "GET", "/rollbacks/"+key+"?wait=30s", "", "")
	if r.code != http.StatusOK || r.status.State == rollbacksvc.StateRunning {
		t.Fatalf("GET %s: %d %s", key, r.code, r.raw)
	}
	return r.status
}

func nothingSent(t *testing.T, c *clouds) {
	t.Helper()
	if n := len(c.ali.Journal().Entries()) + c.tc.Journal().Count(""); n != 0 {
		t.Errorf("%d calls sent", n)
	}
}

func TestHappyPath(t *testing.T) {
	c := newClouds(t, tencenttest.DefaultDurations)
	s := newService(t, c, nil)
	id, body := c.tencentServer(t, tencenttest.StateRunning, `,"stop":true,"backup":true,"start":true`)
	r := s.post(t, "t-1", body)
	if r.code != http.StatusAccepted || r.location != "/rollbacks/t-1" || r.status.State != rollbacksvc.StateRunning || r.status.Key != "t-1" {
		t.Fatalf("POST: %d %q %s", r.code, r.location, r.raw)
	}
	st := s.wait(t, "t-1")
	if st.State != rollbacksvc.StateSucceeded || st.Error != nil || st.Report == nil || st.Report.SafetySnapshotID == "" || st.Ended.IsZero() {
		t.Fatalf("status: %+v", st)
	}
	var steps []string
	for _, ev := range st.Events {
		if ev.Kind == rollback.EventStepFinished {
			steps = append(steps, string(ev.Step))
		}
	}
	if got := strings.Join(steps, " "); got != "check stop safety-snapshot rollback wait-rollback start" {
		t.Errorf("steps finished: %s", got)
	}
	if st.Last == nil || st.Last.Step != rollback.StepStart {
		t.Errorf("last event %+v", st.Last)
	}
	if n := c.tc.RollbacksOf(id); n != 1 {
		t.Errorf("%d rollbacks", n)
	}

	// SWAS: the disk names the instance.
	in := aliyuntest.Must(c.ali.AddInstance(aliyuntest.InstanceSpec{Status: aliyuntest.StatusStopped}))
	snap := aliyuntest.Must(c.ali.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: in.SystemDiskID}))
	r = s.post(t, "a-1", `{"provider":"aliyun","region":"cn-hangzhou","disk":"`+in.SystemDiskID+`","snapshot":"`+snap.ID+`"}`)
	if r.code != http.StatusAccepted {
		t.Fatalf("POST: %d %s", r.code, r.raw)
	}
	if st := s.wait(t, "a-1"); st.State != rollbacksvc.StateSucceeded || st.Report.Request.InstanceID != in.ID {
		t.Errorf("status: %+v", st)
	}
	if n := c.ali.RollbacksOf(in.SystemDiskID); n != 1 {
		t.Errorf("%d rollbacks", n)
	}
}

func TestSameKeySameBodyRollsBackOnce(t *testing.T) {
	c := newClouds(t, tencenttest.DefaultDurations)
	s := newService(t, c, nil)
	id, body := c.tencentServer(t, tencenttest.StateStopped, "")
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = s.post(t, "dup-1", body).code
		}()
	}
	wg.Wait()
	for i, code := range codes {
		if code != http.StatusAccepted && code != http.StatusOK {
			t.Errorf("POST %d: %d", i, code)
		}
	}
	if st := s.wait(t, "dup-1"); st.State != rollbacksvc.StateSucceeded {
		t.Fatalf("status %+v", st)
	}
	if r := s.post(t, "dup-1", body); r.code != http.StatusOK || r.status.State != rollbacksvc.StateSucceeded || r.location != "/rollbacks/dup-1" {
		t.Errorf("POST after the end: %d %s", r.code, r.raw)
	}
	if n, calls := c.tc.RollbacksOf(id), c.tc.Journal().Count("ApplyInstanceSnapshot"); n != 1 || calls != 1 {
		t.Errorf("%d rollbacks in %d calls, want exactly one", n, calls)
	}
}

func TestSameKeyOtherBodyIs422(t *testing.T) {
	c := newClouds(t, tencenttest.DefaultDurations)
	s := newService(t, c, nil)
	first, body := c.tencentServer(t, tencenttest.StateStopped, "")
	other, otherBody := c.tencentServer(t, tencenttest.StateStopped, "")
	if r := s.post(t, "k-1", body); r.code != http.StatusAccepted {
		t.Fatalf("POST: %d %s", r.code, r.raw)
	}
	for _, b := range []string{otherBody, strings.Replace(body, "}", `,"start":true}`, 1)} {
		r := s.post(t, "k-1", b)
		if r.code != http.StatusUnprocessableEntity || r.err.Field != "Idempotency-Key" || !strings.Contains(r.err.Message, "used for a different request") ||
			!strings.Contains(r.raw, `"instance": "`+first+`"`) {
			t.Errorf("POST another body: %d %s", r.code, r.raw)
		}
	}
	s.wait(t, "k-1")
	if c.tc.RollbacksOf(first) != 1 || c.tc.RollbacksOf(other) != 0 {
		t.Errorf("rollbacks: %d, %d", c.tc.RollbacksOf(first), c.tc.RollbacksOf(other))
	}
}

func TestBadInputSendsNothing(t *testing.T) {
	c := newClouds(t, tencenttest.DefaultDurations)
	s := newService(t, c, nil)
	good := `{"provider":"tencent","region":"ap-guangzhou","instance":"lhins-a1","snapshot":"lhsnap-a1"}`
	tests := []struct {
		name, key, body string
		field, say      string
	}{
		{"no key", "", good, "Idempotency-Key", "the Idempotency-Key header is required"},
		{"key with a space", "a b", good, "Idempotency-Key", "use letters, digits"},
		{"key too long", strings.Repeat("k", 129), good, "Idempotency-Key", "the limit is 128"},
		{"not JSON", "k", "stop everything", "body", "not a rollback request"},
		{"unknown field", "k", `{"provider":"tencent","instnace":"lhins-a1"}`, "body", `unknown field "instnace"`},
		{"two values", "k", good + good, "body", "more than one JSON value"},
		{"unknown provider", "k", `{"provider":"aws"}`, "provider", `provider "aws" is not served here; this service serves aliyun, tencent`},
		{"no region", "k", `{"provider":"tencent","instance":"lhins-a1","snapshot":"lhsnap-a1"}`, "region", "Region is empty"},
		{"malformed instance", "k", `{"provider":"tencent","region":"ap-guangzhou","instance":"ins-1","snapshot":"lhsnap-a1"}`,
			"instance", `InstanceID "ins-1" is not a Lighthouse instance ID`},
		{"SWAS without a disk", "k", `{"provider":"aliyun","region":"cn-hangzhou","snapshot":"s-a1"}`, "disk", "DiskID is empty"},
		{"region not served", "k", `{"provider":"tencent","region":"mars-1","instance":"lhins-a1","snapshot":"lhsnap-a1"}`, "region", "mars-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.post(t, tt.key, tt.body)
			if r.code != http.StatusBadRequest || r.err.Field != tt.field || !strings.Contains(r.err.Message, tt.say) {
				t.Errorf("%d, field %q: %s", r.code, r.err.Field, r.raw)
			}
		})
	}
	if r := s.do(t, "GET", "/rollbacks/k", "", ""); r.code != http.StatusNotFound {
		t.Errorf("GET after bad input: %d %s", r.code, r.raw)
	}
	nothingSent(t, c)
}

func TestRefusedByChecks(t *testing.T) {
	c := newClouds(t, tencenttest.DefaultDurations)
	s := newService(t, c, nil)
	id, body := c.tencentServer(t, tencenttest.StateRunning, "")

	r := s.post(t, "c-1", strings.Replace(body, `"snapshot":"lhsnap-`, `"snapshot":"lhsnap-gone`, 1))
	if r.code != http.StatusNotFound || r.err.Sentinel != "ErrSnapshotNotFound" || r.location != "" {
		t.Errorf("missing snapshot: %d %s", r.code, r.raw)
	}
	r = s.post(t, "c-1", body)
	if r.code != http.StatusConflict || r.err.Sentinel != "ErrInstanceState" || !strings.Contains(r.err.Advice, `"stop": true`) || r.err.Retryable {
		t.Errorf("running without stop: %d %s", r.code, r.raw)
	}
	// Refused requests changed nothing and are not remembered: the fixed
	// request may use the same key.
	r = s.post(t, "c-1", strings.Replace(body, "}", `,"stop":true}`, 1))
	if r.code != http.StatusAccepted {
		t.Fatalf("fixed request: %d %s", r.code, r.raw)
	}
	if st := s.wait(t, "c-1"); st.State != rollbacksvc.StateSucceeded || c.tc.RollbacksOf(id) != 1 {
		t.Errorf("status %+v, %d rollbacks", st, c.tc.RollbacksOf(id))
	}
}

func TestRetryableFailureRunsAgain(t *testing.T) {
	c := newClouds(t, tencenttest.DefaultDurations, rollback.WithMaxAttempts(1))
	s := newService(t, c, nil)
	id, body := c.tencentServer(t, tencenttest.StateStopped, "")
	c.tc.AddFault(tencenttest.Fault{Action: "ApplyInstanceSnapshot", Code: tencenttest.CodeRequestLimitExceeded})
	if r := s.post(t, "r-1", body); r.code != http.StatusAccepted {
		t.Fatalf("POST: %d %s", r.code, r.raw)
	}
	st := s.wait(t, "r-1")
	if st.State != rollbacksvc.StateFailed || st.Error == nil || st.Error.Sentinel != "ErrThrottled" || !st.Error.Retryable ||
		st.Error.CloudCode != tencenttest.CodeRequestLimitExceeded || st.Error.RequestID == "" || st.Step != rollback.StepRollback {
		t.Fatalf("status: %+v %+v", st, st.Error)
	}
	// The same request with the same key runs again, from its checkpoint.
	if r := s.post(t, "r-1", body); r.code != http.StatusAccepted {
		t.Fatalf("POST again: %d %s", r.code, r.raw)
	}
	if st := s.wait(t, "r-1"); st.State != rollbacksvc.StateSucceeded || !st.Report.Resumed {
		t.Errorf("status: %+v", st)
	}
	if n := c.tc.RollbacksOf(id); n != 1 {
		t.Errorf("%d rollbacks", n)
	}
}

func TestShutdownCancelsAndRestartResumes(t *testing.T) {
	slow := tencenttest.DefaultDurations
	slow.Rollback = 5 * time.Minute // 0.6s here
	c := newClouds(t, slow)
	store := rollback.FileCheckpoints{Dir: t.TempDir()}
	s := newService(t, c, store)
	id, body := c.tencentServer(t, tencenttest.StateStopped, "")
	if r := s.post(t, "s-1", body); r.code != http.StatusAccepted {
		t.Fatalf("POST: %d %s", r.code, r.raw)
	}
	for s.do(t, "GET", "/rollbacks/s-1", "", "").status.Step != rollback.StepWaitRollback {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	if err := s.svc.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Shutdown took %v", d)
	}
	r := s.do(t, "GET", "/rollbacks/s-1", "", "")
	if r.status.State != rollbacksvc.StateFailed || r.status.Error.Sentinel != "context.Canceled" || !r.status.Error.Retryable {
		t.Errorf("after shutdown: %s", r.raw)
	}
	if r := s.post(t, "s-2", body); r.code != http.StatusServiceUnavailable {
		t.Errorf("POST after shutdown: %d %s", r.code, r.raw)
	}

	// The next process finds the checkpoint, refuses the key for another
	// rollback, and resumes this one: waits for it, does not resend it.
	next := newService(t, c, store)
	r = next.do(t, "GET", "/rollbacks/s-1", "", "")
	if r.code != http.StatusOK || r.status.State != rollbacksvc.StateInterrupted || r.status.Phase != rollback.PhaseRollbackSent {
		t.Errorf("GET in the next process: %d %s", r.code, r.raw)
	}
	_, otherBody := c.tencentServer(t, tencenttest.StateStopped, "")
	if r := next.post(t, "s-1", otherBody); r.code != http.StatusUnprocessableEntity || !strings.Contains(r.err.Message, "used for a different request") {
		t.Errorf("another rollback under the key: %d %s", r.code, r.raw)
	}
	if r := next.post(t, "s-1", body); r.code != http.StatusAccepted {
		t.Fatalf("POST in the next process: %d %s", r.code, r.raw)
	}
	if st := next.wait(t, "s-1"); st.State != rollbacksvc.StateSucceeded || !st.Report.Resumed {
		t.Errorf("status: %+v", st)
	}
	if n, calls := c.tc.RollbacksOf(id), c.tc.Journal().Count("ApplyInstanceSnapshot"); n != 1 || calls != 1 {
		t.Errorf("%d rollbacks in %d calls", n, calls)
	}
}

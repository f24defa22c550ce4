package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/internal/testkit"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// TestTraceAndMetrics sends a rollback with a traceparent, as a traced
// caller would: the Run, its steps and its cloud calls join the caller's
// trace, and /metrics shows the calls and the rollback by outcome. Neither
// holds a credential.
func TestTraceAndMetrics(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr testkit.SyncBuffer
	ready := make(chan string, 1)
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, []string{"-demo", "-demo-speed", "1000", "-addr", "127.0.0.1:0", "-trace"},
			env{stdout: &stdout, stderr: &stderr, ready: func(url string) { ready <- url }})
	}()
	var url string
	select {
	case url = <-ready:
	case code := <-exited:
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest("POST", url+"/rollbacks", strings.NewReader(demoBodies[rollback.ProviderTencent]))
	req.Header.Set("Idempotency-Key", "traced-1")
	req.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(resp.Header.Get("traceparent"), traceID) {
		t.Fatalf("POST: %s, traceparent %q", resp.Status, resp.Header.Get("traceparent"))
	}
	resp, err = http.Get(url + "/rollbacks/traced-1?wait=30s")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	resp, err = http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cancel()
	if code := <-exited; code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}

	for _, want := range []string{
		`rollback_calls_total{cloud_provider="tencent_cloud"`,
		`rpc_method="Lighthouse/ApplyInstanceSnapshot"`,
		`rollback_run_duration_seconds_count{cloud_provider="tencent_cloud",otel_scope_name="github.com/cloudsnap/rollback/otel"`,
		`rollback_outcome="succeeded"`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s:\n%s", want, metrics)
		}
	}

	// Every span of the rollback is in the caller's trace.
	type span struct {
		Name        string
		SpanContext struct{ TraceID string }
	}
	// Spans are JSON lines; the access log shares stderr with them.
	inTrace := map[string]bool{}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var s span
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatalf("a stderr line is not a span: %v\n%s", err, line)
		}
		if s.SpanContext.TraceID == traceID {
			inTrace[s.Name] = true
		}
	}
	for _, want := range []string{"POST /rollbacks", "Run", "Run.stop", "Run.rollback", "Lighthouse.ApplyInstanceSnapshot", "Attempt"} {
		if !inTrace[want] {
			t.Errorf("span %q is not in the caller's trace; in it: %v", want, inTrace)
		}
	}
	for _, secret := range []string{tencenttest.DefaultSecretKey, aliyuntest.DefaultAccessKeySecret, "Signature=", "TC3-HMAC"} {
		if strings.Contains(stderr.String(), secret) || strings.Contains(string(metrics), secret) {
			t.Errorf("telemetry holds %q", secret)
		}
	}
}

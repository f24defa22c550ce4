package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/examples/rollback-service/rollbacksvc"
	"github.com/cloudsnap/rollback/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestDemoServesAndShutsDown runs the program in-process as a user would:
// -demo, one of the printed requests twice, then SIGINT (a cancelled
// context) while a second rollback runs.
func TestDemoServesAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr testkit.SyncBuffer
	ready := make(chan string, 1)
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, []string{"-demo", "-demo-speed", "1000", "-addr", "127.0.0.1:0"},
			env{stdout: &stdout, stderr: &stderr, ready: func(url string) { ready <- url }})
	}()
	var url string
	select {
	case url = <-ready:
	case code := <-exited:
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "curl -i "+url+"/rollbacks -H 'Idempotency-Key: demo-1'") {
		t.Errorf("stdout:\n%s", stdout.String())
	}

	post := func(key, body string) *http.Response {
		req, _ := http.NewRequest("POST", url+"/rollbacks", strings.NewReader(body))
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	body := demoBodies[rollback.ProviderTencent]
	if resp := post("demo-1", body); resp.StatusCode != http.StatusAccepted || resp.Header.Get("Location") != "/rollbacks/demo-1" {
		t.Fatalf("POST: %s %q", resp.Status, resp.Header.Get("Location"))
	}
	if resp := post("demo-1", body); resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		t.Fatalf("POST again: %s", resp.Status)
	}
	resp, err := http.Get(url + "/rollbacks/demo-1?wait=30s")
	if err != nil {
		t.Fatal(err)
	}
	var st rollbacksvc.Status
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || st.State != rollbacksvc.StateSucceeded || st.Report.SafetySnapshotID == "" {
		t.Fatalf("status %v: %+v", err, st)
	}

	// Shut down with the SWAS rollback under way: it is cancelled, and the
	// program exits cleanly.
	if resp := post("demo-2", demoBodies[rollback.ProviderAliyun]); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST: %s", resp.Status)
	}
	cancel()
	if code := <-exited; code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"Shutting down", "Rollbacks applied: aliyun ", ", tencent 1."} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}
}

func TestUsageAndCredentials(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "")
	t.Setenv("TENCENTCLOUD_SECRET_ID", "")
	for _, tt := range []struct {
		args []string
		code int
		say  string
	}{
		{[]string{"-bogus"}, exitUsage, "flag provided but not defined: -bogus"},
		{[]string{"extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"-help"}, exitOK, "Idempotency-Key"},
		{[]string{"-addr", "127.0.0.1:0"}, exitUsage, "no cloud credentials in the environment"},
	} {
		var stdout, stderr testkit.SyncBuffer
		if code := run(context.Background(), tt.args, env{stdout: &stdout, stderr: &stderr}); code != tt.code || !strings.Contains(stderr.String(), tt.say) {
			t.Errorf("%v: exit %d: %s", tt.args, code, stderr.String())
		}
	}
}

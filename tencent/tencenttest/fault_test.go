package tencenttest

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// rollbackEnv seeds a stopped instance with a snapshot.
func rollbackEnv(t *testing.T) (*env, Instance, Snapshot) {
	e := newEnv(t)
	in := e.instance(Instance{State: StateStopped})
	sn := e.snapshot(Snapshot{InstanceID: in.ID})
	return e, in, sn
}

func lastEntry(t *testing.T, e *env) Entry {
	t.Helper()
	es := e.srv.Journal().Entries()
	if len(es) == 0 {
		t.Fatal("empty journal")
	}
	return es[len(es)-1]
}

func TestFaultCodeInsteadOfApplying(t *testing.T) {
	e, in, sn := rollbackEnv(t)
	e.srv.AddFault(Fault{Action: "ApplyInstanceSnapshot", Code: "UnsupportedOperation.SystemBusy"})
	_, err := e.apply(in.ID, sn.ID)
	if code(t, err) != "UnsupportedOperation.SystemBusy" || !strings.Contains(err.Error(), "System busy.") {
		t.Errorf("err = %v", err)
	}
	if e.srv.Rollbacks() != 0 || lastEntry(t, e).Applied {
		t.Error("a faulted call was applied")
	}
	if _, err := e.apply(in.ID, sn.ID); err != nil {
		t.Errorf("fault fired twice: %v", err)
	}
}

func TestFaultNthAndTimes(t *testing.T) {
	e, in, _ := rollbackEnv(t)
	e.srv.AddFault(Fault{Action: "DescribeInstances", Nth: 2, Times: 2, Code: "InternalError", Message: "boom"})
	var codes []string
	for i := 0; i < 4; i++ {
		_, err := e.sdk.DescribeInstances(nil)
		if err != nil {
			codes = append(codes, code(t, err))
		} else {
			codes = append(codes, "ok")
		}
	}
	if strings.Join(codes, ",") != "ok,InternalError,InternalError,ok" {
		t.Errorf("codes = %v", codes)
	}
	if e.srv.PendingFaults() != 0 {
		t.Errorf("pending = %d", e.srv.PendingFaults())
	}
	// Times < 0: every call until cleared.
	e.srv.AddFault(Fault{Action: "DescribeInstances", Times: -1, Code: "InternalError"})
	for i := 0; i < 3; i++ {
		if _, err := e.sdk.DescribeInstances(nil); code(t, err) != "InternalError" {
			t.Errorf("call %d: %v", i, err)
		}
	}
	e.srv.ClearFaults()
	if _, err := e.sdk.DescribeInstances(nil); err != nil {
		t.Errorf("after clear: %v", err)
	}
	_ = in
}

func TestFaultNon200Replies(t *testing.T) {
	e, in, sn := rollbackEnv(t)
	// An envelope with HTTP 500: the SDK keeps only the text.
	e.srv.AddFault(Fault{Action: "ApplyInstanceSnapshot", Code: "InternalError", Message: "boom", HTTPStatus: 500})
	_, err := e.apply(in.ID, sn.ID)
	if code(t, err) != "ClientError.HttpStatusCodeError" || !strings.Contains(err.Error(), `"Code":"InternalError"`) || !strings.Contains(err.Error(), "500") {
		t.Errorf("500 with envelope: %v", err)
	}
	if en := lastEntry(t, e); en.HTTPStatus != 500 || en.Code != "InternalError" || en.Applied {
		t.Errorf("journal: %+v", en)
	}
	// A gateway page.
	e.srv.AddFault(Fault{Action: "ApplyInstanceSnapshot", HTTPStatus: http.StatusBadGateway, Body: "<html>bad gateway</html>"})
	_, err = e.apply(in.ID, sn.ID)
	if code(t, err) != "ClientError.HttpStatusCodeError" || !strings.Contains(err.Error(), "502") || !strings.Contains(err.Error(), "bad gateway") {
		t.Errorf("502 page: %v", err)
	}
	// Not JSON with HTTP 200.
	e.srv.AddFault(Fault{Action: "ApplyInstanceSnapshot", Body: "<html>oops</html>"})
	_, err = e.apply(in.ID, sn.ID)
	if code(t, err) != "ClientError.ParseJsonError" {
		t.Errorf("200 page: %v", err)
	}
	if e.srv.Rollbacks() != 0 {
		t.Errorf("rollbacks = %d", e.srv.Rollbacks())
	}
}

func TestFaultResetBeforeApplying(t *testing.T) {
	e, in, sn := rollbackEnv(t)
	e.srv.AddFault(Fault{Action: "ApplyInstanceSnapshot", Reset: true})
	_, err := e.apply(in.ID, sn.ID)
	if code(t, err) != "ClientError.NetworkError" {
		t.Errorf("err = %v", err)
	}
	if e.srv.Rollbacks() != 0 {
		t.Error("reset call applied")
	}
	en := lastEntry(t, e)
	if en.Applied || en.HTTPStatus != 0 || en.Fault != "reset before apply" {
		t.Errorf("journal: %+v", en)
	}
}

func TestFaultDropResponseAfterApplying(t *testing.T) {
	e, in, sn := rollbackEnv(t)
	e.srv.AddFault(Fault{Action: "ApplyInstanceSnapshot", DropResponse: true})
	_, err := e.apply(in.ID, sn.ID)
	if code(t, err) != "ClientError.NetworkError" {
		t.Errorf("err = %v", err)
	}
	if e.srv.Rollbacks() != 1 {
		t.Errorf("rollbacks = %d, want 1", e.srv.Rollbacks())
	}
	en := lastEntry(t, e)
	if !en.Applied || en.HTTPStatus != 0 {
		t.Errorf("journal: %+v", en)
	}
	// The state tells what the lost reply would have: the operation and its
	// request ID.
	gi := e.describeInstance(in.ID)
	wantOp(t, "instance", gi.LatestOperation, gi.LatestOperationState, gi.LatestOperationRequestId, OpApplyInstanceSnapshot, OperationOperating, en.RequestID)
}

func TestFaultLatency(t *testing.T) {
	e, in, sn := rollbackEnv(t)
	// Latency the client waits out.
	e.srv.AddFault(Fault{Action: "ApplyInstanceSnapshot", Latency: 20 * time.Millisecond})
	start := time.Now()
	if _, err := e.apply(in.ID, sn.ID); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 20*time.Millisecond {
		t.Error("latency not applied")
	}
	if e.srv.Rollbacks() != 1 {
		t.Fatalf("rollbacks = %d", e.srv.Rollbacks())
	}
	// Latency the client gives up on: nothing is applied.
	e.srv.AddFault(Fault{Action: "DescribeInstances", Latency: 10 * time.Second})
	e.sdk.WithHttpTransport(shortTimeout{base: e.tr, d: 30 * time.Millisecond})
	start = time.Now()
	_, err := e.sdk.DescribeInstances(nil)
	if code(t, err) != "ClientError.NetworkError" || time.Since(start) > 5*time.Second {
		t.Errorf("timeout: %v after %s", err, time.Since(start))
	}
}

func TestFaultLatencyAbandonedIsNotApplied(t *testing.T) {
	e, in, sn := rollbackEnv(t)
	e.sdk.WithHttpTransport(shortTimeout{base: e.tr, d: 30 * time.Millisecond})
	e.srv.AddFault(Fault{Action: "ApplyInstanceSnapshot", Latency: 10 * time.Second})
	if _, err := e.apply(in.ID, sn.ID); code(t, err) != "ClientError.NetworkError" {
		t.Errorf("err = %v", err)
	}
	e.srv.Close() // waits for the handler
	if e.srv.Rollbacks() != 0 {
		t.Errorf("abandoned call applied")
	}
}

func TestJournalNeverHoldsCredentials(t *testing.T) {
	e, in, sn := rollbackEnv(t)
	if _, err := e.apply(in.ID, sn.ID); err != nil {
		t.Fatal(err)
	}
	e.raw(rawRequest{action: "DescribeInstances", method: http.MethodGet, query: "Limit=5"})
	es := e.srv.Journal().Entries()
	if len(es) != 2 {
		t.Fatalf("entries = %d", len(es))
	}
	if es[0].Action != "ApplyInstanceSnapshot" || es[0].Params["InstanceId"] != in.ID || es[0].Params["SnapshotId"] != sn.ID || !es[0].Applied || es[0].Region != DefaultRegion {
		t.Errorf("entry: %+v", es[0])
	}
	if es[1].Params["Limit"] != "5" || es[1].Applied {
		t.Errorf("GET entry: %+v", es[1])
	}
	for _, en := range es {
		for k, v := range en.Params {
			s := k + "=" + v
			for _, secret := range []string{DefaultSecretID, DefaultSecretKey, "Signature", "Authorization", "Timestamp", "Nonce"} {
				if strings.Contains(s, secret) {
					t.Errorf("journal holds %q: %s", secret, s)
				}
			}
		}
	}
	if e.srv.Journal().Count("ApplyInstanceSnapshot") != 1 {
		t.Error("Count")
	}
}

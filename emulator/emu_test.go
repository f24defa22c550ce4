package emulator

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/cloudsnap/rollback/clock"
)

func TestFaultNthAndTimes(t *testing.T) {
	var fs Faults
	fs.Add(Fault{Action: "ResetDisk", Nth: 2, Times: 2, Code: "InternalError"})
	var got []bool
	for range 5 {
		_, hit := fs.Next("ResetDisk")
		got = append(got, hit)
	}
	if fmt.Sprint(got) != "[false true true false false]" {
		t.Errorf("fired on %v", got)
	}
	if fs.Pending() != 0 {
		t.Error("spent fault still armed")
	}
}

func TestFaultOtherActionsDoNotCount(t *testing.T) {
	var fs Faults
	fs.Add(Fault{Action: "ResetDisk", Reset: true})
	if _, hit := fs.Next("ListSnapshots"); hit {
		t.Fatal("fired on another action")
	}
	if f, hit := fs.Next("ResetDisk"); !hit || !f.Reset {
		t.Fatal("did not fire on its action")
	}
}

func TestFaultForeverAndWildcard(t *testing.T) {
	var fs Faults
	fs.Add(Fault{Times: -1, Latency: time.Millisecond})
	for _, a := range []string{"A", "B", "C"} {
		if _, hit := fs.Next(a); !hit {
			t.Fatalf("wildcard forever fault missed %s", a)
		}
	}
	fs.Clear()
	if _, hit := fs.Next("A"); hit {
		t.Error("Clear left a fault armed")
	}
}

func TestFaultFirstAddedWinsOthersStillCount(t *testing.T) {
	var fs Faults
	fs.Add(Fault{Action: "X", Code: "First"})
	fs.Add(Fault{Action: "X", Code: "Second"})
	f, _ := fs.Next("X")
	g, _ := fs.Next("X")
	_, third := fs.Next("X")
	if f.Code != "First" || g.Code != "Second" || third {
		t.Errorf("got %q then %q then hit=%v", f.Code, g.Code, third)
	}
}

func TestFaultString(t *testing.T) {
	cases := map[string]Fault{
		"reset before apply":                    {Reset: true},
		"error Throttling.User (HTTP 400)":      {Code: "Throttling.User", HTTPStatus: 400},
		"latency 2s, response lost after apply": {Latency: 2 * time.Second, DropResponse: true},
		"no-op fault":                           {},
		"latency 1s":                            {Latency: time.Second},
		"error  (HTTP 502)":                     {Body: "<html>", HTTPStatus: 502},
	}
	for want, f := range cases {
		if got := f.String(); got != want {
			t.Errorf("%+v.String() = %q, want %q", f, got, want)
		}
	}
}

func TestJournalConcurrent(t *testing.T) {
	var j Journal
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() { defer wg.Done(); j.Add(Entry{Action: []string{"A", "B"}[i%2]}) }()
	}
	wg.Wait()
	es := j.Entries()
	if len(es) != 50 || j.Count("A") != 25 || j.Count("") != 50 {
		t.Fatalf("len=%d A=%d", len(es), j.Count("A"))
	}
	for i, e := range es {
		if e.Seq != i+1 {
			t.Fatalf("entry %d has Seq %d", i, e.Seq)
		}
	}
	j.Reset()
	if j.Count("") != 0 {
		t.Error("Reset kept entries")
	}
}

func TestRateLimiterSlidingWindow(t *testing.T) {
	clk := clock.NewVirtual(time.Time{})
	r := &RateLimiter{Clock: clk}
	w := RateWindow{Limit: 3, Per: time.Minute}
	for i := range 3 {
		if !r.Allow("k", w) {
			t.Fatalf("call %d refused", i)
		}
		clk.Advance(10 * time.Second)
	}
	if r.Allow("k", w) {
		t.Fatal("4th call in the window allowed")
	}
	if !r.Allow("other", w) {
		t.Fatal("keys are not independent")
	}
	clk.Advance(31 * time.Second) // the first call (t=0) leaves the window at t=60s
	if !r.Allow("k", w) {
		t.Fatal("call refused after the window slid")
	}
	if !r.Allow("k", RateWindow{}) {
		t.Fatal("zero window limits")
	}
}

func TestIDs(t *testing.T) {
	if !regexp.MustCompile(`^lhins-[a-z0-9]{8}$`).MatchString(ResourceID("lhins-", 8)) {
		t.Error("ResourceID shape")
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(UUID()) {
		t.Error("UUID shape")
	}
	if !regexp.MustCompile(`^[0-9A-F-]{36}$`).MatchString(UpperUUID()) {
		t.Error("UpperUUID shape")
	}
}

func TestHooksRunOnceAtTheirRequest(t *testing.T) {
	var h Hooks
	var got []string
	h.Before("A", 2, func() { got = append(got, "before A2") })
	h.After("A", 2, func() { got = append(got, "after A2") })
	h.Before("B", 1, func() { got = append(got, "before B1") })
	h.Before("A", 2, nil) // ignored
	for _, a := range []string{"A", "B", "A", "A"} {
		n := h.Count(a)
		h.RunBefore(a, n)
		h.RunAfter(a, n)
		h.RunAfter(a, n) // a second run finds nothing
	}
	if fmt.Sprint(got) != "[before B1 before A2 after A2]" {
		t.Errorf("ran %v", got)
	}
}

func TestHookedWriterFiresBeforeTheReply(t *testing.T) {
	var h Hooks
	rec := httptest.NewRecorder()
	fired := false
	h.After("A", 1, func() {
		fired = true
		if rec.Code != http.StatusOK || rec.Body.Len() != 0 || rec.Flushed {
			t.Error("the hook ran after the reply started")
		}
	})
	w := h.AfterWriter(rec, "A", h.Count("A"))
	w.WriteHeader(http.StatusTeapot)
	w.Write([]byte("x"))
	w.Done()
	if !fired || rec.Code != http.StatusTeapot {
		t.Errorf("fired %v, code %d", fired, rec.Code)
	}
	if _, _, err := w.Hijack(); err == nil {
		t.Error("a recorder cannot be hijacked")
	}
}

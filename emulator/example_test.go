package emulator_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/emulator"
)

// tinyCloud is the skeleton of an emulator for a new cloud: one action,
// "Reboot", with faults, a quota and a journal from package emulator. The
// protocol (here: the action in a query parameter, errors as plain text) is
// the emulator's own.
type tinyCloud struct {
	faults  emulator.Faults
	journal emulator.Journal
	limiter emulator.RateLimiter
	reboots int
}

func (c *tinyCloud) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e := emulator.Entry{Time: c.limiter.Clock.Now(), Action: r.URL.Query().Get("Action"), RequestID: emulator.UUID()}
	defer func() { c.journal.Add(e) }()
	if f, hit := c.faults.Next(e.Action); hit {
		e.Fault = f.String()
		switch {
		case f.Reset:
			emulator.DropConnection(w)
			return
		case f.Code != "":
			e.HTTPStatus, e.Code = http.StatusServiceUnavailable, f.Code
			http.Error(w, f.Code, e.HTTPStatus)
			return
		}
	}
	if !c.limiter.Allow(e.Action, emulator.RateWindow{Limit: 2, Per: time.Minute}) {
		e.HTTPStatus, e.Code = http.StatusTooManyRequests, "Throttled"
		http.Error(w, e.Code, e.HTTPStatus)
		return
	}
	c.reboots++
	e.HTTPStatus, e.Applied = http.StatusOK, true
	io.WriteString(w, e.RequestID)
}

// An emulator for another cloud, built on this package: an injected error,
// then the quota, all in the journal.
func Example() {
	cloud := &tinyCloud{limiter: emulator.RateLimiter{Clock: clock.NewVirtual(time.Time{})}}
	srv := httptest.NewServer(cloud)
	defer srv.Close()
	cloud.faults.Add(emulator.Fault{Action: "Reboot", Code: "InternalError"})

	for range 4 {
		resp, err := http.Get(srv.URL + "/?Action=Reboot")
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
	}
	for _, e := range cloud.journal.Entries() {
		fmt.Printf("%d %s %d code=%q applied=%v fault=%q\n", e.Seq, e.Action, e.HTTPStatus, e.Code, e.Applied, e.Fault)
	}
	fmt.Println("reboots:", cloud.reboots, "calls:", cloud.journal.Count("Reboot"))
	// Output:
	// 1 Reboot 503 code="InternalError" applied=false fault="error InternalError"
	// 2 Reboot 200 code="" applied=true fault=""
	// 3 Reboot 200 code="" applied=true fault=""
	// 4 Reboot 429 code="Throttled" applied=false fault=""
	// reboots: 2 calls: 4
}

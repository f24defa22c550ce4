package rollbacksvc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/examples/rollback-service/rollbacksvc"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// A service that rolls back Lighthouse instances, here against the
// emulator on a clock 1000 times faster than real time. A client POSTs a
// rollback with an idempotency key, follows the Location, and may send the
// same request again safely: it gets the same operation, not a second
// rollback.
func Example() {
	clk := clock.NewScaled(1000)
	cloud := tencenttest.NewServer(tencenttest.WithClock(clk))
	defer cloud.Close()
	cloud.AddInstance(tencenttest.Instance{ID: "lhins-web1", State: tencenttest.StateRunning})
	cloud.AddSnapshot(tencenttest.Snapshot{ID: "lhsnap-nightly1", InstanceID: "lhins-web1"})
	lighthouse, err := tencent.New(tencent.Config{Region: "ap-guangzhou", Endpoint: cloud.URL,
		SecretID: tencenttest.DefaultSecretID, SecretKey: tencenttest.DefaultSecretKey}, rollback.WithClock(clk))
	if err != nil {
		panic(err)
	}
	defer lighthouse.Close()

	svc := rollbacksvc.New(rollbacksvc.Config{
		Providers:  map[string]rollback.Provider{"tencent": lighthouse},
		RunOptions: rollback.RunOptions{Clock: clk},
	})
	srv := httptest.NewServer(svc)
	defer srv.Close()
	defer svc.Shutdown(context.Background())

	post := func(key, body string) (*http.Response, rollbacksvc.Status) {
		req, _ := http.NewRequest("POST", srv.URL+"/rollbacks", strings.NewReader(body))
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		var st rollbacksvc.Status
		json.NewDecoder(resp.Body).Decode(&st)
		return resp, st
	}
	body := `{"provider":"tencent","region":"ap-guangzhou","instance":"lhins-web1","snapshot":"lhsnap-nightly1","stop":true,"start":true}`

	resp, _ := post("incident-4711", body)
	fmt.Println(resp.Status, resp.Header.Get("Location"))

	// Wait for the end (or poll without ?wait).
	get, err := http.Get(srv.URL + resp.Header.Get("Location") + "?wait=1m")
	if err != nil {
		panic(err)
	}
	var st rollbacksvc.Status
	json.NewDecoder(get.Body).Decode(&st)
	get.Body.Close()
	fmt.Println("state:", st.State)
	for _, step := range st.Report.Steps {
		fmt.Println(" ", step.Step, step.Outcome)
	}

	resp, st = post("incident-4711", body)
	fmt.Println("same request again:", resp.Status, st.State)
	resp, _ = post("incident-4711", strings.Replace(body, `"start":true`, `"start":false`, 1))
	fmt.Println("same key, another request:", resp.Status)
	fmt.Println("rollbacks applied:", cloud.Rollbacks())
	// Output:
	// 202 Accepted /rollbacks/incident-4711
	// state: succeeded
	//   check done
	//   stop done
	//   rollback done
	//   wait-rollback done
	//   start done
	// same request again: 200 OK succeeded
	// same key, another request: 422 Unprocessable Entity
	// rollbacks applied: 1
}

package acme_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"

	"example.com/acmecloud/acme"
	"example.com/acmecloud/acmetest"
)

// A safe rollback of an Acme server with rollback.Run, against the
// emulator on a virtual clock: stop, restore, wait, start.
func Example() {
	clk := clock.NewAutoVirtual(time.Time{})
	srv := acmetest.NewServer(acmetest.WithClock(clk))
	defer srv.Close()
	sv, _ := srv.AddServer(acmetest.ServerSpec{State: acme.StateRunning})
	snap, _ := srv.AddSnapshot(acmetest.SnapshotSpec{ServerID: sv.ID})

	c, err := acme.New(acme.Config{Region: "eu-west", Endpoint: srv.URL, KeyID: acmetest.DefaultKeyID, Secret: acmetest.DefaultSecret},
		rollback.WithClock(clk))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	rep, err := rollback.Run(context.Background(), c,
		rollback.Request{Region: "eu-west", InstanceID: sv.ID, SnapshotID: snap},
		rollback.RunOptions{StopIfRunning: true, StartAfter: true, Clock: clk})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rep.Result.Provider, rep.InstanceAfter.State, srv.RestoresOf(sv.ID))
	// Output: acme running 1
}

package acme_test

import (
	"context"
	"testing"

	"github.com/cloudsnap/rollback"

	"example.com/acmecloud/acme"
	"example.com/acmecloud/acmetest"
)

func TestRollbackOpen(t *testing.T) {
	clk := auto()
	srv := acmetest.NewServer(acmetest.WithClock(clk))
	defer srv.Close()
	sv, _ := srv.AddServer(acmetest.ServerSpec{})
	snap, _ := srv.AddSnapshot(acmetest.SnapshotSpec{ServerID: sv.ID})
	t.Setenv(acme.EnvKeyID, acmetest.DefaultKeyID)
	t.Setenv(acme.EnvSecret, acmetest.DefaultSecret)
	p, err := rollback.Open(context.Background(), "acme://"+acmetest.DefaultRegion+"?endpoint="+srv.URL, rollback.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	defer p.(*acme.Client).Close()
	req := rollback.Request{Region: acmetest.DefaultRegion, InstanceID: sv.ID, SnapshotID: snap}
	if _, err := rollback.Run(context.Background(), p, req, runOpts(clk)); err != nil {
		t.Fatal(err)
	}
	if srv.RestoresOf(sv.ID) != 1 {
		t.Fatal("no restore")
	}
}

package pgstore_test

import (
	"context"
	"log"
	"os"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/pgstore"
	"github.com/cloudsnap/rollback/tencent"
)

// Every replica of a service opens the same database: Runs of one key are
// then exclusive across replicas, and the clients of one account share its
// rate limits.
func Example() {
	ctx := context.Background()
	store, err := pgstore.Open(ctx, os.Getenv("ROLLBACK_SERVICE_DATABASE"), pgstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	lighthouse, err := tencent.New(tencent.Config{Region: "ap-guangzhou"},
		rollback.WithLimiter(store.Limiter("prod-account")))
	if err != nil {
		log.Fatal(err)
	}
	defer lighthouse.Close()
	rep, err := rollback.Run(ctx, lighthouse, rollback.Request{
		Region: "ap-guangzhou", InstanceID: "lhins-1a2b3c4d", SnapshotID: "lhsnap-1a2b3c4d",
		OperationKey: "incident-4711", // the same key on any replica is the same operation
	}, rollback.RunOptions{Checkpoints: store, StopIfRunning: true, StartAfter: true})
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("rolled back in %v", rep.Duration)
}

package rollback_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/provider"
)

// A program that rolls back one server per run (a cron job, a fresh pod)
// keeps what its waits learned in a file, so that its next run's first
// wait polls where rollbacks end rather than starting cold. A Run with
// FileCheckpoints does this by itself, beside the checkpoints.
func ExampleOpenLearner() {
	dir, err := os.MkdirTemp("", "waits")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, rollback.LearnerFileName)

	learner := rollback.OpenLearner(path)
	opts := rollback.RunOptions{Wait: rollback.WaitOptions{Learner: learner}}
	_ = opts // rollback.Run(ctx, client, req, opts)

	// What a wait records when a rollback ends between two polls:
	learner.ObserveRange("tencent/rollback", 58*time.Second, 61*time.Second)
	if err := learner.Save(); err != nil { // flush before exiting
		panic(err)
	}
	_, err = os.Stat(path)
	fmt.Println("saved:", err == nil)
	// Output: saved: true
}

// During an outage a client stops retrying once its retry budget is spent,
// and every call fails fast with the outage's sentinel; successes refill
// it when the cloud recovers.
func ExampleWithRetryBudget() {
	opts := []rollback.Option{
		rollback.WithRetryBudget(100), // 20 retries after 5xx beyond what successes refill
	}
	fmt.Println(provider.ResolveOptions(opts...).RetryBudget)
	// Output: 100
}

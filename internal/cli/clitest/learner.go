package clitest

import (
	"os"
	"path/filepath"
	"time"

	"github.com/cloudsnap/rollback"
)

// WarmCache gives the test binary a user cache directory of its own
// (XDG_CACHE_HOME, which the built commands it runs inherit), so no run
// writes into the real one, and warms its learner file (WarmLearner).
// Call the returned function when the tests are done.
func WarmCache() (remove func()) {
	cache, err := os.MkdirTemp("", "rollback-cache-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CACHE_HOME", cache)
	WarmLearner(cache)
	return func() { os.RemoveAll(cache) }
}

// WarmLearner records in the learner file of a user cache directory (the
// command's default state directory under it) that the emulators'
// operations take about 200ms, as a user's earlier runs would have: tests
// then wait as a second run does, not through the real clouds' wide priors
// (a cold first wait is internal/bench's to measure).
func WarmLearner(cacheDir string) {
	l := rollback.OpenLearner(filepath.Join(cacheDir, "cloudsnap-rollback", rollback.LearnerFileName))
	for _, p := range []string{rollback.ProviderAliyun, rollback.ProviderTencent} {
		for _, k := range []string{"rollback", "snapshot", "instance-stopped", "instance-running", "instance-idle (running or stopped)"} {
			for range 3 {
				l.ObserveRange(p+"/"+k, 100*time.Millisecond, 400*time.Millisecond)
			}
		}
	}
	if err := l.Save(); err != nil {
		panic(err)
	}
}

package clitest

import (
	"path/filepath"
	"time"

	"github.com/cloudsnap/rollback"
)

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

package main

import (
	"context"
	"strings"
	"testing"

	"github.com/cloudsnap/rollback/internal/testkit"
	"github.com/cloudsnap/rollback/pgstore/pgtest"
)

// TestReplicas runs `service -demo -replicas N` on a throwaway PostgreSQL
// server: the same key sent to every replica at once (Lighthouse, and SWAS
// with stop and start) and to two in turn, and a replica killed mid-wait
// whose operation another finishes (both clouds); each rolls its instance
// back exactly once, every SWAS server runs again, and the clouds throttle
// nothing (the demo checks the emulators and exits 1 otherwise). Two and three replicas, so the key meets
// more than one rival at once.
func TestReplicas(t *testing.T) {
	srv, err := pgtest.Start()
	t.Cleanup(srv.Stop)
	for _, n := range []string{"2", "3"} {
		url := pgtest.Database(t, srv, err)
		var stdout, stderr testkit.SyncBuffer
		code := run(context.Background(), []string{"-demo", "-replicas", n, "-demo-speed", "200", "-database", url}, env{stdout: &stdout, stderr: &stderr})
		out := stdout.String()
		if code != exitOK || strings.Count(out, "rolled back exactly once") != 5 || !strings.Contains(out, "Every scenario: exactly one rollback.") {
			t.Errorf("%s replicas: exit %d\nstdout:\n%s\nstderr:\n%s", n, code, out, stderr.String())
		}
		if !strings.Contains(out, "resumed it from the checkpoint: succeeded") || !strings.Contains(out, "409") {
			t.Errorf("%s replicas:\n%s", n, out)
		}
		t.Logf("%s replicas:\n%s", n, out)
	}
}

func TestReplicasNeedDemo(t *testing.T) {
	var stdout, stderr testkit.SyncBuffer
	if code := run(context.Background(), []string{"-replicas", "2"}, env{stdout: &stdout, stderr: &stderr}); code != exitUsage || !strings.Contains(stderr.String(), "-database") {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
}

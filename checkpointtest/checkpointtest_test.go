package checkpointtest_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/checkpointtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMemoryCheckpoints(t *testing.T) {
	checkpointtest.Run(t, func(t *testing.T) checkpointtest.Store {
		m := &rollback.MemoryCheckpoints{}
		return checkpointtest.Store{Client: func() rollback.Checkpointer { return m }}
	})
}

func TestMemoryCheckpointsBounded(t *testing.T) {
	checkpointtest.Run(t, func(t *testing.T) checkpointtest.Store {
		m := &rollback.MemoryCheckpoints{Max: 2}
		return checkpointtest.Store{Client: func() rollback.Checkpointer { return m }}
	})
}

func TestFileCheckpoints(t *testing.T) {
	checkpointtest.Run(t, func(t *testing.T) checkpointtest.Store {
		dir := t.TempDir()
		return checkpointtest.Store{
			Client: func() rollback.Checkpointer { return rollback.FileCheckpoints{Dir: dir} },
			WriteRaw: func(key string, rec []byte) error {
				// FileCheckpoints' file naming, as documented there.
				sum := sha256.Sum256([]byte(key))
				return os.WriteFile(filepath.Join(dir, "rollback-"+hex.EncodeToString(sum[:12])+".json"), rec, 0o600)
			},
		}
	})
}

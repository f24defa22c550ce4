//go:build !unix

package rollback

import "os"

// Without flock, FileCheckpoints' lock is the in-process mutex only.
func lockFile(*os.File) error { return nil }
func unlockFile(*os.File)     {}

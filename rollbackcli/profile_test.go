package rollbackcli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// TestProfileFlag: -profile picks a named profile of the cloud CLI, found
// the way tccli finds it.
func TestProfileFlag(t *testing.T) {
	_, tc := emulators(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("TENCENTCLOUD_SECRET_ID", "")
	t.Setenv("TENCENTCLOUD_SECRET_KEY", "")
	t.Setenv("TENCENTCLOUD_METADATA_DISABLED", "true")
	if err := os.MkdirAll(filepath.Join(home, ".tccli"), 0o700); err != nil {
		t.Fatal(err)
	}
	cred := `{"secretId":"` + tencenttest.DefaultSecretID + `","secretKey":"` + tencenttest.DefaultSecretKey + `"}`
	if err := os.WriteFile(filepath.Join(home, ".tccli", "ops.credential"), []byte(cred), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCmd(t, "", "-provider", "tencent", "-region", "ap-guangzhou", "-endpoint", tc.URL, "-profile", "ops",
		"-instance", "lhins-1", "-snapshot", "lhsnap-1", "-dry-run")
	if code == exitAuth {
		t.Fatalf("-profile ops not used: exit %d: %s", code, errOut)
	}
	code, _, errOut = runCmd(t, "", "-provider", "tencent", "-region", "ap-guangzhou", "-endpoint", tc.URL, "-profile", "nosuch",
		"-instance", "lhins-1", "-snapshot", "lhsnap-1", "-dry-run")
	if code != exitAuth || !strings.Contains(errOut, "tccli profile") {
		t.Errorf("-profile nosuch: exit %d: %s", code, errOut)
	}
}

package rollbackcli

import (
	"strings"
	"testing"
)

// TestVerboseCallTable: -v ends each rollback with a table of its API
// calls, the rollback call among them with its request ID.
func TestVerboseCallTable(t *testing.T) {
	code, _, errOut := runCmd(t, "", "-demo", "-demo-speed", "1000", "-v")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if n := strings.Count(errOut, "API calls ("); n != 2 {
		t.Errorf("%d call tables, want one per cloud:\n%s", n, errOut)
	}
	for _, want := range []string{"  #   call", "request ID", "ResetDisk", "ApplyInstanceSnapshot", "StopInstances", "total time in calls"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	for _, line := range strings.Split(errOut, "\n") {
		if f := strings.Fields(line); len(f) > 7 && (f[1] == "ResetDisk" || f[1] == "ApplyInstanceSnapshot") && (f[7] == "-" || f[8] != "ok") {
			t.Errorf("rollback row without a request ID or not ok: %q", line)
		}
	}
}

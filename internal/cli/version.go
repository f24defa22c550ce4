package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is set at build time with
// -ldflags "-X github.com/cloudsnap/rollback/internal/cli.Version=v1.2.3";
// otherwise it comes from the module's build information.
var Version = ""

// VersionLine is what -version prints: "rollback v1.2.3 (go1.24.1 linux/amd64)".
func VersionLine(program string) string {
	v := Version
	if v == "" {
		v = "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok {
			if bi.Main.Version != "" {
				v = bi.Main.Version
			}
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 12 && v == "(devel)" {
					v = "devel-" + s.Value[:12]
				}
			}
		}
	}
	return fmt.Sprintf("%s %s (%s %s/%s)", program, v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

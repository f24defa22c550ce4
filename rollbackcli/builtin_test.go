package rollbackcli_test

// The command's tests run it with this repository's clouds, as
// examples/rollback links them (an external test package may import a
// package that imports rollbackcli).
import (
	"testing"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/rollbackcli"
	_ "github.com/cloudsnap/rollback/rollbackcli/builtin"
)

// A demo cloud registered twice is a build mistake, as a URL scheme is.
func TestRegisterDemoTwicePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a second RegisterDemo of aliyun did not panic")
		}
	}()
	rollbackcli.RegisterDemo(rollback.ProviderAliyun, func(clock.Clock, []rollback.Option) (*rollbackcli.DemoCloud, error) { return nil, nil })
}

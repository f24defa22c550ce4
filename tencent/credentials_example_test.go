package tencent_test

import (
	"github.com/cloudsnap/rollback/tencent"
)

// With no keys in Config, New finds credentials the way tccli does:
// environment, TKE OIDC token file, tccli profile, credentials file, the
// instance's CAM role. StaticOnly restricts it to Config and the
// environment.
func ExampleNew_profile() {
	c, err := tencent.New(tencent.Config{Region: "ap-guangzhou", Profile: "ops"}) // ~/.tccli/ops.credential
	if err != nil {
		return // ErrUnauthenticated names every source tried
	}
	defer c.Close()
}

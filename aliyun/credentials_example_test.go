package aliyun_test

import (
	"time"

	"github.com/cloudsnap/rollback/aliyun"
)

// With no keys in Config, New finds credentials the way the aliyun CLI
// does: environment, OIDC token file, CLI profile, credentials file, the
// ECS instance's role, a credentials URI. Here a role is assumed on top of
// whatever is found, and renewed before each hour is up.
func ExampleNew_assumeRole() {
	c, err := aliyun.New(aliyun.Config{
		Region:          "cn-hangzhou",
		Profile:         "ops", // a profile of ~/.aliyun/config.json
		RoleARN:         "acs:ram::123456789012:role/rollback",
		RoleSessionName: "incident-4711",
		RoleDuration:    time.Hour,
	})
	if err != nil {
		return // ErrUnauthenticated names every source tried
	}
	_ = c
}

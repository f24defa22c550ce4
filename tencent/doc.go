// Package tencent rolls back Tencent Cloud Lighthouse instances.
package tencent

import (
	_ "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/lighthouse/v20200324" // placeholder until the client lands
)

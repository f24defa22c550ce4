// Package aliyun rolls back Alibaba Cloud Simple Application Server (SWAS) disks.
package aliyun

import (
	_ "github.com/aliyun/alibaba-cloud-sdk-go/services/swas-open" // placeholder until the client lands
)

package main

import (
	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/internal/cli"
)

// flagRegions are the clients' default regions when the flags, not
// -cloud, configure them. Every row names its own region, so one client
// serves them all.
var flagRegions = map[string]string{
	rollback.ProviderAliyun:  "cn-hangzhou",
	rollback.ProviderTencent: "ap-guangzhou",
}

// checkClouds maps -cloud's URLs to their providers.
func (c *config) checkClouds() error {
	clouds, err := c.cloudFlags.ByProvider()
	if err != nil {
		return err
	}
	for p := range clouds {
		if p == rollback.ProviderAliyun && c.aliyunEndpoint != "" || p == rollback.ProviderTencent && c.tencentEndpoint != "" {
			return usagef("-cloud %s:// and -%s-endpoint: set the endpoint in the URL (?endpoint=)", p, p)
		}
	}
	c.clouds = clouds
	return nil
}

// cloudURLs are the clients' URLs: -cloud's, else built from the flags
// -aliyun-endpoint, -tencent-endpoint, -profile and -international.
func (c *config) cloudURLs() map[string]string {
	urls := map[string]string{}
	for p, region := range flagRegions {
		endpoint := c.aliyunEndpoint
		if p == rollback.ProviderTencent {
			endpoint = c.tencentEndpoint
		}
		urls[p] = cli.CloudURL(p, region, endpoint, c.profile, c.international)
	}
	for p, raw := range c.clouds {
		urls[p] = raw
	}
	return urls
}

package main

import (
	"net/url"
	"slices"
	"strings"

	"github.com/cloudsnap/rollback"
)

// flagRegions are the clients' default regions when the flags, not
// -cloud, configure them. Every row names its own region, so one client
// serves them all.
var flagRegions = map[string]string{
	rollback.ProviderAliyun:  "cn-hangzhou",
	rollback.ProviderTencent: "ap-guangzhou",
}

// cloudFlag collects -cloud URLs. They are checked after parsing: the
// flag package would quote a refused value, and a URL might hold a
// password.
type cloudFlag []string

func (f *cloudFlag) String() string { return "" }

func (f *cloudFlag) Set(raw string) error { *f = append(*f, raw); return nil }

// checkClouds maps -cloud's URLs to their providers, one per provider.
// What is not checked here rollback.Open checks when the client is
// opened; no message quotes a URL.
func (c *config) checkClouds() error {
	c.clouds = map[string]string{}
	for _, raw := range c.cloudFlags {
		u, err := url.Parse(raw)
		switch {
		case err != nil || u.Scheme == "" || u.Opaque != "":
			return usagef("-cloud is not a URL of the form SCHEME://REGION[?PARAMS], e.g. tencent://ap-guangzhou")
		case u.User != nil:
			return usagef("-cloud: a URL never carries credentials (user:password@); they come from the environment or -profile")
		case !slices.Contains(rollback.Schemes(), u.Scheme):
			return usagef("-cloud %s:// is not a provider this command knows (%s)", u.Scheme, strings.Join(rollback.Schemes(), ", "))
		}
		if _, dup := c.clouds[u.Scheme]; dup {
			return usagef("-cloud %s:// is given twice; give one URL per provider", u.Scheme)
		}
		if u.Scheme == rollback.ProviderAliyun && c.aliyunEndpoint != "" || u.Scheme == rollback.ProviderTencent && c.tencentEndpoint != "" {
			return usagef("-cloud %s:// and -%s-endpoint: set the endpoint in the URL (?endpoint=)", u.Scheme, u.Scheme)
		}
		c.clouds[u.Scheme] = raw
	}
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
		urls[p] = cloudURL(p, region, endpoint, c.profile, c.international)
	}
	for p, raw := range c.clouds {
		urls[p] = raw
	}
	return urls
}

// cloudURL is the URL of one provider's flags.
func cloudURL(provider, region, endpoint, profile string, international bool) string {
	q := url.Values{}
	if endpoint != "" {
		q.Set("endpoint", endpoint)
	}
	if profile != "" {
		q.Set("profile", profile)
	}
	// -international always meant the Lighthouse site, and was ignored
	// for aliyun; the aliyun URL refuses the parameter.
	if international && provider == rollback.ProviderTencent {
		q.Set("international", "true")
	}
	u := url.URL{Scheme: provider, Host: region, RawQuery: q.Encode()}
	return u.String()
}

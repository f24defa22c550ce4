package cli

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/cloudsnap/rollback"
)

// CloudURL is the rollback.Open URL of the flags that named a cloud before
// -cloud: -provider (the scheme), -region, -endpoint, -profile and
// -international. -international always meant the Lighthouse site and was
// ignored for aliyun, whose URL refuses the parameter.
func CloudURL(provider, region, endpoint, profile string, international bool) string {
	q := url.Values{}
	if endpoint != "" {
		q.Set("endpoint", endpoint)
	}
	if profile != "" {
		q.Set("profile", profile)
	}
	if international && provider == rollback.ProviderTencent {
		q.Set("international", "true")
	}
	u := url.URL{Scheme: provider, Host: region, RawQuery: q.Encode()}
	return u.String()
}

// CloudFlags collects the URLs of a repeatable -cloud flag. They are
// checked after parsing (ByProvider): the flag package would quote a
// refused value, and a URL might hold a password.
type CloudFlags []string

func (f *CloudFlags) String() string { return "" }

// Set adds a URL.
func (f *CloudFlags) Set(raw string) error { *f = append(*f, raw); return nil }

// ByProvider maps the URLs to their providers, one each, and refuses a
// malformed URL, one with credentials and an unregistered scheme as
// UsageError. rollback.Open checks the rest when the client is opened. No
// message quotes a URL.
func (f CloudFlags) ByProvider() (map[string]string, error) {
	m := map[string]string{}
	for _, raw := range f {
		u, err := url.Parse(raw)
		switch {
		case err != nil || u.Scheme == "" || u.Opaque != "":
			return nil, UsageError("-cloud is not a URL of the form SCHEME://REGION[?PARAMS], e.g. tencent://ap-guangzhou")
		case u.User != nil:
			return nil, UsageError("-cloud: a URL never carries credentials (user:password@); they come from the provider's default chain (the environment, a CLI profile, the instance's role)")
		case !slices.Contains(rollback.Schemes(), u.Scheme):
			return nil, UsageError(fmt.Sprintf("-cloud %s:// is not a provider this command knows (%s)", u.Scheme, strings.Join(rollback.Schemes(), ", ")))
		}
		if _, dup := m[u.Scheme]; dup {
			return nil, UsageError(fmt.Sprintf("-cloud %s:// is given twice; give one URL per provider", u.Scheme))
		}
		m[u.Scheme] = raw
	}
	return m, nil
}

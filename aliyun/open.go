package aliyun

import (
	"context"
	"net/url"

	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/openurl"
)

// Scheme is the URL scheme rollback.Open knows this package by:
// "aliyun://cn-hangzhou".
const Scheme = "aliyun"

func init() { provider.Register(Scheme, new(URLOpener).OpenURL) }

// URLOpener opens "aliyun://REGION?PARAMS" URLs. Config holds what a URL
// does not carry (credentials, for example); the URL's region and
// parameters override its fields. The zero URLOpener is the one
// rollback.Open uses, so that credentials come from the default chain.
//
// The query parameters set these Config fields:
//
//	endpoint=HOST|URL           Endpoint (http:// only for loopback hosts, e.g. an emulator)
//	profile=NAME                Profile of the aliyun CLI's config.json
//	static_only=true            StaticOnly: only the environment's access key
//	role_arn=ARN                RoleARN, assumed with STS AssumeRole
//	role_session_name=NAME      RoleSessionName
//	role_duration=1h            RoleDuration
//	sts_endpoint=HOST|URL       STSEndpoint
//	metadata_endpoint=HOST|URL  MetadataEndpoint
//	insecure_http=true          adds rollback.WithInsecureHTTP: plain http to a
//	                            non-loopback host (an emulator on a test network only)
//
// Any other parameter, user information (user:pass@), a port, a path or
// a fragment is provider.ErrInvalidArgument, before anything is sent.
type URLOpener struct {
	Config Config
}

// OpenURL opens the client u names; opts are New's.
func (o *URLOpener) OpenURL(_ context.Context, u *url.URL, opts ...provider.Option) (provider.Provider, error) {
	cfg := o.Config
	q := openurl.New(Scheme, u)
	cfg.Region = q.Region("cn-hangzhou")
	set(&cfg.Endpoint, q.Endpoint("endpoint"))
	set(&cfg.Profile, q.String("profile"))
	cfg.StaticOnly = cfg.StaticOnly || q.Bool("static_only")
	set(&cfg.RoleARN, q.String("role_arn"))
	set(&cfg.RoleSessionName, q.String("role_session_name"))
	if d := q.Duration("role_duration"); d != 0 {
		cfg.RoleDuration = d
	}
	set(&cfg.STSEndpoint, q.Endpoint("sts_endpoint"))
	set(&cfg.MetadataEndpoint, q.Endpoint("metadata_endpoint"))
	if q.Bool("insecure_http") {
		opts = append(opts[:len(opts):len(opts)], func(o *provider.Options) { o.AllowInsecureHTTP = true })
	}
	if err := q.Err(); err != nil {
		return nil, err
	}
	c, err := New(cfg, opts...)
	if err != nil {
		return nil, openurl.InURLTerms(err)
	}
	return c, nil
}

func set(field *string, v string) {
	if v != "" {
		*field = v
	}
}

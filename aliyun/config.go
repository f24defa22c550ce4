package aliyun

import (
	"os"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"

	"github.com/cloudsnap/rollback"
)

// Environment variables read when Config carries no credentials. They are
// the Alibaba Cloud SDKs' usual names; nothing else of the SDK's default
// credential chain (profile files, OIDC, the ECS metadata service) is used.
const (
	EnvAccessKeyID     = "ALIBABA_CLOUD_ACCESS_KEY_ID"
	EnvAccessKeySecret = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
	EnvSecurityToken   = "ALIBABA_CLOUD_SECURITY_TOKEN"
)

// Config says where and as whom a Client calls SWAS.
type Config struct {
	// Region is the default region, e.g. "cn-hangzhou". Required. Every
	// call names its own region, so one Client serves all regions of the
	// account.
	Region string
	// Endpoint overrides the scheme and host: a bare host means HTTPS,
	// "http://" is accepted only for loopback hosts (emulators) unless
	// rollback.WithInsecureHTTP is given. Empty means the public endpoint
	// https://swas.<region>.aliyuncs.com of each call's region. A set
	// Endpoint serves every region (e.g. a VPC endpoint
	// "swas-vpc.cn-hangzhou.aliyuncs.com" for its own region).
	Endpoint string
	// AccessKeyID and AccessKeySecret are the access key; SecurityToken is
	// set for STS credentials. When both key fields are empty, the
	// ALIBABA_CLOUD_* environment variables are read instead.
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
}

// credentialsFrom resolves the access key from cfg or, when cfg has none,
// the environment. Missing credentials are ErrUnauthenticated: the client
// could never authenticate, and that is what callers check for.
func credentialsFrom(cfg Config) (id, secret, token string, err error) {
	id, secret, token = cfg.AccessKeyID, cfg.AccessKeySecret, cfg.SecurityToken
	source := "Config"
	if id == "" && secret == "" {
		id, secret, token = os.Getenv(EnvAccessKeyID), os.Getenv(EnvAccessKeySecret), os.Getenv(EnvSecurityToken)
		source = "the environment"
		if id == "" && secret == "" {
			return "", "", "", credError("AccessKeyID", "no credentials: set Config.AccessKeyID and Config.AccessKeySecret, or the environment variables "+
				EnvAccessKeyID+" and "+EnvAccessKeySecret+" (plus "+EnvSecurityToken+" for STS credentials)")
		}
	}
	switch {
	case id == "":
		return "", "", "", credError("AccessKeyID", "the access key ID is missing from "+source+" (Config.AccessKeyID or "+EnvAccessKeyID+")")
	case secret == "":
		return "", "", "", credError("AccessKeySecret", "the access key secret is missing from "+source+" (Config.AccessKeySecret or "+EnvAccessKeySecret+")")
	}
	return id, secret, token, nil
}

func credError(field, msg string) error {
	return &rollback.Error{
		Provider: rollback.ProviderAliyun, Op: "New", Kind: rollback.ErrUnauthenticated,
		Field: field, Message: msg, Hint: "nothing was sent",
	}
}

// provider returns the SDK's static credential provider: never a chain.
func provider(id, secret, token string) credentials.CredentialsProvider {
	if token != "" {
		return credentials.NewStaticSTSCredentialsProvider(id, secret, token)
	}
	return credentials.NewStaticAKCredentialsProvider(id, secret)
}

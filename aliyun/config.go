package aliyun

import (
	"os"
	"time"

	"github.com/cloudsnap/rollback/provider"
)

// Environment variables of static credentials: the first source of the
// default chain (see credentials.go for the others), and the only one with
// Config.StaticOnly.
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
	// set for STS credentials. When both key fields are empty, the default
	// chain finds credentials (see the package documentation).
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
	// StaticOnly reads only the fields above or the ALIBABA_CLOUD_ACCESS_KEY_*
	// variables: no file, STS or metadata service is consulted.
	StaticOnly bool
	// Profile selects the profile of the aliyun CLI's config.json (or of the
	// credentials file); empty means ALIBABA_CLOUD_PROFILE, else the CLI's
	// current profile ("default" in the credentials file).
	Profile string
	// RoleARN, when set, is assumed with STS AssumeRole, signed with the
	// credentials found above; the role's credentials sign the calls and are
	// renewed before they expire. RoleSessionName (default
	// ALIBABA_CLOUD_ROLE_SESSION_NAME, else "cloudsnap-rollback") and
	// RoleDuration (15 minutes to 12 hours, default 1 hour) shape the
	// session; they also apply to the OIDC source.
	RoleARN         string
	RoleSessionName string
	RoleDuration    time.Duration
	// STSEndpoint and MetadataEndpoint say where STS and the ECS metadata
	// service answer: DefaultSTSEndpoint and DefaultMetadataEndpoint unless
	// set (a VPC STS endpoint, or an emulator in tests).
	STSEndpoint      string
	MetadataEndpoint string
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
	return &provider.Error{
		Provider: provider.ProviderAliyun, Op: "New", Kind: provider.ErrUnauthenticated,
		Field: field, Message: msg, Hint: "nothing was sent",
	}
}

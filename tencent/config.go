package tencent

import (
	"os"
	"slices"
	"strings"
	"time"

	"github.com/cloudsnap/rollback/provider"
)

// Config says where and as whom a Client calls Lighthouse.
type Config struct {
	// Region is the default region of read and lifecycle calls whose
	// region is empty, e.g. "ap-guangzhou" (a provider.Request must name
	// its region, as on SWAS). Required; it must be one of Regions() unless
	// AllowedRegions or AllowUnknownRegion says otherwise.
	Region string
	// Endpoint overrides the API host: "http://127.0.0.1:8080" for an
	// emulator, or another HTTPS host. Plain http is accepted only for
	// loopback hosts unless rollback.WithInsecureHTTP is given. Empty means
	// https://lighthouse.tencentcloudapi.com (International:
	// https://lighthouse.intl.tencentcloudapi.com).
	Endpoint string
	// International selects the international site's API domain.
	International bool
	// SecretID, SecretKey and Token (temporary credentials only) sign the
	// calls. When SecretID and SecretKey are both empty the default chain
	// finds credentials (see the package documentation).
	SecretID, SecretKey, Token string
	// StaticOnly reads only the fields above or TENCENTCLOUD_SECRET_ID,
	// TENCENTCLOUD_SECRET_KEY and TENCENTCLOUD_SESSION_TOKEN (or
	// TENCENTCLOUD_SECURITY_TOKEN): no file, STS or metadata service.
	StaticOnly bool
	// Profile selects the tccli profile (~/.tccli/<Profile>.credential) or
	// the credentials file's section; empty means TENCENTCLOUD_PROFILE, else
	// "default".
	Profile string
	// RoleARN, when set, is assumed with STS AssumeRole, signed with the
	// credentials found above; the role's credentials sign the calls and are
	// renewed before they expire. RoleSessionName (default
	// "cloudsnap-rollback") and RoleDuration (15 minutes to 12 hours,
	// default 1 hour) shape the session; they also apply to TKE OIDC.
	RoleARN         string
	RoleSessionName string
	RoleDuration    time.Duration
	// STSEndpoint and MetadataEndpoint say where STS and the metadata
	// service answer: DefaultSTSEndpoint and DefaultMetadataEndpoint unless
	// set (an emulator in tests).
	STSEndpoint      string
	MetadataEndpoint string
	// AllowedRegions replaces the list of regions calls may use (default:
	// Regions(), where ApplyInstanceSnapshot is offered).
	AllowedRegions []string
	// AllowUnknownRegion accepts any well-formed region, for regions opened
	// after this library was written.
	AllowUnknownRegion bool
	// AllowForcedStop lets Rollback send ApplyInstanceSnapshot for a RUNNING
	// instance, which the cloud then shuts down without asking. By default
	// Rollback refuses a running instance with ErrInstanceState; stop it
	// first (rollback.Run can).
	AllowForcedStop bool
}

// Environment variables read when Config has no credentials.
const (
	EnvSecretID      = "TENCENTCLOUD_SECRET_ID"
	EnvSecretKey     = "TENCENTCLOUD_SECRET_KEY"
	EnvSessionToken  = "TENCENTCLOUD_SESSION_TOKEN"
	EnvSecurityToken = "TENCENTCLOUD_SECURITY_TOKEN" // accepted as well
)

// API hosts.
const (
	DefaultHost       = "lighthouse.tencentcloudapi.com"
	InternationalHost = "lighthouse.intl.tencentcloudapi.com"
)

// Regions returns the regions where ApplyInstanceSnapshot is offered, as the
// API page lists them.
func Regions() []string {
	return []string{
		"ap-bangkok", "ap-beijing", "ap-chengdu", "ap-guangzhou", "ap-hongkong",
		"ap-jakarta", "ap-nanjing", "ap-seoul", "ap-shanghai", "ap-singapore",
		"ap-tokyo", "eu-frankfurt", "na-ashburn", "na-siliconvalley", "sa-saopaulo",
	}
}

// regionSet decides which regions calls may use.
type regionSet struct {
	allowed []string
	any     bool
}

func newRegionSet(cfg Config) regionSet {
	rs := regionSet{allowed: Regions(), any: cfg.AllowUnknownRegion}
	if len(cfg.AllowedRegions) > 0 {
		rs.allowed = slices.Clone(cfg.AllowedRegions)
	}
	return rs
}

// check validates region for op.
func (rs regionSet) check(op, region string) error {
	if err := provider.CheckRegion(region); err != nil {
		if e, ok := err.(*provider.Error); ok {
			e.Provider, e.Op = provider.ProviderTencent, op
		}
		return err
	}
	if rs.any || slices.Contains(rs.allowed, region) {
		return nil
	}
	return provider.InvalidArgument(provider.ProviderTencent, op, "Region",
		"%q is not a region where Lighthouse offers ApplyInstanceSnapshot; use one of %s (or set tencent.Config.AllowUnknownRegion for a newer region)",
		region, strings.Join(rs.allowed, ", "))
}

// credentials resolves the Config's credentials or the environment's.
func credentials(cfg Config) (id, key, token string, err error) {
	id, key, token = cfg.SecretID, cfg.SecretKey, cfg.Token
	from := "tencent.Config"
	idName, keyName := "SecretID", "SecretKey"
	if id == "" && key == "" {
		id, key = os.Getenv(EnvSecretID), os.Getenv(EnvSecretKey)
		token = os.Getenv(EnvSessionToken)
		if token == "" {
			token = os.Getenv(EnvSecurityToken)
		}
		from, idName, keyName = "the environment", EnvSecretID, EnvSecretKey
		if id == "" && key == "" {
			return "", "", "", &provider.Error{
				Provider: provider.ProviderTencent, Op: "New", Kind: provider.ErrUnauthenticated,
				Message: "no credentials: set tencent.Config.SecretID and SecretKey, or the environment variables " +
					EnvSecretID + " and " + EnvSecretKey + " (plus " + EnvSessionToken + " for temporary credentials)",
			}
		}
	}
	switch {
	case id == "":
		err = provider.InvalidArgument(provider.ProviderTencent, "New", idName, "is empty but %s is set in %s", keyName, from)
	case key == "":
		err = provider.InvalidArgument(provider.ProviderTencent, "New", keyName, "is empty but %s is set in %s", idName, from)
	}
	return id, key, token, err
}

package aliyun

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/sts"
	swas "github.com/aliyun/alibaba-cloud-sdk-go/services/swas-open"

	"github.com/cloudsnap/rollback/internal/creds"
	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/sdkhttp"
)

// Environment variables of the default chain, as the Alibaba Cloud SDKs
// and the aliyun CLI read them.
const (
	EnvProfile             = "ALIBABA_CLOUD_PROFILE"
	EnvRoleARN             = "ALIBABA_CLOUD_ROLE_ARN"
	EnvRoleSessionName     = "ALIBABA_CLOUD_ROLE_SESSION_NAME"
	EnvOIDCProviderARN     = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN"
	EnvOIDCTokenFile       = "ALIBABA_CLOUD_OIDC_TOKEN_FILE"
	EnvCredentialsFile     = "ALIBABA_CLOUD_CREDENTIALS_FILE"
	EnvCLIProfileDisabled  = "ALIBABA_CLOUD_CLI_PROFILE_DISABLED"
	EnvECSMetadata         = "ALIBABA_CLOUD_ECS_METADATA" // the role name
	EnvECSMetadataDisabled = "ALIBABA_CLOUD_ECS_METADATA_DISABLED"
	EnvIMDSv1Disabled      = "ALIBABA_CLOUD_IMDSV1_DISABLED"
	EnvCredentialsURI      = "ALIBABA_CLOUD_CREDENTIALS_URI"
)

// Defaults of the credential sources.
const (
	DefaultSTSEndpoint      = "https://sts.aliyuncs.com"
	DefaultMetadataEndpoint = "http://100.100.100.200" // ECS's link-local metadata service
	DefaultRoleSessionName  = "cloudsnap-rollback"
	DefaultRoleDuration     = time.Hour
	// MetadataTimeout bounds each request to the metadata service or a
	// credentials URI: off ECS the address does not answer at all.
	MetadataTimeout = 2 * time.Second
)

// Source names, as errors and logs give them.
const (
	srcConfig   = "Config"
	srcEnv      = "environment (" + EnvAccessKeyID + ")"
	srcOIDC     = "OIDC token file (" + EnvOIDCTokenFile + ")"
	srcCLI      = "aliyun CLI profile (~/.aliyun/config.json)"
	srcProfile  = "credentials file (~/.alibabacloud/credentials or " + EnvCredentialsFile + ")"
	srcMetadata = "ECS instance role (metadata service)"
	srcURI      = "credentials URI (" + EnvCredentialsURI + ")"
)

// credSetup is what New needs to build the credential cache.
type credSetup struct {
	creds.Setup
	cfg Config
}

func newCredSetup(cfg Config, transport http.RoundTripper, insecure bool) credSetup {
	return credSetup{cfg: cfg, Setup: creds.Setup{Provider: provider.ProviderAliyun, Transport: transport, Insecure: insecure,
		Timeout: MetadataTimeout, STSEndpoint: cfg.STSEndpoint, DefaultSTS: DefaultSTSEndpoint,
		SessionName: cmp.Or(cfg.RoleSessionName, os.Getenv(EnvRoleSessionName), DefaultRoleSessionName),
		Duration:    cmp.Or(max(cfg.RoleDuration, 0), DefaultRoleDuration)}}
}

// newCredentials returns the client's credential cache: Config's keys, or
// the default chain, optionally with a role assumed on top.
func newCredentials(cfg Config, transport http.RoundTripper, o provider.Options, learn func(...string)) (*creds.Cache, error) {
	cs := newCredSetup(cfg, transport, o.AllowInsecureHTTP)
	var base creds.Source
	static := false
	switch {
	case cfg.AccessKeyID != "" || cfg.AccessKeySecret != "":
		id, secret, token, err := credentialsFrom(cfg)
		if err != nil {
			return nil, err
		}
		v := creds.Value{ID: id, Secret: secret, Token: token, Source: srcConfig}
		base, static = func(context.Context) (creds.Value, error) { return v, nil }, true
	case cfg.StaticOnly:
		id, secret, token, err := credentialsFrom(cfg)
		if err != nil {
			return nil, err
		}
		v := creds.Value{ID: id, Secret: secret, Token: token, Source: srcEnv}
		base, static = func(context.Context) (creds.Value, error) { return v, nil }, true
	default:
		ch := cs.chain()
		base = ch.Fetch
	}
	src := base
	if cfg.RoleARN != "" {
		if err := checkRole(cfg); err != nil {
			return nil, err
		}
		inner := &creds.Cache{Fetch: base, Clock: o.Clock, Static: static, Learn: learn}
		src, static = cs.assumeRole(inner), false
	}
	if cfg.STSEndpoint != "" {
		if _, err := cs.STS(); err != nil {
			return nil, err
		}
	}
	return &creds.Cache{Fetch: src, Clock: o.Clock, Static: static, Learn: learn}, nil
}

// setupCredentials builds the cache and finds the first credentials, so
// that a chain with nothing to offer fails New, not the first provider.
func (c *Client) setupCredentials(cfg Config) error {
	cache, err := newCredentials(cfg, c.transport, c.opts, c.redactor.Learn)
	if err != nil {
		return err
	}
	c.cache, c.creds = cache, sdkProvider{cache}
	ctx, cancel := context.WithTimeout(context.Background(), NewTimeout)
	defer cancel()
	if _, _, err := cache.Get(ctx); err != nil {
		e := creds.Error(provider.ProviderAliyun, "New", err, c.redactor.String)
		var none *creds.NoneError
		if errors.As(err, &none) {
			e.Field = "AccessKeyID"
			e.Message += "; set Config.AccessKeyID and Config.AccessKeySecret, or the environment variables " +
				EnvAccessKeyID + " and " + EnvAccessKeySecret + " (plus " + EnvSecurityToken + " for STS credentials)"
		}
		return e
	}
	return nil
}

// NewTimeout bounds New's search for the first credentials.
const NewTimeout = 30 * time.Second

// prepare runs before each attempt: it refreshes the credentials when due
// (one refresh shared by all calls), so that the SDK signs with fresh ones.
func (c *Client) prepare(ctx context.Context, _ *swas.Client) error {
	if _, _, err := c.cache.Get(ctx); err != nil {
		return creds.Error(provider.ProviderAliyun, "", err, c.redactor.String)
	}
	return nil
}

func checkRole(cfg Config) error {
	if !strings.HasPrefix(cfg.RoleARN, "acs:ram::") {
		return provider.InvalidArgument(provider.ProviderAliyun, "New", "RoleARN", "%q is not a RAM role ARN (acs:ram::<account>:role/<name>)", cfg.RoleARN)
	}
	if d := cfg.RoleDuration; d != 0 && (d < 15*time.Minute || d > 12*time.Hour) {
		return provider.InvalidArgument(provider.ProviderAliyun, "New", "RoleDuration", "%s is outside STS's 15 minutes to 12 hours", d)
	}
	return nil
}

// chain is the default chain, in the order of the SDK's
// credentials.NewDefaultCredentialsProvider (and the aliyun CLI):
// environment, OIDC, CLI profile, credentials file, ECS metadata,
// credentials URI.
func (cs credSetup) chain() *creds.Chain {
	return &creds.Chain{
		Names:   []string{srcEnv, srcOIDC, srcCLI, srcProfile, srcMetadata, srcURI},
		Sources: []creds.Source{cs.fromEnv, cs.fromOIDC, cs.fromCLIProfile, cs.fromProfileFile, cs.fromMetadata, cs.fromURI},
	}
}

func (cs credSetup) fromEnv(context.Context) (creds.Value, error) {
	if os.Getenv(EnvAccessKeyID) == "" && os.Getenv(EnvAccessKeySecret) == "" {
		return creds.Value{}, creds.Skip(srcEnv, "%s and %s are not set", EnvAccessKeyID, EnvAccessKeySecret)
	}
	cc, err := credentials.NewEnvironmentVariableCredentialsProvider().GetCredentials()
	if err != nil {
		return creds.Value{}, creds.Fail(srcEnv, sdkReason(err))
	}
	return creds.Value{ID: cc.AccessKeyId, Secret: cc.AccessKeySecret, Token: cc.SecurityToken, Source: srcEnv}, nil
}

// fromSDK reads a profile through one of the SDK's own providers. A fresh
// provider per fetch: the SDK's providers are not safe for concurrent use
// and cache on the wall clock, and the Cache already decides when to ask.
func fromSDK(src string, p credentials.CredentialsProvider) (creds.Value, error) {
	cc, err := p.GetCredentials()
	if err != nil {
		return creds.Value{}, creds.Fail(src, sdkReason(err))
	}
	return creds.Value{ID: cc.AccessKeyId, Secret: cc.AccessKeySecret, Token: cc.SecurityToken, Source: src}, nil
}

func (cs credSetup) profileName() string {
	if cs.cfg.Profile != "" {
		return cs.cfg.Profile
	}
	return os.Getenv(EnvProfile)
}

func (cs credSetup) fromCLIProfile(context.Context) (creds.Value, error) {
	if strings.EqualFold(os.Getenv(EnvCLIProfileDisabled), "true") {
		return creds.Value{}, creds.Skip(srcCLI, "%s=true", EnvCLIProfileDisabled)
	}
	home, _ := os.UserHomeDir()
	if _, err := os.Stat(filepath.Join(home, ".aliyun", "config.json")); err != nil {
		return creds.Value{}, creds.Skip(srcCLI, "no file")
	}
	return fromSDK(srcCLI+" profile "+strconv.Quote(cs.profileName()),
		credentials.NewCLIProfileCredentialsProviderBuilder().WithProfileName(cs.profileName()).Build())
}

func (cs credSetup) fromProfileFile(context.Context) (creds.Value, error) {
	path := os.Getenv(EnvCredentialsFile)
	if path == "" {
		home, _ := os.UserHomeDir()
		path = filepath.Join(home, ".alibabacloud", "credentials")
		if _, err := os.Stat(path); err != nil {
			return creds.Value{}, creds.Skip(srcProfile, "no file")
		}
	}
	return fromSDK(srcProfile, credentials.NewProfileCredentialsProviderBuilder().WithProfileName(cs.profileName()).Build())
}

// sdkReason keeps the SDK's reason but not its request details.
func sdkReason(err error) error {
	var ce *sdkerrors.ClientError
	if errors.As(err, &ce) {
		return errors.New(ce.Message())
	}
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return fmt.Errorf("%s: %s", se.ErrorCode(), se.Message())
	}
	return err
}

// stsReply is the JSON of AssumeRoleWithOIDC, the metadata service and a
// credentials URI.
type stsReply struct {
	Code, Message, RequestId string
	AccessKeyId              string
	AccessKeySecret          string
	SecurityToken            string
	Expiration               string
	Credentials              *stsReply
}

func (r *stsReply) value(src string) (creds.Value, error) {
	c := r
	if r.Credentials != nil {
		c = r.Credentials
	}
	if c.AccessKeyId == "" || c.AccessKeySecret == "" {
		if r.Code != "" {
			return creds.Value{}, creds.Fail(src, fmt.Errorf("%s: %s", r.Code, r.Message))
		}
		return creds.Value{}, creds.Fail(src, errors.New("the reply carries no credentials"))
	}
	v := creds.Value{ID: c.AccessKeyId, Secret: c.AccessKeySecret, Token: c.SecurityToken, Source: src}
	if c.Expiration != "" {
		t, err := time.Parse(time.RFC3339, c.Expiration)
		if err != nil {
			return creds.Value{}, creds.Fail(src, fmt.Errorf("unreadable Expiration %q", c.Expiration))
		}
		v.Expiry = t
	}
	return v, nil
}

// fromOIDC is RRSA: the pod's OIDC token exchanged at STS
// (AssumeRoleWithOIDC, an unsigned call) for the role's credentials.
func (cs credSetup) fromOIDC(ctx context.Context) (creds.Value, error) {
	role, provider, file := os.Getenv(EnvRoleARN), os.Getenv(EnvOIDCProviderARN), os.Getenv(EnvOIDCTokenFile)
	if role == "" || provider == "" || file == "" {
		return creds.Value{}, creds.Skip(srcOIDC, "%s, %s and %s are not all set", EnvRoleARN, EnvOIDCProviderARN, EnvOIDCTokenFile)
	}
	tok, err := os.ReadFile(file)
	if err != nil {
		return creds.Value{}, creds.Fail(srcOIDC, fmt.Errorf("cannot read the token file: %w", errors.Unwrap(err)))
	}
	ep, err := cs.STS()
	if err != nil {
		return creds.Value{}, err
	}
	form := url.Values{
		"Action": {"AssumeRoleWithOIDC"}, "Format": {"JSON"}, "Version": {"2015-04-01"},
		"Timestamp": {time.Now().UTC().Format("2006-01-02T15:04:05Z")},
		"RoleArn":   {role}, "OIDCProviderArn": {provider},
		"OIDCToken":       {strings.TrimSpace(string(tok))},
		"RoleSessionName": {cs.SessionName},
		"DurationSeconds": {strconv.Itoa(int(cs.Duration.Seconds()))},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL()+"/", strings.NewReader(form.Encode()))
	if err != nil {
		return creds.Value{}, creds.Fail(srcOIDC, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var r stsReply
	if err := cs.getJSON(req, &r, srcOIDC); err != nil {
		return creds.Value{}, err
	}
	return r.value(srcOIDC + " for " + role)
}

// getJSON sends req and decodes a JSON reply; non-2xx replies with a Code
// are reported with it.
func (cs credSetup) getJSON(req *http.Request, v *stsReply, src string) error {
	status, body, err := creds.ReadReply(cs.HTTPClient(), req, src)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil || status/100 != 2 {
		if v.Code != "" {
			return creds.Fail(src, fmt.Errorf("HTTP %d %s: %s", status, v.Code, v.Message))
		}
		return creds.Fail(src, creds.Unavailable(status, "unreadable reply"))
	}
	return nil
}

// fromMetadata asks the ECS metadata service for the instance role's
// credentials, IMDSv2 first (a session token), as the SDK does.
func (cs credSetup) fromMetadata(ctx context.Context) (creds.Value, error) {
	base, err := creds.MetadataBase(srcMetadata, EnvECSMetadataDisabled, cs.cfg.MetadataEndpoint, DefaultMetadataEndpoint)
	if err != nil {
		return creds.Value{}, err
	}
	get := func(method, path string, hdr http.Header) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, method, base+path, nil)
		if err != nil {
			return nil, err
		}
		maps(req.Header, hdr)
		return cs.HTTPClient().Do(req)
	}
	hdr := http.Header{}
	resp, err := get(http.MethodPut, "/latest/api/token", http.Header{"X-Aliyun-Ecs-Metadata-Token-Ttl-Seconds": {"21600"}})
	if err != nil {
		// Nothing answers: this is not an ECS instance.
		return creds.Value{}, creds.Skip(srcMetadata, "no metadata service at %s: %w", base, creds.NetReason(err))
	}
	tok, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		hdr.Set("X-Aliyun-Ecs-Metadata-Token", string(tok))
	case strings.EqualFold(os.Getenv(EnvIMDSv1Disabled), "true"):
		return creds.Value{}, creds.Fail(srcMetadata, fmt.Errorf("no IMDSv2 session token (HTTP %d) and %s=true", resp.StatusCode, EnvIMDSv1Disabled))
	}
	role := os.Getenv(EnvECSMetadata)
	const credPath = "/latest/meta-data/ram/security-credentials/"
	if role == "" {
		resp, err := get(http.MethodGet, credPath, hdr)
		if err != nil {
			return creds.Value{}, creds.Fail(srcMetadata, creds.NetReason(err))
		}
		name, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			return creds.Value{}, creds.Skip(srcMetadata, "the instance has no RAM role")
		}
		if resp.StatusCode != http.StatusOK {
			return creds.Value{}, creds.Fail(srcMetadata, creds.Unavailable(resp.StatusCode, "role name"))
		}
		role = strings.TrimSpace(string(name))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+credPath+url.PathEscape(role), nil)
	if err != nil {
		return creds.Value{}, creds.Fail(srcMetadata, err)
	}
	maps(req.Header, hdr)
	var r stsReply
	if err := cs.getJSON(req, &r, srcMetadata); err != nil {
		return creds.Value{}, err
	}
	if r.Code != "" && r.Code != "Success" {
		return creds.Value{}, creds.Fail(srcMetadata, fmt.Errorf("role %s: %s", role, r.Code))
	}
	return r.value(srcMetadata + " role " + role)
}

func maps(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}

func (cs credSetup) fromURI(ctx context.Context) (creds.Value, error) {
	uri := os.Getenv(EnvCredentialsURI)
	if uri == "" {
		return creds.Value{}, creds.Skip(srcURI, "not set")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return creds.Value{}, creds.Fail(srcURI, errors.New("not a URL"))
	}
	var r stsReply
	if err := cs.getJSON(req, &r, srcURI); err != nil {
		return creds.Value{}, err
	}
	if r.Code != "" && r.Code != "Success" {
		return creds.Value{}, creds.Fail(srcURI, fmt.Errorf("%s: %s", r.Code, r.Message))
	}
	return r.value(srcURI)
}

// assumeRole calls STS AssumeRole through the SDK's own sts client, signed
// with the base credentials (themselves kept fresh by inner).
func (cs credSetup) assumeRole(inner *creds.Cache) creds.Source {
	src := "AssumeRole " + cs.cfg.RoleARN
	return func(ctx context.Context) (creds.Value, error) {
		ep, err := cs.STS()
		if err != nil {
			return creds.Value{}, err
		}
		b, _, err := inner.Get(ctx)
		if err != nil {
			return creds.Value{}, creds.Fail(src, err)
		}
		binder := &sdkhttp.Binder{Base: cs.Transport, Timeout: 30 * time.Second}
		binder.Bind(ctx)
		defer binder.Bind(nil)
		config := sdk.NewConfig().WithScheme(strings.ToUpper(ep.Scheme)).WithAutoRetry(false).WithMaxRetryTime(0)
		config.Transport = binder
		var p credentials.CredentialsProvider = credentials.NewStaticAKCredentialsProvider(b.ID, b.Secret)
		if b.Token != "" {
			p = credentials.NewStaticSTSCredentialsProvider(b.ID, b.Secret, b.Token)
		}
		client, err := sts.NewClientWithOptions("cn-hangzhou", config, p)
		if err != nil {
			return creds.Value{}, creds.Fail(src, err)
		}
		client.SetCloseTrace(true)
		req := sts.CreateAssumeRoleRequest()
		req.Scheme, req.Domain = strings.ToUpper(ep.Scheme), ep.Host
		req.RoleArn, req.RoleSessionName = cs.cfg.RoleARN, cs.SessionName
		req.DurationSeconds = requests.NewInteger(int(cs.Duration.Seconds()))
		resp, err := client.AssumeRole(req)
		if err != nil {
			return creds.Value{}, creds.Fail(src+" (signed by "+b.Source+")", sdkReason(err))
		}
		c := resp.Credentials
		r := stsReply{AccessKeyId: c.AccessKeyId, AccessKeySecret: c.AccessKeySecret, SecurityToken: c.SecurityToken, Expiration: c.Expiration}
		return r.value(src)
	}
}

// tokenExpired says whether an attempt's error is SWAS calling the
// temporary credentials expired (InvalidSecurityToken.Expired): the
// credentials ran out mid-run (creds.Reauther).
func tokenExpired(raw error) bool {
	var se *sdkerrors.ServerError
	return errors.As(raw, &se) && se.ErrorCode() == "InvalidSecurityToken.Expired"
}

// sdkProvider hands the cache's credentials to the SDK, which asks for
// them when it signs each request. The lease has just refreshed them (see
// Client.prepare), so this never waits on the network.
type sdkProvider struct{ cache *creds.Cache }

func (p sdkProvider) GetCredentials() (*credentials.Credentials, error) {
	v, _, err := p.cache.Get(context.Background())
	if err != nil {
		return nil, err
	}
	return &credentials.Credentials{AccessKeyId: v.ID, AccessKeySecret: v.Secret, SecurityToken: v.Token, ProviderName: "cloudsnap"}, nil
}

func (sdkProvider) GetProviderName() string { return "cloudsnap" }

package tencent

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	sdkerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	lh "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/lighthouse/v20200324"
	sts "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/sts/v20180813"

	"github.com/cloudsnap/rollback/internal/creds"
	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/sdkhttp"
)

// Environment variables of the default chain beyond the static ones, as
// TKE's OIDC webhook and the newer Tencent Cloud SDKs set them.
const (
	EnvTKERegion        = "TKE_REGION"
	EnvTKEProviderID    = "TKE_PROVIDER_ID"
	EnvTKETokenFile     = "TKE_WEB_IDENTITY_TOKEN_FILE"
	EnvTKERoleARN       = "TKE_ROLE_ARN"
	EnvCredentialsFile  = "TENCENTCLOUD_CREDENTIALS_FILE"
	EnvProfile          = "TENCENTCLOUD_PROFILE"
	EnvMetadataDisabled = "TENCENTCLOUD_METADATA_DISABLED" // ours: "true" skips the CVM role
)

// Defaults of the credential sources.
const (
	DefaultSTSEndpoint      = "https://sts.tencentcloudapi.com"
	DefaultMetadataEndpoint = "http://metadata.tencentyun.com" // CVM/Lighthouse metadata (169.254.0.23)
	DefaultRoleSessionName  = "cloudsnap-rollback"
	DefaultRoleDuration     = time.Hour
	// MetadataTimeout bounds each request to the metadata service: off
	// Tencent Cloud nothing answers.
	MetadataTimeout = 2 * time.Second
	// NewTimeout bounds New's search for the first credentials.
	NewTimeout = 30 * time.Second
)

const (
	srcConfig   = "tencent.Config"
	srcEnv      = "environment (" + EnvSecretID + ")"
	srcTKE      = "TKE OIDC token file (" + EnvTKETokenFile + ")"
	srcTCCLI    = "tccli profile (~/.tccli/<profile>.credential)"
	srcINI      = "credentials file (~/.tencentcloud/credentials or " + EnvCredentialsFile + ")"
	srcMetadata = "CVM role (metadata service)"
)

type credSetup struct {
	creds.Setup
	cfg Config
}

func newCredSetup(cfg Config, transport http.RoundTripper, insecure bool) credSetup {
	return credSetup{cfg: cfg, Setup: creds.Setup{Provider: provider.ProviderTencent, Transport: transport, Insecure: insecure,
		Timeout: MetadataTimeout, STSEndpoint: cfg.STSEndpoint, DefaultSTS: DefaultSTSEndpoint,
		SessionName: cmp.Or(cfg.RoleSessionName, DefaultRoleSessionName),
		Duration:    cmp.Or(max(cfg.RoleDuration, 0), DefaultRoleDuration)}}
}

// setupCredentials builds the client's credential cache and finds the
// first credentials, so that a chain with nothing to offer fails New.
func (c *Client) setupCredentials(cfg Config) error {
	cs := newCredSetup(cfg, c.transport, c.opts.AllowInsecureHTTP)
	learn := c.red.Learn
	var base creds.Source
	static := false
	switch {
	case cfg.SecretID != "" || cfg.SecretKey != "" || cfg.StaticOnly:
		id, key, token, err := credentials(cfg)
		if err != nil {
			return err
		}
		v := creds.Value{ID: id, Secret: key, Token: token, Source: srcConfig}
		base, static = func(context.Context) (creds.Value, error) { return v, nil }, true
	default:
		base = (&creds.Chain{
			Names:   []string{srcEnv, srcTKE, srcTCCLI, srcINI, srcMetadata},
			Sources: []creds.Source{cs.fromEnv, cs.fromTKE, cs.fromTCCLI, cs.fromINI, cs.fromMetadata},
		}).Fetch
	}
	if cfg.STSEndpoint != "" {
		if _, err := cs.STS(); err != nil {
			return err
		}
	}
	src := base
	if cfg.RoleARN != "" {
		if !strings.HasPrefix(cfg.RoleARN, "qcs::cam::") {
			return provider.InvalidArgument(provider.ProviderTencent, "New", "RoleARN", "%q is not a CAM role ARN (qcs::cam::uin/<uin>:roleName/<name>)", cfg.RoleARN)
		}
		if d := cfg.RoleDuration; d != 0 && (d < 15*time.Minute || d > 12*time.Hour) {
			return provider.InvalidArgument(provider.ProviderTencent, "New", "RoleDuration", "%s is outside 15 minutes to 12 hours", d)
		}
		inner := &creds.Cache{Fetch: base, Clock: c.opts.Clock, Static: static, Learn: learn}
		src, static = cs.assumeRole(inner, cfg.Region), false
	}
	c.cache = &creds.Cache{Fetch: src, Clock: c.opts.Clock, Static: static, Learn: learn}
	ctx, cancel := context.WithTimeout(context.Background(), NewTimeout)
	defer cancel()
	if _, _, err := c.cache.Get(ctx); err != nil {
		e := creds.Error(provider.ProviderTencent, "New", err, c.red.String)
		var none *creds.NoneError
		if errors.As(err, &none) {
			e.Message += "; set tencent.Config.SecretID and SecretKey, or the environment variables " +
				EnvSecretID + " and " + EnvSecretKey + " (plus " + EnvSessionToken + " for temporary credentials)"
		}
		return e
	}
	return nil
}

// prepare runs before each attempt: it refreshes the credentials when due
// (one refresh shared by all calls) and hands them to the leased SDK
// client, which reads them when it signs.
func (c *Client) prepare(ctx context.Context, sc *lh.Client) error {
	v, _, err := c.cache.Get(ctx)
	if err != nil {
		return creds.Error(provider.ProviderTencent, "", err, c.red.String)
	}
	sc.WithCredential(common.NewTokenCredential(v.ID, v.Secret, v.Token))
	return nil
}

// tokenExpired says whether an attempt's error is Lighthouse calling the
// temporary token expired (AuthFailure.TokenFailure; creds.Reauther).
func tokenExpired(raw error) bool {
	var se *sdkerrors.TencentCloudSDKError
	return errors.As(raw, &se) && se.Code == "AuthFailure.TokenFailure"
}

func (cs credSetup) fromEnv(context.Context) (creds.Value, error) {
	id, key := os.Getenv(EnvSecretID), os.Getenv(EnvSecretKey)
	if id == "" && key == "" {
		return creds.Value{}, creds.Skip(srcEnv, "%s and %s are not set", EnvSecretID, EnvSecretKey)
	}
	if id == "" || key == "" {
		set, unset := EnvSecretID, EnvSecretKey
		if id == "" {
			set, unset = unset, set
		}
		return creds.Value{}, provider.InvalidArgument(provider.ProviderTencent, "New", unset, "is empty but %s is set in the environment", set)
	}
	token := os.Getenv(EnvSessionToken)
	if token == "" {
		token = os.Getenv(EnvSecurityToken)
	}
	return creds.Value{ID: id, Secret: key, Token: token, Source: srcEnv}, nil
}

func (cs credSetup) profile() string {
	if cs.cfg.Profile != "" {
		return cs.cfg.Profile
	}
	if p := os.Getenv(EnvProfile); p != "" {
		return p
	}
	return "default"
}

// fromTCCLI reads tccli's profile: ~/.tccli/<profile>.credential, JSON
// with secretId, secretKey and (for temporary keys) token.
func (cs credSetup) fromTCCLI(context.Context) (creds.Value, error) {
	home, _ := os.UserHomeDir()
	path := filepath.Join(home, ".tccli", cs.profile()+".credential")
	b, err := os.ReadFile(path)
	if err != nil {
		return creds.Value{}, creds.Skip(srcTCCLI, "no file for profile %q", cs.profile())
	}
	var f struct{ SecretID, SecretKey, Token string }
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return creds.Value{}, creds.Fail(srcTCCLI, fmt.Errorf("profile %q is not JSON", cs.profile()))
	}
	f.SecretID, _ = raw["secretId"].(string)
	f.SecretKey, _ = raw["secretKey"].(string)
	f.Token, _ = raw["token"].(string)
	if f.SecretID == "" || f.SecretKey == "" {
		return creds.Value{}, creds.Fail(srcTCCLI, fmt.Errorf("profile %q has no secretId/secretKey", cs.profile()))
	}
	return creds.Value{ID: f.SecretID, Secret: f.SecretKey, Token: f.Token, Source: srcTCCLI + " " + strconv.Quote(cs.profile())}, nil
}

// fromINI reads the Tencent Cloud SDKs' credentials file: INI sections
// named after profiles, with secret_id, secret_key (and token).
func (cs credSetup) fromINI(context.Context) (creds.Value, error) {
	path := os.Getenv(EnvCredentialsFile)
	if path == "" {
		home, _ := os.UserHomeDir()
		path = filepath.Join(home, ".tencentcloud", "credentials")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv(EnvCredentialsFile) != "" {
			return creds.Value{}, creds.Fail(srcINI, fmt.Errorf("cannot read %s: %w", path, errors.Unwrap(err)))
		}
		return creds.Value{}, creds.Skip(srcINI, "no file")
	}
	vals := map[string]string{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			section = strings.TrimSpace(strings.Trim(line, "[]"))
		case section == cs.profile():
			if k, v, ok := strings.Cut(line, "="); ok {
				vals[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
	}
	v := creds.Value{ID: vals["secret_id"], Secret: vals["secret_key"], Token: vals["token"], Source: srcINI + " [" + cs.profile() + "]"}
	if v.ID == "" || v.Secret == "" {
		return creds.Value{}, creds.Skip(srcINI, "no secret_id/secret_key in [%s]", cs.profile())
	}
	return v, nil
}

// stsCredentials is the part of an STS reply (or the metadata service's)
// that carries credentials.
type stsCredentials struct {
	TmpSecretId, TmpSecretKey, Token string
	ExpiredTime                      int64
	Code                             string
	Credentials                      *stsCredentials
	Error                            *struct{ Code, Message string }
}

func (r *stsCredentials) value(src string) (creds.Value, error) {
	if r.Error != nil {
		return creds.Value{}, creds.Fail(src, fmt.Errorf("%s: %s", r.Error.Code, r.Error.Message))
	}
	c := *r
	if r.Credentials != nil {
		c.TmpSecretId, c.TmpSecretKey, c.Token = r.Credentials.TmpSecretId, r.Credentials.TmpSecretKey, r.Credentials.Token
	}
	if c.TmpSecretId == "" || c.TmpSecretKey == "" {
		return creds.Value{}, creds.Fail(src, errors.New("the reply carries no credentials"))
	}
	v := creds.Value{ID: c.TmpSecretId, Secret: c.TmpSecretKey, Token: c.Token, Source: src}
	if c.ExpiredTime != 0 {
		v.Expiry = time.Unix(c.ExpiredTime, 0).UTC()
	}
	return v, nil
}

// fromTKE exchanges TKE's OIDC token for the role's credentials with STS
// AssumeRoleWithWebIdentity, an unsigned call the pinned SDK does not have.
func (cs credSetup) fromTKE(ctx context.Context) (creds.Value, error) {
	region, provider, file, role := os.Getenv(EnvTKERegion), os.Getenv(EnvTKEProviderID), os.Getenv(EnvTKETokenFile), os.Getenv(EnvTKERoleARN)
	if provider == "" || file == "" || role == "" {
		return creds.Value{}, creds.Skip(srcTKE, "%s, %s and %s are not all set", EnvTKEProviderID, EnvTKETokenFile, EnvTKERoleARN)
	}
	tok, err := os.ReadFile(file)
	if err != nil {
		return creds.Value{}, creds.Fail(srcTKE, fmt.Errorf("cannot read the token file: %w", errors.Unwrap(err)))
	}
	ep, err := cs.STS()
	if err != nil {
		return creds.Value{}, err
	}
	if region == "" {
		region = cs.cfg.Region
	}
	body, _ := json.Marshal(map[string]any{
		"ProviderId": provider, "WebIdentityToken": strings.TrimSpace(string(tok)), "RoleArn": role,
		"RoleSessionName": cs.SessionName, "DurationSeconds": int(cs.Duration.Seconds()),
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL()+"/", bytes.NewReader(body))
	if err != nil {
		return creds.Value{}, creds.Fail(srcTKE, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "SKIP")
	req.Header.Set("X-TC-Action", "AssumeRoleWithWebIdentity")
	req.Header.Set("X-TC-Version", "2018-08-13")
	req.Header.Set("X-TC-Region", region)
	req.Header.Set("X-TC-Timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	var r struct{ Response stsCredentials }
	if err := cs.getJSON(req, &r, srcTKE); err != nil {
		return creds.Value{}, err
	}
	return r.Response.value(srcTKE + " for " + role)
}

func (cs credSetup) getJSON(req *http.Request, v any, src string) error {
	status, body, err := creds.ReadReply(cs.HTTPClient(), req, src)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return creds.Fail(src, creds.Unavailable(status, "reply"))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return creds.Fail(src, errors.New("unreadable reply"))
	}
	return nil
}

// fromMetadata asks the CVM (or Lighthouse) metadata service for the
// instance role's credentials.
func (cs credSetup) fromMetadata(ctx context.Context) (creds.Value, error) {
	base, err := creds.MetadataBase(srcMetadata, EnvMetadataDisabled, cs.cfg.MetadataEndpoint, DefaultMetadataEndpoint)
	if err != nil {
		return creds.Value{}, err
	}
	const path = "/latest/meta-data/cam/security-credentials/"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return creds.Value{}, creds.Fail(srcMetadata, err)
	}
	resp, err := cs.HTTPClient().Do(req)
	if err != nil {
		return creds.Value{}, creds.Skip(srcMetadata, "no metadata service at %s: %w", base, creds.NetReason(err))
	}
	name, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return creds.Value{}, creds.Skip(srcMetadata, "the instance has no CAM role")
	}
	if resp.StatusCode != http.StatusOK {
		return creds.Value{}, creds.Fail(srcMetadata, creds.Unavailable(resp.StatusCode, "role name"))
	}
	role := strings.TrimSpace(strings.SplitN(string(name), "\n", 2)[0])
	req, err = http.NewRequestWithContext(ctx, http.MethodGet, base+path+url.PathEscape(role), nil)
	if err != nil {
		return creds.Value{}, creds.Fail(srcMetadata, err)
	}
	var r stsCredentials
	if err := cs.getJSON(req, &r, srcMetadata+" role "+role); err != nil {
		return creds.Value{}, err
	}
	if r.Code != "" && r.Code != "Success" {
		return creds.Value{}, creds.Fail(srcMetadata, fmt.Errorf("role %s: %s", role, r.Code))
	}
	return r.value(srcMetadata + " role " + role)
}

// assumeRole calls STS AssumeRole through the SDK's own sts client, signed
// with the base credentials (themselves kept fresh by inner).
func (cs credSetup) assumeRole(inner *creds.Cache, region string) creds.Source {
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
		cpf := profile.NewClientProfile()
		cpf.HttpProfile.Endpoint = ep.Host
		cpf.HttpProfile.Scheme = strings.ToUpper(ep.Scheme)
		cpf.HttpProfile.ReqMethod = "POST"
		cpf.HttpProfile.ReqTimeout = int(math.Ceil(MetadataTimeout.Seconds())) + 10
		cpf.Language = "en-US"
		client, err := newSTSClient(common.NewTokenCredential(b.ID, b.Secret, b.Token), region, cpf)
		if err != nil {
			return creds.Value{}, creds.Fail(src, err)
		}
		binder := &sdkhttp.Binder{Base: cs.Transport, Timeout: 30 * time.Second}
		binder.Bind(ctx)
		defer binder.Bind(nil)
		client.WithHttpTransport(binder)
		req := sts.NewAssumeRoleRequest()
		req.RoleArn, req.RoleSessionName = common.StringPtr(cs.cfg.RoleARN), common.StringPtr(cs.SessionName)
		req.DurationSeconds = common.Uint64Ptr(uint64(cs.Duration.Seconds()))
		resp, err := client.AssumeRole(req)
		if err != nil {
			var se *sdkerrors.TencentCloudSDKError
			if errors.As(err, &se) {
				err = fmt.Errorf("%s: %s", se.Code, se.Message)
			}
			return creds.Value{}, creds.Fail(src+" (signed by "+b.Source+")", creds.NetReason(err))
		}
		if resp.Response == nil || resp.Response.Credentials == nil {
			return creds.Value{}, creds.Fail(src, errors.New("the reply carries no credentials"))
		}
		r := stsCredentials{Credentials: &stsCredentials{
			TmpSecretId: str(resp.Response.Credentials.TmpSecretId), TmpSecretKey: str(resp.Response.Credentials.TmpSecretKey),
			Token: str(resp.Response.Credentials.Token),
		}}
		if resp.Response.ExpiredTime != nil {
			r.ExpiredTime = *resp.Response.ExpiredTime
		}
		return r.value(src)
	}
}

func newSTSClient(cred *common.Credential, region string, cpf *profile.ClientProfile) (*sts.Client, error) {
	logMu.Lock()
	defer logMu.Unlock()
	return sts.NewClient(cred, region, cpf)
}

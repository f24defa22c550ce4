package tencent

import (
	"context"
	"log"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	lh "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/lighthouse/v20200324"

	"github.com/cloudsnap/rollback/internal/creds"
	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/invoke"
	"github.com/cloudsnap/rollback/provider/ratelimit"
	"github.com/cloudsnap/rollback/provider/redact"
	"github.com/cloudsnap/rollback/provider/sdkhttp"
)

// Client rolls back Lighthouse instances through the official SDK. One
// Client serves every allowed region and any number of goroutines.
type Client struct {
	region          string // default region
	regions         regionSet
	allowForcedStop bool
	endpoint        sdkhttp.Endpoint
	cache           *creds.Cache // the credentials, kept fresh
	transport       http.RoundTripper

	checkpoints provider.MemoryCheckpoints // Runs through this client; see Checkpoints
	opts        provider.Options
	quotas      map[provider.OperationKind]provider.RateLimit // declared in Capabilities
	red         *redact.Redactor
	inv         *invoke.Invoker

	mu    sync.Mutex
	pools map[string]*sdkhttp.Pool[*lh.Client] // per region: the SDK binds a client to one
}

var (
	_ provider.Provider               = (*Client)(nil)
	_ provider.BatchInspector         = (*Client)(nil)
	_ provider.BatchSnapshotInspector = (*Client)(nil)
	_ provider.PreflightRoller        = (*Client)(nil)
	_ provider.RollbackWitness        = (*Client)(nil)
	_ provider.RequestValidator       = (*Client)(nil)
)

// rules are Lighthouse's ID formats, checked before anything is sent.
var rules = provider.RequestRules{
	Provider: provider.ProviderTencent,
	Instance: provider.IDRule{Prefix: "lhins-", Kind: "a Lighthouse instance ID (lhins-...)", Required: true},
	Disk:     provider.IDRule{Prefix: "lhdisk-", Kind: "a Lighthouse disk ID (lhdisk-...)"},
	Snapshot: provider.IDRule{Prefix: "lhsnap-", Kind: "a Lighthouse snapshot ID (lhsnap-...)", Required: true},
}

// DefaultRateLimit is the cloud's limit, applied per action: 20 calls per
// second.
var DefaultRateLimit = provider.RateLimit{Calls: 20, Per: time.Second}

// New returns a Client. It checks the region, the credentials and the
// endpoint, and sends nothing.
func New(cfg Config, opts ...provider.Option) (*Client, error) {
	o := provider.ResolveOptions(opts...)
	c := &Client{
		checkpoints:     provider.MemoryCheckpoints{Max: provider.MemoryCheckpointsMax},
		region:          cfg.Region,
		regions:         newRegionSet(cfg),
		allowForcedStop: cfg.AllowForcedStop,
		opts:            o,
		quotas:          provider.QuotaEach(DefaultRateLimit), // Lighthouse's quota, per action
		pools:           map[string]*sdkhttp.Pool[*lh.Client]{},
	}
	if err := c.regions.check("New", cfg.Region); err != nil {
		return nil, err
	}
	c.red = redact.New()
	var err error
	host := DefaultHost
	if cfg.International {
		host = InternationalHost
	}
	c.endpoint, err = sdkhttp.ParseEndpoint(cfg.Endpoint, host, o.AllowInsecureHTTP)
	if err != nil {
		return nil, &provider.Error{Provider: provider.ProviderTencent, Op: "New", Kind: provider.ErrInvalidArgument, Field: "Endpoint", Message: err.Error()}
	}
	c.transport = o.Transport
	if c.transport == nil {
		c.transport = sdkhttp.NewTransport()
	}
	if err := c.setupCredentials(cfg); err != nil {
		return nil, err
	}
	limit := DefaultRateLimit
	if o.RateLimit != nil {
		limit = *o.RateLimit
	}
	c.inv = &invoke.Invoker{
		Provider: provider.ProviderTencent,
		Options:  o,
		Limits:   ratelimit.NewSet(limit.Calls, limit.Per, o.Clock),
		MapError: c.mapError,
		Reauth:   creds.Reauther{Cache: c.cache, Expired: tokenExpired},
	}
	// Build the default region's first SDK client now, so that the SDK's
	// change to the log flags (restored at once) happens while the host
	// program is still setting up, not in the middle of its work.
	_, release, err := c.pool(cfg.Region).Lease(context.Background())
	if err != nil {
		return nil, err
	}
	release()
	return c, nil
}

// Name returns "tencent".
func (c *Client) Name() string { return provider.ProviderTencent }

// Capabilities declares what the client offers beyond provider.Provider's
// methods: every optional part of the contract it implements.
func (c *Client) Capabilities() provider.Capabilities {
	return provider.Capabilities{
		Name: provider.ProviderTencent, BatchInstances: c, BatchSnapshots: c, Preflight: c,
		Validator: c, Priors: c, Witness: c, Checkpoints: &c.checkpoints, Quotas: c.quotas,
	}
}

// resolveRegion returns region, or the default region when empty, after
// checking it is allowed. A provider.Request must name its region, as on
// SWAS and in rollback.Run: a rollback is never aimed at a region by
// default (opApply is the op of the calls that take a Request).
func (c *Client) resolveRegion(op, region string) (string, error) {
	if region == "" && op == opApply {
		err := provider.CheckRegion(region)
		if e, ok := err.(*provider.Error); ok {
			e.Provider, e.Op = provider.ProviderTencent, op
		}
		return "", err
	}
	if region == "" {
		region = c.region
	}
	return region, c.regions.check(op, region)
}

func (c *Client) pool(region string) *sdkhttp.Pool[*lh.Client] {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.pools[region]
	if !ok {
		p = &sdkhttp.Pool[*lh.Client]{New: func(b *sdkhttp.Binder) (*lh.Client, error) { return c.newSDK(region, b) }, Prepare: c.prepare}
		c.pools[region] = p
	}
	return p
}

// newSDK builds an SDK client for region whose every request goes through b.
func (c *Client) newSDK(region string, b *sdkhttp.Binder) (*lh.Client, error) {
	b.Base, b.Timeout = c.transport, c.opts.CallTimeout
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = c.endpoint.Host
	cpf.HttpProfile.Scheme = strings.ToUpper(c.endpoint.Scheme)
	cpf.HttpProfile.ReqMethod = "POST"
	// The Binder enforces CallTimeout with a clear cause; the SDK's own
	// whole-second timeout is a backstop just behind it.
	cpf.HttpProfile.ReqTimeout = int(math.Ceil(c.opts.CallTimeout.Seconds())) + 1
	cpf.Language = "en-US"
	cpf.Debug = false // the SDK's debug dump prints the Authorization header
	// prepare gives the client the current credentials before each call.
	sc, err := newSDKClient(common.NewCredential("", ""), region, cpf)
	if err != nil {
		return nil, err
	}
	sc.WithHttpTransport(b)
	return sc, nil
}

// logMu serialises SDK client construction, whose Init calls
// log.SetFlags on the process-wide logger; we put the flags back at once.
var logMu sync.Mutex

func newSDKClient(cred *common.Credential, region string, cpf *profile.ClientProfile) (*lh.Client, error) {
	logMu.Lock()
	defer logMu.Unlock()
	flags := log.Flags()
	defer log.SetFlags(flags)
	return lh.NewClient(cred, region, cpf)
}

// call runs one API call on t (t.Region) through the invoker.
func (c *Client) call(ctx context.Context, t invoke.Target, op string, fn invoke.Attempt[*lh.Client]) (string, error) {
	rid, _, err := invoke.CallOn(ctx, c.inv, c.pool(t.Region), t, op, fn)
	return rid, err
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Checkpoints returns the client's in-memory store of Run checkpoints
// (Capabilities.Checkpoints): Runs through this client that name the same
// operation share it.
func (c *Client) Checkpoints() provider.Checkpointer { return &c.checkpoints }

// Close releases idle connections of the client's own transport (not one
// given with rollback.WithHTTPTransport). The Client stays usable.
func (c *Client) Close() error {
	if c.opts.Transport == nil {
		if t, ok := c.transport.(interface{ CloseIdleConnections() }); ok {
			t.CloseIdleConnections()
		}
	}
	return nil
}

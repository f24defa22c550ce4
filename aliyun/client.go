package aliyun

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	swas "github.com/aliyun/alibaba-cloud-sdk-go/services/swas-open"

	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/internal/creds"
	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/invoke"
	"github.com/cloudsnap/rollback/provider/ratelimit"
	"github.com/cloudsnap/rollback/provider/redact"
	"github.com/cloudsnap/rollback/provider/sdkhttp"
)

// Client is a SWAS client. It implements provider.Provider,
// provider.BatchInspector, provider.BatchSnapshotInspector,
// provider.DiskInspector, provider.RequestValidator and provider.OperationMarker (declared
// by Capabilities), and is safe for concurrent use by many goroutines.
type Client struct {
	region          string
	endpoint        sdkhttp.Endpoint
	defaultEndpoint bool
	creds           credentials.CredentialsProvider
	cache           *creds.Cache // the credentials, kept fresh
	transport       http.RoundTripper
	opts            provider.Options

	checkpoints provider.MemoryCheckpoints // Runs through this client; see Checkpoints
	clk         clock.Clock
	redactor    *redact.Redactor
	inv         *invoke.Invoker
	seen        markReadings // OperationMark's last readings, for MarkOperation
	quotas      map[provider.OperationKind]provider.RateLimit
	// The SDK client is not safe for concurrent use, so each call in
	// flight borrows one of its own.
	pool sdkhttp.Pool[*swas.Client]
}

var (
	_ provider.Provider               = (*Client)(nil)
	_ provider.BatchInspector         = (*Client)(nil)
	_ provider.BatchSnapshotInspector = (*Client)(nil)
	_ provider.DiskInspector          = (*Client)(nil)
	_ provider.PreflightRoller        = (*Client)(nil)
	_ provider.RollbackWitness        = (*Client)(nil)
	_ provider.RequestValidator       = (*Client)(nil)
)

// Default client-side rate limit of the mutating actions: SWAS allows 10
// calls per minute per account for each of them.
const (
	DefaultRateLimitCalls = 10
	// DefaultThrottleBaseDelay is the first back-off after Throttling.User:
	// one slot of the 10-per-minute quota.
	DefaultThrottleBaseDelay = 6 * time.Second
	DefaultRateLimitPer      = time.Minute
)

// limited are the actions under SWAS's per-account quota.
var limited = map[string]bool{
	opResetDisk: true, opStopInstance: true, opStartInstance: true, opCreateSnapshot: true,
}

// API actions, as they appear in Error.Op and logs.
const (
	opResetDisk          = "ResetDisk"
	opListInstances      = "ListInstances"
	opListDisks          = "ListDisks"
	opListSnapshots      = "ListSnapshots"
	opStopInstance       = "StopInstance"
	opStartInstance      = "StartInstance"
	opCreateSnapshot     = "CreateSnapshot"
	opListInstanceStatus = "ListInstanceStatus"
)

// DefaultRetryPolicy is the SWAS client's retry policy unless an Option
// sets another: the library defaults with DefaultThrottleBaseDelay and 8
// attempts, enough to outlast a one-minute quota window that another
// process filled.
var DefaultRetryPolicy = provider.RetryPolicy{ThrottleBaseDelay: DefaultThrottleBaseDelay, MaxAttempts: 8}

// New returns a Client. Region is required; credentials come from cfg or
// the ALIBABA_CLOUD_* environment variables (else ErrUnauthenticated, with
// the variables named). Options set retries, rate limits, the clock, the
// logger, the HTTP transport and timeouts.
func New(cfg Config, opts ...provider.Option) (*Client, error) {
	if err := provider.CheckRegion(cfg.Region); err != nil {
		return nil, stamp(err, "New")
	}
	// SWAS counts its quota per minute: after a throttle, the next slot is
	// seconds away, not milliseconds. Callers' own retry options still win.
	o := provider.ResolveOptions(append([]provider.Option{func(o *provider.Options) { o.Retry = DefaultRetryPolicy }}, opts...)...)
	ep, err := sdkhttp.ParseEndpoint(cfg.Endpoint, defaultHost(cfg.Region), o.AllowInsecureHTTP)
	if err != nil {
		return nil, provider.InvalidArgument(provider.ProviderAliyun, "New", "Endpoint", "%s",
			strings.TrimPrefix(err.Error(), "Endpoint "))
	}
	c := &Client{
		checkpoints:     provider.MemoryCheckpoints{Max: provider.MemoryCheckpointsMax},
		region:          cfg.Region,
		endpoint:        ep,
		defaultEndpoint: strings.TrimSpace(cfg.Endpoint) == "",
		transport:       o.Transport,
		opts:            o,
		clk:             o.Clock,
		redactor:        redact.New(),
		// SWAS's quota, which the default RateLimit paces to.
		quotas: provider.QuotaEach(provider.RateLimit{Calls: DefaultRateLimitCalls, Per: DefaultRateLimitPer}),
	}
	if c.transport == nil {
		c.transport = sdkhttp.NewTransport()
	}
	if err := c.setupCredentials(cfg); err != nil {
		return nil, err
	}
	c.pool.New = c.newSDKClient
	c.pool.Prepare = c.prepare
	c.inv = &invoke.Invoker{
		Provider: provider.ProviderAliyun,
		Options:  o,
		Limits:   rateLimits(o),
		Limited:  func(op string) bool { return limited[op] },
		MapError: c.mapError,
		Reauth:   creds.Reauther{Cache: c.cache, Expired: tokenExpired},
		// The SDK panics on an error reply whose fields are not strings
		// (a gateway's {"Code":500}): an unreadable reply, not a crash.
		Recover: func(op string, v any) error {
			return sdkerrors.NewClientError("SDK.JsonUnmarshalError", fmt.Sprintf("the SDK could not read the reply to %s: %v", op, v), nil)
		},
	}
	return c, nil
}

// Name returns "aliyun".
func (c *Client) Name() string { return provider.ProviderAliyun }

// Capabilities declares what the client offers beyond provider.Provider's
// methods: every optional part of the contract it implements.
func (c *Client) Capabilities() provider.Capabilities {
	return provider.Capabilities{
		Name: provider.ProviderAliyun, BatchInstances: c, BatchSnapshots: c, Disks: c, Marker: c, Preflight: c,
		Validator: c, Priors: c, Witness: c, Checkpoints: &c.checkpoints, Quotas: c.quotas,
	}
}

func defaultHost(region string) string { return "swas." + region + ".aliyuncs.com" }

func rateLimits(o provider.Options) *ratelimit.Set {
	if o.RateLimit == nil {
		return ratelimit.NewSet(DefaultRateLimitCalls, DefaultRateLimitPer, o.Clock)
	}
	if o.RateLimit.Calls <= 0 || o.RateLimit.Per <= 0 {
		return nil
	}
	return ratelimit.NewSet(o.RateLimit.Calls, o.RateLimit.Per, o.Clock)
}

// newSDKClient builds one SDK client over b. Every setting that the SDK
// would otherwise default dangerously is explicit: the scheme (its default
// is plain HTTP), the domain (without one it asks the location service),
// auto-retry (ours is the only retry layer), client-level timeouts (a
// per-request timeout would stick to the client), tracing (its spans are
// named after the signed URL).
func (c *Client) newSDKClient(b *sdkhttp.Binder) (*swas.Client, error) {
	b.Base, b.Timeout = c.transport, c.opts.CallTimeout
	cfg := sdk.NewConfig().
		WithScheme(strings.ToUpper(c.endpoint.Scheme)).
		WithAutoRetry(false).
		WithMaxRetryTime(0)
	// A Binder is not an *http.Transport, so the SDK leaves it alone
	// (it rewrites the dialer, TLS config and proxy of *http.Transport).
	cfg.Transport = b
	sc, err := swas.NewClientWithOptions(c.region, cfg, c.creds)
	if err != nil {
		return nil, err
	}
	sc.Domain = c.endpoint.Host
	// The Binder's per-attempt timeout fires first; the SDK's is a
	// backstop.
	sc.SetReadTimeout(c.opts.CallTimeout + time.Second)
	sc.SetConnectTimeout(min(c.opts.CallTimeout, 10*time.Second))
	sc.SetCloseTrace(true)
	return sc, nil
}

// target addresses one request: region, domain and scheme, always
// explicit.
func (c *Client) target(r *requests.RpcRequest, region string) {
	r.RegionId = region
	r.Scheme = strings.ToUpper(c.endpoint.Scheme)
	r.Domain = c.endpoint.Host
	if c.defaultEndpoint {
		r.Domain = defaultHost(region)
	}
}

// stamp sets the provider and op of a validation error from the root
// package.
func stamp(err error, op string) error {
	if e, ok := err.(*provider.Error); ok {
		e.Provider = provider.ProviderAliyun
		if e.Op == "" {
			e.Op = op
		}
	}
	return err
}

// Close releases the client's idle connections, like tencent.Client.Close;
// the client stays usable. It always returns nil.
func (c *Client) Close() error {
	c.CloseIdleConnections()
	return nil
}

// Checkpoints returns the client's in-memory store of Run checkpoints
// (Capabilities.Checkpoints): Runs through this client that name the same
// operation share it.
func (c *Client) Checkpoints() provider.Checkpointer { return &c.checkpoints }

// CloseIdleConnections closes the idle keep-alive connections of the
// client's HTTP transport (when it has any to close), e.g. before a test
// checks for leaked goroutines. The client stays usable.
func (c *Client) CloseIdleConnections() {
	if t, ok := c.transport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
}

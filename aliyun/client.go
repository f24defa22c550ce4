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

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/internal/creds"
	"github.com/cloudsnap/rollback/internal/invoke"
	"github.com/cloudsnap/rollback/internal/ratelimit"
	"github.com/cloudsnap/rollback/internal/redact"
	"github.com/cloudsnap/rollback/internal/sdkhttp"
)

// Client is a SWAS client. It implements rollback.Provider,
// rollback.BatchInspector, rollback.BatchSnapshotInspector,
// rollback.DiskInspector, rollback.RequestValidator and rollback.Namer, and
// is safe for concurrent use by many goroutines.
type Client struct {
	region          string
	endpoint        sdkhttp.Endpoint
	defaultEndpoint bool
	creds           credentials.CredentialsProvider
	cache           *creds.Cache // the credentials, kept fresh
	transport       http.RoundTripper
	opts            rollback.Options

	checkpoints rollback.MemoryCheckpoints // Runs through this client; see Checkpoints
	clk         clock.Clock
	redactor    *redact.Redactor
	inv         *invoke.Invoker
	// The SDK client is not safe for concurrent use, so each call in
	// flight borrows one of its own.
	pool sdkhttp.Pool[*swas.Client]
}

var (
	_ rollback.Provider               = (*Client)(nil)
	_ rollback.BatchInspector         = (*Client)(nil)
	_ rollback.BatchSnapshotInspector = (*Client)(nil)
	_ rollback.DiskInspector          = (*Client)(nil)
	_ rollback.PreflightRoller        = (*Client)(nil)
	_ rollback.RollbackWitness        = (*Client)(nil)
	_ rollback.RequestValidator       = (*Client)(nil)
	_ rollback.CheckpointHolder       = (*Client)(nil)
	_ rollback.Namer                  = (*Client)(nil)
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
var DefaultRetryPolicy = rollback.RetryPolicy{ThrottleBaseDelay: DefaultThrottleBaseDelay, MaxAttempts: 8}

// New returns a Client. Region is required; credentials come from cfg or
// the ALIBABA_CLOUD_* environment variables (else ErrUnauthenticated, with
// the variables named). Options set retries, rate limits, the clock, the
// logger, the HTTP transport and timeouts.
func New(cfg Config, opts ...rollback.Option) (*Client, error) {
	if err := rollback.CheckRegion(cfg.Region); err != nil {
		return nil, stamp(err, "New")
	}
	// SWAS counts its quota per minute: after a throttle, the next slot is
	// seconds away, not milliseconds. Callers' own retry options still win.
	o := rollback.ResolveOptions(append([]rollback.Option{rollback.WithRetryPolicy(DefaultRetryPolicy)}, opts...)...)
	ep, err := sdkhttp.ParseEndpoint(cfg.Endpoint, defaultHost(cfg.Region), o.AllowInsecureHTTP)
	if err != nil {
		return nil, rollback.InvalidArgument(rollback.ProviderAliyun, "New", "Endpoint", "%s",
			strings.TrimPrefix(err.Error(), "Endpoint "))
	}
	c := &Client{
		checkpoints:     rollback.MemoryCheckpoints{Max: rollback.MemoryCheckpointsMax},
		region:          cfg.Region,
		endpoint:        ep,
		defaultEndpoint: strings.TrimSpace(cfg.Endpoint) == "",
		transport:       o.Transport,
		opts:            o,
		clk:             o.Clock,
		redactor:        redact.New(),
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
		Provider: rollback.ProviderAliyun,
		Options:  o,
		Limits:   rateLimits(o),
		Limited:  func(op string) bool { return limited[op] },
		MapError: c.mapError,
		Reauth:   reauther{c.cache},
		// The SDK panics on an error reply whose fields are not strings
		// (a gateway's {"Code":500}): an unreadable reply, not a crash.
		Recover: func(op string, v any) error {
			return sdkerrors.NewClientError("SDK.JsonUnmarshalError", fmt.Sprintf("the SDK could not read the reply to %s: %v", op, v), nil)
		},
	}
	return c, nil
}

// Name returns "aliyun".
func (c *Client) Name() string { return rollback.ProviderAliyun }

func defaultHost(region string) string { return "swas." + region + ".aliyuncs.com" }

func rateLimits(o rollback.Options) *ratelimit.Set {
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
	if e, ok := err.(*rollback.Error); ok {
		e.Provider = rollback.ProviderAliyun
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
// (rollback.CheckpointHolder): Runs through this client that name the same
// operation share it.
func (c *Client) Checkpoints() rollback.Checkpointer { return &c.checkpoints }

// CloseIdleConnections closes the idle keep-alive connections of the
// client's HTTP transport (when it has any to close), e.g. before a test
// checks for leaked goroutines. The client stays usable.
func (c *Client) CloseIdleConnections() {
	if t, ok := c.transport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
}

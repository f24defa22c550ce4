package acme

import (
	"context"
	"net/http"
	"os"
	"time"

	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/invoke"
	"github.com/cloudsnap/rollback/provider/ratelimit"
	"github.com/cloudsnap/rollback/provider/redact"
	"github.com/cloudsnap/rollback/provider/sdkhttp"
)

// Name is the provider's name in Results, Instances and errors.
const Name = "acme"

// DefaultHost is the public API host.
const DefaultHost = "api.acme-compute.example"

// Environment variables read when Config has no credentials.
const (
	EnvKeyID  = "ACME_KEY_ID"
	EnvSecret = "ACME_SECRET"
)

// DefaultRateLimit is the client's pace of each mutating action: Acme
// allows 20 calls per second per action; the client stays at half.
var DefaultRateLimit = provider.RateLimit{Calls: 10, Per: time.Second}

// Config says where and as whom a Client calls Acme Compute.
type Config struct {
	// Region is the default region of read and lifecycle calls whose region
	// is empty, e.g. "eu-west" (a provider.Request must name its own).
	// Required.
	Region string
	// Endpoint overrides the API host: "http://127.0.0.1:8080" for the
	// emulator. Plain http is accepted only for loopback hosts unless
	// provider option WithInsecureHTTP is given. Empty means
	// https://DefaultHost.
	Endpoint string
	// KeyID and Secret sign the calls. When both are empty the environment's
	// ACME_KEY_ID and ACME_SECRET are used.
	KeyID, Secret string
}

// Client rolls back Acme Compute servers. One Client serves any number of
// goroutines; it implements provider.Provider.
type Client struct {
	region   string
	endpoint sdkhttp.Endpoint
	keyID    string
	secret   string
	redactor *redact.Redactor // the secret out of texts from outside (a proxy could echo it)

	transport   http.RoundTripper
	opts        provider.Options
	inv         *invoke.Invoker
	pool        *sdkhttp.Pool[*wire]
	checkpoints provider.MemoryCheckpoints
}

var (
	_ provider.Provider               = (*Client)(nil)
	_ provider.BatchInspector         = (*Client)(nil)
	_ provider.BatchSnapshotInspector = (*Client)(nil)
	_ provider.PreflightRoller        = (*Client)(nil)
	_ provider.RequestValidator       = (*Client)(nil)
	_ provider.RollbackWitness        = (*Client)(nil)
	_ provider.WaitPriors             = (*Client)(nil)
)

// rules are Acme's ID formats, checked before anything is sent.
var rules = provider.RequestRules{
	Provider: Name,
	Instance: provider.IDRule{Prefix: "srv-", Kind: "an Acme server ID (srv-...)", Required: true},
	Disk:     provider.IDRule{Prefix: "vol-", Kind: "an Acme volume ID (vol-...)"},
	Snapshot: provider.IDRule{Prefix: "snap-", Kind: "an Acme snapshot ID (snap-...)", Required: true},
}

// New returns a Client. It checks the region, the credentials and the
// endpoint, and sends nothing.
func New(cfg Config, opts ...provider.Option) (*Client, error) {
	o := provider.ResolveOptions(opts...)
	if err := provider.CheckRegion(cfg.Region); err != nil {
		return nil, stamp(err, "New")
	}
	ep, err := sdkhttp.ParseEndpoint(cfg.Endpoint, DefaultHost, o.AllowInsecureHTTP)
	if err != nil {
		return nil, &provider.Error{Provider: Name, Op: "New", Kind: provider.ErrInvalidArgument, Field: "Endpoint", Message: err.Error(), Hint: "nothing was sent"}
	}
	keyID, secret := cfg.KeyID, cfg.Secret
	from := "acme.Config"
	if keyID == "" && secret == "" {
		keyID, secret, from = os.Getenv(EnvKeyID), os.Getenv(EnvSecret), "the environment"
		if keyID == "" && secret == "" {
			return nil, &provider.Error{Provider: Name, Op: "New", Kind: provider.ErrUnauthenticated,
				Message: "no credentials: set acme.Config.KeyID and Secret, or " + EnvKeyID + " and " + EnvSecret}
		}
	}
	switch {
	case keyID == "":
		return nil, provider.InvalidArgument(Name, "New", "KeyID", "is empty but the secret is set in %s", from)
	case secret == "":
		return nil, provider.InvalidArgument(Name, "New", "Secret", "is empty but the key ID is set in %s", from)
	}
	c := &Client{
		region: cfg.Region, endpoint: ep, keyID: keyID, secret: secret,
		redactor:    redact.New(secret),
		opts:        o,
		checkpoints: provider.MemoryCheckpoints{Max: provider.MemoryCheckpointsMax},
	}
	c.transport = o.Transport
	if c.transport == nil {
		c.transport = sdkhttp.NewTransport()
	}
	limit := DefaultRateLimit
	if o.RateLimit != nil {
		limit = *o.RateLimit
	}
	c.pool = &sdkhttp.Pool[*wire]{New: c.newWire}
	// The call path paces the mutating actions, each in its own window (or
	// through Options.Limiter, shared by replicas).
	c.inv = &invoke.Invoker{Provider: Name, Options: o, MapError: c.mapError,
		Limits: ratelimit.NewSet(limit.Calls, limit.Per, o.Clock), Limited: func(op string) bool { return opKinds[op] != "" }}
	return c, nil
}

func (c *Client) newWire(b *sdkhttp.Binder) (*wire, error) {
	b.Base, b.Timeout = c.transport, c.opts.CallTimeout
	return &wire{http: &http.Client{Transport: b}, endpoint: c.endpoint, keyID: c.keyID, secret: c.secret, now: c.opts.Clock.Now}, nil
}

// Capabilities declares every optional part of the contract the client
// implements.
func (c *Client) Capabilities() provider.Capabilities {
	return provider.Capabilities{
		Name: Name, BatchInstances: c, BatchSnapshots: c, Preflight: c,
		Validator: c, Priors: c, Witness: c, Checkpoints: &c.checkpoints,
		// The client's own pace, half of Acme's quota: tools that spread
		// calls over many processes then keep the same margin.
		Quotas: provider.QuotaEach(DefaultRateLimit),
	}
}

// Close releases idle connections of the client's own transport (not one
// given with WithHTTPTransport). The Client stays usable.
func (c *Client) Close() error {
	if c.opts.Transport == nil {
		if t, ok := c.transport.(interface{ CloseIdleConnections() }); ok {
			t.CloseIdleConnections()
		}
	}
	return nil
}

// resolveRegion returns region, or the Config's when empty; a call that
// takes a Request (opRestore) must name its region.
func (c *Client) resolveRegion(op, region string) (string, error) {
	if region == "" && op != opRestore {
		region = c.region
	}
	if err := provider.CheckRegion(region); err != nil {
		return "", stamp(err, op)
	}
	return region, nil
}

// call runs one read through the invoker.
func call[T any](ctx context.Context, c *Client, t invoke.Target, op string, in any) (*T, string, error) {
	var out *T
	rid, _, err := invoke.CallOn(ctx, c.inv, c.pool, t, op, func(ctx context.Context, _ int, w *wire) (string, error) {
		v := new(T)
		id, err := w.do(ctx, op, in, v)
		if err != nil {
			return "", err
		}
		if id == "" {
			return "", &badReply{msg: "the reply names no request (an empty body?)"}
		}
		out = v
		return id, nil
	})
	return out, rid, err
}

// stamp sets the provider and op of a validation error.
func stamp(err error, op string) error {
	if e, ok := err.(*provider.Error); ok {
		e.Provider, e.Op = Name, op
	}
	return err
}

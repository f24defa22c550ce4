package memprovider

import (
	"context"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/emulator"
	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/invoke"
	"github.com/cloudsnap/rollback/provider/ratelimit"
	"github.com/cloudsnap/rollback/provider/sdkhttp"
)

// Name is the provider's name (Result.Provider, Error.Provider,
// Report.Provider).
const Name = "mem"

// DefaultRegion is the region a Provider serves and seeds into unless told
// otherwise.
const DefaultRegion = "mem-1"

// Durations are how long operations take on the provider's clock.
type Durations struct {
	Stop, Start, Rollback, Snapshot time.Duration
}

// DefaultDurations are the operations' durations unless WithDurations says
// otherwise: of the order of the clouds' own.
var DefaultDurations = Durations{Stop: 20 * time.Second, Start: 25 * time.Second, Rollback: 60 * time.Second, Snapshot: 90 * time.Second}

// Provider is an in-memory cloud and its client in one value: it
// implements rollback.Provider and the optional interfaces Run uses, and
// has methods to seed it, inject faults, act as someone else and count
// what happened. Safe for concurrent use.
type Provider struct {
	opts        provider.Options
	clk         clock.Clock
	region      string
	dur         Durations
	inv         *invoke.Invoker
	pool        sdkhttp.Pool[struct{}]
	checkpoints provider.MemoryCheckpoints

	faults  emulator.Faults
	hooks   emulator.Hooks
	journal emulator.Journal
	quota   emulator.RateLimiter
	window  emulator.RateWindow
	quotas  map[provider.OperationKind]provider.RateLimit // window, declared

	mu            sync.Mutex
	regions       map[string]bool
	instances     map[string]*instance
	disks         map[string]*instance // by system disk ID
	snapshots     map[string]*snapshot
	seq, reqSeq   int
	readLag       time.Duration
	failRollbacks int
	snapQuota     int
	tokens        map[string]string // client token -> request ID of the call that applied it; nil: tokens off
}

// The optional interfaces of the contract, all declared by Capabilities.
var (
	_ provider.Provider               = (*Provider)(nil)
	_ provider.BatchInspector         = (*Provider)(nil)
	_ provider.BatchSnapshotInspector = (*Provider)(nil)
	_ provider.DiskInspector          = (*Provider)(nil)
	_ provider.PreflightRoller        = (*Provider)(nil)
	_ provider.RollbackWitness        = (*Provider)(nil)
	_ provider.OperationMarker        = (*Provider)(nil)
	_ provider.RequestValidator       = (*Provider)(nil)
	_ provider.WaitPriors             = (*Provider)(nil)
)

// Option configures a Provider. The zero configuration is useful: region
// DefaultRegion, DefaultDurations, the wall clock, no quota, no read lag.
type Option func(*config)

type config struct {
	clk       clock.Clock
	region    string
	regions   []string
	dur       Durations
	readLag   time.Duration
	window    emulator.RateWindow
	snapQuota int
	tokens    bool
	client    []provider.Option
}

// WithClock runs the provider's operations, and its client's retries,
// rate limit and read grace, on c. Tests pass clock.NewAutoVirtual: runs
// then take no wall time and always go the same way.
func WithClock(c clock.Clock) Option { return func(o *config) { o.clk = c } }

// WithRegion sets the default region: where seeds go and what an empty
// region means in reads (default DefaultRegion).
func WithRegion(region string) Option { return func(o *config) { o.region = region } }

// WithRegions adds regions the provider serves besides the default one. A
// call to any other region is ErrInvalidArgument.
func WithRegions(regions ...string) Option {
	return func(o *config) { o.regions = append(o.regions, regions...) }
}

// WithDurations sets how long operations take; zero fields keep
// DefaultDurations'.
func WithDurations(d Durations) Option { return func(o *config) { o.dur = d } }

// WithReadLag makes reads lag writes by d (see SetReadLag).
func WithReadLag(d time.Duration) Option { return func(o *config) { o.readLag = d } }

// WithQuota makes the provider throttle each mutating action beyond calls
// per per (a sliding window, like the clouds' quotas): the call fails with
// ErrThrottled and nothing is applied. The client keeps to the same limit
// unless rollback.WithRateLimit says otherwise.
func WithQuota(calls int, per time.Duration) Option {
	return func(o *config) { o.window = emulator.RateWindow{Limit: calls, Per: per} }
}

// WithSnapshotQuota limits the snapshots a disk may have (0: no limit);
// CreateSnapshot beyond it is ErrQuotaExceeded.
func WithSnapshotQuota(n int) Option { return func(o *config) { o.snapQuota = n } }

// WithClientTokens makes the provider honour a rollback's client token, as
// SWAS does: a rollback with a token it has applied before is not applied
// again, and is answered with the first call's request ID (until
// ForgetTokens). Its client then resends within a call without proof, as
// the SWAS client does. Without it, as on Lighthouse, the token only
// names the operation and exactly-once comes from evidence.
func WithClientTokens() Option { return func(o *config) { o.tokens = true } }

// WithClientOptions configures the provider's client half as any
// provider client is configured: retry policy, hooks, logger, read grace,
// rate limit, retry budget, call timeout. A clock given here is ignored:
// WithClock sets both halves.
func WithClientOptions(opts ...provider.Option) Option {
	return func(o *config) { o.client = append(o.client, opts...) }
}

// New returns an empty Provider.
func New(opts ...Option) *Provider {
	cfg := config{region: DefaultRegion}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	cfg.clk = clock.Or(cfg.clk)
	d := DefaultDurations
	for _, f := range []struct{ dst, src *time.Duration }{
		{&d.Stop, &cfg.dur.Stop}, {&d.Start, &cfg.dur.Start}, {&d.Rollback, &cfg.dur.Rollback}, {&d.Snapshot, &cfg.dur.Snapshot},
	} {
		if *f.src > 0 {
			*f.dst = *f.src
		}
	}
	o := provider.ResolveOptions(append(cfg.client, func(o *provider.Options) { o.Clock = cfg.clk })...)
	p := &Provider{
		opts: o, clk: cfg.clk, region: cfg.region, dur: d,
		checkpoints: provider.MemoryCheckpoints{Max: provider.MemoryCheckpointsMax},
		window:      cfg.window, quotas: provider.QuotaEach(provider.RateLimit{Calls: cfg.window.Limit, Per: cfg.window.Per}),
		readLag: cfg.readLag, snapQuota: cfg.snapQuota,
		regions:   map[string]bool{cfg.region: true},
		instances: map[string]*instance{}, disks: map[string]*instance{}, snapshots: map[string]*snapshot{},
	}
	if cfg.tokens {
		p.tokens = map[string]string{}
	}
	for _, r := range cfg.regions {
		p.regions[r] = true
	}
	p.quota.Clock = cfg.clk
	p.pool.New = func(*sdkhttp.Binder) (struct{}, error) { return struct{}{}, nil }
	limit := provider.RateLimit{Calls: cfg.window.Limit, Per: cfg.window.Per}
	if o.RateLimit != nil {
		limit = *o.RateLimit
	}
	p.inv = &invoke.Invoker{
		Provider: Name, Options: o, MapError: p.mapError,
		Limits:  ratelimit.NewSet(limit.Calls, limit.Per, cfg.clk),
		Limited: func(op string) bool { return mutating[op] },
	}
	return p
}

// Scheme is the URL scheme rollback.Open knows this package by: "mem://".
const Scheme = "mem"

// Open returns a new Provider for a "mem://" URL (rollback.Open's opener
// for Scheme): the host, if any, is the default region ("mem://eu-1");
// the query may set servers=N (seed N stopped servers, each with a ready
// snapshot of its disk, named as AddServer names them: ins-000001,
// disk-000001, snap-000002, then ins-000003...), lag=DURATION (read lag)
// and scale=F (operations take 1/F of DefaultDurations; default 1). It
// runs on the wall clock, as the program that opens it does; opts
// configure its client half (WithClientOptions). Every call opens a new
// provider, as gocloud's memblob does. Errors name a bad parameter without
// quoting its value, as rollback.Open's do.
func Open(ctx context.Context, u *url.URL, opts ...provider.Option) (provider.Provider, error) {
	bad := func(field, format string, args ...any) error {
		return provider.InvalidArgument(Name, "Open", field, format, args...)
	}
	if u == nil || u.Scheme != Scheme {
		return nil, bad("URL", "is not a %s:// URL", Scheme)
	}
	mopts := []Option{WithClientOptions(opts...)}
	if u.Host != "" {
		if err := provider.CheckRegion(u.Host); err != nil {
			return nil, bad("URL", "has a host that is not a region name (lower-case letters, digits and hyphens)")
		}
		mopts = append(mopts, WithRegion(u.Host))
	}
	if u.User != nil || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return nil, bad("URL", "has user information, a path or a fragment; %s:// takes only a region and a query", Scheme)
	}
	servers := 0
	q := u.Query()
	// In order, so that of several mistakes the same one is reported.
	for _, k := range slices.Sorted(maps.Keys(q)) {
		v := q[k][len(q[k])-1]
		switch k {
		case "servers":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 100000 {
				return nil, bad("servers", "is not a number of servers (0 to 100000)")
			}
			servers = n
		case "scale":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || !(f >= 1 && f <= 1e6) {
				return nil, bad("scale", "is not a speed-up factor (1 to 1e6)")
			}
			d := DefaultDurations
			mopts = append(mopts, WithDurations(Durations{Stop: scaled(d.Stop, f), Start: scaled(d.Start, f), Rollback: scaled(d.Rollback, f), Snapshot: scaled(d.Snapshot, f)}))
		case "lag":
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return nil, bad("lag", "is not a duration (e.g. 2s)")
			}
			mopts = append(mopts, WithReadLag(d))
		default:
			return nil, bad("URL", "has an unknown parameter %q (known: lag, scale, servers)", k)
		}
	}
	p := New(mopts...)
	for i := 0; i < servers; i++ {
		if _, err := p.AddServer(ServerSpec{}); err != nil {
			return nil, err
		}
	}
	return p, ctx.Err()
}

func scaled(d time.Duration, f float64) time.Duration {
	return max(time.Duration(float64(d)/f), time.Millisecond)
}

func init() { provider.Register(Scheme, Open) }

// Name returns "mem".
func (p *Provider) Name() string { return Name }

// Capabilities declares every optional part of the contract: the provider
// implements them all, so a user's test exercises every path Run has.
func (p *Provider) Capabilities() provider.Capabilities {
	return provider.Capabilities{
		Name: Name, BatchInstances: p, BatchSnapshots: p, Disks: p, Preflight: p,
		Validator: p, Priors: p, Witness: p, Marker: p, Checkpoints: &p.checkpoints,
		Quotas: p.quotas,
	}
}

// Region returns the default region.
func (p *Provider) Region() string { return p.region }

// Durations returns how long operations take.
func (p *Provider) Durations() Durations { return p.dur }

// Clock returns the provider's clock.
func (p *Provider) Clock() clock.Clock { return p.clk }

// Close does nothing: the provider holds no connections. It is there for
// programs that close whatever rollback.Open gave them.
func (p *Provider) Close() error { return nil }

// Checkpoints returns the provider's in-memory store of Run checkpoints
// (Capabilities.Checkpoints), as the cloud clients have.
func (p *Provider) Checkpoints() provider.Checkpointer { return &p.checkpoints }

// WaitPrior implements provider.WaitPriors from the operations' durations.
func (p *Provider) WaitPrior(op string) (lo, hi time.Duration, ok bool) {
	var d time.Duration
	switch op {
	case "instance-stopped":
		d = p.dur.Stop
	case "instance-running":
		d = p.dur.Start
	case "rollback":
		d = p.dur.Rollback
	case "snapshot":
		d = p.dur.Snapshot
	default:
		return 0, 0, false
	}
	return d * 3 / 4, d * 5 / 4, true
}

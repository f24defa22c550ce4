package aliyuntest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/emulator"
)

// Re-exported from the shared emulator machinery so that users never import
// an internal package.
type (
	// Fault is a failure injected into the calls of one action; see AddFault.
	Fault = emulator.Fault
	// Entry is one request as the emulator saw and answered it.
	Entry = emulator.Entry
	// Journal records every request.
	Journal = emulator.Journal
	// RateWindow is a quota: at most Limit calls in any window of Per.
	RateWindow = emulator.RateWindow
)

// Defaults of a new Server.
const (
	DefaultRegion          = "cn-hangzhou"
	DefaultAccessKeyID     = "LTAI5tEmulatorAccessKeyID"
	DefaultAccessKeySecret = "emulator-access-key-secret-0123456789"
	// APIVersion is the only SWAS API version the emulator speaks.
	APIVersion = "2020-06-01"
	// MaxTimestampSkew is how far a request's Timestamp may be from the
	// wall clock, as on the real gateway.
	MaxTimestampSkew = 15 * time.Minute
	// DefaultSnapshotQuota is SWAS's documented limit of snapshots per
	// server.
	DefaultSnapshotQuota = 3
)

// Actions the emulator implements.
const (
	ActionResetDisk          = "ResetDisk"
	ActionListInstances      = "ListInstances"
	ActionListInstanceStatus = "ListInstanceStatus"
	ActionListDisks          = "ListDisks"
	ActionListSnapshots      = "ListSnapshots"
	ActionStopInstance       = "StopInstance"
	ActionStartInstance      = "StartInstance"
	ActionCreateSnapshot     = "CreateSnapshot"
	ActionDeleteSnapshot     = "DeleteSnapshot"
)

// Credential is an access key the server accepts.
type Credential struct {
	AccessKeyID     string
	AccessKeySecret string
	// SecurityToken, when set, must accompany every request signed with
	// this key (an STS credential).
	SecurityToken string
	// Inactive keys are known but refused (InvalidAccessKeyId.Inactive).
	Inactive bool
}

// Durations are how long the emulated operations take on the server's
// clock. Zero fields take the defaults. The field names are the same in
// tencenttest.Durations where the operation is the same.
type Durations struct {
	Stop           time.Duration // Stopping -> Stopped
	Start          time.Duration // Starting -> Running
	Rollback       time.Duration // Resetting -> Stopped
	CreateSnapshot time.Duration // Progressing -> Accomplished
}

// DefaultDurations are in the range a real SWAS server shows.
var DefaultDurations = Durations{
	Stop:           15 * time.Second,
	Start:          20 * time.Second,
	Rollback:       45 * time.Second,
	CreateSnapshot: 60 * time.Second,
}

func (d Durations) withDefaults() Durations {
	def := DefaultDurations
	for _, f := range []struct{ v, def *time.Duration }{
		{&d.Stop, &def.Stop}, {&d.Start, &def.Start}, {&d.Rollback, &def.Rollback}, {&d.CreateSnapshot, &def.CreateSnapshot},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return d
}

// DefaultRateLimits are SWAS's documented quotas: 10 calls per minute per
// account for each mutating action.
func DefaultRateLimits() map[string]RateWindow {
	w := RateWindow{Limit: 10, Per: time.Minute}
	return map[string]RateWindow{
		ActionResetDisk:      w,
		ActionStopInstance:   w,
		ActionStartInstance:  w,
		ActionCreateSnapshot: w,
	}
}

// Option configures a Server.
type Option func(*config)

type config struct {
	clock       clock.Clock
	creds       []Credential
	regions     []string
	durations   Durations
	rateLimits  map[string]RateWindow
	quota       int
	clockSkewOK bool
	readLag     time.Duration
	tokenWindow time.Duration
}

// WithClock runs the server's state machines on c (nil: the wall clock).
// Give the client under test the same clock.
func WithClock(c clock.Clock) Option { return func(o *config) { o.clock = c } }

// WithCredential accepts another access key, with the fields only SWAS has
// (Inactive). The default key (DefaultAccessKeyID / DefaultAccessKeySecret)
// stays accepted; Server.Credential returns the first key given.
func WithCredential(c Credential) Option {
	return func(o *config) { o.creds = append(o.creds, c) }
}

// WithCredentials accepts another AccessKey ID and secret; the default key
// stays accepted. Same as tencenttest.WithCredentials.
func WithCredentials(accessKeyID, accessKeySecret string) Option {
	return WithCredential(Credential{AccessKeyID: accessKeyID, AccessKeySecret: accessKeySecret})
}

// WithSessionCredentials accepts temporary (STS) credentials: requests
// signed with accessKeyID must also carry SecurityToken=token. Same as
// tencenttest.WithSessionCredentials.
func WithSessionCredentials(accessKeyID, accessKeySecret, token string) Option {
	return WithCredential(Credential{AccessKeyID: accessKeyID, AccessKeySecret: accessKeySecret, SecurityToken: token})
}

// WithRegions sets the regions the server serves (default DefaultRegion).
// The first one is where seeded resources go unless they say otherwise.
func WithRegions(regions ...string) Option {
	return func(o *config) { o.regions = append([]string(nil), regions...) }
}

// WithDurations sets how long operations take; zero fields keep defaults.
func WithDurations(d Durations) Option { return func(o *config) { o.durations = d } }

// WithRateLimit sets the quota of one action per access key; action ""
// sets it for every action without a quota of its own. A zero RateWindow
// removes it.
func WithRateLimit(action string, w RateWindow) Option {
	return func(o *config) { o.rateLimits[action] = w }
}

// WithoutRateLimits removes every quota, the defaults included.
func WithoutRateLimits() Option {
	return func(o *config) { o.rateLimits = map[string]RateWindow{} }
}

// WithSnapshotQuota sets how many snapshots one server's disks may have; 0
// keeps the default (DefaultSnapshotQuota), a negative n means no limit.
// CreateSnapshot beyond it answers QuotaExceed.Snapshot.
func WithSnapshotQuota(n int) Option {
	return func(o *config) {
		if n != 0 {
			o.quota = n
		}
	}
}

// WithoutTimestampCheck accepts any request Timestamp. Only for replaying
// recorded requests; the SDK always signs with the current wall time.
func WithoutTimestampCheck() Option { return func(o *config) { o.clockSkewOK = true } }

// Server is a SWAS endpoint in a box. It is safe for concurrent use.
type Server struct {
	// URL is the base URL of the listening server ("http://127.0.0.1:port"
	// or "https://..."); empty for a Server made by NewHandler.
	URL string

	srv       *httptest.Server
	clk       clock.Clock
	creds     map[string]Credential
	firstCred Credential
	regions   map[string]bool
	region    string
	durations Durations
	quota     int
	skewOK    bool

	rateLimits map[string]RateWindow
	limiter    emulator.RateLimiter
	faults     emulator.Faults
	journal    emulator.Journal
	hooks      emulator.Hooks

	mu     sync.Mutex
	issuer *STS // temporary credentials it accepts (NewSTS)
	state  *state
	// nonces maps access key + nonce to the wall time it was first seen;
	// nonceOrder lists them oldest first, for expiry.
	nonces     map[string]time.Time
	nonceOrder []seenNonce
	// idem holds accepted calls by access key, action and ClientToken.
	idem map[string]*idemRecord
	// tokenWindow is how long a ClientToken is remembered (0: forever).
	tokenWindow time.Duration
}

// NewHandler returns a Server that is not listening: mount it on your own
// http.Server or mux. Its URL is empty.
func NewHandler(opts ...Option) *Server {
	cfg := config{rateLimits: DefaultRateLimits(), quota: DefaultSnapshotQuota}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	def := Credential{AccessKeyID: DefaultAccessKeyID, AccessKeySecret: DefaultAccessKeySecret}
	if len(cfg.creds) == 0 || cfg.creds[0].AccessKeyID != DefaultAccessKeyID {
		// The default key stays accepted, after the ones given (which may
		// redefine it, e.g. as Inactive).
		cfg.creds = append(cfg.creds[:len(cfg.creds):len(cfg.creds)], def)
	}
	if len(cfg.regions) == 0 {
		cfg.regions = []string{DefaultRegion}
	}
	s := &Server{
		clk:        clock.Or(cfg.clock),
		creds:      make(map[string]Credential),
		firstCred:  cfg.creds[0],
		regions:    make(map[string]bool),
		region:     cfg.regions[0],
		durations:  cfg.durations.withDefaults(),
		quota:      cfg.quota,
		skewOK:     cfg.clockSkewOK,
		rateLimits: cfg.rateLimits,
		nonces:     make(map[string]time.Time),
		idem:       make(map[string]*idemRecord),
		state:      newState(),

		tokenWindow: cfg.tokenWindow,
	}
	s.state.readLag = cfg.readLag
	s.limiter.Clock = s.clk
	for i := len(cfg.creds) - 1; i >= 0; i-- { // the first given wins
		s.creds[cfg.creds[i].AccessKeyID] = cfg.creds[i]
	}
	for _, r := range cfg.regions {
		s.regions[r] = true
	}
	return s
}

// NewServer starts a Server on a loopback port over plain HTTP.
func NewServer(opts ...Option) *Server {
	s := NewHandler(opts...)
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL
	return s
}

// NewTLSServer starts a Server over HTTPS with a self-signed certificate;
// Client returns an *http.Client that trusts it.
func NewTLSServer(opts ...Option) *Server {
	s := NewHandler(opts...)
	s.srv = httptest.NewTLSServer(s)
	s.URL = s.srv.URL
	return s
}

// rateLimit is action's quota: its own, else the one set for every action.
func (s *Server) rateLimit(action string) RateWindow {
	if w, ok := s.rateLimits[action]; ok {
		return w
	}
	return s.rateLimits[""]
}

// Close shuts the listener down and waits for requests in flight.
func (s *Server) Close() {
	if s.srv != nil {
		s.srv.Close()
	}
}

// Client returns an HTTP client for the server: for a TLS server it trusts
// the server's certificate (use its Transport as the client's transport).
func (s *Server) Client() *http.Client {
	if s.srv != nil {
		return s.srv.Client()
	}
	return &http.Client{}
}

// Endpoint returns the listening "host:port" (the SDK client's Domain);
// empty for a Server made by NewHandler. Same as tencenttest's.
func (s *Server) Endpoint() string {
	if s.srv == nil {
		return ""
	}
	return s.srv.Listener.Addr().String()
}

// Clock returns the server's clock.
func (s *Server) Clock() clock.Clock { return s.clk }

// Credential returns the first accepted access key (the default one unless
// WithCredential was given).
func (s *Server) Credential() Credential { return s.firstCred }

// Region returns the default region of seeded resources.
func (s *Server) Region() string { return s.region }

// Durations returns the operation durations in effect.
func (s *Server) Durations() Durations { return s.durations }

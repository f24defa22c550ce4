package tencenttest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"

	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/emulator"
)

// Re-exported from the shared emulator machinery, so users never import an
// internal package.
type (
	// Fault is a failure injected into the calls of one action; see AddFault.
	Fault = emulator.Fault
	// Entry is one request as the emulator saw and answered it.
	Entry = emulator.Entry
	// Journal records every request.
	Journal = emulator.Journal
	// RateWindow is a quota of calls per window.
	RateWindow = emulator.RateWindow
)

// Protocol constants.
const (
	// Version is the Lighthouse API version served.
	Version = "2020-03-24"
	// DefaultRegion is where seeded resources live unless told otherwise.
	DefaultRegion = "ap-guangzhou"
	// DefaultSecretID and DefaultSecretKey are always accepted.
	DefaultSecretID  = "AKIDtencenttest0000000000000000000000"
	DefaultSecretKey = "tencenttestSecretKey0000000000000"

	service = "lighthouse"
)

// Regions returns the 15 regions where ApplyInstanceSnapshot is offered (the
// API page's list), which the emulator serves by default.
func Regions() []string {
	return []string{
		"ap-bangkok", "ap-beijing", "ap-chengdu", "ap-guangzhou", "ap-hongkong",
		"ap-jakarta", "ap-nanjing", "ap-seoul", "ap-shanghai", "ap-singapore",
		"ap-tokyo", "eu-frankfurt", "na-ashburn", "na-siliconvalley", "sa-saopaulo",
	}
}

// Durations are how long operations take on the emulator's clock.
type Durations struct {
	Launch         time.Duration // PENDING -> RUNNING
	Start          time.Duration // STARTING -> RUNNING
	Stop           time.Duration // STOPPING -> STOPPED, also the forced stop before a rollback
	Reboot         time.Duration // REBOOTING -> RUNNING
	Rollback       time.Duration // ApplyInstanceSnapshot, after any forced stop
	CreateSnapshot time.Duration // CREATING -> NORMAL
}

// DefaultDurations are in the range a real Lighthouse instance shows.
var DefaultDurations = Durations{
	Launch:         60 * time.Second,
	Start:          20 * time.Second,
	Stop:           15 * time.Second,
	Reboot:         30 * time.Second,
	Rollback:       60 * time.Second,
	CreateSnapshot: 90 * time.Second,
}

func (d Durations) withDefaults() Durations {
	def := DefaultDurations
	for _, f := range []struct{ v, def *time.Duration }{
		{&d.Launch, &def.Launch}, {&d.Start, &def.Start}, {&d.Stop, &def.Stop},
		{&d.Reboot, &def.Reboot}, {&d.Rollback, &def.Rollback}, {&d.CreateSnapshot, &def.CreateSnapshot},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return d
}

// DefaultRateLimit is the cloud's limit: 20 requests per second per action
// (and per SecretId).
var DefaultRateLimit = RateWindow{Limit: 20, Per: time.Second}

// Option configures a Server.
type Option func(*Server)

// WithClock runs the emulator's state machines on c (nil: the wall clock).
// Signature timestamps are always checked against the wall clock, because
// the SDK signs with it.
func WithClock(c clock.Clock) Option { return func(s *Server) { s.clk = clock.Or(c) } }

// Credential is a key the server accepts, or one its STS issued.
type Credential struct {
	SecretID, SecretKey string
	// Token, when set, must accompany every request signed with this key
	// (X-TC-Token: temporary credentials).
	Token string
}

// WithCredential accepts another key; the default pair stays accepted, and
// Server.Credential returns the first key given. Same as
// aliyuntest.WithCredential.
func WithCredential(c Credential) Option {
	return func(s *Server) {
		s.creds[c.SecretID] = credential{key: c.SecretKey, token: c.Token}
		if s.firstCred == (Credential{}) {
			s.firstCred = c
		}
	}
}

// WithCredentials accepts another SecretId/SecretKey pair (the default pair
// stays accepted).
func WithCredentials(secretID, secretKey string) Option {
	return WithCredential(Credential{SecretID: secretID, SecretKey: secretKey})
}

// WithSessionCredentials accepts temporary credentials: requests signed with
// secretID must also carry X-TC-Token: token.
func WithSessionCredentials(secretID, secretKey, token string) Option {
	return WithCredential(Credential{SecretID: secretID, SecretKey: secretKey, Token: token})
}

// WithRegions replaces the served regions (default: Regions()).
func WithRegions(regions ...string) Option {
	return func(s *Server) {
		s.regions = map[string]bool{}
		for _, r := range regions {
			s.regions[r] = true
		}
	}
}

// WithRateLimit sets the quota of one action per SecretId; action "" sets
// it for every action without a quota of its own (default
// DefaultRateLimit). A zero RateWindow removes it. Same as
// aliyuntest.WithRateLimit.
func WithRateLimit(action string, w RateWindow) Option {
	return func(s *Server) { s.rates[action] = w }
}

// WithoutRateLimits removes every quota, the default included.
func WithoutRateLimits() Option {
	return func(s *Server) { s.rates = map[string]RateWindow{} }
}

// WithConcurrentRollbacks limits how many rollbacks may be in progress at
// once in a region (0: no limit, the default); one more answers
// UnsupportedOperation.SystemBusy until one ends.
func WithConcurrentRollbacks(n int) Option { return func(s *Server) { s.maxRollbacks = n } }

// WithDeniedActions gives secretID a CAM policy that does not allow the
// actions: its calls of them answer UnauthorizedOperation.NoPermission,
// after authentication and before anything is applied.
func WithDeniedActions(secretID string, actions ...string) Option {
	return func(s *Server) {
		if s.denied == nil {
			s.denied = map[string]map[string]bool{}
		}
		if s.denied[secretID] == nil {
			s.denied[secretID] = map[string]bool{}
		}
		for _, a := range actions {
			s.denied[secretID][a] = true
		}
	}
}

// WithoutTimestampCheck accepts any X-TC-Timestamp. Only for replaying
// recorded requests; the SDK always signs with the current wall time.
func WithoutTimestampCheck() Option { return func(s *Server) { s.skewOK = true } }

// WithDurations sets operation durations; zero fields keep the defaults.
func WithDurations(d Durations) Option { return func(s *Server) { s.dur = d.withDefaults() } }

// WithSnapshotQuota limits the snapshots of one instance; 0 keeps the
// default (no limit) and a negative n means no limit, as in aliyuntest.
// CreateInstanceSnapshot beyond it answers
// LimitExceeded.SnapshotQuotaLimitExceeded.
func WithSnapshotQuota(n int) Option { return func(s *Server) { s.snapQuota = n } }

// Server is a Lighthouse API 3.0 emulator. It is an http.Handler; NewServer
// also listens on 127.0.0.1 like httptest.NewServer.
type Server struct {
	// URL is "http://127.0.0.1:port" once started; empty for a handler made
	// with New.
	URL string

	hs *httptest.Server

	clk       clock.Clock
	creds     map[string]credential
	issuer    *STS // temporary credentials it accepts (NewSTS)
	regions   map[string]bool
	firstCred Credential // see Credential
	rates     map[string]RateWindow
	skewOK    bool
	dur       Durations
	snapQuota int
	// maxRollbacks is how many rollbacks may run at once in a region
	// (WithConcurrentRollbacks); 0: no limit.
	maxRollbacks int
	// denied holds the actions each SecretId's policy does not allow
	// (WithDeniedActions).
	denied map[string]map[string]bool

	limiter emulator.RateLimiter
	faults  emulator.Faults
	journal emulator.Journal
	hooks   emulator.Hooks

	mu            sync.Mutex
	seq           int
	instances     map[string]*instance
	snapshots     map[string]*snapshot
	failRollbacks int
	rollbacks     int
	rollbacksOf   map[string]int
	readLag       time.Duration // see SetReadLag
}

// NewHandler returns an emulator that is not listening: mount it on your own
// http.Server or mux, or call Start. Its URL is empty until then.
func NewHandler(opts ...Option) *Server { return New(opts...) }

// New is NewHandler (the name it had first).
func New(opts ...Option) *Server {
	s := &Server{
		clk:         clock.Real(),
		creds:       map[string]credential{DefaultSecretID: {key: DefaultSecretKey}},
		rates:       map[string]RateWindow{"": DefaultRateLimit},
		dur:         DefaultDurations,
		instances:   map[string]*instance{},
		snapshots:   map[string]*snapshot{},
		rollbacksOf: map[string]int{},
	}
	WithRegions(Regions()...)(s)
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	s.limiter.Clock = s.clk
	return s
}

// NewServer returns a started emulator listening on 127.0.0.1. Close it
// when done.
func NewServer(opts ...Option) *Server {
	s := New(opts...)
	s.Start()
	return s
}

// Start listens on 127.0.0.1 and sets URL.
func (s *Server) Start() {
	if s.hs != nil {
		return
	}
	s.hs = httptest.NewServer(s)
	s.URL = s.hs.URL
}

// Close stops listening and waits for requests in progress.
func (s *Server) Close() {
	if s.hs != nil {
		s.hs.Close()
	}
}

// Endpoint returns the "host:port" the SDK's HttpProfile.Endpoint wants.
func (s *Server) Endpoint() string {
	if s.hs == nil {
		return ""
	}
	return s.hs.Listener.Addr().String()
}

// Clock returns the emulator's clock.
func (s *Server) Clock() clock.Clock { return s.clk }

// Credential returns the first key given (WithCredential and the like), or
// the default one (DefaultSecretID / DefaultSecretKey).
func (s *Server) Credential() Credential {
	if s.firstCred == (Credential{}) {
		return Credential{SecretID: DefaultSecretID, SecretKey: DefaultSecretKey}
	}
	return s.firstCred
}

// Durations returns the operation durations in effect.
func (s *Server) Durations() Durations { return s.dur }

// Region returns the default region of seeded resources (DefaultRegion).
func (s *Server) Region() string { return DefaultRegion }

// rateLimit is action's quota: its own, else the one set for every action.
func (s *Server) rateLimit(action string) RateWindow {
	if w, ok := s.rates[action]; ok {
		return w
	}
	return s.rates[""]
}

// Journal returns the request journal: every request received so far
// (Entries), how many of an action (Count), Reset.
func (s *Server) Journal() *Journal { return &s.journal }

// Calls returns how many requests of action were received over HTTP (""
// for all); Journal().Count(action).
func (s *Server) Calls(action string) int { return s.journal.Count(action) }

// AddFault arms a fault (see Fault). Faults count calls that passed
// authentication; a fault's Code is answered with HTTP 200 unless
// HTTPStatus says otherwise, always inside the cloud's error envelope
// (Body replaces the whole body).
func (s *Server) AddFault(f Fault) { s.faults.Add(f) }

// ClearFaults disarms every fault.
func (s *Server) ClearFaults() { s.faults.Clear() }

// PendingFaults returns how many faults have not finished firing.
func (s *Server) PendingFaults() int { return s.faults.Pending() }

// ServeHTTP answers one API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rid := emulator.UUID()
	lang := r.Header.Get("X-TC-Language")
	entry := Entry{
		Time:      s.clk.Now(),
		Action:    r.Header.Get("X-TC-Action"),
		Region:    r.Header.Get("X-TC-Region"),
		RequestID: rid,
	}
	// The entry is recorded before the client can see any reply (or the
	// dropped connection), so a test that has its answer finds it.
	recorded := false
	record := func() {
		if !recorded {
			recorded = true
			s.journal.Add(entry)
		}
	}
	defer record()
	drop := func() {
		record()
		if !emulator.DropConnection(w) {
			writeJSON(w, http.StatusServiceUnavailable, errorBody(CodeInternalError, "connection reset", rid))
		}
	}
	reply := func(status int, body any) {
		entry.HTTPStatus = status
		record()
		writeJSON(w, status, body)
	}
	fail := func(e *apiError) {
		entry.Code = e.Code
		reply(http.StatusOK, errorBody(e.Code, message(e.Code, e.Detail, lang), rid))
	}

	p, body, e := s.readRequest(r)
	if p != nil {
		entry.Params = p
	}
	if e != nil {
		fail(e)
		return
	}
	secretID, e := verify(r, body, s.credential, time.Now(), s.skewOK)
	if e != nil {
		fail(e)
		return
	}
	if e := s.route(r, entry.Action, entry.Region); e != nil {
		fail(e)
		return
	}

	n := s.hooks.Count(entry.Action)
	s.hooks.RunBefore(entry.Action, n)
	hw := s.hooks.AfterWriter(w, entry.Action, n)
	defer hw.Done()
	w = hw

	f, faulted := s.faults.Next(entry.Action)
	if faulted {
		entry.Fault = f.String()
		if !emulator.Delay(r.Context(), f.Latency) {
			// The client gave up while the request waited: nothing is
			// applied, so a test can tell a timeout from a lost reply.
			return
		}
		switch {
		case f.Reset:
			drop()
			return
		case f.Body != "":
			entry.Code = f.Code
			entry.HTTPStatus = statusOr(f.HTTPStatus)
			record()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(entry.HTTPStatus)
			io.WriteString(w, f.Body)
			return
		case f.Code != "":
			entry.Code = f.Code
			msg := f.Message
			if msg == "" {
				msg = message(f.Code, "", lang)
			}
			reply(statusOr(f.HTTPStatus), errorBody(f.Code, msg, rid))
			return
		}
	}

	if s.denied[secretID][entry.Action] {
		fail(apiErrf(CodeNoPermission, "The CAM policy of this key does not allow lighthouse:%s.", entry.Action))
		return
	}
	if rate := s.rateLimit(entry.Action); !s.limiter.Allow(secretID+"\x00"+entry.Action, rate) {
		fail(apiErrf(CodeRequestLimitExceeded,
			"Your current request times exceeds the frequency limit %d for %s. Please reduce the frequency of calls.", rate.Limit, rate.Per))
		return
	}

	out, applied, e := s.dispatch(entry.Action, entry.Region, rid, p)
	entry.Applied = applied
	if e != nil {
		fail(e)
		return
	}
	if faulted && f.DropResponse {
		drop()
		return
	}
	out["RequestId"] = rid
	reply(http.StatusOK, map[string]any{"Response": out})
}

func statusOr(s int) int {
	if s == 0 {
		return http.StatusOK
	}
	return s
}

// maxBody bounds request bodies; real ones are a few hundred bytes.
const maxBody = 1 << 20

// readRequest reads the parameters of a POST (JSON) or GET (query) request.
// The body is returned for the signature check.
func (s *Server) readRequest(r *http.Request) (params, []byte, *apiError) {
	switch r.Method {
	case http.MethodPost:
		body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
		if err != nil {
			return nil, nil, apiErrf(CodeInvalidParameter, "The request body could not be read: %v.", err)
		}
		ct := r.Header.Get("Content-Type")
		if ct != "application/json" && ct != "application/json; charset=utf-8" {
			return nil, body, apiErrf(CodeInvalidParameter, "Content-Type must be application/json for POST (TC3-HMAC-SHA256); got %q.", ct)
		}
		p, err := parseJSON(body)
		if err != nil {
			return nil, body, apiErrf(CodeInvalidParameter, "The request body is not valid JSON: %v.", err)
		}
		return p, body, nil
	case http.MethodGet:
		return parseQuery(r.URL.Query()), nil, nil
	}
	return nil, nil, apiErr(CodeUnsupportedProtocol)
}

// route checks the common parameters: action, version, region.
func (s *Server) route(r *http.Request, action, region string) *apiError {
	if action == "" {
		return apiErrf(CodeMissingParameter, "The request is missing the X-TC-Action header.")
	}
	switch v := r.Header.Get("X-TC-Version"); v {
	case Version:
	case "":
		return apiErrf(CodeMissingParameter, "The request is missing the X-TC-Version header.")
	default:
		return apiErrf(CodeNoSuchVersion, "The API version %q does not exist; use %s.", v, Version)
	}
	if _, ok := actions[action]; !ok {
		return apiErrf(CodeInvalidAction, "The action %q does not exist.", action)
	}
	if region == "" {
		return apiErrf(CodeMissingParameter, "The request is missing the X-TC-Region header.")
	}
	if !s.regions[region] {
		return apiErrf(CodeUnsupportedRegion, "The region %q is not supported by this API.", region)
	}
	return nil
}

func errorBody(code, msg, rid string) map[string]any {
	return map[string]any{"Response": map[string]any{
		"Error":     map[string]string{"Code": code, "Message": msg},
		"RequestId": rid,
	}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"Response":{"Error":{"Code":"InternalError","Message":"encoding failed"}}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

package acmetest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/cloudsnap/rollback/clock"

	"example.com/acmecloud/acme"
)

// Defaults of a new Server.
const (
	DefaultRegion = "eu-west"
	DefaultKeyID  = "AKACME0000TEST"
	// DefaultSecret is the emulator's secret key. Tests look for it in
	// errors and logs: it must never appear there.
	DefaultSecret = "acme-test-secret-Zq8v3K1pR7"
)

// Durations are how long operations take on the emulator's clock.
type Durations struct {
	Stop, Start, Restore, CreateSnapshot time.Duration
}

// DefaultDurations are a small server's.
var DefaultDurations = Durations{Stop: 20 * time.Second, Start: 30 * time.Second, Restore: 60 * time.Second, CreateSnapshot: 90 * time.Second}

// DefaultRate is the cloud's quota of every action: 20 calls per second.
var DefaultRate = RateWindow{Calls: 20, Per: time.Second}

// RateWindow allows Calls calls of an action in any window of Per.
type RateWindow struct {
	Calls int
	Per   time.Duration
}

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock operations are timed on (default: the wall
// clock).
func WithClock(c clock.Clock) Option { return func(s *Server) { s.clk = clock.Or(c) } }

// WithCredentials sets the key the emulator accepts.
func WithCredentials(keyID, secret string) Option {
	return func(s *Server) { s.keyID, s.secret = keyID, secret }
}

// WithDurations sets how long operations take.
func WithDurations(d Durations) Option { return func(s *Server) { s.dur = d } }

// WithRateLimit sets action's rate window (Calls <= 0: none).
func WithRateLimit(action string, w RateWindow) Option {
	return func(s *Server) { s.rates[action] = w }
}

// WithoutRateLimits turns every rate window off.
func WithoutRateLimits() Option { return func(s *Server) { s.noRates = true } }

// Server is a running emulator. Its methods are safe for concurrent use.
type Server struct {
	// URL is the endpoint, http://127.0.0.1:PORT.
	URL string

	hs            *httptest.Server
	clk           clock.Clock
	keyID, secret string
	dur           Durations
	rates         map[string]RateWindow
	noRates       bool

	mu           sync.Mutex
	seq          int
	servers      map[string]*server
	snaps        map[string]*snapshot
	order        []string // snapshot IDs in creation order
	faults       []*Fault
	failRestores int
	readLag      time.Duration
	arrivals     map[string][]time.Time
	restores     map[string]int // per server, by anyone
	calls        map[string]int // per action, the client's
	before       map[string]map[int][]func()
	after        map[string]map[int][]func()
	journal      Journal
}

// NewServer starts an emulator on 127.0.0.1. Close it when done.
func NewServer(opts ...Option) *Server {
	s := &Server{
		clk: clock.Real(), keyID: DefaultKeyID, secret: DefaultSecret, dur: DefaultDurations,
		rates:   map[string]RateWindow{},
		servers: map[string]*server{}, snaps: map[string]*snapshot{},
		arrivals: map[string][]time.Time{}, restores: map[string]int{}, calls: map[string]int{},
		before: map[string]map[int][]func(){}, after: map[string]map[int][]func(){},
	}
	for _, o := range opts {
		o(s)
	}
	s.hs = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("acmetest: listen on 127.0.0.1: " + err.Error())
	}
	s.hs.Listener.Close()
	s.hs.Listener = l
	s.hs.Start()
	s.URL = s.hs.URL
	return s
}

// Close stops the server and closes its connections.
func (s *Server) Close() { s.hs.Close() }

// Clock returns the emulator's clock.
func (s *Server) Clock() clock.Clock { return s.clk }

// Journal returns the record of calls received.
func (s *Server) Journal() *Journal { return &s.journal }

// Fault is an injected failure of an action's calls. It is armed when
// added and counts the action's calls from then on: it fires on call
// number Nth (0 or 1: the next one) and on the Times-1 calls after it.
// Several faults of one action all count each call; the one added first
// of those that fire wins.
type Fault struct {
	// Action is the API action it applies to, e.g. "RestoreSnapshot".
	Action string
	// Code, when set, answers the call with this error code without
	// applying it; Status defaults to the code's usual one, Message to a
	// sentence.
	Code    string
	Status  int
	Message string
	// Body, when set, replaces the whole error reply (with Status,
	// default 502): a gateway's HTML page in front of the API. The call is
	// not applied.
	Body string
	// Reset closes the connection before anything is applied: the client
	// sees a connection reset and nothing happened.
	Reset bool
	// DropReply applies the call, then closes the connection without a
	// reply: the client cannot tell whether it landed.
	DropReply bool
	// Latency delays the call by this much real time first (to trip the
	// client's per-attempt timeout); a call whose client gave up meanwhile
	// is not applied.
	Latency time.Duration
	// Nth is the 1-based index of the first call it fires on, counted from
	// when it was added (0: 1, the next call).
	Nth int
	// Times is how many calls in a row it fires on (0: 1; negative: every
	// call from the Nth on).
	Times int
	// Label is copied to the journal's Entry.Fault of each call it fires
	// on ("" : "injected"), so that a test can tell its faults apart.
	Label string

	seen, fired int
}

// AddFault arms f for the calls of f.Action.
func (s *Server) AddFault(f Fault) {
	if f.Times == 0 {
		f.Times = 1
	}
	f.Nth = max(f.Nth, 1)
	f.seen, f.fired = 0, 0
	s.mu.Lock()
	s.faults = append(s.faults, &f)
	s.mu.Unlock()
}

// FailNext answers the next n calls of action with code, applying nothing.
func (s *Server) FailNext(action, code string, n int) {
	s.AddFault(Fault{Action: action, Code: code, Times: n})
}

// DropNextReply applies the next call of action and drops its reply.
func (s *Server) DropNextReply(action string) { s.AddFault(Fault{Action: action, DropReply: true}) }

// SetReadLag makes reads lag writes by d from now on: for d after a
// change, DescribeServers and DescribeSnapshots show the resource as it
// was before it (new resources show at once). Writes see the true state.
func (s *Server) SetReadLag(d time.Duration) {
	s.mu.Lock()
	s.readLag = d
	s.mu.Unlock()
}

// FailNextRestores makes the next n accepted restores fail in the cloud:
// the call succeeds, and the restore ends Failed.
func (s *Server) FailNextRestores(n int) {
	s.mu.Lock()
	s.failRestores += n
	s.mu.Unlock()
}

// Before runs f once, just before the n-th call of action by the client
// (counted from 1) is handled. f runs on the server's goroutine, outside
// its lock, and may use the other methods.
func (s *Server) Before(action string, n int, f func()) {
	s.mu.Lock()
	if s.before[action] == nil {
		s.before[action] = map[int][]func(){}
	}
	s.before[action][n] = append(s.before[action][n], f)
	s.mu.Unlock()
}

// ClearFaults disarms every fault (FailNextRestores included).
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults, s.failRestores = nil, 0
	s.mu.Unlock()
}

// DisarmFaults disarms every Fault, leaving the restores that
// FailNextRestores armed to fail.
func (s *Server) DisarmFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// SetFailNextRestores makes exactly the next n accepted restores fail in
// the cloud (0: none), replacing what FailNextRestores armed.
func (s *Server) SetFailNextRestores(n int) {
	s.mu.Lock()
	s.failRestores = max(n, 0)
	s.mu.Unlock()
}

// After runs f once, just after the n-th call of action by the client
// (counted from 1, whatever its outcome) was handled and before its reply
// leaves. f runs on the server's goroutine, outside its lock.
func (s *Server) After(action string, n int, f func()) {
	s.mu.Lock()
	if s.after[action] == nil {
		s.after[action] = map[int][]func(){}
	}
	s.after[action][n] = append(s.after[action][n], f)
	s.mu.Unlock()
}

// Calls returns how many calls of action the client made.
func (s *Server) Calls(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[action]
}

// RestoresOf returns how many restores of the server were accepted, by
// anyone.
func (s *Server) RestoresOf(serverID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.restores[serverID]
}

// apiError is a refusal in the API's words.
type apiError struct {
	status        int
	code, message string
	body          string // a raw reply instead of the API's JSON
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

var statusOf = map[string]int{
	acme.CodeServerNotFound: 404, acme.CodeSnapshotNotFound: 404,
	acme.CodeInvalidServerState: 409, acme.CodeSnapshotNotReady: 409, acme.CodeServerBusy: 409,
	acme.CodeSnapshotMismatch: 400, acme.CodeInvalidParameter: 400, acme.CodeQuotaExceeded: 409,
	acme.CodeThrottled: 429, acme.CodeInternalError: 500, acme.CodeUnavailable: 503,
	acme.CodeAuthFailed: 401, acme.CodeAccessDenied: 403,
}

func refuse(code, format string, args ...any) *apiError {
	st, ok := statusOf[code]
	if !ok {
		st = 400
	}
	return &apiError{status: st, code: code, message: fmt.Sprintf(format, args...)}
}

// params is a request body.
type params struct {
	Region      string   `json:"Region"`
	ServerID    string   `json:"ServerId"`
	ServerIDs   []string `json:"ServerIds"`
	SnapshotID  string   `json:"SnapshotId"`
	SnapshotIDs []string `json:"SnapshotIds"`
	Name        string   `json:"Name"`
}

// The API's actions.
const (
	ActionDescribeServers   = "DescribeServers"
	ActionDescribeSnapshots = "DescribeSnapshots"
	ActionStopServer        = "StopServer"
	ActionStartServer       = "StartServer"
	ActionCreateSnapshot    = "CreateSnapshot"
	ActionRestoreSnapshot   = "RestoreSnapshot"
)

var mutating = map[string]bool{ActionStopServer: true, ActionStartServer: true, ActionCreateSnapshot: true, ActionRestoreSnapshot: true}

type handler func(s *Server, rid string, p params) (map[string]any, *apiError)

var handlers = map[string]handler{
	"DescribeServers":   (*Server).describeServers,
	"DescribeSnapshots": (*Server).describeSnapshots,
	"StopServer":        (*Server).stopServer,
	"StartServer":       (*Server).startServer,
	"CreateSnapshot":    (*Server).createSnapshot,
	"RestoreSnapshot":   (*Server).restoreSnapshot,
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	action, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	s.mu.Lock()
	s.seq++
	rid := fmt.Sprintf("req-%08x-%04x", s.seq, s.seq*7919%65536)
	s.mu.Unlock()
	fn := handlers[action]
	if !ok || fn == nil || r.Method != http.MethodPost {
		writeError(w, rid, &apiError{status: 404, code: "InvalidAction", message: "no such action"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	e := Entry{Time: s.clk.Now(), Action: action, RequestID: rid}
	var p params
	if aerr := s.authenticate(r, action, body); aerr != nil {
		s.finish(w, e, nil, aerr, false)
		return
	}
	if err := json.Unmarshal(body, &p); err != nil {
		s.finish(w, e, nil, refuse(acme.CodeInvalidParameter, "the body is not JSON: %v", err), false)
		return
	}
	e.Region, e.ServerID, e.SnapshotID = p.Region, p.ServerID, p.SnapshotID
	e.IDs = append(append([]string(nil), p.ServerIDs...), p.SnapshotIDs...)

	s.mu.Lock()
	s.calls[action]++
	n := s.calls[action]
	f := s.takeFault(action)
	before := s.before[action][n]
	delete(s.before[action], n)
	s.mu.Unlock()
	for _, h := range before {
		h()
	}
	if f != nil {
		e.Fault = f.Label
		if e.Fault == "" {
			e.Fault = "injected"
		}
	}
	if f != nil && f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			e.Code = "ClientGone"
			s.journal.add(e)
			return
		}
	}
	if f != nil && f.Reset {
		e.Code = "ConnectionReset"
		s.journal.add(e)
		reset(w)
		return
	}
	var out map[string]any
	var aerr *apiError
	s.mu.Lock()
	switch {
	case f != nil && f.Body != "":
		aerr = &apiError{status: 502, code: "BadGateway", body: f.Body}
		if f.Status != 0 {
			aerr.status = f.Status
		}
	case f != nil && f.Code != "":
		aerr = refuse(f.Code, "injected fault")
		if f.Message != "" {
			aerr.message = f.Message
		}
		if f.Status != 0 {
			aerr.status = f.Status
		}
	case !s.allow(action):
		aerr = refuse(acme.CodeThrottled, "more than %d %s calls in %s", s.rate(action).Calls, action, s.rate(action).Per)
	case p.Region == "":
		aerr = refuse(acme.CodeInvalidParameter, "Region is required")
	default:
		s.settle()
		out, aerr = fn(s, rid, p)
		e.Applied = aerr == nil && mutating[action]
	}
	hooks := s.after[action][n]
	delete(s.after[action], n)
	s.mu.Unlock()
	for _, h := range hooks {
		h()
	}
	s.finish(w, e, out, aerr, f != nil && f.DropReply)
}

// finish journals the call and writes its reply (or drops it).
func (s *Server) finish(w http.ResponseWriter, e Entry, out map[string]any, aerr *apiError, drop bool) {
	if aerr != nil {
		e.Code = aerr.code
	}
	e.Dropped = drop
	s.journal.add(e)
	if drop {
		if reset(w) {
			return
		}
		aerr = refuse(acme.CodeUnavailable, "reply lost")
	}
	if aerr != nil {
		writeError(w, e.RequestID, aerr)
		return
	}
	if out == nil {
		out = map[string]any{}
	}
	out["RequestId"] = e.RequestID
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// reset closes the request's connection with a TCP reset, not a clean
// EOF; false when it cannot.
func reset(w http.ResponseWriter) bool {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return false
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return false
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
	return true
}

func writeError(w http.ResponseWriter, rid string, e *apiError) {
	if e.body != "" {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(e.status)
		_, _ = io.WriteString(w, e.body)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]any{"RequestId": rid, "Error": map[string]string{"Code": e.code, "Message": e.message}})
}

// authenticate checks the signature; its refusal never quotes the secret
// nor the signature.
func (s *Server) authenticate(r *http.Request, action string, body []byte) *apiError {
	auth, date := r.Header.Get("Authorization"), r.Header.Get(acme.DateHeader)
	if auth == "" || date == "" {
		return refuse(acme.CodeAuthFailed, "the call is not signed")
	}
	want := acme.Sign(s.keyID, s.secret, action, date, body)
	if auth != want {
		return refuse(acme.CodeAuthFailed, "the signature does not match (unknown key or wrong secret)")
	}
	return nil
}

// takeFault counts one call of action against every armed fault of it and
// returns the one that fires on it (the first added), if any; faults that
// fired all their times are dropped.
func (s *Server) takeFault(action string) *Fault {
	var hit *Fault
	kept := s.faults[:0]
	for _, f := range s.faults {
		if f.Action == action {
			f.seen++
			if hit == nil && f.seen >= f.Nth && (f.Times < 0 || f.fired < f.Times) {
				f.fired++
				cp := *f
				hit = &cp
			}
			if f.Times >= 0 && f.fired >= f.Times {
				continue
			}
		}
		kept = append(kept, f)
	}
	clear(s.faults[len(kept):])
	s.faults = kept
	return hit
}

func (s *Server) rate(action string) RateWindow {
	if w, ok := s.rates[action]; ok {
		return w
	}
	return DefaultRate
}

// allow reports whether action may be served now under its rate window,
// counting it when it may.
func (s *Server) allow(action string) bool {
	w := s.rate(action)
	if s.noRates || w.Calls <= 0 || w.Per <= 0 {
		return true
	}
	now := s.clk.Now()
	a := s.arrivals[action]
	drop := 0
	for drop < len(a) && !a[drop].Add(w.Per).After(now) {
		drop++
	}
	a = a[drop:]
	if len(a) >= w.Calls {
		s.arrivals[action] = a
		return false
	}
	s.arrivals[action] = append(a, now)
	return true
}

// Entry is one call the emulator received.
type Entry struct {
	Time       time.Time
	Action     string
	Region     string
	ServerID   string
	SnapshotID string
	// IDs are the ServerIds or SnapshotIds of a Describe call.
	IDs       []string
	RequestID string
	// Code is the error code answered, "" for success.
	Code string
	// Applied: the call changed state (a mutating call that succeeded,
	// whether or not its reply was then dropped).
	Applied bool
	// Dropped: its reply was dropped.
	Dropped bool
	// Actor: another actor's change, not the client's call.
	Actor bool
	// Fault is the Label of the injected fault that fired on the call
	// ("" none).
	Fault string
}

// Journal records calls in order. Safe for concurrent use.
type Journal struct {
	mu      sync.Mutex
	entries []Entry
}

func (j *Journal) add(e Entry) {
	j.mu.Lock()
	j.entries = append(j.entries, e)
	j.mu.Unlock()
}

// Entries returns a copy of the record.
func (j *Journal) Entries() []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]Entry(nil), j.entries...)
}

// Count returns how many calls of action the client made (other actors'
// changes excluded), whatever their outcome.
func (j *Journal) Count(action string) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := 0
	for _, e := range j.entries {
		if e.Action == action && !e.Actor {
			n++
		}
	}
	return n
}

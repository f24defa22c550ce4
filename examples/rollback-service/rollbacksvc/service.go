// Package rollbacksvc puts safe rollbacks behind an HTTP API, keyed by an
// idempotency key: the way to embed github.com/cloudsnap/rollback in a Go
// service.
//
//	POST /rollbacks        Idempotency-Key: incident-4711
//	                       {"provider":"tencent","region":"ap-guangzhou",
//	                        "instance":"lhins-1a2b3c4d","snapshot":"lhsnap-1a2b3c4d",
//	                        "stop":true,"backup":true,"start":true}
//	GET  /rollbacks/{key}  the operation's Status; ?wait=30s waits for its end
//
// A POST checks the request (the provider's own ID rules; nothing is sent
// for bad input: 400 naming the field), starts rollback.Run in the
// background under the service's lifetime, not the request's, with the key
// as its operation key and a Checkpointer, and waits for the Run's checks
// (Config.CheckWait). A request that fails them is refused with its
// error's status (404 for a missing snapshot, 409 for a running instance
// without "stop", ...); otherwise the reply is 202 Accepted with a
// Location to poll.
//
// The key makes the POST idempotent. The same key with the same body gets
// the same operation (202 while it runs, 200 once it has ended) and never
// a second Run; after a failure worth retrying (throttled, busy, a cloud
// fault, a wait that ran out) it runs again, resuming from its checkpoint.
// The same key with another body is 422, as
// draft-ietf-httpapi-idempotency-key-header asks. A request refused by its
// checks changed nothing and is not remembered: fix it and send it again,
// under the same key or another. With a Checkpointer that
// survives restarts (rollback.FileCheckpoints), a restarted service
// resumes an interrupted operation when the request is sent again, and
// still refuses the key for another rollback.
//
// Shutdown cancels the running operations and waits for them; each keeps
// its checkpoint and releases its key, so the next process, or another
// replica, resumes it when the request is sent again.
//
// Deployed, it guards itself: callers authenticate with bearer tokens
// (Config.Tokens, compared in constant time) or client certificates
// (Config.ClientCerts), and each caller's idempotency keys are its own; the
// Host and Origin headers must name the service (Config.AllowedHosts,
// loopback by default), which defeats DNS rebinding; bodies over 64 KiB are
// 413; /healthz and /readyz answer without authentication; an access log
// (Config.AccessLog) records requests without secrets.
//
// Replicas share a Checkpointer (package pgstore's, say): one Run per key
// across them (a POST that reaches a replica while another runs the key is
// 409 ErrKeyHeld with the Location to follow it, and GET follows it from
// any replica), and two facts kept as claims in that store: the request's
// fingerprint under the key (the same key with another body is 422 in
// every replica and after restarts) and the disk's current key (another
// key for a disk being rolled back is 409). Operations' events stay in
// the memory of the replica that runs them.
package rollbacksvc

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
)

// Config configures a Service.
type Config struct {
	// Providers serve the requests, by the name a request gives
	// ("aliyun", "tencent").
	Providers map[string]rollback.Provider
	// Checkpoints keeps each operation's progress under its key (nil: in
	// memory, lost with the process).
	Checkpoints rollback.Checkpointer
	// RunOptions are every Run's options (clock, waits, step timeouts,
	// logger). Each request sets StopIfRunning, SafetySnapshot and
	// StartAfter; the service sets Progress and Checkpoints.
	RunOptions rollback.RunOptions
	// CheckWait bounds how long a POST waits for the Run's checks before it
	// answers 202 anyway (0: 10s).
	CheckWait time.Duration
	// MaxEvents bounds the events kept per operation (0: 100).
	MaxEvents int

	// Tokens authenticate callers (Authorization: Bearer); each caller's
	// idempotency keys are its own. With no Tokens and no ClientCerts the
	// service authenticates nobody: keep it on loopback then.
	Tokens []Token
	// ClientCerts accepts a verified TLS client certificate (mTLS; the
	// http.Server's tls.Config verifies it) as the caller "cert:<CN>".
	ClientCerts bool
	// AllowedHosts are the names the service answers to in Host and
	// Origin (ports aside); empty: DefaultAllowedHosts (loopback). This
	// defeats DNS rebinding: a page whose name now points at the service
	// sends its own name.
	AllowedHosts []string
	// AccessLog receives one line per request (nil: none); no header
	// value, body or query string is logged.
	AccessLog *slog.Logger
	// Ready, when set, is what /readyz checks besides shutdown (a shared
	// store's Ping, say).
	Ready func(context.Context) error
}

// Service is the HTTP handler. Make it with New; it is safe for concurrent
// use.
type Service struct {
	cfg    Config
	clk    clock.Clock
	mux    *http.ServeMux
	ctx    context.Context // the service's lifetime: every Run's context
	cancel context.CancelFunc

	handler     http.Handler
	tokenHashes []tokenHash
	allowed     []string
	targetTTL   time.Duration

	mu      sync.Mutex
	closing bool
	runs    sync.WaitGroup
	ops     map[string]*operation // by storeKey
}

// New returns a Service; call Shutdown when done with it.
func New(cfg Config) *Service {
	if cfg.Checkpoints == nil {
		cfg.Checkpoints = &rollback.MemoryCheckpoints{}
	}
	if cfg.CheckWait <= 0 {
		cfg.CheckWait = 10 * time.Second
	}
	if cfg.MaxEvents <= 0 {
		cfg.MaxEvents = 100
	}
	clk := cfg.RunOptions.Clock
	if clk == nil {
		clk = cfg.RunOptions.Wait.Clock
	}
	s := &Service{cfg: cfg, clk: clock.Or(clk), mux: http.NewServeMux(), ops: map[string]*operation{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for _, t := range cfg.Tokens {
		s.tokenHashes = append(s.tokenHashes, tokenHash{caller: t.Caller, hash: sha256.Sum256([]byte(t.Secret))})
	}
	s.allowed = DefaultAllowedHosts
	if len(cfg.AllowedHosts) > 0 {
		s.allowed = nil
		for _, h := range cfg.AllowedHosts {
			s.allowed = append(s.allowed, strings.ToLower(strings.Trim(strings.TrimSpace(h), "[]")))
		}
	}
	s.targetTTL = 2 * cfg.RunOptions.LeaseTTL
	if s.targetTTL <= 0 {
		s.targetTTL = 2 * rollback.DefaultLeaseTTL
	}
	s.mux.HandleFunc("POST /rollbacks", s.post)
	s.mux.HandleFunc("GET /rollbacks/{key}", s.get)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.handler = s.accessLog(s.guard(s.mux))
	return s
}

// ServeHTTP implements http.Handler.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Shutdown refuses new operations, cancels the running ones and waits for
// them to return (or for ctx to end). Their checkpoints stay, so the same
// requests sent to the next process resume them. Stop the HTTP server
// first (http.Server.Shutdown), so that no request is cut off.
func (s *Service) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.cancel()
	done := make(chan struct{})
	go func() { s.runs.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// maxBody bounds a request body; a rollback request is a few hundred bytes.
const maxBody = 64 << 10

func (s *Service) post(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	if err := checkKey(key); err != nil {
		writeError(w, http.StatusBadRequest, &ErrorInfo{Message: err.Error(), Field: "Idempotency-Key",
			Advice: "send a unique key per rollback, e.g. a ticket number or a UUID"}, nil)
		return
	}
	sk := storeKey(Caller(r.Context()), key)
	body, p, req, info, status := s.parse(w, r, sk)
	if info != nil {
		writeError(w, status, info, nil)
		return
	}
	// The request's fingerprint, kept in the store: the key's first
	// request, in any replica and after any restart, is the only one it
	// may carry.
	s.mu.Lock()
	closing, known := s.closing, s.ops[sk]
	s.mu.Unlock()
	if closing {
		writeError(w, http.StatusServiceUnavailable, &ErrorInfo{Message: "the service is shutting down", Retryable: true,
			Advice: "send the request again to another instance of the service, or later"}, nil)
		return
	}
	fp := fingerprint(body)
	created, err := s.claimRequest(r.Context(), sk, fp)
	if isHeld(err) {
		writeError(w, http.StatusUnprocessableEntity, &ErrorInfo{Field: "Idempotency-Key",
			Message: fmt.Sprintf("Idempotency-Key %q was used for a different request", key),
			Advice:  "use a new key for a new rollback; GET /rollbacks/" + key + " shows the first request"}, known.brief())
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, &ErrorInfo{Message: "recording the request: " + err.Error(), Retryable: true}, nil)
		return
	}
	claimedTarget := false
	forget := func() { // a refused request is not remembered
		if claimedTarget {
			s.unclaimTarget(sk, body)
		}
		if created {
			s.unclaimRequest(sk, fp)
		}
	}
	refuse := func(status int, info *ErrorInfo) {
		forget()
		writeError(w, status, info, nil)
	}
	willRun := known == nil
	if known != nil {
		state, err := known.outcome()
		willRun = state == StateFailed && resumable(err)
	}
	// One operation per disk at a time, across keys and replicas: claimed
	// by a request that will run (a replay of a finished one claims
	// nothing).
	if willRun {
		if err := s.claimTarget(r.Context(), sk, body); isHeld(err) {
			refuse(http.StatusConflict, &ErrorInfo{Field: "Idempotency-Key", Sentinel: "ErrKeyHeld", Retryable: true,
				Message: fmt.Sprintf("another operation, under another idempotency key, is rolling back %s now", strings.TrimPrefix(targetKey(body), targetPrefix)),
				Advice:  "wait for it to end (then check the disk before rolling it back again), or follow it with its own key"})
			return
		} else if err != nil {
			refuse(http.StatusInternalServerError, &ErrorInfo{Message: "claiming the disk: " + err.Error(), Retryable: true})
			return
		}
		claimedTarget = known == nil
	}
	if known == nil {
		// A checkpoint outlives the process: the key may name an earlier
		// process's rollback (one from before fingerprints were kept).
		cp, err := s.cfg.Checkpoints.Load(r.Context(), sk)
		if err != nil {
			refuse(http.StatusInternalServerError, &ErrorInfo{Message: "reading the checkpoint: " + err.Error()})
			return
		}
		if cp != nil && cp.Phase != "" && !sameTarget(cp.Request, req) { // a bare claim has no request yet
			refuse(http.StatusUnprocessableEntity, &ErrorInfo{Field: "Idempotency-Key",
				Message: fmt.Sprintf("Idempotency-Key %q was used for another rollback (snapshot %s of instance %s in %s)", key, cp.Request.SnapshotID, cp.Request.InstanceID, cp.Request.Region),
				Advice:  "use a new key for a new rollback"})
			return
		}
	}
	op, started, status := s.operation(sk, key, body, p, req)
	if status == http.StatusServiceUnavailable {
		forget()
	}
	if status != 0 {
		info := &ErrorInfo{Message: "the service is shutting down", Retryable: true, Advice: "send the request again to another instance of the service, or later"}
		if status == http.StatusUnprocessableEntity {
			info = &ErrorInfo{Field: "Idempotency-Key",
				Message: fmt.Sprintf("Idempotency-Key %q was used for a different request", key),
				Advice:  "use a new key for a new rollback; the operation shows the first request"}
		}
		writeError(w, status, info, op.brief())
		return
	}
	if started {
		// Let the checks answer: a request that cannot run is refused with
		// its own status rather than accepted and failed later.
		checked, _ := op.channels()
		t := time.NewTimer(s.cfg.CheckWait)
		defer t.Stop()
		select {
		case <-checked:
		case <-t.C:
		case <-r.Context().Done():
		}
	}
	s.reply(w, op)
}

// operation finds the key's operation or starts it. It returns a non-zero
// status when the request must be refused: 422 for the key of another
// request, 503 while shutting down.
func (s *Service) operation(sk, key string, body Request, p rollback.Provider, req rollback.Request) (op *operation, started bool, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	op = s.ops[sk]
	switch {
	case op != nil && op.body != body:
		return op, false, http.StatusUnprocessableEntity
	case op != nil:
		if state, err := op.outcome(); state != StateFailed || !resumable(err) {
			return op, false, 0 // the same operation: no second run
		}
	case s.closing:
		return nil, false, http.StatusServiceUnavailable
	default:
		op = newOperation(key, body, s.cfg.MaxEvents)
		op.storeKey = sk
		s.ops[sk] = op
	}
	if s.closing {
		return op, false, 0 // report it as it ended
	}
	s.start(op, p, req)
	return op, true, 0
}

// start runs op in the background, under the service's context; the
// caller holds s.mu, so Shutdown cannot be waiting yet.
func (s *Service) start(op *operation, p rollback.Provider, req rollback.Request) {
	op.begin(s.clk.Now())
	opts := s.cfg.RunOptions
	opts.StopIfRunning, opts.SafetySnapshot, opts.StartAfter = op.body.Stop, op.body.Backup, op.body.Start
	opts.DryRun, opts.NoWait = false, false
	var renewed atomic.Int64
	renewed.Store(s.clk.Now().UnixNano())
	opts.Checkpoints, opts.Progress = s.cfg.Checkpoints, func(ev rollback.Event) {
		op.event(ev)
		// Keep the disk's claim while the Run makes progress.
		now := s.clk.Now().UnixNano()
		if last := renewed.Load(); time.Duration(now-last) > s.targetTTL/4 && renewed.CompareAndSwap(last, now) {
			_ = s.claimTarget(s.ctx, op.storeKey, op.body)
		}
	}
	s.runs.Add(1)
	go func() {
		defer s.runs.Done()
		rep, err := rollback.Run(s.ctx, p, req, opts)
		s.settleClaims(op, rep, err)
		op.finish(rep, err, s.clk.Now())
	}()
}

// settleClaims ends the operation's claims as its outcome asks. A Run
// refused because another replica runs the key leaves them to that one;
// one that ended in its checks changed nothing, so the key and the disk
// are free again; one that ended for good frees the disk and keeps the
// key's request; one worth resuming keeps both until resumed (or until
// the disk's lease ends).
func (s *Service) settleClaims(op *operation, rep *rollback.Report, err error) {
	switch {
	case isHeld(err):
	case err != nil && checksOnly(rep):
		s.unclaimTarget(op.storeKey, op.body)
		s.unclaimRequest(op.storeKey, fingerprint(op.body))
	case err == nil || !resumable(err):
		s.unclaimTarget(op.storeKey, op.body)
	}
}

// reply answers a POST with the operation: 202 while it runs, 200 once it
// has ended, or its error's status when it ended in its checks. Such a
// request changed nothing and left no checkpoint, so the key is not kept:
// the request may be fixed and sent again under it.
func (s *Service) reply(w http.ResponseWriter, op *operation) {
	st := op.status()
	if st.State == StateFailed && op.failedChecks() {
		s.mu.Lock()
		if s.ops[op.storeKey] == op {
			delete(s.ops, op.storeKey)
		}
		s.mu.Unlock()
		_, status := describe(op.err)
		if isHeld(op.err) {
			// Another replica runs it: follow it there or here.
			w.Header().Set("Location", "/rollbacks/"+url.PathEscape(op.key))
		}
		writeError(w, status, st.Error, nil)
		return
	}
	w.Header().Set("Location", "/rollbacks/"+url.PathEscape(op.key))
	if st.State == StateRunning {
		writeJSON(w, http.StatusAccepted, st)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// parse reads and checks the body; nothing is sent for bad input.
func (s *Service) parse(w http.ResponseWriter, r *http.Request, key string) (Request, rollback.Provider, rollback.Request, *ErrorInfo, int) {
	var body Request
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(&body)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("the body has more than one JSON value")
			var tooBig *http.MaxBytesError
			if errors.As(terr, &tooBig) {
				err = terr
			}
		}
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return body, nil, rollback.Request{}, &ErrorInfo{Field: "body",
			Message: fmt.Sprintf("the body is longer than the limit of %d bytes", tooBig.Limit),
			Advice:  "a rollback request is a few hundred bytes of JSON"}, http.StatusRequestEntityTooLarge
	}
	if err != nil {
		return body, nil, rollback.Request{}, &ErrorInfo{Message: "the body is not a rollback request: " + strings.TrimPrefix(err.Error(), "json: "), Field: "body"}, http.StatusBadRequest
	}
	for _, f := range []*string{&body.Provider, &body.Region, &body.Instance, &body.Disk, &body.Snapshot} {
		*f = strings.TrimSpace(*f)
	}
	p, ok := s.cfg.Providers[body.Provider]
	if !ok {
		names := make([]string, 0, len(s.cfg.Providers))
		for n := range s.cfg.Providers {
			names = append(names, n)
		}
		slices.Sort(names)
		return body, nil, rollback.Request{}, &ErrorInfo{Field: "provider", Sentinel: "ErrInvalidArgument",
			Message: fmt.Sprintf("provider %q is not served here; this service serves %s", body.Provider, strings.Join(names, ", "))}, http.StatusBadRequest
	}
	req := rollback.Request{Region: body.Region, InstanceID: body.Instance, DiskID: body.Disk, SnapshotID: body.Snapshot, OperationKey: key}
	if err := rollback.ValidateRequest(p, req); err != nil {
		info, _ := describe(err)
		return body, nil, rollback.Request{}, info, http.StatusBadRequest
	}
	return body, p, req, nil, 0
}

func (s *Service) get(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	sk := storeKey(Caller(r.Context()), key)
	var wait time.Duration
	if q := r.URL.Query().Get("wait"); q != "" {
		d, err := time.ParseDuration(q)
		if err != nil || d < 0 {
			writeError(w, http.StatusBadRequest, &ErrorInfo{Field: "wait", Message: fmt.Sprintf("wait %q is not a duration like 30s", q)}, nil)
			return
		}
		wait = min(d, time.Minute)
	}
	s.mu.Lock()
	op := s.ops[sk]
	s.mu.Unlock()
	if op == nil {
		s.getCheckpoint(w, r, key, sk, wait)
		return
	}
	if wait > 0 {
		d := wait
		_, done := op.channels()
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
		case <-r.Context().Done():
		}
	}
	writeJSON(w, http.StatusOK, op.status())
}

// getCheckpoint reports an operation this process does not run from its
// checkpoint: one another replica runs (waiting for its end when asked
// to, by polling the store), or one an earlier process left.
func (s *Service) getCheckpoint(w http.ResponseWriter, r *http.Request, key, sk string, wait time.Duration) {
	if checkKey(key) != nil {
		writeError(w, http.StatusNotFound, &ErrorInfo{Message: fmt.Sprintf("no rollback has the key %q", key), Field: "key"}, nil)
		return
	}
	cp, err := s.cfg.Checkpoints.Load(r.Context(), sk)
	deadline := time.Now().Add(wait)
	for err == nil && cp != nil && s.heldElsewhere(cp) && time.Now().Before(deadline) {
		select {
		case <-r.Context().Done():
			deadline = time.Time{}
		case <-time.After(100 * time.Millisecond):
			cp, err = s.cfg.Checkpoints.Load(r.Context(), sk)
		}
	}
	if err != nil || cp == nil {
		writeError(w, http.StatusNotFound, &ErrorInfo{Message: fmt.Sprintf("no rollback has the key %q", key), Field: "key"}, nil)
		return
	}
	st := &Status{Key: key, State: StateInterrupted, Phase: cp.Phase, Ended: cp.Updated,
		Request: Request{Region: cp.Request.Region, Instance: cp.Request.InstanceID, Disk: cp.Request.DiskID, Snapshot: cp.Request.SnapshotID}}
	switch {
	case cp.Phase == rollback.PhaseDone:
		st.State = StateSucceeded
	case s.heldElsewhere(cp):
		st.State, st.Ended = StateRunning, time.Time{}
	default:
		st.Error = &ErrorInfo{Message: fmt.Sprintf("an earlier process of the service stopped this rollback at phase %s", cp.Phase),
			Retryable: true, Advice: "send the same request with the same key to resume it"}
	}
	writeJSON(w, http.StatusOK, st)
}

// heldElsewhere reports whether another Run (another replica's) holds the
// checkpoint's key.
func (s *Service) heldElsewhere(cp *rollback.Checkpoint) bool {
	return cp.Phase != rollback.PhaseDone && cp.Owner != "" && cp.LeaseUntil.After(s.clk.Now())
}

// sameTarget reports whether a checkpoint's request rolls back what req
// does; IDs the request leaves out were found by the earlier Run.
func sameTarget(old, req rollback.Request) bool {
	same := func(a, b string) bool { return b == "" || a == b }
	return old.Region == req.Region && old.SnapshotID == req.SnapshotID && same(old.InstanceID, req.InstanceID) && same(old.DiskID, req.DiskID)
}

// checkKey accepts 1 to 128 characters that need no escaping in a URL
// path: letters, digits and "-._~:".
func checkKey(key string) error {
	if key == "" {
		return errors.New("the Idempotency-Key header is required")
	}
	if len(key) > 128 {
		return fmt.Errorf("Idempotency-Key is %d characters long; the limit is 128", len(key))
	}
	for i, c := range []byte(key) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~:", c) >= 0) {
			return fmt.Errorf("Idempotency-Key has %q at byte %d; use letters, digits and -._~:", c, i)
		}
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, info *ErrorInfo, op *Status) {
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "60")
	}
	writeJSON(w, status, errorReply{Error: info, Operation: op})
}

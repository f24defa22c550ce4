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
// its checkpoint for the next process.
//
// Keys are global to the service; a service with several tenants would
// prefix them with the caller's identity. Operations stay in memory for
// the life of the process.
package rollbacksvc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
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
}

// Service is the HTTP handler. Make it with New; it is safe for concurrent
// use.
type Service struct {
	cfg    Config
	clk    clock.Clock
	mux    *http.ServeMux
	ctx    context.Context // the service's lifetime: every Run's context
	cancel context.CancelFunc

	mu      sync.Mutex
	closing bool
	runs    sync.WaitGroup
	ops     map[string]*operation
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
	s.mux.HandleFunc("POST /rollbacks", s.post)
	s.mux.HandleFunc("GET /rollbacks/{key}", s.get)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

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
	body, p, req, info := s.parse(w, r, key)
	if info != nil {
		writeError(w, http.StatusBadRequest, info, nil)
		return
	}
	s.mu.Lock()
	known := s.ops[key] != nil
	s.mu.Unlock()
	if !known {
		// A checkpoint outlives the process: the key may name an earlier
		// process's rollback.
		cp, err := s.cfg.Checkpoints.Load(r.Context(), key)
		if err != nil {
			writeError(w, http.StatusInternalServerError, &ErrorInfo{Message: "reading the checkpoint: " + err.Error()}, nil)
			return
		}
		if cp != nil && !sameTarget(cp.Request, req) {
			writeError(w, http.StatusUnprocessableEntity, &ErrorInfo{Field: "Idempotency-Key",
				Message: fmt.Sprintf("Idempotency-Key %q was used for another rollback (snapshot %s of instance %s in %s)", key, cp.Request.SnapshotID, cp.Request.InstanceID, cp.Request.Region),
				Advice:  "use a new key for a new rollback"}, nil)
			return
		}
	}
	op, started, status := s.operation(key, body, p, req)
	if status != 0 {
		info := &ErrorInfo{Message: "the service is shutting down", Retryable: true, Advice: "send the request again to another instance of the service, or later"}
		if status == http.StatusUnprocessableEntity {
			info = &ErrorInfo{Field: "Idempotency-Key",
				Message: fmt.Sprintf("Idempotency-Key %q was used for a different request", key),
				Advice:  "use a new key for a new rollback; the operation shows the first request"}
		}
		var st *Status
		if op != nil {
			full := op.status()
			st = &Status{Key: full.Key, State: full.State, Request: full.Request, Step: full.Step, Started: full.Started, Ended: full.Ended}
		}
		writeError(w, status, info, st)
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
func (s *Service) operation(key string, body Request, p rollback.Provider, req rollback.Request) (op *operation, started bool, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	op = s.ops[key]
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
		s.ops[key] = op
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
	opts.Checkpoints, opts.Progress = s.cfg.Checkpoints, op.event
	s.runs.Add(1)
	go func() {
		defer s.runs.Done()
		rep, err := rollback.Run(s.ctx, p, req, opts)
		op.finish(rep, err, s.clk.Now())
	}()
}

// reply answers a POST with the operation: 202 while it runs, 200 once it
// has ended, or its error's status when it ended in its checks. Such a
// request changed nothing and left no checkpoint, so the key is not kept:
// the request may be fixed and sent again under it.
func (s *Service) reply(w http.ResponseWriter, op *operation) {
	st := op.status()
	if st.State == StateFailed && op.failedChecks() {
		s.mu.Lock()
		if s.ops[op.key] == op {
			delete(s.ops, op.key)
		}
		s.mu.Unlock()
		_, status := describe(op.err)
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
func (s *Service) parse(w http.ResponseWriter, r *http.Request, key string) (Request, rollback.Provider, rollback.Request, *ErrorInfo) {
	var body Request
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return body, nil, rollback.Request{}, &ErrorInfo{Message: "the body is not a rollback request: " + strings.TrimPrefix(err.Error(), "json: "), Field: "body"}
	}
	if _, err := dec.Token(); err != io.EOF {
		return body, nil, rollback.Request{}, &ErrorInfo{Message: "the body has more than one JSON value", Field: "body"}
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
			Message: fmt.Sprintf("provider %q is not served here; this service serves %s", body.Provider, strings.Join(names, ", "))}
	}
	req := rollback.Request{Region: body.Region, InstanceID: body.Instance, DiskID: body.Disk, SnapshotID: body.Snapshot, OperationKey: key}
	err := rollback.CheckRegion(req.Region)
	if v, ok := p.(rollback.RequestValidator); ok && err == nil {
		err = v.ValidateRequest(req)
	}
	if err != nil {
		info, _ := describe(err)
		return body, nil, rollback.Request{}, info
	}
	return body, p, req, nil
}

func (s *Service) get(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	s.mu.Lock()
	op := s.ops[key]
	s.mu.Unlock()
	if op == nil {
		s.getCheckpoint(w, r, key)
		return
	}
	if wait := r.URL.Query().Get("wait"); wait != "" {
		d, err := time.ParseDuration(wait)
		if err != nil || d < 0 {
			writeError(w, http.StatusBadRequest, &ErrorInfo{Field: "wait", Message: fmt.Sprintf("wait %q is not a duration like 30s", wait)}, nil)
			return
		}
		_, done := op.channels()
		t := time.NewTimer(min(d, time.Minute))
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
		case <-r.Context().Done():
		}
	}
	writeJSON(w, http.StatusOK, op.status())
}

// getCheckpoint reports an operation this process does not know from the
// checkpoint an earlier one left.
func (s *Service) getCheckpoint(w http.ResponseWriter, r *http.Request, key string) {
	cp, err := s.cfg.Checkpoints.Load(r.Context(), key)
	if err != nil || cp == nil || checkKey(key) != nil {
		writeError(w, http.StatusNotFound, &ErrorInfo{Message: fmt.Sprintf("no rollback has the key %q", key), Field: "key"}, nil)
		return
	}
	st := &Status{Key: key, State: StateInterrupted, Phase: cp.Phase, Ended: cp.Updated,
		Request: Request{Region: cp.Request.Region, Instance: cp.Request.InstanceID, Disk: cp.Request.DiskID, Snapshot: cp.Request.SnapshotID}}
	if cp.Phase == rollback.PhaseDone {
		st.State = StateSucceeded
	} else {
		st.Error = &ErrorInfo{Message: fmt.Sprintf("an earlier process of the service stopped this rollback at phase %s", cp.Phase),
			Retryable: true, Advice: "send the same request with the same key to resume it"}
	}
	writeJSON(w, http.StatusOK, st)
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

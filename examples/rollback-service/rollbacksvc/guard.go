package rollbacksvc

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Token is a bearer token and the caller it names.
type Token struct {
	// Caller names the caller in idempotency-key scopes and access logs:
	// letters, digits and "-._", at most 64.
	Caller string
	Secret string
}

// ParseTokens reads tokens, one "caller:secret" a line (or separated by
// commas, for an environment variable); blank lines and lines starting
// with # are skipped. Errors name the line, never the secret.
func ParseTokens(r io.Reader) ([]Token, error) {
	var toks []Token
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		for _, f := range strings.Split(sc.Text(), ",") {
			f = strings.TrimSpace(f)
			if f == "" || strings.HasPrefix(f, "#") {
				continue
			}
			caller, secret, ok := strings.Cut(f, ":")
			caller, secret = strings.TrimSpace(caller), strings.TrimSpace(secret)
			if !ok || secret == "" {
				return nil, fmt.Errorf("tokens, line %d: want caller:secret", n)
			}
			if err := checkCaller(caller); err != nil {
				return nil, fmt.Errorf("tokens, line %d: %v", n, err)
			}
			if len(secret) < 16 {
				return nil, fmt.Errorf("tokens, line %d: the secret of %q is %d characters; use at least 16 (e.g. openssl rand -hex 32)", n, caller, len(secret))
			}
			toks = append(toks, Token{Caller: caller, Secret: secret})
		}
	}
	return toks, sc.Err()
}

func checkCaller(c string) error {
	if c == "" || len(c) > 64 {
		return fmt.Errorf("caller %q: use 1 to 64 letters, digits and -._", c)
	}
	for _, ch := range []byte(c) {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.IndexByte("-._", ch) >= 0) {
			return fmt.Errorf("caller %q: use 1 to 64 letters, digits and -._", c)
		}
	}
	return nil
}

type callerKey struct{}

// Caller returns the authenticated caller of a request's context: a
// token's Caller, "cert:" and a client certificate's common name, or ""
// when the service authenticates nobody.
func Caller(ctx context.Context) string {
	c, _ := ctx.Value(callerKey{}).(string)
	return c
}

// authenticate names the caller of r, or returns false. Every token is
// compared, in constant time over hashes of equal length, so neither the
// time taken nor an early exit tells a guesser anything.
func (s *Service) authenticate(r *http.Request) (string, bool) {
	if len(s.cfg.Tokens) == 0 && !s.cfg.ClientCerts {
		return "", true
	}
	if s.cfg.ClientCerts && r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		if cn := r.TLS.VerifiedChains[0][0].Subject.CommonName; checkCaller(cn) == nil {
			return "cert:" + cn, true
		}
	}
	auth := r.Header.Get("Authorization")
	scheme, given, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || len(s.cfg.Tokens) == 0 {
		return "", false
	}
	g := sha256.Sum256([]byte(strings.TrimSpace(given)))
	caller, found := "", 0
	for _, t := range s.tokenHashes {
		if subtle.ConstantTimeCompare(g[:], t.hash[:]) == 1 {
			caller, found = t.caller, 1
		}
	}
	return caller, found == 1
}

type tokenHash struct {
	caller string
	hash   [32]byte
}

// hostAllowed reports whether the request's Host, and its Origin when it
// has one, name this service. A web page whose DNS name was rebound to
// 127.0.0.1 reaches a loopback service with its own name in Host, and a
// page of another site sends its Origin: both are refused.
func (s *Service) hostAllowed(r *http.Request) bool {
	if !s.allowedHost(r.Host) {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host == "" || !s.allowedHost(u.Host) {
			return false
		}
	}
	return true
}

func (s *Service) allowedHost(hostport string) bool {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	h = strings.ToLower(strings.Trim(h, "[]"))
	for _, a := range s.allowed {
		if h == a {
			return true
		}
	}
	return false
}

// DefaultAllowedHosts are the Host names accepted when Config.AllowedHosts
// is empty: loopback only.
var DefaultAllowedHosts = []string{"localhost", "127.0.0.1", "::1"}

// guard authenticates and checks Host and Origin before the API; health
// checks need neither (they say nothing about operations).
func (s *Service) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			next.ServeHTTP(w, r)
			return
		}
		if !s.hostAllowed(r) {
			writeError(w, http.StatusForbidden, &ErrorInfo{Field: "Host",
				Message: "this service does not answer to that Host or Origin",
				Advice:  "call it by a name in its allowed hosts (-allowed-hosts); browsers' cross-site requests are refused"}, nil)
			return
		}
		caller, ok := s.authenticate(r)
		if !ok {
			msg := "authentication required: send Authorization: Bearer <token>"
			if s.cfg.ClientCerts {
				msg += " or a client certificate"
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="rollback"`)
			writeError(w, http.StatusUnauthorized, &ErrorInfo{Field: "Authorization", Message: msg,
				Advice: "ask the operator of the service for a token"}, nil)
			return
		}
		if rec, ok := w.(*statusRecorder); ok {
			rec.caller = caller
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, caller)))
	})
}

// accessLog logs one line per request: never a header's value, a body or
// a query string (no token can reach the log).
func (s *Service) accessLog(next http.Handler) http.Handler {
	if s.cfg.AccessLog == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		caller := rec.caller
		s.cfg.AccessLog.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Int64("bytes", rec.bytes),
			slog.Duration("elapsed", time.Since(start)), slog.String("remote", r.RemoteAddr),
			slog.String("caller", caller), slog.String("idempotency_key", safeKey(r.Header.Get("Idempotency-Key"))))
	})
}

// safeKey logs a key only when it is a valid one (no control characters
// or megabytes of junk in the log).
func safeKey(k string) string {
	if checkKey(k) != nil {
		return ""
	}
	return k
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	caller string
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Service) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz is 200 while the service takes operations and its store answers.
func (s *Service) readyz(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		writeError(w, http.StatusServiceUnavailable, &ErrorInfo{Message: "shutting down", Retryable: true}, nil)
		return
	}
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			writeError(w, http.StatusServiceUnavailable, &ErrorInfo{Message: "the store does not answer: " + err.Error(), Retryable: true}, nil)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

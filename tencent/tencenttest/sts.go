package tencenttest

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/emulator"
)

// STS issues temporary credentials that the Lighthouse emulator accepts
// until they expire on the emulator's clock (then AuthFailure.TokenFailure,
// "The token has expired."). It serves, each on its own loopback listener:
//
//   - STSURL: STS 2018-08-13 AssumeRole (signed by a SecretId the Server
//     knows, static or issued) and AssumeRoleWithWebIdentity (unsigned,
//     Authorization: SKIP; the token must be WebIdentityToken);
//   - MetadataURL: the CVM metadata service's CAM role credentials.
//
// Point a client at them with tencent.Config.STSEndpoint and
// MetadataEndpoint. Quotas count issued keys under DefaultSecretID, the
// account's.
type STS struct {
	STSURL, MetadataURL string

	srv *Server
	clk clock.Clock

	mu      sync.Mutex
	role    string
	token   string
	life    time.Duration
	delay   time.Duration
	down    bool
	issued  map[string]issued
	counts  map[string]int
	servers []*httptest.Server
}

type issued struct {
	key, token string
	expiry     time.Time
}

// Defaults of an STS.
const (
	DefaultRoleName         = "CVMRoleEmulator"
	DefaultWebIdentityToken = "emulator-web-identity-token"
	DefaultCredLife         = time.Hour
)

// NewSTS starts the STS and metadata endpoints for srv and makes srv
// accept the credentials they issue. Close it before srv.
func NewSTS(srv *Server) *STS {
	s := &STS{srv: srv, clk: srv.clk, role: DefaultRoleName, token: DefaultWebIdentityToken,
		life: DefaultCredLife, issued: map[string]issued{}, counts: map[string]int{}}
	srv.mu.Lock()
	srv.issuer = s
	srv.mu.Unlock()
	for _, h := range []http.HandlerFunc{s.serveSTS, s.serveMetadata} {
		ts := httptest.NewServer(h)
		s.servers = append(s.servers, ts)
	}
	s.STSURL, s.MetadataURL = s.servers[0].URL, s.servers[1].URL
	return s
}

// Close stops the endpoints.
func (s *STS) Close() {
	for _, ts := range s.servers {
		ts.CloseClientConnections()
		ts.Close()
	}
}

// SetLifetime sets the lifetime of the metadata service's credentials.
func (s *STS) SetLifetime(d time.Duration) { s.mu.Lock(); s.life = d; s.mu.Unlock() }

// SetDown makes the metadata service answer 503.
func (s *STS) SetDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

// SetDelay makes the metadata service answer after d of wall time (or
// when the client gives up).
func (s *STS) SetDelay(d time.Duration) { s.mu.Lock(); s.delay = d; s.mu.Unlock() }

// ExpireAll makes every credential issued so far expired now, as if the
// cloud's clock ran ahead of the client's.
func (s *STS) ExpireAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clk.Now()
	for id, c := range s.issued {
		c.expiry = now
		s.issued[id] = c
	}
}

// Count returns how many times an action was served: "AssumeRole",
// "AssumeRoleWithWebIdentity", "metadata".
func (s *STS) Count(action string) int { s.mu.Lock(); defer s.mu.Unlock(); return s.counts[action] }

// Issue makes a new temporary credential valid for life on the clock, as
// aliyuntest's STS.Issue does.
func (s *STS) Issue(life time.Duration) (c Credential, expiry time.Time) {
	c = Credential{SecretID: "AKID" + randHex(16), SecretKey: randHex(16), Token: "tok" + randHex(32)}
	expiry = s.clk.Now().Add(life).Truncate(time.Second)
	s.mu.Lock()
	s.issued[c.SecretID] = issued{key: c.SecretKey, token: c.Token, expiry: expiry}
	s.mu.Unlock()
	return c, expiry
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// credential finds a SecretId among the static and the issued ones.
func (s *Server) credential(id string) (credential, bool) {
	if c, ok := s.creds[id]; ok {
		return c, true
	}
	s.mu.Lock()
	is := s.issuer
	s.mu.Unlock()
	if is == nil {
		return credential{}, false
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	c, ok := is.issued[id]
	if !ok {
		return credential{}, false
	}
	return credential{key: c.key, token: c.token, expired: !is.clk.Now().Before(c.expiry), account: DefaultSecretID}, true
}

func (s *STS) reply(w http.ResponseWriter, v map[string]any) {
	v["RequestId"] = emulator.UUID()
	writeJSON(w, http.StatusOK, map[string]any{"Response": v})
}

func (s *STS) fail(w http.ResponseWriter, code, msg string) {
	writeJSON(w, http.StatusOK, errorBody(code, msg, emulator.UUID()))
}

func (s *STS) issue(w http.ResponseWriter, count string, life time.Duration) {
	s.mu.Lock()
	s.counts[count]++
	s.mu.Unlock()
	c, exp := s.Issue(life)
	s.reply(w, map[string]any{
		"Credentials": map[string]string{"TmpSecretId": c.SecretID, "TmpSecretKey": c.SecretKey, "Token": c.Token},
		"ExpiredTime": exp.Unix(), "Expiration": exp.UTC().Format(time.RFC3339),
	})
}

func (s *STS) serveSTS(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var p struct {
		RoleArn, RoleSessionName, ProviderId, WebIdentityToken string
		DurationSeconds                                        int
	}
	if err := json.Unmarshal(body, &p); err != nil {
		s.fail(w, CodeInvalidParameter, "The body is not JSON.")
		return
	}
	life := time.Duration(p.DurationSeconds) * time.Second
	if p.DurationSeconds == 0 {
		life = 2 * time.Hour
	}
	if p.RoleArn == "" || p.RoleSessionName == "" {
		s.fail(w, CodeMissingParameter, "RoleArn and RoleSessionName are required.")
		return
	}
	switch action := r.Header.Get("X-TC-Action"); action {
	case "AssumeRole":
		// The caller must hold credentials the Server accepts; the
		// Lighthouse path checks signatures, this one the key and token.
		a, e := parseAuthorization(r.Header.Get("Authorization"))
		if e != nil {
			s.fail(w, e.Code, e.Detail)
			return
		}
		c, ok := s.srv.credential(a.secretID)
		switch {
		case !ok:
			s.fail(w, CodeAuthFailureSecretIDNotFound, "The SecretId is not found.")
			return
		case c.token != r.Header.Get("X-TC-Token") || c.expired:
			s.fail(w, CodeAuthFailureTokenFailure, "The token is invalid or has expired.")
			return
		}
		s.issue(w, action, life)
	case "AssumeRoleWithWebIdentity":
		s.mu.Lock()
		want := s.token
		s.mu.Unlock()
		if r.Header.Get("Authorization") != "SKIP" || p.ProviderId == "" {
			s.fail(w, CodeInvalidParameter, "Authorization must be SKIP and ProviderId set.")
			return
		}
		if !hmac.Equal([]byte(p.WebIdentityToken), []byte(want)) {
			s.fail(w, "InvalidParameter.WebIdentityTokenError", "The web identity token is invalid.")
			return
		}
		s.issue(w, action, life)
	default:
		s.fail(w, "InvalidAction", "The action is not served here.")
	}
}

func (s *STS) serveMetadata(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	down, delay, role, life := s.down, s.delay, s.role, s.life
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if down {
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return
	}
	const path = "/latest/meta-data/cam/security-credentials/"
	switch {
	case r.URL.Path == path:
		_, _ = io.WriteString(w, role)
	case strings.TrimPrefix(r.URL.Path, path) == role:
		s.mu.Lock()
		s.counts["metadata"]++
		s.mu.Unlock()
		c, exp := s.Issue(life)
		writeJSON(w, http.StatusOK, map[string]any{"TmpSecretId": c.SecretID, "TmpSecretKey": c.SecretKey, "Token": c.Token,
			"ExpiredTime": exp.Unix(), "Expiration": exp.UTC().Format(time.RFC3339), "Code": "Success"})
	default:
		http.NotFound(w, r)
	}
}

// Secrets returns every SecretId, SecretKey and token issued so far, for
// tests that scan output for leaks.
func (s *STS) Secrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, 3*len(s.issued))
	for id, c := range s.issued {
		out = append(out, id, c.key, c.token)
	}
	return out
}

package aliyuntest

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"

	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/emulator"
)

// STS issues temporary credentials that the SWAS emulator accepts until
// they expire on the emulator's clock (then InvalidSecurityToken.Expired).
// It serves, each on its own loopback listener:
//
//   - STSURL: STS 2015-04-01 AssumeRole (signed by a key the Server knows,
//     static or issued) and AssumeRoleWithOIDC (unsigned; the OIDC token
//     must be OIDCToken);
//   - MetadataURL: the ECS metadata service (IMDSv2 token, role name,
//     the role's credentials);
//   - URIURL: an ALIBABA_CLOUD_CREDENTIALS_URI endpoint.
//
// Point a client at them with aliyun.Config.STSEndpoint and
// MetadataEndpoint (and the variable for the URI).
type STS struct {
	STSURL, MetadataURL, URIURL string

	srv *Server
	clk clock.Clock

	mu sync.Mutex
	// RoleName is the instance's RAM role on the metadata service
	// (default "EcsRoleEmulator"); empty after NoRole.
	roleName  string
	oidcToken string
	life      time.Duration // metadata and URI credentials' lifetime
	delay     time.Duration
	down      bool
	issued    map[string]issuedCred
	counts    map[string]int
	servers   []*httptest.Server
}

type issuedCred struct {
	Credential
	expiry time.Time
}

// Defaults of an STS.
const (
	DefaultRoleName  = "EcsRoleEmulator"
	DefaultOIDCToken = "emulator-oidc-token"
	DefaultCredLife  = time.Hour
)

// NewSTS starts the STS, metadata and URI endpoints for srv and makes srv
// accept the credentials they issue. Close it before srv.
func NewSTS(srv *Server) *STS {
	s := &STS{srv: srv, clk: srv.clk, roleName: DefaultRoleName, oidcToken: DefaultOIDCToken,
		life: DefaultCredLife, issued: map[string]issuedCred{}, counts: map[string]int{}}
	srv.mu.Lock()
	srv.issuer = s
	srv.mu.Unlock()
	start := func(h http.HandlerFunc) string {
		ts := httptest.NewServer(h)
		s.servers = append(s.servers, ts)
		return ts.URL
	}
	s.STSURL = start(s.serveSTS)
	s.MetadataURL = start(s.serveMetadata)
	s.URIURL = start(s.serveURI)
	return s
}

// Close stops the endpoints.
func (s *STS) Close() {
	for _, ts := range s.servers {
		ts.CloseClientConnections()
		ts.Close()
	}
}

// SetLifetime sets the lifetime of credentials the metadata service and
// the URI hand out (AssumeRole uses DurationSeconds).
func (s *STS) SetLifetime(d time.Duration) { s.mu.Lock(); s.life = d; s.mu.Unlock() }

// SetDown makes the metadata service and the URI answer 503.
func (s *STS) SetDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

// SetDelay makes the metadata service and the URI answer after d of wall
// time (or when the client gives up).
func (s *STS) SetDelay(d time.Duration) { s.mu.Lock(); s.delay = d; s.mu.Unlock() }

// NoRole makes the metadata service report that the instance has no role.
func (s *STS) NoRole() { s.mu.Lock(); s.roleName = ""; s.mu.Unlock() }

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
// "AssumeRoleWithOIDC", "metadata" (role credentials), "uri".
func (s *STS) Count(action string) int { s.mu.Lock(); defer s.mu.Unlock(); return s.counts[action] }

// Issue makes a new temporary credential valid for life on the clock.
func (s *STS) Issue(life time.Duration) (c Credential, expiry time.Time) {
	c = Credential{AccessKeyID: "STS." + randHex(12), AccessKeySecret: randHex(20), SecurityToken: "CAIS" + randHex(32)}
	expiry = s.clk.Now().Add(life).Truncate(time.Second)
	s.mu.Lock()
	s.issued[c.AccessKeyID] = issuedCred{Credential: c, expiry: expiry}
	s.mu.Unlock()
	return c, expiry
}

// lookup finds an issued credential and says whether it expired.
func (s *STS) lookup(id string) (Credential, bool, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.issued[id]
	if !ok {
		return Credential{}, false, false
	}
	return c.Credential, !s.clk.Now().Before(c.expiry), true
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type stsCreds struct {
	AccessKeyId, AccessKeySecret, SecurityToken, Expiration string
}

func (s *STS) credsJSON(c Credential, expiry time.Time) stsCreds {
	return stsCreds{c.AccessKeyID, c.AccessKeySecret, c.SecurityToken, expiry.UTC().Format("2006-01-02T15:04:05Z")}
}

func stsError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"RequestId": emulator.UUID(), "Code": code, "Message": msg})
}

func (s *STS) serveSTS(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		stsError(w, 400, "InvalidParameter", "unreadable parameters")
		return
	}
	all := map[string]string{}
	for k, v := range r.Form {
		all[k] = v[0]
	}
	dur := time.Hour
	if d := all["DurationSeconds"]; d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 900 || n > 43200 {
			stsError(w, 400, "InvalidParameter.DurationSeconds", "DurationSeconds must be 900 to 43200.")
			return
		}
		dur = time.Duration(n) * time.Second
	}
	switch all["Action"] {
	case "AssumeRole":
		if all["RoleArn"] == "" || all["RoleSessionName"] == "" {
			stsError(w, 400, "MissingParameter", "RoleArn and RoleSessionName are required.")
			return
		}
		if code, msg := s.verify(r.Method, all); code != "" {
			stsError(w, 400, code, msg)
			return
		}
	case "AssumeRoleWithOIDC":
		s.mu.Lock()
		want := s.oidcToken
		s.mu.Unlock()
		if all["OIDCProviderArn"] == "" || all["RoleArn"] == "" {
			stsError(w, 400, "MissingParameter", "RoleArn and OIDCProviderArn are required.")
			return
		}
		if !hmac.Equal([]byte(all["OIDCToken"]), []byte(want)) {
			stsError(w, 400, "AuthenticationFail.OIDCToken.Invalid", "The OIDC token is invalid.")
			return
		}
	default:
		stsError(w, 400, "InvalidAction.NotFound", "Specified api is not found.")
		return
	}
	s.mu.Lock()
	s.counts[all["Action"]]++
	s.mu.Unlock()
	c, exp := s.Issue(dur)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"RequestId": emulator.UUID(), "Credentials": s.credsJSON(c, exp),
		"AssumedRoleUser": map[string]string{"Arn": all["RoleArn"] + "/" + all["RoleSessionName"]}})
}

// verify checks an AssumeRole request's signature against the Server's
// keys and the issued ones.
func (s *STS) verify(method string, all map[string]string) (code, msg string) {
	id := all["AccessKeyId"]
	cred, ok := s.srv.creds[id]
	if !ok {
		var expired bool
		cred, expired, ok = s.lookup(id)
		if ok && expired {
			return "InvalidSecurityToken.Expired", "Specified SecurityToken is expired."
		}
	}
	if !ok {
		return "InvalidAccessKeyId.NotFound", "Specified access key is not found."
	}
	if !hmac.Equal([]byte(Sign(StringToSign(method, all), cred.AccessKeySecret)), []byte(all["Signature"])) {
		return "SignatureDoesNotMatch", "Specified signature is not matched with our calculation."
	}
	if all["SecurityToken"] != cred.SecurityToken {
		return "InvalidSecurityToken.MismatchWithAccessKey", "Specified SecurityToken mismatch with the AccessKey."
	}
	return "", ""
}

// hold applies SetDown and SetDelay; false means do not answer.
func (s *STS) hold(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	down, delay := s.down, s.delay
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return false
		}
	}
	if down {
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return false
	}
	return true
}

func (s *STS) serveMetadata(w http.ResponseWriter, r *http.Request) {
	if !s.hold(w, r) {
		return
	}
	const credPath = "/latest/meta-data/ram/security-credentials/"
	s.mu.Lock()
	role, life := s.roleName, s.life
	s.mu.Unlock()
	switch {
	case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
		_, _ = w.Write([]byte("imds-" + randHex(8)))
	case r.Header.Get("X-Aliyun-Ecs-Metadata-Token") == "":
		http.Error(w, "missing the IMDSv2 token", http.StatusUnauthorized)
	case r.URL.Path == credPath && role != "":
		_, _ = w.Write([]byte(role))
	case role != "" && r.URL.Path == credPath+role:
		s.mu.Lock()
		s.counts["metadata"]++
		s.mu.Unlock()
		c, exp := s.Issue(life)
		body := s.credsJSON(c, exp)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"Code": "Success", "AccessKeyId": body.AccessKeyId,
			"AccessKeySecret": body.AccessKeySecret, "SecurityToken": body.SecurityToken, "Expiration": body.Expiration,
			"LastUpdated": s.clk.Now().UTC().Format("2006-01-02T15:04:05Z")})
	default:
		http.NotFound(w, r)
	}
}

func (s *STS) serveURI(w http.ResponseWriter, r *http.Request) {
	if !s.hold(w, r) {
		return
	}
	s.mu.Lock()
	s.counts["uri"]++
	life := s.life
	s.mu.Unlock()
	c, exp := s.Issue(life)
	w.Header().Set("Content-Type", "application/json")
	body := s.credsJSON(c, exp)
	_ = json.NewEncoder(w).Encode(map[string]string{"Code": "Success", "AccessKeyId": body.AccessKeyId,
		"AccessKeySecret": body.AccessKeySecret, "SecurityToken": body.SecurityToken, "Expiration": body.Expiration})
}

// Issued credentials are checked by authenticate through this hook.
func (s *Server) issuedCredential(id string) (Credential, *apiError, bool) {
	s.mu.Lock()
	is := s.issuer
	s.mu.Unlock()
	if is == nil {
		return Credential{}, nil, false
	}
	c, expired, ok := is.lookup(id)
	if !ok {
		return Credential{}, nil, false
	}
	if expired {
		return c, errorFor("InvalidSecurityToken.Expired"), true
	}
	// Quotas, nonces and ClientTokens are the account's, whichever of its
	// keys signs: an issued key counts as the Server's first key.
	c.AccessKeyID = s.firstCred.AccessKeyID
	return c, nil, true
}

// Secrets returns every key ID, secret and token issued so far, for tests
// that scan output for leaks.
func (s *STS) Secrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, 3*len(s.issued))
	for _, c := range s.issued {
		out = append(out, c.AccessKeyID, c.AccessKeySecret, c.SecurityToken)
	}
	return out
}

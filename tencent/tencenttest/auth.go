package tencenttest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxSkew is how far X-TC-Timestamp may be from the server's wall time.
const maxSkew = 5 * time.Minute

type credential struct {
	key   string
	token string // required X-TC-Token when not empty
	// Issued by the STS (sts.go): expired on the emulator's clock, and the
	// account's SecretId, which quotas count under.
	expired bool
	account string
}

// authorization is a parsed TC3-HMAC-SHA256 Authorization header.
type authorization struct {
	secretID      string
	date, service string // from the credential scope
	signedHeaders []string
	signature     string
}

// parseAuthorization reads
// "TC3-HMAC-SHA256 Credential=<id>/<date>/<service>/tc3_request, SignedHeaders=a;b, Signature=<hex>".
func parseAuthorization(h string) (authorization, *apiError) {
	var a authorization
	if h == "" {
		return a, apiErrf(CodeAuthFailureInvalidAuthorization, "The Authorization header is missing.")
	}
	alg, rest, ok := strings.Cut(h, " ")
	if !ok || alg != "TC3-HMAC-SHA256" {
		return a, apiErrf(CodeAuthFailureInvalidAuthorization, "The Authorization header must use TC3-HMAC-SHA256.")
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, apiErrf(CodeAuthFailureInvalidAuthorization, "The Authorization header is malformed.")
		}
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 4 || scope[0] == "" || scope[3] != "tc3_request" {
		return a, apiErrf(CodeAuthFailureInvalidAuthorization, "The Credential of the Authorization header must be SecretId/date/service/tc3_request.")
	}
	a.secretID, a.date, a.service = scope[0], scope[1], scope[2]
	if fields["SignedHeaders"] == "" || fields["Signature"] == "" {
		return a, apiErrf(CodeAuthFailureInvalidAuthorization, "The Authorization header lacks SignedHeaders or Signature.")
	}
	a.signedHeaders = strings.Split(fields["SignedHeaders"], ";")
	a.signature = fields["Signature"]
	return a, nil
}

// verify checks the request's signature and timestamp against the known
// credentials. now is the wall time: the SDKs sign with wall time even when
// the emulator runs on a virtual clock.
func verify(r *http.Request, body []byte, creds func(secretID string) (credential, bool), now time.Time, skewOK bool) (string, *apiError) {
	a, e := parseAuthorization(r.Header.Get("Authorization"))
	if e != nil {
		return "", e
	}
	tsText := r.Header.Get("X-TC-Timestamp")
	if tsText == "" {
		return "", apiErrf(CodeMissingParameter, "The request is missing the X-TC-Timestamp header.")
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return "", apiErrf(CodeInvalidParameter, "X-TC-Timestamp must be Unix seconds.")
	}
	signedAt := time.Unix(ts, 0).UTC()
	if d := now.Sub(signedAt); !skewOK && (d > maxSkew || d < -maxSkew) {
		return "", apiErrf(CodeAuthFailureSignatureExpire,
			"The signature has expired: X-TC-Timestamp %d is %s from the server time; the limit is 5 minutes.", ts, d.Round(time.Second).Abs())
	}
	if a.service != service || a.date != signedAt.Format("2006-01-02") {
		return "", apiErrf(CodeAuthFailureSignatureFailure, "The credential scope must be <UTC date of X-TC-Timestamp>/%s/tc3_request.", service)
	}
	cred, ok := creds(a.secretID)
	if !ok {
		return "", apiErr(CodeAuthFailureSecretIDNotFound)
	}
	want := signature(cred.key, stringToSign(r, body, a, tsText))
	if !hmac.Equal([]byte(want), []byte(a.signature)) {
		return "", apiErr(CodeAuthFailureSignatureFailure)
	}
	if cred.token != "" && r.Header.Get("X-TC-Token") != cred.token {
		return "", apiErr(CodeAuthFailureTokenFailure)
	}
	if cred.expired {
		return "", apiErrf(CodeAuthFailureTokenFailure, "The token has expired.")
	}
	if cred.account != "" {
		return cred.account, nil
	}
	return a.secretID, nil
}

// stringToSign rebuilds what the client signed.
func stringToSign(r *http.Request, body []byte, a authorization, ts string) string {
	var canonHeaders strings.Builder
	for _, h := range a.signedHeaders {
		v := r.Header.Get(h)
		if strings.EqualFold(h, "host") {
			v = r.Host
		}
		canonHeaders.WriteString(strings.ToLower(h) + ":" + strings.TrimSpace(v) + "\n")
	}
	payload := sha256hex(body)
	if r.Header.Get("X-TC-Content-SHA256") == "UNSIGNED-PAYLOAD" {
		payload = sha256hex([]byte("UNSIGNED-PAYLOAD"))
	}
	canonical := strings.Join([]string{
		r.Method,
		"/",
		r.URL.RawQuery,
		canonHeaders.String(),
		strings.Join(a.signedHeaders, ";"),
		payload,
	}, "\n")
	scope := a.date + "/" + a.service + "/tc3_request"
	return "TC3-HMAC-SHA256\n" + ts + "\n" + scope + "\n" + sha256hex([]byte(canonical))
}

// signature derives the TC3 signing key from the secret key and signs s.
func signature(secretKey, s string) string {
	// s carries the scope on its third line: TC3-HMAC-SHA256\n<ts>\n<date>/<service>/tc3_request\n...
	lines := strings.SplitN(s, "\n", 4)
	scope := strings.Split(lines[2], "/")
	k := hmacSHA256([]byte("TC3"+secretKey), scope[0])
	k = hmacSHA256(k, scope[1])
	k = hmacSHA256(k, "tc3_request")
	return hex.EncodeToString(hmacSHA256(k, s))
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

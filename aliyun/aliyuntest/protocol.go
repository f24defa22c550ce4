package aliyuntest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// commonParams are the protocol's own parameters: checked here, never
// handed to actions, never journaled.
var commonParams = map[string]bool{
	"Action": true, "Version": true, "Format": true, "Timestamp": true,
	"SignatureMethod": true, "SignatureVersion": true, "SignatureType": true,
	"SignatureNonce": true, "AccessKeyId": true, "Signature": true,
	"SecurityToken": true, "BearerToken": true, "RegionId": true,
}

// call is one parsed, authenticated request.
type call struct {
	action    string
	region    string
	accessKey string
	params    map[string]string // API parameters only
	requestID string
	now       time.Time // server clock, set under the state lock
	applied   bool      // the handler changed state
}

// parse reads the request's parameters (query, merged with a form body if
// any) and checks the protocol envelope up to the action. It returns the
// call (possibly partial, for the journal) and the error to reply with.
func (s *Server) parse(r *http.Request) (*call, map[string]string, *apiError) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return nil, nil, errorFor("UnsupportedHTTPMethod")
	}
	if err := r.ParseForm(); err != nil {
		return nil, nil, errorWithMessage("InvalidParameter", "The request parameters cannot be parsed.")
	}
	all := make(map[string]string, len(r.Form))
	for k, v := range r.Form {
		if len(v) > 0 {
			all[k] = v[0]
		}
	}
	c := &call{action: all["Action"], region: all["RegionId"], params: make(map[string]string)}
	for k, v := range all {
		if !commonParams[k] {
			c.params[k] = v
		}
	}
	switch {
	case c.action == "":
		return c, all, missing("Action")
	case all["Version"] == "":
		return c, all, missing("Version")
	case all["Version"] != APIVersion:
		return c, all, errorFor("InvalidVersion")
	case handlers[c.action] == nil:
		return c, all, errorFor("InvalidAction.NotFound")
	case !strings.EqualFold(all["Format"], "JSON"):
		return c, all, invalidParam("Format", "this emulator answers Format=JSON only.")
	}
	return c, all, nil
}

// authenticate checks the signature envelope: key, timestamp, signature,
// security token, nonce, region.
func (s *Server) authenticate(method string, c *call, all map[string]string) *apiError {
	for _, p := range []string{"SignatureMethod", "SignatureVersion", "AccessKeyId", "Timestamp", "SignatureNonce", "Signature"} {
		if all[p] == "" {
			return missing(p)
		}
	}
	switch {
	case all["SignatureMethod"] != "HMAC-SHA1":
		return invalidParam("SignatureMethod", "only HMAC-SHA1 is supported.")
	case all["SignatureVersion"] != "1.0":
		return invalidParam("SignatureVersion", "only 1.0 is supported.")
	case all["SignatureType"] != "":
		return invalidParam("SignatureType", "bearer tokens are not supported.")
	}
	cred, ok := s.creds[all["AccessKeyId"]]
	if !ok {
		var e *apiError
		if cred, e, ok = s.issuedCredential(all["AccessKeyId"]); e != nil {
			return e // an STS credential past its expiry (sts.go)
		}
	}
	if !ok {
		return errorFor("InvalidAccessKeyId.NotFound")
	}
	if cred.Inactive {
		return errorFor("InvalidAccessKeyId.Inactive")
	}
	ts, err := time.Parse(time.RFC3339, all["Timestamp"])
	if err != nil {
		return errorFor("InvalidTimeStamp.Format")
	}
	// The SDK signs with wall time whatever clock the emulator runs on.
	if skew := time.Since(ts); !s.skewOK && (skew > MaxTimestampSkew || skew < -MaxTimestampSkew) {
		return errorFor("InvalidTimeStamp.Expired")
	}
	toSign := StringToSign(method, all)
	if !hmac.Equal([]byte(Sign(toSign, cred.AccessKeySecret)), []byte(all["Signature"])) {
		return errorWithMessage("SignatureDoesNotMatch",
			"Specified signature is not matched with our calculation. server string to sign is:"+toSign)
	}
	if all["SecurityToken"] != cred.SecurityToken {
		if all["SecurityToken"] == "" {
			return missing("SecurityToken")
		}
		return errorFor("InvalidSecurityToken.MismatchWithAccessKey")
	}
	if !s.useNonce(cred.AccessKeyID, all["SignatureNonce"]) {
		return errorFor("SignatureNonceUsed")
	}
	if c.region == "" {
		return missing("RegionId")
	}
	if !s.regions[c.region] {
		return errorWithMessage("InvalidRegionId", "The specified RegionId "+c.region+" is not served here.")
	}
	c.accessKey = cred.AccessKeyID
	return nil
}

// useNonce records a nonce and reports whether it was fresh. Nonces are
// remembered for twice the timestamp window, after which a replay would be
// refused for its timestamp anyway; they expire in arrival order.
func (s *Server) useNonce(key, nonce string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for len(s.nonceOrder) > 0 && now.Sub(s.nonceOrder[0].seen) > 2*MaxTimestampSkew {
		delete(s.nonces, s.nonceOrder[0].key)
		s.nonceOrder = s.nonceOrder[1:]
	}
	k := key + "\x00" + nonce
	if _, used := s.nonces[k]; used {
		return false
	}
	s.nonces[k] = now
	s.nonceOrder = append(s.nonceOrder, seenNonce{key: k, seen: now})
	return true
}

type seenNonce struct {
	key  string
	seen time.Time
}

// StringToSign is the RPC string to sign of a request's parameters
// (Signature excluded): method, "&%2F&", and the percent-encoded, sorted
// query, each pair RFC 3986-encoded first.
func StringToSign(method string, params map[string]string) string {
	v := url.Values{}
	for k, val := range params {
		if k != "Signature" {
			v.Set(k, val)
		}
	}
	q := v.Encode()
	q = strings.ReplaceAll(q, "+", "%20")
	q = strings.ReplaceAll(q, "*", "%2A")
	q = strings.ReplaceAll(q, "%7E", "~")
	return method + "&%2F&" + url.QueryEscape(q)
}

// Sign is base64(HMAC-SHA1(secret + "&", stringToSign)).
func Sign(stringToSign, secret string) string {
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// errorBody is the JSON error envelope. Every field is a string: the SDK
// panics on anything else.
type errorBody struct {
	RequestId string
	HostId    string
	Code      string
	Message   string
	Recommend string
}

func (s *Server) hostID(region string) string {
	if region == "" || !s.regions[region] {
		region = s.region
	}
	return "swas." + region + ".aliyuncs.com"
}

func writeJSON(w http.ResponseWriter, status int, requestID string, body []byte) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Header().Set("x-acs-request-id", requestID)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *Server) errorJSON(requestID, region string, e *apiError) []byte {
	b, _ := json.Marshal(errorBody{
		RequestId: requestID,
		HostId:    s.hostID(region),
		Code:      e.Code,
		Message:   e.Message,
		Recommend: recommend(e.Code),
	})
	return b
}

// parseIDList reads a JSON array of strings ("[\"a\",\"b\"]"), at most 100.
func parseIDList(params map[string]string, name string) ([]string, *apiError) {
	raw, ok := params[name]
	if !ok || raw == "" {
		return nil, nil
	}
	var ids []string
	if err := json.Unmarshal([]byte(raw), &ids); err != nil {
		return nil, invalidParam(name, `it must be a JSON array of strings, e.g. ["id-1","id-2"].`)
	}
	if len(ids) > 100 {
		return nil, invalidParam(name, "at most 100 IDs are allowed.")
	}
	return ids, nil
}

// page reads PageSize (1-100, default 10) and PageNumber (from 1).
func page(params map[string]string) (size, number int, err *apiError) {
	size, number = 10, 1
	if v, ok := params["PageSize"]; ok {
		n, e := atoi(v)
		if e != nil || n < 1 || n > 100 {
			return 0, 0, invalidParam("PageSize", "it must be an integer from 1 to 100.")
		}
		size = n
	}
	if v, ok := params["PageNumber"]; ok {
		n, e := atoi(v)
		if e != nil || n < 1 {
			return 0, 0, invalidParam("PageNumber", "it must be a positive integer.")
		}
		number = n
	}
	return size, number, nil
}

func atoi(s string) (int, error) { return strconv.Atoi(strings.TrimSpace(s)) }

// window returns the slice bounds of page number of size over n items.
func window(n, size, number int) (lo, hi int) {
	lo = (number - 1) * size
	if lo > n {
		lo = n
	}
	hi = lo + size
	if hi > n {
		hi = n
	}
	return lo, hi
}

const timeFormat = "2006-01-02T15:04:05Z"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

package aliyuntest

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/cloudsnap/rollback/emulator"
)

// ServeHTTP answers one SWAS RPC request. The order is: protocol envelope,
// authentication, injected fault, rate limit, ClientToken deduplication,
// then the action itself.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := emulator.UpperUUID()
	e := Entry{Time: s.clk.Now(), RequestID: requestID}
	c, all, aerr := s.parse(r)
	region := ""
	if c != nil {
		e.Action, e.Region, e.Params = c.action, c.region, copyParams(c.params)
		region = c.region
	}
	if aerr == nil {
		aerr = s.authenticate(r.Method, c, all)
	}
	if aerr != nil {
		s.finish(w, &e, aerr.Status, aerr.Code, s.errorJSON(requestID, region, aerr))
		return
	}
	c.requestID = requestID

	n := s.hooks.Count(c.action)
	s.hooks.RunBefore(c.action, n)
	hw := s.hooks.AfterWriter(w, c.action, n)
	defer hw.Done()
	w = hw

	f, faulted := s.faults.Next(c.action)
	if faulted {
		e.Fault = f.String()
		// A real server goes on with a call whose client gave up waiting,
		// so the call proceeds even if the delay was cut short.
		emulator.Delay(r.Context(), f.Latency)
		switch {
		case f.Reset:
			s.drop(w, &e, region)
			return
		case f.Code != "" || f.Body != "":
			status, body := s.faultReply(requestID, region, f)
			s.finish(w, &e, status, f.Code, body)
			return
		}
	}
	if !s.limiter.Allow(c.accessKey+"/"+c.action, s.rateLimit(c.action)) {
		aerr := errorFor("Throttling.User")
		s.finish(w, &e, aerr.Status, aerr.Code, s.errorJSON(requestID, region, aerr))
		return
	}

	res := s.process(c)
	e.Applied = c.applied
	e.RequestID = res.requestID
	if faulted && f.DropResponse {
		s.drop(w, &e, region)
		return
	}
	s.finish(w, &e, res.status, res.code, res.body)
}

// finish writes the reply and journals the request.
func (s *Server) finish(w http.ResponseWriter, e *Entry, status int, code string, body []byte) {
	e.HTTPStatus, e.Code = status, code
	s.journal.Add(*e)
	writeJSON(w, status, e.RequestID, body)
}

// drop closes the connection without a reply. Over HTTP/2, which cannot be
// hijacked, it answers 503 instead. The journal entry is written first, so
// that it precedes the client's reaction (a resend) in the journal.
func (s *Server) drop(w http.ResponseWriter, e *Entry, region string) {
	if _, ok := w.(http.Hijacker); ok {
		e.HTTPStatus = 0
		s.journal.Add(*e)
		if !emulator.DropConnection(w) {
			w.WriteHeader(http.StatusServiceUnavailable) // never an empty 200
		}
		return
	}
	aerr := errorFor("ServiceUnavailable")
	s.finish(w, e, aerr.Status, aerr.Code, s.errorJSON(e.RequestID, region, aerr))
}

// faultReply is the reply of an injected error: the raw Body if set,
// otherwise the usual envelope with the fault's code and message.
func (s *Server) faultReply(requestID, region string, f Fault) (int, []byte) {
	aerr := errorFor(f.Code)
	if f.Message != "" {
		aerr.Message = f.Message
	}
	if f.HTTPStatus != 0 {
		aerr.Status = f.HTTPStatus
	} else if _, known := knownErrors[f.Code]; !known && f.Body != "" {
		aerr.Status = http.StatusBadGateway
	}
	if f.Body != "" {
		return aerr.Status, []byte(f.Body)
	}
	return aerr.Status, s.errorJSON(requestID, region, aerr)
}

type result struct {
	status    int
	code      string
	requestID string
	body      []byte
}

// idemRecord is an accepted call, kept so that the same ClientToken gets
// the same answer.
type idemRecord struct {
	fingerprint string
	requestID   string
	body        []byte
	first       time.Time // server clock when it was accepted
}

// process runs the action under the state lock, deduplicating by
// ClientToken: only calls that changed state are remembered, so a token
// whose first call was refused may be used again.
func (s *Server) process(c *call) result {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.now = s.clk.Now()
	s.state.settle(c.now)

	fail := func(aerr *apiError) result {
		return result{aerr.Status, aerr.Code, c.requestID, s.errorJSON(c.requestID, c.region, aerr)}
	}
	token := c.params["ClientToken"]
	var key, fp string
	if token != "" {
		if !validToken(token) {
			return fail(errorFor("InvalidClientToken.ValueNotSupported"))
		}
		key = c.accessKey + "\x00" + c.action + "\x00" + token
		fp = fingerprint(c)
		if rec := s.idem[key]; rec != nil && s.tokenWindow > 0 && !c.now.Before(rec.first.Add(s.tokenWindow)) {
			delete(s.idem, key) // forgotten: the call is new
		}
		if rec := s.idem[key]; rec != nil {
			if rec.fingerprint != fp {
				return fail(errorFor("IdempotentParameterMismatch"))
			}
			return result{http.StatusOK, "", rec.requestID, rec.body}
		}
	}
	reply, aerr := s.run(c)
	if aerr != nil {
		return fail(aerr)
	}
	body, err := json.Marshal(reply)
	if err != nil {
		return fail(errorFor("InternalError"))
	}
	if token != "" && c.applied {
		s.idem[key] = &idemRecord{fingerprint: fp, requestID: c.requestID, body: body, first: c.now}
	}
	return result{http.StatusOK, "", c.requestID, body}
}

// validToken: ASCII, at most 64 characters.
func validToken(t string) bool {
	if len(t) > 64 {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] < 0x20 || t[i] > 0x7e {
			return false
		}
	}
	return true
}

// fingerprint identifies a call's parameters, the ClientToken aside.
func fingerprint(c *call) string {
	keys := make([]string, 0, len(c.params))
	for k := range c.params {
		if k != "ClientToken" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(c.region)
	for _, k := range keys {
		b.WriteString("\x00" + k + "=" + c.params[k])
	}
	return b.String()
}

func copyParams(p map[string]string) map[string]string {
	out := make(map[string]string, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}

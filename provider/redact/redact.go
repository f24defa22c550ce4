// Package redact removes credentials and signatures from text before it
// reaches an error string or a log line.
//
// The Alibaba SDK puts the whole signed URL, AccessKeyId and Signature
// included, into its transport errors; the Tencent SDK's debug dumps carry the
// Authorization header. Everything the providers return or log passes
// through a Redactor first. It is public so that a provider in another
// module redacts the same way: New with its secrets, Learn for credentials
// it rotates, String for a cloud's message (errmap.CleanMessage takes it).
package redact

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
)

// Mask replaces every removed value.
const Mask = "[REDACTED]"

// sensitiveParams are query and header parameters whose values are always
// removed, whatever the configured secrets.
var sensitiveParams = []string{
	"AccessKeyId", "Signature", "SecurityToken", "BearerToken", "SignatureNonce",
	"SecretId", "SecretKey", "Token", "X-TC-Token", "Credential",
}

var paramPattern = regexp.MustCompile(`(?i)\b(` + strings.Join(quoteAll(sensitiveParams), "|") + `)(=|%3D|":\s*"|:\s*)([^&\s",;]*)`)

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = regexp.QuoteMeta(s)
	}
	return out
}

// Redactor removes a set of secrets, and every value of a sensitive
// parameter, from strings and errors. The zero value removes only sensitive
// parameters. Safe for concurrent use, including Learn.
type Redactor struct {
	mu      sync.Mutex               // serialises Learn
	secrets atomic.Pointer[[]string] // copied on write: String never locks
}

// maxLearned bounds the secrets a Redactor keeps: rotated credentials are
// learned for the life of the client, and a week of hourly rotations is
// far below this.
const maxLearned = 4096

// New returns a Redactor for the given secrets (access key IDs, secrets,
// tokens). Empty values are ignored.
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	r.Learn(secrets...)
	return r
}

// Learn adds secrets to remove from now on: credentials issued after the
// Redactor was built (rotated STS tokens, role credentials) are learned
// before they are first used, so they are redacted like static ones.
// Empty and already known values are ignored.
func (r *Redactor) Learn(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var old []string
	if p := r.secrets.Load(); p != nil {
		old = *p
	}
	next := append([]string(nil), old...)
	add := func(s string) {
		for _, k := range next {
			if k == s {
				return
			}
		}
		next = append(next, s)
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		add(s)
		// Secrets also appear URL-encoded inside signed URLs.
		if q := url.QueryEscape(s); q != s {
			add(q)
		}
	}
	if len(next) > maxLearned {
		// Forget the oldest learned values, which expired long ago.
		next = next[len(next)-maxLearned:]
	}
	r.secrets.Store(&next)
}

// String returns s without secrets.
func (r *Redactor) String(s string) string {
	if r != nil {
		if p := r.secrets.Load(); p != nil {
			for _, sec := range *p {
				s = strings.ReplaceAll(s, sec, Mask)
			}
		}
	}
	return paramPattern.ReplaceAllString(s, "${1}${2}"+Mask)
}

// Error returns err with secrets removed from its text. A *url.Error keeps
// its type (with a cleaned URL and its inner error), so errors.As still finds
// it and the network error inside; any other error is replaced by one with
// the cleaned text, reachable only through that text.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) && err == error(ue) {
		return &url.Error{Op: ue.Op, URL: r.URL(ue.URL), Err: r.inner(ue.Err)}
	}
	msg := err.Error()
	if clean := r.String(msg); clean != msg {
		return &redactedError{msg: clean}
	}
	return err
}

// inner keeps network errors (which carry addresses, not secrets) as they
// are, and cleans anything else.
func (r *Redactor) inner(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if r.String(msg) == msg {
		return err
	}
	return &redactedError{msg: r.String(msg)}
}

// URL returns the URL with its query removed entirely: a signed URL's query
// is all credentials and parameters, none of which a reader needs.
func (r *Redactor) URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return r.String(raw)
	}
	if u.RawQuery != "" {
		u.RawQuery = ""
		u.ForceQuery = false
		return r.String(u.String()) + "?" + Mask
	}
	return r.String(u.String())
}

type redactedError struct{ msg string }

func (e *redactedError) Error() string { return e.msg }

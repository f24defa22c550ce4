// Package openurl reads the URLs that rollback.Open hands to a provider
// (any provider, in any module):
// the host is the region, query parameters set documented fields, and
// anything not consumed is refused. Both providers use it, so their URLs
// behave alike.
package openurl

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cloudsnap/rollback/provider"
)

// Query reads one URL. Its getters record the parameters they know; Err
// then refuses every other parameter. The first mistake wins.
type Query struct {
	provider string
	u        *url.URL
	vals     url.Values
	known    []string
	err      error
}

// New starts reading u for the provider called name (its scheme and the
// errors' Provider).
// A URL of another scheme, with user information or with a fragment is
// refused.
func New(name string, u *url.URL) *Query {
	q := &Query{provider: name, u: u}
	// An OpenFunc may be called directly, not only through rollback.Open
	// (which checks these first): the URL is checked here again.
	switch {
	case !strings.EqualFold(u.Scheme, name):
		q.fail("", "has scheme %q; want %s://REGION", provider.Clip(u.Scheme), name)
	case u.User != nil:
		q.fail("", "carries credentials (user:password@): remove them; credentials come from the provider's default chain")
	case u.Fragment != "":
		q.fail("", "has a fragment (#...); a %s URL has none", name)
	}
	vals, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		q.fail("", "malformed query: %v", err)
	}
	q.vals = vals
	return q
}

// Region is the URL's host, required: "tencent://ap-guangzhou".
func (q *Query) Region(example string) string {
	u := q.u
	switch {
	case u.Opaque != "":
		q.fail("", "want %s://REGION, e.g. %s://%s", q.provider, q.provider, example)
	case u.Host == "":
		q.fail("", "the region is missing: want %s://REGION, e.g. %s://%s", q.provider, q.provider, example)
	case u.Port() != "" || strings.HasSuffix(u.Host, ":"):
		q.fail("", "the host is the region and has no port (to name an API endpoint, use ?endpoint=)")
	case u.Path != "" && u.Path != "/":
		q.fail("", "a %s URL has no path: want %s://%s", q.provider, q.provider, example)
	}
	return u.Hostname()
}

// String returns parameter name, "" when absent.
func (q *Query) String(name string) string {
	q.known = append(q.known, name)
	v := q.vals[name]
	switch len(v) {
	case 0:
		return ""
	case 1:
		return v[0]
	}
	q.fail(name, "is given %d times", len(v))
	return ""
}

// Endpoint returns an endpoint parameter; user information in it is
// refused, and not quoted.
func (q *Query) Endpoint(name string) string {
	v := q.String(name)
	if strings.Contains(v, "@") {
		q.fail(name, "never carries credentials (user:password@): remove them; credentials come from the provider's default chain")
		return ""
	}
	return v
}

// Bool returns a boolean parameter: absent is false, and a bare
// "?name" is true.
func (q *Query) Bool(name string) bool {
	v, ok := q.vals[name]
	s := q.String(name)
	if !ok || s == "" && len(v) == 1 {
		return ok
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		q.fail(name, "must be true or false")
	}
	return b
}

// Duration returns a duration parameter ("15m", "1h"), 0 when absent.
func (q *Query) Duration(name string) time.Duration {
	s := q.String(name)
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		q.fail(name, "must be a positive duration such as 15m or 1h")
	}
	return d
}

// List returns a comma-separated parameter, nil when absent.
func (q *Query) List(name string) []string {
	s := q.String(name)
	if s == "" {
		return nil
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Err returns the first mistake, or refuses the parameters no getter
// asked for. No message quotes a value: a secret put where it does not
// belong stays out of the error.
func (q *Query) Err() error {
	if q.err != nil {
		return q.err
	}
	var unknown []string
	for k := range q.vals {
		if !slices.Contains(q.known, k) {
			unknown = append(unknown, quoteName(k))
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	known := slices.Clone(q.known)
	slices.Sort(known)
	what := "unknown query parameter "
	if len(unknown) > 1 {
		what = "unknown query parameters "
	}
	q.fail("", "%s%s (%s:// takes %s)", what, strings.Join(unknown, ", "), q.provider, strings.Join(known, ", "))
	for _, k := range unknown {
		if credentialLike(k) {
			q.err.(*provider.Error).Hint = "a URL never carries credentials: they come from the provider's default chain " +
				"(the environment, an OIDC token file, the cloud CLI's profile, the instance's role); nothing was sent"
			break
		}
	}
	return q.err
}

// quoteName quotes an unknown parameter's name when it looks like one: a
// long or odd "name" may be a secret pasted without its key (?AKID...).
func quoteName(k string) string {
	if len(k) > 24 || !paramName.MatchString(k) {
		return "(a long or unusual name, not quoted)"
	}
	return strconv.Quote(k)
}

var paramName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]*$`)

// credentialLike reports whether a parameter's name suggests a secret
// ("secret_key", "AccessKeyId", "token", "password").
func credentialLike(name string) bool {
	name = strings.ToLower(name)
	for _, w := range []string{"secret", "key", "token", "password", "passwd", "credential"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

func (q *Query) fail(param, format string, args ...any) {
	if q.err != nil {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if param != "" {
		msg = "query parameter " + param + " " + msg
	}
	q.err = &provider.Error{Provider: q.provider, Op: "Open", Kind: provider.ErrInvalidArgument, Field: "URL",
		Message: msg, Hint: "nothing was sent"}
}

// InURLTerms returns err, from the New of a client a URL described, with
// the Go API's name of a setting replaced by the URL parameter that sets
// it (oldnew are pairs, as for strings.NewReplacer), so that a user who
// wrote a URL is told what to add to it. rollback.WithInsecureHTTP() is
// always replaced. Other errors pass through.
func InURLTerms(err error, oldnew ...string) error {
	var e *provider.Error
	if !errors.As(err, &e) {
		return err
	}
	r := strings.NewReplacer(append(oldnew,
		"pass rollback.WithInsecureHTTP()", "add insecure_http=true to the URL",
		"rollback.WithInsecureHTTP()", "insecure_http=true in the URL")...)
	c := *e
	c.Message, c.Hint = r.Replace(c.Message), r.Replace(c.Hint)
	if c.Message == e.Message && c.Hint == e.Hint {
		return err
	}
	return &c
}

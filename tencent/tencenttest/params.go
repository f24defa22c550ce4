package tencenttest

import (
	"bytes"
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// params are a request's API parameters flattened the way the GET form sends
// them ("InstanceIds.0", "Filters.1.Values.0"). The JSON body of a POST is
// flattened to the same shape, so the actions read one format.
type params map[string]string

// parseJSON flattens a POST body. An empty body is no parameters.
func parseJSON(body []byte) (params, error) {
	p := params{}
	if len(bytes.TrimSpace(body)) == 0 {
		return p, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errNotObject
	}
	for k, val := range obj {
		flatten(p, k, val)
	}
	return p, nil
}

type notObjectError struct{}

func (notObjectError) Error() string { return "the request body is not a JSON object" }

var errNotObject = notObjectError{}

func flatten(p params, key string, v any) {
	switch t := v.(type) {
	case nil:
	case string:
		p[key] = t
	case json.Number:
		p[key] = t.String()
	case bool:
		p[key] = strconv.FormatBool(t)
	case []any:
		for i, e := range t {
			flatten(p, key+"."+strconv.Itoa(i), e)
		}
	case map[string]any:
		for k, e := range t {
			flatten(p, key+"."+k, e)
		}
	}
}

// parseQuery reads the GET form.
func parseQuery(q url.Values) params {
	p := params{}
	for k, vs := range q {
		if len(vs) > 0 {
			p[k] = vs[0]
		}
	}
	return p
}

// top returns the distinct top-level parameter names, sorted.
func (p params) top() []string {
	seen := map[string]bool{}
	for k := range p {
		name, _, _ := strings.Cut(k, ".")
		seen[name] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// has reports whether name or any name.* is present.
func (p params) has(name string) bool {
	if _, ok := p[name]; ok {
		return true
	}
	for k := range p {
		if strings.HasPrefix(k, name+".") {
			return true
		}
	}
	return false
}

// list returns name.0, name.1, ... up to the first gap.
func (p params) list(name string) []string {
	var out []string
	for i := 0; ; i++ {
		v, ok := p[name+"."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v)
	}
}

// integer returns name as an integer, def when absent.
func (p params) integer(name string, def int64) (int64, *apiError) {
	v, ok := p[name]
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, apiErrf(CodeInvalidParameter, "The parameter `%s` must be an integer.", name)
	}
	return n, nil
}

type filter struct {
	Name   string
	Values []string
}

// filters reads Filters.N.Name / Filters.N.Values.M, checking the cloud's
// limits (10 filters, 5 values each) and the allowed names.
func (p params) filters(allowed ...string) ([]filter, *apiError) {
	var out []filter
	for i := 0; ; i++ {
		prefix := "Filters." + strconv.Itoa(i)
		if !p.has(prefix) {
			break
		}
		f := filter{Name: p[prefix+".Name"], Values: p.list(prefix + ".Values")}
		if f.Name == "" {
			return nil, apiErrf(CodeInvalidFilter, "Filters.%d.Name is missing.", i)
		}
		ok := false
		for _, a := range allowed {
			ok = ok || a == f.Name
		}
		if !ok {
			return nil, apiErrf(CodeInvalidFilter, "The filter name %q is not supported; use one of %s.", f.Name, strings.Join(allowed, ", "))
		}
		if len(f.Values) == 0 {
			return nil, apiErrf(CodeInvalidFilter, "Filters.%d.Values is empty.", i)
		}
		if len(f.Values) > 5 {
			return nil, apiErrf(CodeFilterValueLimitExceeded, "Filters.%d has %d values; the limit is 5.", i, len(f.Values))
		}
		out = append(out, f)
	}
	if len(out) > 10 {
		return nil, apiErrf(CodeFilterValueLimitExceeded, "%d filters were given; the limit is 10.", len(out))
	}
	return out, nil
}

// page reads Offset and Limit (default 20, at most 100).
func (p params) page() (offset, limit int, e *apiError) {
	off, e := p.integer("Offset", 0)
	if e != nil {
		return 0, 0, e
	}
	lim, e := p.integer("Limit", 20)
	if e != nil {
		return 0, 0, e
	}
	if off < 0 {
		return 0, 0, apiErrf(CodeInvalidParameterValue, "Offset must not be negative.")
	}
	if lim == 0 {
		lim = 20 // the cloud treats an explicit 0 as the default
	}
	if lim < 0 || lim > 100 {
		return 0, 0, apiErrf(CodeInvalidParameterValue, "Limit must be between 0 and 100.")
	}
	return int(off), int(lim), nil
}

package aliyuntest

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Tag actions, as swas-open's SDK models define them.
const (
	ActionTagResources     = "TagResources"
	ActionListTagResources = "ListTagResources"
	ActionUntagResources   = "UntagResources"
)

// Documented tag limits (TagResources, ListTagResources, UntagResources).
const (
	MaxTagResourceIDs  = 50 // ResourceId.N per call
	MaxTagsPerCall     = 20 // Tag.N or TagKey.N per call
	MaxTagsPerResource = 20
	MaxTagKeyLength    = 64
	MaxTagValueLength  = 64
	// tagPageSize is how many pairs a ListTagResources page holds.
	tagPageSize = 50
)

// tagResourceTypes are ResourceType's documented values; the emulator keeps
// instances, disks and snapshots, so the others never find a resource.
var tagResourceTypes = map[string]bool{
	"instance": true, "snapshot": true, "disk": true,
	"customimage": true, "command": true, "firewallrule": true,
}

type tagPair struct{ Key, Value string }

// repeated reads name.1, name.2, ... (the SDK's Repeated encoding) up to the
// first gap.
func repeated(params map[string]string, name string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := params[name+"."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v)
	}
}

// tagArgs reads Tag.N.Key / Tag.N.Value.
func tagArgs(params map[string]string) []tagPair {
	var out []tagPair
	for i := 1; ; i++ {
		k, hasK := params["Tag."+strconv.Itoa(i)+".Key"]
		v, hasV := params["Tag."+strconv.Itoa(i)+".Value"]
		if !hasK && !hasV {
			return out
		}
		out = append(out, tagPair{k, v})
	}
}

// tagTarget checks ResourceType and ResourceId.N and returns the resources'
// keys ("instance/<id>"). With needIDs, at least one ID is required; every
// ID must exist in the call's region.
func (s *Server) tagTarget(c *call, needIDs bool) (string, []string, *apiError) {
	typ := c.params["ResourceType"]
	if typ == "" {
		return "", nil, missingAction("ResourceType")
	}
	if !tagResourceTypes[typ] {
		return "", nil, invalidParam("ResourceType", "it must be instance, snapshot, customimage, command, firewallrule or disk.")
	}
	ids := repeated(c.params, "ResourceId")
	if needIDs && len(ids) == 0 {
		return "", nil, missingAction("ResourceId")
	}
	if len(ids) > MaxTagResourceIDs {
		return "", nil, errorWithMessage("NumberExceed.ResourceIds", fmt.Sprintf("The maximum number of ResourceIds is exceeded. The maximum is %d.", MaxTagResourceIDs))
	}
	seen := map[string]bool{}
	keys := make([]string, 0, len(ids))
	for _, id := range ids {
		if seen[id] {
			return "", nil, errorWithMessage("Duplicate.ResourceId", "The request contains duplicated ResourceId.")
		}
		seen[id] = true
		if !s.tagResourceExists(c.region, typ, id) {
			return "", nil, newError(http.StatusNotFound, "InvalidResourceId.NotFound", "The specified ResourceId "+id+" of type "+typ+" does not exist.")
		}
		keys = append(keys, typ+"/"+id)
	}
	return typ, keys, nil
}

func (s *Server) tagResourceExists(region, typ, id string) bool {
	st := s.state
	switch typ {
	case "instance":
		return st.instance(region, id) != nil
	case "disk":
		return st.disk(region, id) != nil
	case "snapshot":
		return st.snapshot(region, id) != nil
	}
	return false
}

func checkTagKeys(keys []string) *apiError {
	if len(keys) > MaxTagsPerCall {
		return errorWithMessage("NumberExceed.Tags", fmt.Sprintf("The maximum number of Tags is exceeded. The maximum is %d.", MaxTagsPerCall))
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if n := utf8.RuneCountInString(k); n < 1 || n > MaxTagKeyLength || strings.HasPrefix(k, "aliyun") || strings.HasPrefix(k, "acs:") {
			return errorWithMessage("InvalidTagKey.Malformed", fmt.Sprintf("The tag key %q is not valid: 1 to %d characters, not starting with aliyun or acs:.", k, MaxTagKeyLength))
		}
		if seen[k] {
			return errorWithMessage("Duplicate.TagKey", "The Tag.N.Key contain duplicate key.")
		}
		seen[k] = true
	}
	return nil
}

// tagResources adds tags, replacing the value of a key a resource already
// has. All resources are checked before any is changed.
func (s *Server) tagResources(c *call) (any, *apiError) {
	_, keys, aerr := s.tagTarget(c, true)
	if aerr != nil {
		return nil, aerr
	}
	tags := tagArgs(c.params)
	if len(tags) == 0 {
		return nil, missingAction("Tag")
	}
	names := make([]string, len(tags))
	for i, t := range tags {
		names[i] = t.Key
		if utf8.RuneCountInString(t.Value) > MaxTagValueLength {
			return nil, errorWithMessage("InvalidTagValue.Malformed", fmt.Sprintf("The value of tag %q is longer than %d characters.", t.Key, MaxTagValueLength))
		}
	}
	if aerr := checkTagKeys(names); aerr != nil {
		return nil, aerr
	}
	st := s.state
	for _, k := range keys {
		n := len(st.tags[k])
		for _, t := range tags {
			if _, has := st.tags[k][t.Key]; !has {
				n++
			}
		}
		if n > MaxTagsPerResource {
			return nil, errorWithMessage("QuotaExceed.TagsPerResource", fmt.Sprintf("A resource can have at most %d tags.", MaxTagsPerResource))
		}
	}
	for _, k := range keys {
		if st.tags[k] == nil {
			st.tags[k] = map[string]string{}
		}
		for _, t := range tags {
			st.tags[k][t.Key] = t.Value
		}
	}
	c.applied = true
	return requestIDOnly{c.requestID}, nil
}

// untagResources removes the keys TagKey.N, or every tag with All=true.
func (s *Server) untagResources(c *call) (any, *apiError) {
	_, keys, aerr := s.tagTarget(c, true)
	if aerr != nil {
		return nil, aerr
	}
	names := repeated(c.params, "TagKey")
	all := strings.EqualFold(c.params["All"], "true")
	if len(names) == 0 && !all {
		return nil, missingAction("TagKey")
	}
	if len(names) > MaxTagsPerCall {
		return nil, errorWithMessage("NumberExceed.Tags", fmt.Sprintf("The maximum number of Tags is exceeded. The maximum is %d.", MaxTagsPerCall))
	}
	st := s.state
	for _, k := range keys {
		if len(names) == 0 {
			c.applied = c.applied || len(st.tags[k]) > 0
			delete(st.tags, k)
			continue
		}
		for _, n := range names {
			if _, has := st.tags[k][n]; has {
				delete(st.tags[k], n)
				c.applied = true
			}
		}
		if len(st.tags[k]) == 0 {
			delete(st.tags, k)
		}
	}
	// Removing a tag that is not there succeeds and changes nothing.
	return requestIDOnly{c.requestID}, nil
}

type tagResourceJSON struct {
	ResourceType string
	ResourceId   string
	TagKey       string
	TagValue     string
}

// listTagResources lists (resource, tag) pairs of ResourceType: of the
// resources ResourceId.N, or of every resource carrying all the Tag.N pairs
// (a pair with an empty Value matches any value), or both. Pages hold 50
// pairs; NextToken is the index of the next pair.
func (s *Server) listTagResources(c *call) (any, *apiError) {
	typ, keys, aerr := s.tagTarget(c, false)
	if aerr != nil {
		return nil, aerr
	}
	filter := tagArgs(c.params)
	if len(keys) == 0 && len(filter) == 0 {
		return nil, errorWithMessage("MissingParameter.ResourceIdOrTag", "Either ResourceId or Tag must be specified.")
	}
	names := make([]string, len(filter))
	for i, t := range filter {
		names[i] = t.Key
	}
	if aerr := checkTagKeys(names); aerr != nil {
		return nil, aerr
	}
	st := s.state
	if len(keys) == 0 {
		for k := range st.tags {
			if strings.HasPrefix(k, typ+"/") && s.tagResourceExists(c.region, typ, strings.TrimPrefix(k, typ+"/")) {
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	var out []tagResourceJSON
	for _, k := range keys {
		tags := st.tags[k]
		match := true
		for _, f := range filter {
			v, has := tags[f.Key]
			match = match && has && (f.Value == "" || v == f.Value)
		}
		if !match {
			continue
		}
		names := make([]string, 0, len(tags))
		for n := range tags {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			out = append(out, tagResourceJSON{ResourceType: typ, ResourceId: strings.TrimPrefix(k, typ+"/"), TagKey: n, TagValue: tags[n]})
		}
	}
	start := 0
	if tok := c.params["NextToken"]; tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > len(out) {
			return nil, errorWithMessage("InvalidNextToken", "The NextToken is invalid.")
		}
		start = n
	}
	end := min(start+tagPageSize, len(out))
	next := ""
	if end < len(out) {
		next = strconv.Itoa(end)
	}
	page := out[start:end]
	if page == nil {
		page = []tagResourceJSON{}
	}
	return map[string]any{
		"RequestId":    c.requestID,
		"NextToken":    next,
		"TagResources": map[string]any{"TagResource": page},
	}, nil
}

// tagsJSON is a resource's Tags as ListInstances, ListDisks and
// ListSnapshots report them.
func (st *state) tagsJSON(key string) []tagPair {
	tags := st.tags[key]
	out := make([]tagPair, 0, len(tags))
	for k, v := range tags {
		out = append(out, tagPair{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Tags returns a resource's tags (typ is instance, disk or snapshot), for
// assertions.
func (s *Server) Tags(typ, id string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for k, v := range s.state.tags[typ+"/"+id] {
		out[k] = v
	}
	return out
}

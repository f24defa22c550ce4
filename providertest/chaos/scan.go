package chaos

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"

	"github.com/cloudsnap/rollback"
)

// Capture is a slog.Handler that keeps every record, at every level, as one
// line of raw text: the message and each attribute as key=value with the
// value unquoted and unescaped, so that a secret cannot hide behind an
// encoding in what is scanned. Safe for concurrent use.
type Capture struct {
	mu    *sync.Mutex
	lines *[]string
	attrs []slog.Attr
	group string
}

// NewCapture returns an empty Capture.
func NewCapture() *Capture {
	return &Capture{mu: &sync.Mutex{}, lines: new([]string)}
}

// Enabled implements slog.Handler: everything, debug included.
func (c *Capture) Enabled(context.Context, slog.Level) bool { return true }

// Handle implements slog.Handler.
func (c *Capture) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String())
	b.WriteByte(' ')
	b.WriteString(r.Message)
	for _, a := range c.attrs {
		writeAttr(&b, "", a)
	}
	r.Attrs(func(a slog.Attr) bool {
		writeAttr(&b, c.group, a)
		return true
	})
	c.mu.Lock()
	*c.lines = append(*c.lines, b.String())
	c.mu.Unlock()
	return nil
}

func writeAttr(b *strings.Builder, prefix string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Value.Kind() == slog.KindGroup {
		for _, g := range a.Value.Group() {
			writeAttr(b, prefix+a.Key+".", g)
		}
		return
	}
	b.WriteByte(' ')
	b.WriteString(prefix + a.Key)
	b.WriteByte('=')
	if err, ok := a.Value.Any().(error); ok {
		b.WriteString(err.Error())
		return
	}
	b.WriteString(a.Value.String())
}

// WithAttrs implements slog.Handler.
func (c *Capture) WithAttrs(as []slog.Attr) slog.Handler {
	d := *c
	d.attrs = append(append([]slog.Attr(nil), c.attrs...), as...)
	if c.group != "" {
		for i := len(c.attrs); i < len(d.attrs); i++ {
			d.attrs[i].Key = c.group + d.attrs[i].Key
		}
	}
	return &d
}

// WithGroup implements slog.Handler.
func (c *Capture) WithGroup(name string) slog.Handler {
	d := *c
	d.group = c.group + name + "."
	return &d
}

// Lines returns the records so far.
func (c *Capture) Lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), *c.lines...)
}

// Len returns how many records were kept.
func (c *Capture) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(*c.lines)
}

// Reset forgets the records so far.
func (c *Capture) Reset() {
	c.mu.Lock()
	*c.lines = nil
	c.mu.Unlock()
}

// Scanner finds credentials and signatures in text.
type Scanner struct {
	secrets []string
	sigs    map[string]bool
}

// NewScanner looks for the given secrets (and their URL-encoded forms)
// anywhere, and for the given signatures as whole words.
func NewScanner(secrets, signatures []string) *Scanner {
	s := &Scanner{sigs: map[string]bool{}}
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		s.secrets = append(s.secrets, sec)
		if q := url.QueryEscape(sec); q != sec {
			s.secrets = append(s.secrets, q)
		}
	}
	for _, sig := range signatures {
		s.sigs[sig] = true
		if q := url.QueryEscape(sig); q != sig {
			s.sigs[q] = true
		}
	}
	return s
}

// Leaks returns what text gives away: a secret, a signature, or the marks
// of a signed request ("Signature=" with a value, an Authorization header's
// "TC3-HMAC" scheme).
func (s *Scanner) Leaks(text string) []string {
	var out []string
	for _, sec := range s.secrets {
		if strings.Contains(text, sec) {
			out = append(out, "secret "+mask(sec))
		}
	}
	if strings.Contains(text, "TC3-HMAC") {
		out = append(out, `"TC3-HMAC" (an Authorization header)`)
	}
	for rest := text; ; {
		i := strings.Index(rest, "Signature=")
		if i < 0 {
			break
		}
		rest = rest[i+len("Signature="):]
		if v := word(rest); v != "" && !strings.HasPrefix(v, "[REDACTED]") && !strings.HasPrefix(v, "%5BREDACTED%5D") {
			out = append(out, "Signature="+mask(v))
		}
	}
	if len(s.sigs) > 0 {
		for _, w := range words(text) {
			cands := []string{w}
			if u, err := url.QueryUnescape(w); err == nil && u != w {
				cands = append(cands, u)
			}
			for i := 0; i < len(w); i++ {
				if w[i] == '=' && i+1 < len(w) {
					cands = append(cands, w[i+1:])
				}
			}
			for _, c := range cands {
				if s.sigs[c] {
					out = append(out, "signature "+mask(c))
				}
			}
		}
	}
	return out
}

func mask(s string) string {
	if len(s) <= 6 {
		return "***"
	}
	return s[:3] + "..." + s[len(s)-3:]
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '+' || c == '/' || c == '=' || c == '%' || c == '_' || c == '-' || c == '.'
}

// word is the run of word bytes at the start of s.
func word(s string) string {
	i := 0
	for i < len(s) && isWordByte(s[i]) {
		i++
	}
	return s[:i]
}

// words splits s into maximal runs of word bytes (base64, hex, URL-encoded
// text).
func words(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		if !isWordByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
		out = append(out, s[i:j])
		i = j
	}
	return out
}

// ErrorTexts returns the text of err and of every error in its chain, and
// the fields of each *rollback.Error, for scanning.
func ErrorTexts(err error) []string {
	var out []string
	var walk func(error, int)
	walk = func(e error, depth int) {
		if e == nil || depth > 32 {
			return
		}
		out = append(out, e.Error(), fmt.Sprintf("%+v", e))
		if re, ok := e.(*rollback.Error); ok {
			out = append(out, re.Message, re.Hint, re.Code, re.RequestID)
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x, depth+1)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap(), depth+1)
		}
	}
	walk(err, 0)
	return out
}

package rollback_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/provider"
)

func TestNewClientToken(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		tok := provider.NewClientToken()
		if !uuid.MatchString(tok) {
			t.Fatalf("token %q is not a v4 UUID", tok)
		}
		if err := provider.ValidateClientToken(tok); err != nil {
			t.Fatalf("generated token rejected: %v", err)
		}
		if seen[tok] {
			t.Fatalf("duplicate token %q", tok)
		}
		seen[tok] = true
	}
}

func TestTokenFromKey(t *testing.T) {
	a, b := provider.TokenFromKey("deploy-42"), provider.TokenFromKey("deploy-42")
	if a != b {
		t.Fatalf("same key gave %q and %q", a, b)
	}
	if a == provider.TokenFromKey("deploy-43") {
		t.Fatal("different keys gave the same token")
	}
	if !strings.HasPrefix(a, "rb-") || len(a) != 43 {
		t.Errorf("token %q: want rb- and 40 hex digits", a)
	}
	if strings.Contains(a, "deploy") {
		t.Error("the key leaks into the token")
	}
	if err := provider.ValidateClientToken(provider.TokenFromKey(strings.Repeat("é", 5000))); err != nil {
		t.Errorf("derived token from a long non-ASCII key rejected: %v", err)
	}
}

func TestValidateClientToken(t *testing.T) {
	tests := []struct {
		token string
		ok    bool
		msg   string
	}{
		{"a", true, ""},
		{"123e4567-e89b-12d3-a456-426655440000", true, ""},
		{strings.Repeat("x", 64), true, ""},
		{"!#$%&'()*+,-./:;<=>?@[]^_`{|}~", true, ""},
		{"", false, "is empty"},
		{strings.Repeat("x", 65), false, "65 characters long; the limit is 64"},
		{"has space", false, "a space at byte 3"},
		{"tab\there", false, "control character U+0009 at byte 3"},
		{"nul\x00", false, "control character U+0000"},
		{"del\x7f", false, "control character U+007F"},
		{"café", false, `non-ASCII character 'é' at byte 3`},
		{"bad\xff", false, "not valid UTF-8"},
	}
	for _, tt := range tests {
		err := provider.ValidateClientToken(tt.token)
		if tt.ok {
			if err != nil {
				t.Errorf("ValidateClientToken(%q) = %v, want nil", tt.token, err)
			}
			continue
		}
		if !errors.Is(err, rollback.ErrInvalidArgument) {
			t.Errorf("ValidateClientToken(%q) = %v, want ErrInvalidArgument", tt.token, err)
			continue
		}
		var re *rollback.Error
		if !errors.As(err, &re) || re.Field != "ClientToken" {
			t.Errorf("ValidateClientToken(%q): field not named: %v", tt.token, err)
		}
		if !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ValidateClientToken(%q) = %q, want it to say %q", tt.token, err, tt.msg)
		}
	}
}

func TestResolveToken(t *testing.T) {
	tok, err := provider.ResolveToken(rollback.Request{ClientToken: "mine", OperationKey: "ignored"})
	if err != nil || tok != "mine" {
		t.Errorf("caller token: got %q, %v", tok, err)
	}
	tok, err = provider.ResolveToken(rollback.Request{OperationKey: "ticket-7"})
	if err != nil || tok != provider.TokenFromKey("ticket-7") {
		t.Errorf("operation key: got %q, %v", tok, err)
	}
	a, _ := provider.ResolveToken(rollback.Request{})
	b, _ := provider.ResolveToken(rollback.Request{})
	if a == "" || a == b {
		t.Errorf("random tokens %q, %q", a, b)
	}
	if _, err := provider.ResolveToken(rollback.Request{ClientToken: "bad token"}); !errors.Is(err, rollback.ErrInvalidArgument) {
		t.Errorf("bad caller token: %v", err)
	}
	if _, err := provider.ResolveToken(rollback.Request{OperationKey: "line\nbreak"}); !errors.Is(err, rollback.ErrInvalidArgument) {
		t.Errorf("bad operation key: %v", err)
	}
}

func FuzzValidateClientToken(f *testing.F) {
	for _, s := range []string{"", "a", "123e4567-e89b-12d3-a456-426655440000", "é", "\x00", strings.Repeat("z", 65)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		err := provider.ValidateClientToken(tok)
		valid := len(tok) >= 1 && len(tok) <= 64
		for i := 0; i < len(tok); i++ {
			if tok[i] <= ' ' || tok[i] > '~' {
				valid = false
			}
		}
		if valid != (err == nil) {
			t.Fatalf("ValidateClientToken(%q) = %v; the rule says valid=%v", tok, err, valid)
		}
		if err != nil {
			if !errors.Is(err, rollback.ErrInvalidArgument) {
				t.Fatalf("wrong sentinel: %v", err)
			}
			if strings.ContainsAny(err.Error(), "\x00\r\n") {
				t.Fatalf("message carries control characters: %q", err.Error())
			}
		}
	})
}

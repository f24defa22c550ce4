package errmap

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cloudsnap/rollback/provider"
)

func TestCleanMessageRedactsOnlyWhatIsKept(t *testing.T) {
	const secret = "SECRETvalue0123456789abcdefghijklmnopqrstuvwxyz"
	redact := func(calls *int) func(string) string {
		return func(s string) string {
			*calls += len(s)
			return strings.ReplaceAll(s, secret, "[REDACTED]")
		}
	}
	// A 50 MB message costs a few kilobytes of redaction.
	var read int
	huge := "boom " + strings.Repeat("x", 50<<20)
	got := CleanMessage(huge, redact(&read))
	if len(got) != MaxMessage+3 || !strings.HasSuffix(got, "...") || read > 8<<10 {
		t.Errorf("%d bytes kept, %d redacted", len(got), read)
	}
	// A secret anywhere, split by any cut or moved by earlier masks,
	// never shows, not even in part.
	for _, prefix := range []int{0, 100, MaxMessage - 10, MaxMessage + 2*redactSlack - 20, 2000, 2550, 2580} {
		for _, masks := range []int{0, 1, 40} {
			msg := strings.Repeat(secret+" ", masks) + strings.Repeat("y", prefix) + secret + strings.Repeat("z", 10000)
			got := CleanMessage(msg, redact(new(int)))
			if strings.Contains(got, secret[:8]) {
				t.Errorf("prefix %d, %d masks: a secret shows: %q", prefix, masks, got)
			}
			if len(got) > MaxMessage+3 || !utf8.ValidString(got) {
				t.Errorf("prefix %d: %d bytes, valid UTF-8 %v", prefix, len(got), utf8.ValidString(got))
			}
		}
	}
	if got := CleanMessage("short "+secret, redact(new(int))); got != "short [REDACTED]" {
		t.Errorf("short message: %q", got)
	}
	if got := Clip(strings.Repeat("é", 400)); !utf8.ValidString(got) || len(got) > MaxMessage+3 {
		t.Errorf("Clip cut a character: %q", got)
	}
}

// README's error table says what Transport does with a TLS failure.
func TestREADMESaysWhatTLSFailuresAre(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rule := Transport(nil, "tls: failed to verify certificate: x509: certificate signed by unknown authority")
	if rule.Kind != provider.ErrInvalidArgument {
		t.Fatalf("an untrusted certificate is %v", rule.Kind)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "| `ErrInvalidArgument`") {
			if !strings.Contains(line, "untrusted TLS certificate") {
				t.Errorf("README's ErrInvalidArgument row does not mention an untrusted TLS certificate:\n%s", line)
			}
			return
		}
	}
	t.Error("README has no ErrInvalidArgument row")
}

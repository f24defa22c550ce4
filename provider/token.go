package provider

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"unicode/utf8"
)

// MaxClientTokenLen is the longest client token the clouds accept.
const MaxClientTokenLen = 64

// NewClientToken returns a fresh random token (a version 4 UUID from
// crypto/rand), 36 characters long.
func NewClientToken() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("rollback: crypto/rand failed: " + err.Error()) // never on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// tokenNamespace keeps derived tokens apart from any other use of the key.
const tokenNamespace = "cloudsnap/rollback token v1\x00"

// TokenFromKey derives the client token of the operation named key: the same
// key always gives the same token, so a process that restarts and retries an
// operation reuses its token. The token is "rb-" and 40 hex digits of
// SHA-256, 43 characters. Keys are not secret, but neither do they appear in
// the token.
func TokenFromKey(key string) string {
	sum := sha256.Sum256([]byte(tokenNamespace + key))
	return "rb-" + hex.EncodeToString(sum[:20])
}

// ValidateClientToken checks a caller-supplied token: 1 to 64 characters of
// printable ASCII, without spaces (the clouds accept ASCII only, and a space
// is too easily lost by a shell or a config file).
func ValidateClientToken(token string) error {
	if token == "" {
		return invalid("ClientToken", "is empty")
	}
	if !utf8.ValidString(token) {
		return invalid("ClientToken", "is not valid UTF-8; use printable ASCII")
	}
	if n := len(token); n > MaxClientTokenLen {
		return invalid("ClientToken", "is %d characters long; the limit is %d", n, MaxClientTokenLen)
	}
	for i := 0; i < len(token); i++ {
		if c := token[i]; c <= ' ' || c > '~' {
			return invalid("ClientToken", "has %s at byte %d; use printable ASCII without spaces", describeByte(token, i), i)
		}
	}
	return nil
}

// describeByte names the offending character of s at i for error messages,
// without echoing control characters.
func describeByte(s string, i int) string {
	r, _ := utf8.DecodeRuneInString(s[i:])
	switch {
	case r == ' ':
		return "a space"
	case r < ' ' || r == 0x7f:
		return fmt.Sprintf("control character %U", r)
	case r == utf8.RuneError:
		return fmt.Sprintf("invalid byte 0x%02x", s[i])
	case r < utf8.RuneSelf:
		return fmt.Sprintf("character %q", r)
	default:
		return fmt.Sprintf("non-ASCII character %q", r)
	}
}

// ResolveToken returns the client token of req: req.ClientToken after
// validation, else the token derived from req.OperationKey, else a fresh
// random one. Roller implementations call it once per logical rollback,
// before the first attempt, and reuse the result on every retry.
func ResolveToken(req Request) (string, error) {
	switch {
	case req.ClientToken != "":
		if err := ValidateClientToken(req.ClientToken); err != nil {
			return "", err
		}
		return req.ClientToken, nil
	case req.OperationKey != "":
		if err := checkText("OperationKey", req.OperationKey, 1024); err != nil {
			return "", err
		}
		return TokenFromKey(req.OperationKey), nil
	default:
		return NewClientToken(), nil
	}
}

package emulator

import (
	"crypto/rand"
	"fmt"
	"strings"
)

const lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"

// RandomString returns n characters drawn uniformly from alphabet.
func RandomString(n int, alphabet string) string {
	b := make([]byte, n)
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	for i := range b {
		b[i] = alphabet[int(buf[i])%len(alphabet)]
	}
	return string(b)
}

// ResourceID returns prefix followed by n random lower-case letters and digits,
// the shape of cloud resource IDs ("lhins-" + 8, "d-" + 20).
func ResourceID(prefix string, n int) string {
	return prefix + RandomString(n, lowerAlnum)
}

// UUID returns a random RFC 4122 version 4 UUID in lower case, the shape of
// Tencent Cloud request IDs.
func UUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// UpperUUID returns a random UUID in upper case, the shape of Alibaba Cloud
// request IDs.
func UpperUUID() string { return strings.ToUpper(UUID()) }

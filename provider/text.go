package provider

import (
	"strings"
	"unicode/utf8"
)

// Clip shortens a long value quoted in a message (an ID a user mistyped,
// say) to 80 bytes, on a rune boundary.
func Clip(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// DescribeState names a normalized state for a message, with the cloud's
// own word beside it when that differs: "stopped (STOPPED_BY_QUOTA)".
func DescribeState(state, native string) string {
	if native == "" || strings.EqualFold(native, state) {
		return state
	}
	return state + " (" + native + ")"
}

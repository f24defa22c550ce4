// Package emu holds the machinery the two wire-level emulators share: injected
// faults, the request journal, connection resets, cloud-style rate windows and
// ID generation. The protocol, the signatures and the resource state machines
// are each emulator's own; only what is the same on both clouds lives here.
//
// The emulators re-export these types under their own names (type aliases), so
// their users never import this package.
package emu

// Package emulator is the machinery for writing a wire-level emulator of a
// cloud, the kind of test server a provider is tested against: the official
// SDK client talks HTTP to it, and it checks signatures and keeps state.
//
// It holds what every such emulator needs and what is the same on every
// cloud, so that an emulator written for a new provider, in any module, has
// the same shape as the two in this repository (aliyun/aliyuntest and
// tencent/tencenttest):
//
//   - Fault and Faults: failures injected into the calls of one action (a
//     connection reset before apply, an error code instead of apply, a
//     response lost after apply, latency), counted per action.
//   - Hooks and HookedWriter: test code run before a chosen request is
//     handled, or after it was handled but before its reply leaves.
//   - Entry and Journal: the record of every request and its outcome, with
//     credentials never recorded; OtherActor marks changes made by someone
//     else on the same account.
//   - DropConnection and Delay: a reset the client sees as a reset, and
//     injected latency that still ends with the request.
//   - RateWindow and RateLimiter: the clouds' "N calls per window" quotas on
//     the emulator's clock.
//   - ResourceID, UUID, UpperUUID, RandomString: IDs of the clouds' shapes.
//
// The protocol, the signatures and the resource state machines are each
// emulator's own. An emulator re-exports Fault, Entry, Journal and RateWindow
// under its own name (type aliases), so its users rarely import this package
// themselves; when they do, an emulator.Entry from one emulator is the same
// type as one from any other.
//
// Like the emulators, this package imports only the standard library and
// package clock: never a cloud SDK, never a provider, so a bug in a client
// cannot hide behind the same bug in its test server.
package emulator

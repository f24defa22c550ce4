package tencenttest

import "github.com/cloudsnap/rollback/emulator"

// Must returns v and panics when err is not nil: for seeding in demos and
// tests, where a seed that fails is a bug in the test, in the manner of
// template.Must (in := Must(srv.AddInstance(...))). It is emulator.Must.
func Must[T any](v T, err error) T { return emulator.Must(v, err) }

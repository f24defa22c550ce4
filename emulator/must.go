package emulator

// Must returns v and panics when err is not nil. It is for seeding an
// emulator in demos and tests, where a seed that fails is a bug in the test
// itself, in the manner of template.Must:
//
//	in := aliyuntest.Must(srv.AddInstance(aliyuntest.InstanceSpec{}))
//
// Seeders return errors rather than panic so that a caller who wants to
// handle them (a fuzz target, a demo that reports) can.
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

package main

import (
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/internal/cli"
	"github.com/cloudsnap/rollback/internal/cli/clitest"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// The command itself is package rollbackcli, whose tests run it
// in-process; these run the built program as a user does.

func TestMain(m *testing.M) {
	// The built command keeps learned operation times in the user cache
	// directory: one of the test binary's own, shared by its runs.
	remove := clitest.WarmCache()
	code := m.Run()
	remove()
	clitest.Cleanup()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

const (
	exitOK           = cli.ExitOK
	exitUsage        = cli.ExitUsage
	exitTimeout      = cli.ExitTimeout
	exitNotConfirmed = cli.ExitNotConfirmed
)

// emulators starts both emulators with quick operations on the wall clock
// and puts their credentials in the environment, as a user would (the
// built program inherits it).
func emulators(t *testing.T) (*aliyuntest.Server, *tencenttest.Server) {
	t.Helper()
	ali := aliyuntest.NewServer(aliyuntest.WithDurations(aliyuntest.Durations{
		Stop: 200 * time.Millisecond, Start: 200 * time.Millisecond, Rollback: 200 * time.Millisecond, CreateSnapshot: 200 * time.Millisecond}))
	t.Cleanup(ali.Close)
	tc := tencenttest.NewServer(tencenttest.WithDurations(tencenttest.Durations{
		Stop: 200 * time.Millisecond, Start: 200 * time.Millisecond, Rollback: 200 * time.Millisecond, CreateSnapshot: 200 * time.Millisecond}))
	t.Cleanup(tc.Close)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", aliyuntest.DefaultAccessKeyID)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", aliyuntest.DefaultAccessKeySecret)
	t.Setenv("TENCENTCLOUD_SECRET_ID", tencenttest.DefaultSecretID)
	t.Setenv("TENCENTCLOUD_SECRET_KEY", tencenttest.DefaultSecretKey)
	return ali, tc
}

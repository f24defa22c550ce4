package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/tencent"
)

// runReal rolls back one disk on a real cloud (or on any endpoint given
// with -endpoint).
func runReal(ctx context.Context, c *config, stdin io.Reader, stdout, stderr io.Writer) int {
	var clientOpts []rollback.Option
	if c.verbose {
		clientOpts = append(clientOpts, rollback.WithLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	p, err := newProvider(c, clientOpts)
	if err != nil {
		return fail(stdout, stderr, c, nil, err)
	}
	req := requestFor(c)
	if v, ok := p.(rollback.RequestValidator); ok {
		if err := v.ValidateRequest(req); err != nil {
			return fail(stdout, stderr, c, nil, err)
		}
	}
	opts := defaultRunOptions(c)
	if c.key != "" || c.token != "" {
		dir, err := stateDir(c.stateDir)
		if err != nil {
			return fail(stdout, stderr, c, nil, err)
		}
		opts.Checkpoints = rollback.FileCheckpoints{Dir: dir}
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	if !c.dryRun && !c.yes && isTerminal(stdin) {
		if err := confirm(ctx, p, req, opts, stdin, stderr); err != nil {
			return fail(stdout, stderr, c, nil, err)
		}
	}
	pr := newProgress(stderr, "")
	opts.Progress = pr.event
	if c.verbose {
		opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	rep, err := rollback.Run(ctx, p, req, opts)
	pr.done()
	if err != nil {
		return fail(stdout, stderr, c, rep, err)
	}
	if c.jsonOut {
		writeJSON(stdout, rep, nil)
	} else {
		writeText(stdout, rep)
	}
	return exitOK
}

func requestFor(c *config) rollback.Request {
	return rollback.Request{Region: c.region, InstanceID: c.instance, DiskID: c.disk, SnapshotID: c.snapshot,
		ClientToken: c.token, OperationKey: c.key}
}

func defaultRunOptions(c *config) rollback.RunOptions {
	return rollback.RunOptions{StopIfRunning: c.stop, SafetySnapshot: c.backup, StartAfter: c.start, DryRun: c.dryRun}
}

func newProvider(c *config, opts []rollback.Option) (rollback.Provider, error) {
	switch c.provider {
	case "aliyun":
		return aliyun.New(aliyun.Config{Region: c.region, Endpoint: c.endpoint, Profile: c.profile}, opts...)
	case "tencent":
		return tencent.New(tencent.Config{Region: c.region, Endpoint: c.endpoint, International: c.international, Profile: c.profile}, opts...)
	}
	return nil, usagef("unknown provider %q", c.provider)
}

func stateDir(flagDir string) (string, error) {
	if flagDir != "" {
		return flagDir, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no -state-dir and no user cache directory: %w", err)
	}
	return filepath.Join(base, "cloudsnap-rollback"), nil
}

// confirm shows the plan of a dry run and asks for "yes".
func confirm(ctx context.Context, p rollback.Provider, req rollback.Request, opts rollback.RunOptions, stdin io.Reader, stderr io.Writer) error {
	dry := opts
	dry.DryRun, dry.Checkpoints = true, nil
	rep, err := rollback.Run(ctx, p, req, dry)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "This will roll back disk %s of instance %s to snapshot %s.\n", rep.Request.DiskID, rep.Request.InstanceID, req.SnapshotID)
	fmt.Fprintln(stderr, "Everything written to the disk since the snapshot was taken will be lost. Plan:")
	for i, step := range rep.Plan {
		fmt.Fprintf(stderr, "  %d. %s\n", i+1, step)
	}
	fmt.Fprint(stderr, "Type yes to continue: ")
	line, _ := bufio.NewReader(stdin).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		return errNotConfirmed
	}
	return nil
}

// fail reports err (and whatever the run did before it) and returns the
// exit code.
func fail(stdout, stderr io.Writer, c *config, rep *rollback.Report, err error) int {
	code := exitCode(err)
	if c.jsonOut {
		writeJSON(stdout, rep, err)
	}
	fmt.Fprintf(stderr, "rollback: %s\n", strings.TrimPrefix(err.Error(), "rollback: "))
	if hint := advice(code, c); hint != "" {
		fmt.Fprintln(stderr, hint)
	}
	if code == exitUsage {
		fmt.Fprintln(stderr, "Run 'rollback -help' for usage.")
	}
	return code
}

// advice says what to do next, by exit code.
func advice(code int, c *config) string {
	switch code {
	case exitWrongState:
		if !c.stop {
			return "If the instance is running, add -stop to stop it first."
		}
	case exitBusy:
		return "Another operation is running or the API is throttling: try again in a few minutes."
	case exitUnknown:
		return "Check the instance's state and disk before doing anything else."
	case exitFailed:
		return "Check the instance; with -backup, the safety snapshot restores the disk as it was."
	case exitTimeout, exitInterrupted:
		if c.key != "" {
			return "The operation may still be running: run the same command again to resume it."
		}
		return "The operation may still be running: check the instance before acting again."
	}
	return ""
}

package rollbackcli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/internal/cli"
	"github.com/cloudsnap/rollback/provider"
)

// runReal rolls back one disk on a real cloud (or on any endpoint given
// with -endpoint).
func runReal(ctx context.Context, c *config, stdin io.Reader, stdout, stderr io.Writer) int {
	var clientOpts []rollback.Option
	var calls *callTable // -v: the per-call timing table
	if c.verbose {
		calls = &callTable{}
		clientOpts = append(clientOpts, rollback.WithHooks(calls.hooks()))
		// The client logs every call and retry. Run's own events are not
		// logged as well: progress shows them, and a retry printed by
		// progress, the client and Run said one thing three times.
		clientOpts = append(clientOpts, rollback.WithLogger(cli.Logger(stderr)))
	}
	p, err := newProvider(ctx, c, clientOpts)
	if err != nil {
		return fail(stdout, stderr, c, nil, err)
	}
	if c.region == "" {
		// -cloud without a host, e.g. mem://?servers=1: a provider that
		// has a default region says which.
		if r, ok := p.(interface{ Region() string }); ok {
			c.region = r.Region()
		}
	}
	req := requestFor(c)
	if err := rollback.ValidateRequest(p, req); err != nil {
		return fail(stdout, stderr, c, nil, err)
	}
	opts := defaultRunOptions(c)
	if l := fileLearner(c.stateDir); l != nil {
		opts.Wait.Learner = l
		defer l.Save() // the last observations; a failed save costs only warmth
	}
	if c.key != "" || c.token != "" {
		dir, err := stateDir(c.stateDir)
		if err != nil {
			return fail(stdout, stderr, c, nil, err)
		}
		opts.Checkpoints = rollback.FileCheckpoints{Dir: dir}
	}
	// Nothing is sent before this point; a destructive run needs someone
	// to say yes, and a pipe or /dev/null cannot.
	interactive := cli.IsTerminal(stdin)
	if !c.dryRun && !c.yes && !interactive {
		return fail(stdout, stderr, c, nil, errNoTerminal)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	pr := newProgress(stderr, "", time.Now)
	pr.deadline = time.Now().Add(c.timeout)
	pr.retries = !c.verbose
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	pr.run(tick.C)
	defer pr.done()

	if !c.dryRun && !c.yes {
		if err := confirm(ctx, p, req, opts, pr.note, stdin, stderr); err != nil {
			pr.done()
			return fail(stdout, stderr, c, nil, err)
		}
	}
	opts.Progress = pr.event
	rep, err := rollback.Run(ctx, p, req, opts)
	pr.done()
	calls.flush(stderr)
	if err != nil {
		return fail(stdout, stderr, c, rep, err)
	}
	if c.jsonOut {
		writeJSON(stdout, c, rep, nil)
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

// newProvider opens the cloud that -cloud, or -provider and the flags
// that used to configure it, name.
func newProvider(ctx context.Context, c *config, opts []rollback.Option) (rollback.Provider, error) {
	raw := c.cloud
	if raw == "" {
		// A malformed region gets its own message, not a URL's.
		if err := provider.CheckRegion(c.region); err != nil {
			return nil, err
		}
		raw = cli.CloudURL(c.provider, c.region, c.endpoint, c.profile, c.international)
	}
	return rollback.Open(ctx, raw, opts...)
}

// fileLearner keeps what waits learn in the state directory, so that the
// next run's first wait (one rollback per process is this command's usual
// life) starts from how long operations took here rather than from the
// provider's wide priors. Without a directory: none, and the priors.
func fileLearner(flagDir string) *rollback.Learner {
	dir, err := stateDir(flagDir)
	if err != nil {
		return nil
	}
	return rollback.OpenLearner(filepath.Join(dir, rollback.LearnerFileName))
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
func confirm(ctx context.Context, p rollback.Provider, req rollback.Request, opts rollback.RunOptions, note func(rollback.Event), stdin io.Reader, stderr io.Writer) error {
	dry := opts
	dry.DryRun, dry.Checkpoints, dry.Progress = true, nil, note
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
	code := c.exitCode(err)
	if c.jsonOut {
		writeJSON(stdout, c, rep, err)
	}
	fmt.Fprintf(stderr, "rollback: %s\n", strings.TrimPrefix(err.Error(), "rollback: "))
	if hint := advice(code, c, err); hint != "" {
		fmt.Fprintln(stderr, hint)
	}
	if code == exitUsage {
		fmt.Fprintln(stderr, "Run 'rollback -help' for usage.")
	}
	return code
}

// advice says what to do next, by exit code and error.
func advice(code int, c *config, err error) string {
	switch code {
	case exitWrongState:
		// Only a running instance is cured by -stop; a snapshot of another
		// disk, or one not ready, is not.
		if !c.stop && errors.Is(err, rollback.ErrInstanceState) {
			return "If the instance is running, add -stop to stop it first."
		}
	case exitBusy:
		return "Another operation is running or the API is throttling: try again in a few minutes."
	case exitUnknown:
		return "Check the instance's state and disk before doing anything else."
	case exitFailed:
		return "Check the instance; with -backup, the safety snapshot restores the disk as it was."
	case exitTimeout, exitInterrupted:
		switch {
		case c.dryRun:
			return "Nothing was changed: this was a dry run."
		case c.key != "":
			return "The operation may still be running: run the same command again to resume it."
		}
		return "The operation may still be running: check the instance before acting again."
	}
	return ""
}

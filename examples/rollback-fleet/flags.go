package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/cloudsnap/rollback/internal/cli"
)

// config is the parsed command line.
type config struct {
	file, format                string
	stop, backup, start, dryRun bool
	timeout                     time.Duration
	concurrency                 int
	keyPrefix, stateDir         string
	jsonFile                    string
	yes, verbose, version       bool
	aliyunEndpoint              string
	tencentEndpoint             string
	profile                     string // credentials profile of the clouds' CLIs
	international               bool
	cloudFlags                  cli.CloudFlags    // -cloud URLs as given
	clouds                      map[string]string // provider -> -cloud URL

	demo        bool
	demoServers int
	demoSpeed   float64
}

// errHelp and errVersion end a run that printed what was asked.
var (
	errHelp    = errors.New("help")
	errVersion = errors.New("version")
)

const usageHead = `Usage:
  rollback-fleet -demo [-demo-servers N]
  rollback-fleet -file servers.csv -key-prefix NAME [-stop] [-backup] [-start] [flags]

Rolls many disks back to snapshots: every row of the input is one rollback,
run with the same checks and exactly-once guarantee as the rollback command.
Everything written to those disks since their snapshots is lost.

The input (-file, or "-" for stdin) is CSV with a header row, or a JSON array
of objects, with these fields:

  provider  aliyun or tencent
  region    e.g. cn-hangzhou, ap-guangzhou
  instance  SWAS server ID (optional: found from the disk), or lhins-...
  disk      SWAS d-... (required on aliyun); Lighthouse: optional, system disk
  snapshot  s-... or lhsnap-...
  key       optional operation key of the row

Every row is checked before anything is sent; bad rows are listed with their
line numbers and nothing runs. Each row's operation key is its own key, or
-key-prefix and the row's fields; progress is kept under that key in
-state-dir, so running the same command again after an interruption skips
the rows that are done, waits for those still running, and never rolls a
disk back twice.

SWAS allows 10 ResetDisk calls a minute per account: 200 SWAS servers take
about 20 minutes however the work is split. An estimate is printed before
anything starts, and on a terminal the command asks for confirmation; when
standard input is not a terminal (a pipe, a file, /dev/null), a run needs
-yes.

Each cloud's client is opened from a URL (rollback.Open): -cloud gives it,
e.g. -cloud tencent://ap-guangzhou?profile=ops -cloud aliyun://cn-hangzhou,
else -aliyun-endpoint, -tencent-endpoint, -profile and -international build
it. The URL's region is the client's default; every row names its own.

Credentials are found the way the aliyun and tccli tools find them, never
taken from flags: the environment, then an OIDC token file (ACK RRSA, TKE),
then the CLI's profile (-profile, else ALIBABA_CLOUD_PROFILE or
TENCENTCLOUD_PROFILE), then the instance's role from the metadata service:
  aliyun:  ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET
           (and ALIBABA_CLOUD_SECURITY_TOKEN for STS), ~/.aliyun/config.json
  tencent: TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY
           (and TENCENTCLOUD_SESSION_TOKEN), ~/.tccli/<profile>.credential

Flags:
`

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("fleet", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // a mistake is reported once, by run
	fs.StringVar(&c.file, "file", "", `the rows: a CSV or JSON file, or "-" for stdin`)
	fs.StringVar(&c.format, "format", "auto", "input format: csv, json, or auto (from the file name or the first byte)")
	fs.BoolVar(&c.stop, "stop", false, "stop running instances first")
	fs.BoolVar(&c.backup, "backup", false, "snapshot each disk first, so every rollback can be undone")
	fs.BoolVar(&c.start, "start", false, "start each instance when its rollback has finished")
	fs.BoolVar(&c.dryRun, "dry-run", false, "check every row and print the plan; change nothing")
	fs.DurationVar(&c.timeout, "timeout", 0, "give up after this long in all (default: twice the estimate, at least 1h)")
	fs.IntVar(&c.concurrency, "concurrency", 100, "rollbacks in progress at once, per cloud (the rate limits pace the calls anyway)")
	fs.StringVar(&c.keyPrefix, "key-prefix", "", "names this run (e.g. a ticket): run again with the same prefix to resume; required unless every row has a key")
	fs.StringVar(&c.stateDir, "state-dir", "", "where progress is kept (default: the user cache directory)")
	fs.StringVar(&c.jsonFile, "json", "", `also write a JSON report of every row to this file ("-": to stdout instead of the table)`)
	fs.BoolVar(&c.yes, "yes", false, "roll back without asking for confirmation (required when stdin is not a terminal)")
	fs.BoolVar(&c.version, "version", false, "print the version and exit")
	fs.BoolVar(&c.verbose, "v", false, "log every call and poll (structured, on stderr)")
	fs.StringVar(&c.aliyunEndpoint, "aliyun-endpoint", "", "SWAS API endpoint (default: each region's public HTTPS endpoint)")
	fs.StringVar(&c.tencentEndpoint, "tencent-endpoint", "", "Lighthouse API endpoint (default: the public HTTPS endpoint)")
	fs.StringVar(&c.profile, "profile", "", "the cloud CLIs' credentials profile (aliyun: ~/.aliyun/config.json; tencent: ~/.tccli/NAME.credential)")
	fs.BoolVar(&c.international, "international", false, "tencent: use the international site's API domain")
	fs.Var(&c.cloudFlags, "cloud", "a provider's client as a URL, e.g. tencent://ap-guangzhou?profile=ops (repeat for each provider; replaces that provider's -*-endpoint, -profile and -international)")
	fs.BoolVar(&c.demo, "demo", false, "roll back a few hundred servers on both built-in emulators (no account needed)")
	fs.IntVar(&c.demoServers, "demo-servers", 300, "demo only: how many servers, split across both clouds")
	fs.Float64Var(&c.demoSpeed, "demo-speed", 300, "demo only: how many times faster than real time the emulators run")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, usageHead)
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			fmt.Fprintln(stderr)
			fmt.Fprintln(stderr, exitCodeHelp)
			return nil, errHelp
		}
		return c, usageError(err.Error())
	}
	if c.version {
		return c, errVersion
	}
	if fs.NArg() > 0 {
		return c, usagef("unexpected argument %q (use -file to name the input)", fs.Arg(0))
	}
	return c, c.check()
}

func (c *config) check() error {
	switch {
	case c.concurrency < 1:
		return usagef("-concurrency must be at least 1")
	case c.timeout < 0:
		return usagef("-timeout must not be negative")
	case c.format != "auto" && c.format != "csv" && c.format != "json":
		return usagef("-format must be csv, json or auto, not %q", c.format)
	}
	if c.demo {
		if c.file != "" {
			return usagef("-demo makes its own servers; drop -file")
		}
		if len(c.cloudFlags) > 0 {
			return usagef("-demo makes its own servers; drop -cloud")
		}
		if c.demoServers < 2 || c.demoServers > 5000 {
			return usagef("-demo-servers must be between 2 and 5000")
		}
		if c.demoSpeed <= 0 {
			return usagef("-demo-speed must be positive")
		}
		return nil
	}
	if c.file == "" {
		return usagef("missing -file (or -demo to try it on the emulators)")
	}
	return c.checkClouds()
}

func usagef(format string, args ...any) error { return usageError(fmt.Sprintf(format, args...)) }

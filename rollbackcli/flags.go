package rollbackcli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/internal/cli"
)

// config is the parsed command line.
type config struct {
	demo                        bool
	provider, region            string
	cloud                       string // the cloud as a URL for rollback.Open, in place of the five flags below
	instance, disk, snapshot    string
	stop, backup, start, dryRun bool
	timeout                     time.Duration
	endpoint, token, key        string
	stateDir                    string
	profile                     string // credentials profile of the cloud's CLI
	international, jsonOut, yes bool
	verbose, version            bool
	scale                       float64 // demo only: clock speed-up
}

// errHelp and errVersion end a run that printed what was asked.
var (
	errHelp    = errors.New("help")
	errVersion = errors.New("version")
)

// usage is -help's text before the flags. The paragraphs on SWAS and
// Lighthouse appear when the program links them (rollbackcli/builtin).
func usage() string {
	var b strings.Builder
	b.WriteString("Usage:\n")
	if d := demoNames(); len(d) > 0 {
		fmt.Fprintf(&b, "  rollback -demo [-provider %s] [-dry-run] [-json]\n", strings.Join(d, "|"))
	}
	schemes, example := strings.Join(rollback.Schemes(), "|"), "SCHEME://REGION"
	if builtins() {
		schemes, example = "aliyun|tencent", "tencent://ap-guangzhou"
	}
	fmt.Fprintf(&b, "  rollback -provider %s -region REGION [-instance ID] [-disk ID] -snapshot ID [flags]\n", schemes)
	fmt.Fprintf(&b, "  rollback -cloud %s [-instance ID] [-disk ID] -snapshot ID [flags]\n", example)
	b.WriteString(usageHead)
	if builtins() {
		b.WriteString(usageBuiltin)
	}
	b.WriteString(usageCloud)
	b.WriteString(schemesHelp() + "\n\n")
	if builtins() {
		b.WriteString(usageCredentials)
	} else {
		b.WriteString("Credentials come from each provider's default chain (see its documentation),\nnever from flags or the URL.\n\n")
	}
	b.WriteString("Flags:\n")
	return b.String()
}

// builtins reports whether SWAS and Lighthouse are linked in.
func builtins() bool {
	s := rollback.Schemes()
	return slices.Contains(s, rollback.ProviderAliyun) && slices.Contains(s, rollback.ProviderTencent)
}

const usageHead = `
Rolls a disk back to a snapshot. Everything written to the disk since the
snapshot is lost. Before changing anything it checks that the snapshot exists,
is ready and belongs to this disk, and that the instance is stopped (or stops
it, with -stop). A rollback is sent exactly once, even across retries and, with
-key, across restarts of this command.

It asks for confirmation on a terminal. When standard input is not a
terminal (a pipe, a file, /dev/null), a rollback needs -yes.

`

const usageBuiltin = `  aliyun  (Simple Application Server): -disk is required; -instance is found
          from the disk when omitted.
  tencent (Lighthouse): -instance is required; the system disk is rolled back.

`

const usageCloud = `-cloud names the cloud as one URL (rollback.Open): the scheme is the
provider, the host the region, and query parameters set the client, e.g.
aliyun://cn-hangzhou?profile=ops or
tencent://ap-guangzhou?endpoint=http://127.0.0.1:8080 (an emulator). It
replaces -provider, -region, -endpoint, -profile and -international.

`

const usageCredentials = `Credentials are found the way the aliyun and tccli tools find them, never
taken from flags: the environment, then an OIDC token file (ACK RRSA, TKE),
then the CLI's profile (-profile, else ALIBABA_CLOUD_PROFILE or
TENCENTCLOUD_PROFILE), then the instance's role from the metadata service:
  aliyun:  ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET
           (and ALIBABA_CLOUD_SECURITY_TOKEN for STS), ~/.aliyun/config.json
  tencent: TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY
           (and TENCENTCLOUD_SESSION_TOKEN), ~/.tccli/<profile>.credential

`

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("rollback", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported once, by run
	fs.BoolVar(&c.demo, "demo", false, "run a full safe rollback on the built-in emulators (no account needed)")
	fs.StringVar(&c.provider, "provider", "", "cloud: "+providers())
	fs.StringVar(&c.region, "region", "", "region, e.g. cn-hangzhou or ap-guangzhou")
	fs.StringVar(&c.cloud, "cloud", "", "the cloud as a URL, e.g. tencent://ap-guangzhou or aliyun://cn-hangzhou?profile=ops (instead of -provider, -region, -endpoint, -profile, -international)")
	fs.StringVar(&c.instance, "instance", "", "instance ID (SWAS server ID, or lhins-...)")
	fs.StringVar(&c.disk, "disk", "", "disk ID (SWAS d-...; Lighthouse: optional, must be the system disk)")
	fs.StringVar(&c.snapshot, "snapshot", "", "snapshot ID to roll back to (s-... or lhsnap-...)")
	fs.BoolVar(&c.stop, "stop", false, "stop the instance first if it is running")
	fs.BoolVar(&c.backup, "backup", false, "snapshot the current disk first, so the rollback can be undone")
	fs.BoolVar(&c.start, "start", false, "start the instance when the rollback has finished")
	fs.BoolVar(&c.dryRun, "dry-run", false, "make every check and print the plan; change nothing")
	fs.DurationVar(&c.timeout, "timeout", time.Hour, "give up waiting after this long in all")
	fs.StringVar(&c.endpoint, "endpoint", "", "API endpoint (default: the cloud's public HTTPS endpoint)")
	fs.BoolVar(&c.international, "international", false, "tencent: use the international site's API domain")
	fs.StringVar(&c.profile, "profile", "", "the cloud CLI's credentials profile (aliyun: ~/.aliyun/config.json; tencent: ~/.tccli/NAME.credential)")
	fs.StringVar(&c.token, "token", "", "client token (idempotency key) to use, 1-64 printable ASCII characters")
	fs.StringVar(&c.key, "key", "", "operation key: run again with the same key after a crash to resume, never rolling back twice")
	fs.StringVar(&c.stateDir, "state-dir", "", "where -key checkpoints and learned operation times are kept (default: the user cache directory)")
	fs.BoolVar(&c.jsonOut, "json", false, "print the result as JSON on stdout")
	fs.BoolVar(&c.yes, "yes", false, "roll back without asking for confirmation (required when stdin is not a terminal)")
	fs.BoolVar(&c.version, "version", false, "print the version and exit")
	fs.BoolVar(&c.verbose, "v", false, "log every call and poll (structured, on stderr), and print a timing table of the API calls")
	fs.Float64Var(&c.scale, "demo-speed", 100, "demo only: how many times faster than real time the emulators run")
	fs.Usage = func() {} // a mistake gets one line (see run); -help gets the page
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, usage())
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			fmt.Fprintln(stderr)
			fmt.Fprintln(stderr, cli.ExitCodeHelp)
			return nil, errHelp
		}
		return c, usagef("%v", err)
	}
	if c.version {
		return c, errVersion
	}
	if fs.NArg() > 0 {
		return c, usagef("unexpected argument %q: this command takes only flags (-help lists them)", fs.Arg(0))
	}
	if c.demo {
		return c, c.checkDemo(fs)
	}
	if c.cloud != "" {
		if err := c.fromURL(fs); err != nil {
			return c, err
		}
	}
	return c, c.check()
}

// urlFlags are what -cloud says in one URL.
var urlFlags = map[string]bool{"provider": true, "region": true, "endpoint": true, "profile": true, "international": true}

// fromURL takes the provider and region from -cloud, for the checks
// before anything is opened; rollback.Open checks the rest of it.
func (c *config) fromURL(fs *flag.FlagSet) error {
	var both []string
	fs.Visit(func(f *flag.Flag) {
		if urlFlags[f.Name] {
			both = append(both, "-"+f.Name)
		}
	})
	if len(both) > 0 {
		return usagef("-cloud names the provider, region and client settings in one URL; drop %s (or set it in the URL)", strings.Join(both, ", "))
	}
	// An unparsable URL is left to rollback.Open, whose message never
	// quotes it (it might hold a password).
	if u, err := url.Parse(c.cloud); err == nil && u.Scheme != "" {
		c.provider, c.region = u.Scheme, u.Hostname()
	}
	return nil
}

// schemesHelp is -help's paragraph on the schemes rollback.Open knows in
// this program: every provider package linked into it registers one.
func schemesHelp() string {
	s := "Providers in this program (-cloud SCHEME://, -provider SCHEME): " + strings.Join(rollback.Schemes(), ", ") + "."
	if slices.Contains(rollback.Schemes(), "mem") {
		s += `
mem:// is an in-memory cloud, new on every run, to try the command without
an account: mem://?servers=1&scale=100 seeds one stopped server (instance
ins-000001, disk disk-000001, ready snapshot snap-000002; servers=N seeds N,
numbered on: ins-000003, ...) whose operations run 100 times faster.`
	}
	return s
}

// providers lists the registered schemes for a message: "aliyun or tencent".
func providers() string { return orList(rollback.Schemes()) }

// orList is "a", "a or b", "a, b or c".
func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// demoFlags are the flags the demo honours; it makes its own servers, so
// any other flag would be silently ignored: it is refused instead.
var demoFlags = map[string]bool{"demo": true, "demo-speed": true, "provider": true, "dry-run": true,
	"json": true, "v": true, "timeout": true, "yes": true}

func (c *config) checkDemo(fs *flag.FlagSet) error {
	var bad []string
	fs.Visit(func(f *flag.Flag) {
		if !demoFlags[f.Name] {
			bad = append(bad, "-"+f.Name)
		}
	})
	switch {
	case len(bad) > 0:
		return usagef("-demo makes its own servers and ignores %s: drop it", strings.Join(bad, ", "))
	case len(demoNames()) == 0:
		return usagef("-demo: this program has no demo clouds (package rollbackcli/builtin registers aliyun's and tencent's)")
	case c.provider != "" && !slices.Contains(demoNames(), c.provider):
		return usagef("-provider must be %s, not %q", orList(demoNames()), c.provider)
	case c.scale <= 0:
		return usagef("-demo-speed must be positive")
	case c.timeout <= 0:
		return usagef("-timeout must be positive")
	}
	return nil
}

// jsonRequested reports whether args ask for -json, so that even a
// command line that does not parse gets its error as JSON.
func jsonRequested(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-json", "--json", "-json=true", "--json=true", "-json=1", "--json=1", "-json=t", "--json=t":
			return true
		}
	}
	return false
}

// check catches what can be caught before any call: the library checks
// ID formats again, with the provider's exact rules.
func (c *config) check() error {
	var missing []string
	switch {
	case c.cloud != "" && c.provider == "":
		// a malformed -cloud: rollback.Open says what is wrong with it
	case c.provider == "":
		missing = append(missing, "-provider")
	case c.provider == rollback.ProviderAliyun:
		if c.disk == "" {
			missing = append(missing, "-disk")
		}
	case c.provider == rollback.ProviderTencent:
		if c.instance == "" {
			missing = append(missing, "-instance")
		}
	case c.cloud != "":
		// another registered provider (or none: Open says which exist)
	case !slices.Contains(rollback.Schemes(), c.provider):
		return usagef("-provider must be %s, not %q", providers(), c.provider)
	}
	if c.region == "" && c.cloud == "" {
		missing = append(missing, "-region")
	}
	if c.snapshot == "" {
		missing = append(missing, "-snapshot")
	}
	if len(missing) > 0 {
		return usagef("missing %s", strings.Join(missing, ", "))
	}
	if c.token != "" && c.key != "" {
		return usagef("use -token or -key, not both")
	}
	if c.timeout <= 0 {
		return usagef("-timeout must be positive")
	}
	return nil
}

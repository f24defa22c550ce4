package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNotInstalled is returned by Start when initdb and pg_ctl are not
// found.
var ErrNotInstalled = errors.New("pgtest: PostgreSQL server binaries (initdb, pg_ctl) not found; install them with `apt-get install postgresql-15` (or set PGTEST_BIN to their directory)")

// Server is a running throwaway server.
type Server struct {
	dir  string // owns data/, the log and the Unix socket
	bin  string
	port int
	as   []string // runuser prefix when running as root
	next atomic.Int64
}

// Start initialises and starts a server. It returns ErrNotInstalled when
// the binaries are missing.
func Start() (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin}
	if os.Geteuid() == 0 {
		s.as = []string{"runuser", "-u", "postgres", "--"}
	}
	base := ""
	if s.as != nil {
		// The postgres user must reach the directory: root's TMPDIR may
		// be private.
		base = "/tmp"
	}
	if s.dir, err = os.MkdirTemp(base, "pgtest-"); err != nil {
		return nil, err
	}
	if s.as != nil {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(s.dir)
			return nil, fmt.Errorf("pgtest: running as root needs the postgres system user (apt-get install postgresql-15): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(s.dir, uid, gid); err != nil {
			os.RemoveAll(s.dir)
			return nil, err
		}
	}
	data := filepath.Join(s.dir, "data")
	if err := s.cmd("initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C", "--no-instructions"); err != nil {
		os.RemoveAll(s.dir)
		return nil, err
	}
	// A free port can be taken between our probe and the server's bind:
	// try a few.
	for try := 0; ; try++ {
		if s.port, err = freePort(); err != nil {
			break
		}
		// No Unix socket (-k ''): a long TMPDIR would overflow its path.
		opts := fmt.Sprintf("-p %d -h 127.0.0.1 -k '' -F -c full_page_writes=off -c synchronous_commit=off -c max_connections=200", s.port)
		if err = s.cmd("pg_ctl", "-D", data, "-l", filepath.Join(s.dir, "log"), "-w", "-t", "60", "-o", opts, "start"); err == nil || try == 2 {
			break
		}
	}
	if err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// Stop stops the server at once and removes its directory. A nil Server
// does nothing.
func (s *Server) Stop() {
	if s == nil {
		return
	}
	_ = s.cmd("pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop")
	os.RemoveAll(s.dir)
}

// URL returns the connection string of database db.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// NewDatabase creates an empty database and returns its connection string.
func (s *Server) NewDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("t%d_%d", os.Getpid(), s.next.Add(1))
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	return s.URL(name), nil
}

// Database is for tests: a new database on srv, or the test skipped when
// Start found no binaries (failed when the CI environment variable is
// "true": CI must run these tests), or failed for any other start error.
func Database(t testing.TB, srv *Server, startErr error) string {
	t.Helper()
	switch {
	case errors.Is(startErr, ErrNotInstalled) && os.Getenv("CI") != "true":
		t.Skip(startErr.Error())
	case startErr != nil:
		t.Fatalf("starting PostgreSQL: %v", startErr)
	}
	url, err := srv.NewDatabase(context.Background())
	if err != nil {
		t.Fatalf("creating a database: %v", err)
	}
	return url
}

func (s *Server) cmd(name string, args ...string) error {
	argv := append(append([]string(nil), s.as...), filepath.Join(s.bin, name))
	argv = append(argv, args...)
	c := exec.Command(argv[0], argv[1:]...)
	c.Dir = s.dir
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	if err := c.Start(); err != nil {
		return fmt.Errorf("pgtest: %s: %w", name, err)
	}
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			msg := strings.TrimSpace(out.String())
			if b, rerr := os.ReadFile(filepath.Join(s.dir, "log")); rerr == nil && name == "pg_ctl" {
				msg += "\n" + string(b)
			}
			return fmt.Errorf("pgtest: %s: %w: %s", name, err, msg)
		}
		return nil
	case <-ctx.Done():
		_ = c.Process.Kill()
		<-done
		return fmt.Errorf("pgtest: %s did not finish in 2 minutes", name)
	}
}

// findBin finds the directory of initdb and pg_ctl: PGTEST_BIN, the PATH,
// or the newest /usr/lib/postgresql/*/bin (Debian keeps them off the PATH).
func findBin() (string, error) {
	if d := os.Getenv("PGTEST_BIN"); d != "" {
		return d, nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", ErrNotInstalled
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

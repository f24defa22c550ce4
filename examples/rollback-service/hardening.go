package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/examples/rollback-service/rollbacksvc"
	"github.com/cloudsnap/rollback/pgstore"
)

// EnvTokens and EnvDatabase are read when the flags do not say.
const (
	EnvTokens   = "ROLLBACK_SERVICE_TOKENS"   // caller:secret[,caller:secret...]
	EnvDatabase = "ROLLBACK_SERVICE_DATABASE" // a PostgreSQL URL (its password stays out of argv)
)

// hardening is what a deployed service needs: who may call it, over what,
// under which names, and the store its replicas share.
type hardening struct {
	tokensFile          string
	tlsCert, tlsKey, ca string
	allowedHosts        string
	database            string
	accessLog           bool
	replicas            int
}

func (h *hardening) flags(fs *flag.FlagSet) {
	fs.StringVar(&h.tokensFile, "tokens-file", "", "bearer tokens, one caller:secret a line (or $"+EnvTokens+"); with none, anyone who reaches the service may use it")
	fs.StringVar(&h.tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM)")
	fs.StringVar(&h.tlsKey, "tls-key", "", "the key of -tls-cert (PEM)")
	fs.StringVar(&h.ca, "client-ca", "", "require client certificates signed by this CA (mTLS); a certificate's common name is its caller")
	fs.StringVar(&h.allowedHosts, "allowed-hosts", "", "comma-separated names the service answers to in Host and Origin (default: loopback names only; DNS-rebinding defence)")
	fs.StringVar(&h.database, "database", "", "PostgreSQL URL shared by replicas (checkpoints, fingerprints, rate limits); or $"+EnvDatabase)
	fs.BoolVar(&h.accessLog, "access-log", true, "log each request on stderr (no secrets)")
	fs.IntVar(&h.replicas, "replicas", 1, "demo only: run this many replicas on one database and show they roll back once")
}

// guard fills in the service's authentication, names and logs.
func (h *hardening) guard(cfg *rollbacksvc.Config, e env) error {
	src, r := "", io.Reader(nil)
	switch {
	case h.tokensFile != "":
		f, err := os.Open(h.tokensFile)
		if err != nil {
			return err
		}
		defer f.Close()
		src, r = h.tokensFile, f
	case os.Getenv(EnvTokens) != "":
		src, r = "$"+EnvTokens, strings.NewReader(os.Getenv(EnvTokens))
	}
	if r != nil {
		toks, err := rollbacksvc.ParseTokens(r)
		if err != nil {
			return fmt.Errorf("%s: %v", src, err)
		}
		if len(toks) == 0 {
			return fmt.Errorf("%s has no tokens", src)
		}
		cfg.Tokens = toks
	}
	cfg.ClientCerts = h.ca != ""
	if h.allowedHosts != "" {
		cfg.AllowedHosts = strings.Split(h.allowedHosts, ",")
	}
	if h.accessLog {
		cfg.AccessLog = slog.New(slog.NewTextHandler(e.stderr, nil))
	}
	if h.ca != "" && h.tlsCert == "" {
		return errors.New("-client-ca needs -tls-cert and -tls-key")
	}
	return nil
}

func (h *hardening) tlsConfig() (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(h.tlsCert, h.tlsKey)
	if err != nil {
		return nil, fmt.Errorf("-tls-cert/-tls-key: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if h.ca != "" {
		pem, err := os.ReadFile(h.ca)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("-client-ca %s: no PEM certificate in it", h.ca)
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// warnExposed warns when the service listens beyond loopback without TLS
// (tokens and requests would cross the network in clear) or without
// authentication.
func (h *hardening) warnExposed(addr net.Addr, w io.Writer) {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || tcp.IP.IsLoopback() {
		return
	}
	if h.tlsCert == "" {
		fmt.Fprintf(w, "rollback-service: WARNING: listening on %s, beyond loopback, without TLS: bearer tokens and requests cross the network in clear; use -tls-cert/-tls-key, or a TLS proxy on the same host\n", addr)
	}
	if h.tokensFile == "" && os.Getenv(EnvTokens) == "" && h.ca == "" {
		fmt.Fprintf(w, "rollback-service: WARNING: listening on %s without authentication: anyone who reaches it can roll disks back; use -tokens-file or -client-ca\n", addr)
	}
}

// openStore connects to the shared database, when one is given.
func (h *hardening) openStore(ctx context.Context) (*pgstore.Store, error) {
	url := h.database
	if url == "" {
		url = os.Getenv(EnvDatabase)
	}
	if url == "" {
		return nil, nil
	}
	s, err := pgstore.Open(ctx, url, pgstore.Options{})
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// sharedLimits makes the clients keep the cloud's quota with every
// replica on the database.
func (h *hardening) sharedLimits(s *pgstore.Store) []rollback.Option {
	if s == nil {
		return nil
	}
	return []rollback.Option{rollback.WithLimiter(s.Limiter(""))}
}

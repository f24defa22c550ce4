package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/internal/testkit"
)

// issue makes a certificate signed by parent (self-signed when nil) and
// writes it and its key as PEM files in dir.
func issue(t *testing.T, dir, name string, tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	os.WriteFile(filepath.Join(dir, name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, name+"-key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	return cert, key
}

// TestMutualTLS: with -client-ca, a client with a certificate of that CA
// is a caller (its common name), one without cannot even connect.
func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	ca, caKey := issue(t, dir, "ca", &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}, nil, nil)
	issue(t, dir, "server", &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, ca, caKey)
	issue(t, dir, "client", &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "ops"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, ca, caKey)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr testkit.SyncBuffer
	ready := make(chan string, 1)
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, []string{"-demo", "-demo-speed", "1000", "-addr", "127.0.0.1:0",
			"-tls-cert", filepath.Join(dir, "server.pem"), "-tls-key", filepath.Join(dir, "server-key.pem"),
			"-client-ca", filepath.Join(dir, "ca.pem")},
			env{stdout: &stdout, stderr: &stderr, ready: func(url string) { ready <- url }})
	}()
	var url string
	select {
	case url = <-ready:
	case code := <-exited:
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("url %s", url)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	client := func(withCert bool) *http.Client {
		cfg := &tls.Config{RootCAs: roots}
		if withCert {
			c, err := tls.LoadX509KeyPair(filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem"))
			if err != nil {
				t.Fatal(err)
			}
			cfg.Certificates = []tls.Certificate{c}
		}
		return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
	}
	req, _ := http.NewRequest("POST", url+"/rollbacks", strings.NewReader(demoBodies[rollback.ProviderTencent]))
	req.Header.Set("Idempotency-Key", "mtls-1")
	resp, err := client(true).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("with a client certificate: %s", resp.Status)
	}
	if resp, err := client(false).Get(url + "/rollbacks/mtls-1"); err == nil {
		resp.Body.Close()
		t.Errorf("without a client certificate: %s; want no connection", resp.Status)
	}
	cancel()
	if code := <-exited; code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "caller=cert:ops") {
		t.Errorf("access log lacks the certificate's caller:\n%s", stderr.String())
	}
}

func TestWarnsWhenExposed(t *testing.T) {
	t.Setenv(EnvTokens, "")
	var buf strings.Builder
	(&hardening{}).warnExposed(&net.TCPAddr{IP: net.ParseIP("10.0.0.7"), Port: 8080}, &buf)
	if !strings.Contains(buf.String(), "beyond loopback, without TLS") || !strings.Contains(buf.String(), "without authentication") {
		t.Errorf("warnings: %s", buf.String())
	}
	buf.Reset()
	(&hardening{tlsCert: "c.pem", tokensFile: "tokens"}).warnExposed(&net.TCPAddr{IP: net.ParseIP("10.0.0.7"), Port: 8080}, &buf)
	(&hardening{}).warnExposed(&net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 8080}, &buf)
	if buf.Len() != 0 {
		t.Errorf("warned with TLS and tokens, or on loopback: %s", buf.String())
	}
}

func TestTokensFromEnv(t *testing.T) {
	t.Setenv(EnvTokens, "ops:short")
	var stdout, stderr testkit.SyncBuffer
	if code := run(context.Background(), []string{"-demo", "-addr", "127.0.0.1:0"}, env{stdout: &stdout, stderr: &stderr}); code != exitUsage ||
		!strings.Contains(stderr.String(), "at least 16") || strings.Contains(stderr.String(), "short") {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
}

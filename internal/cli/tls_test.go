package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/broker"
	"github.com/stompest/stompest/internal/cli/cmdutil"
)

// testCA makes a CA and a certificate it signs for 127.0.0.1 (server and
// client use), written as PEM files in dir: ca.pem, cert.pem, key.pem.
func testCA(t *testing.T, dir string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "stompest test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTpl, caTpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"broker.test"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	write := func(name, typ string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ca.pem", "CERTIFICATE", caDER)
	write("cert.pem", "CERTIFICATE", der)
	write("key.pem", "EC PRIVATE KEY", keyDER)
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// TestTLSFlags: certificates are verified by default, --tls-ca trusts a
// CA, --tls-server-name names the expected host, --tls-insecure works and
// warns every time, client certificates satisfy a broker that requires
// them, and bad local files exit 78.
func TestTLSFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, pool := testCA(t, dir)
	b := broker.New(broker.Config{Addr: "127.0.0.1:0", TLS: &tls.Config{
		Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven}})
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	strict := broker.New(broker.Config{Addr: "127.0.0.1:0", TLS: &tls.Config{
		Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}})
	if err := strict.Start(); err != nil {
		t.Fatal(err)
	}
	defer strict.Close()
	ssl, sslStrict := "ssl://"+b.Addr(), "ssl://"+strict.Addr()
	f := func(name string) string { return filepath.Join(dir, name) }
	os.WriteFile(f("garbage.pem"), []byte("not a certificate\n"), 0o600)

	for _, tc := range []struct {
		name string
		args []string
		code int
		err  string // in stderr
	}{
		{"verification on by default", []string{"-s", ssl, "--connect-timeout", "10s"}, cmdutil.ExitUnavailable, "certificate"},
		{"the CA trusted", []string{"-s", ssl, "--tls-ca", f("ca.pem")}, 0, ""},
		{"stomp+ssl too", []string{"-s", "stomp+ssl://" + b.Addr(), "--tls-ca", f("ca.pem")}, 0, ""},
		{"the wrong server name", []string{"-s", ssl, "--tls-ca", f("ca.pem"), "--tls-server-name", "other.test", "--connect-timeout", "10s"}, cmdutil.ExitUnavailable, "other.test"},
		{"the right server name", []string{"-s", ssl, "--tls-ca", f("ca.pem"), "--tls-server-name", "broker.test"}, 0, ""},
		{"insecure warns", []string{"-s", ssl, "--tls-insecure"}, 0, "warning: --tls-insecure"},
		{"a required client certificate missing", []string{"-s", sslStrict, "--tls-ca", f("ca.pem"), "--connect-timeout", "500ms"}, cmdutil.ExitUnavailable, ""},
		{"a client certificate", []string{"-s", sslStrict, "--tls-ca", f("ca.pem"), "--tls-cert", f("cert.pem"), "--tls-key", f("key.pem")}, 0, ""},
		{"a missing CA file", []string{"-s", ssl, "--tls-ca", f("nowhere.pem")}, cmdutil.ExitConfig, "--tls-ca"},
		{"a CA file without PEM", []string{"-s", ssl, "--tls-ca", f("garbage.pem")}, cmdutil.ExitConfig, "no PEM certificate found"},
		{"a bad key pair", []string{"-s", ssl, "--tls-ca", f("ca.pem"), "--tls-cert", f("garbage.pem"), "--tls-key", f("key.pem")}, cmdutil.ExitConfig, "--tls-cert/--tls-key"},
		{"a cert without its key", []string{"-s", ssl, "--tls-cert", f("cert.pem")}, cmdutil.ExitUsage, "go together"},
	} {
		code, _, errOut := stompest(t, "", append(tc.args, "send", "/queue/tls", "x")...)
		if code != tc.code || !strings.Contains(errOut, tc.err) {
			t.Errorf("%s: exit %d, %q; want %d and %q", tc.name, code, errOut, tc.code, tc.err)
		}
	}
	if n := b.QueueDepth("/queue/tls"); n != 4 {
		t.Errorf("%d messages arrived over TLS, want 4", n)
	}
}

// TestCheckCertExpiry: check --cert-expiry reads the broker's certificate
// (one that expires in an hour) and judges the time left.
func TestCheckCertExpiry(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, _ := testCA(t, dir)
	b := broker.New(broker.Config{Addr: "127.0.0.1:0", TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, tc := range []struct {
		expiry string
		code   int
		out    string
	}{
		{"30m", 0, "STOMP OK - 1 of 1 broker up"},
		{"1d", 1, "STOMP WARNING - ssl://" + b.Addr() + ": certificate expires in 0d0h"},
		{"2d,30m", 1, "STOMP WARNING"},
		{"2d,2h", 2, "STOMP CRITICAL - ssl://" + b.Addr() + ": certificate expires in 0d0h"},
	} {
		code, out, errOut := stompest(t, "", "-s", "ssl://"+b.Addr(), "--tls-ca", filepath.Join(dir, "ca.pem"), "check", "--canary=false", "--cert-expiry", tc.expiry, "-o", "nagios")
		if code != tc.code || !strings.HasPrefix(out, tc.out) {
			t.Errorf("--cert-expiry %s: exit %d, %q (%s); want %d and %q", tc.expiry, code, out, errOut, tc.code, tc.out)
		}
	}
	code, out, _ := stompest(t, "", "-s", "ssl://"+b.Addr(), "--tls-ca", filepath.Join(dir, "ca.pem"), "check", "--canary=false", "-o", "prometheus")
	if code != 0 || !strings.Contains(out, "stompest_check_cert_expiry_timestamp_seconds{broker=") {
		t.Errorf("prometheus: exit %d, %s", code, out)
	}
}

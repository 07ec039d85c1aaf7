package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/protocol"
)

// selfSigned returns a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "stompest test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func startTLSPeer(t *testing.T, cert tls.Certificate) string {
	t.Helper()
	_, uri := startPeer(t, func(_ int, c *conn) {
		tc := tls.Server(c.Conn, &tls.Config{Certificates: []tls.Certificate{cert}})
		if err := tc.Handshake(); err != nil {
			return
		}
		tcn := &conn{Conn: tc, r: protocol.NewReader(tc), w: protocol.NewWriter(tc)}
		tcn.connected(t)
		drainUntilClosed(t, tcn)
	})
	return strings.Replace(uri, "tcp://", "ssl://", 1)
}

func TestTLS(t *testing.T) {
	t.Parallel()
	cert, pool := selfSigned(t)
	uri := startTLSPeer(t, cert)

	// Verification is on: an unknown certificate authority fails.
	_, err := dial(t, uri+"?startupMaxReconnectAttempts=0", Config{})
	var ue *UnreachableError
	if !errors.As(err, &ue) || !ue.TLSVerifyFailed() {
		t.Fatalf("got %v, want a certificate verification failure", err)
	}

	// With the CA it connects, and shows the broker's certificate.
	cl, err := dial(t, uri, Config{TLS: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	if certs := cl.PeerCertificates(); len(certs) != 1 || certs[0].Subject.CommonName != "stompest test" {
		t.Errorf("PeerCertificates() = %v", certs)
	}
	if err := cl.Disconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
}

package app_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	// What cmd/cisgate imports: Mozilla's roots where the system has none.
	_ "golang.org/x/crypto/x509roots/fallback"
	"golang.org/x/crypto/x509roots/fallback/bundle"
)

func writePEM(t *testing.T, ders ...[]byte) string {
	t.Helper()
	var data []byte
	for _, der := range ders {
		data = append(data, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	p := filepath.Join(t.TempDir(), "chain.pem")
	require.NoError(t, os.WriteFile(p, data, 0o644))
	return p
}

// privateChain is a server certificate and the private CA that signed it.
func privateChain(t *testing.T) (leaf, ca []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "corp proxy CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	ca, err = x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(ca)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "eks.us-east-1.amazonaws.com"},
		DNSNames:  []string{"eks.us-east-1.amazonaws.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leaf, err = x509.CreateCertificate(rand.Reader, tmpl, caCert, key.Public(), caKey)
	require.NoError(t, err)
	return leaf, ca
}

// amazonRootCA1 is the root most AWS endpoints chain to, from Mozilla's bundle.
func amazonRootCA1(t *testing.T) []byte {
	t.Helper()
	for root := range bundle.Roots() {
		c, err := x509.ParseCertificate(root.Certificate)
		require.NoError(t, err)
		if c.Subject.CommonName == "Amazon Root CA 1" {
			return root.Certificate
		}
	}
	t.Fatal("Amazon Root CA 1 is not in golang.org/x/crypto/x509roots/fallback/bundle")
	return nil
}

func TestVersionVerifyCert(t *testing.T) {
	leaf, ca := privateChain(t)
	missing := filepath.Join(t.TempDir(), "missing.pem")
	noCert := filepath.Join(t.TempDir(), "key.pem")
	require.NoError(t, os.WriteFile(noCert, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}}), 0o600))

	trusted := writePEM(t, amazonRootCA1(t))
	private := writePEM(t, leaf, ca)
	cases := []struct {
		name       string
		args       []string
		code       int
		stdout     []string
		stderr     string
		noStdoutOf string
	}{
		{name: "version only", args: []string{"version"}, code: 0, stdout: []string{"cisgate dev (go"}, noStdoutOf: "trusted"},
		{
			name: "a public root is trusted", args: []string{"version", "--verify-cert", trusted}, code: 0,
			stdout: []string{"cisgate dev (go", trusted + ": trusted: CN=Amazon Root CA 1,O=Amazon,C=US\n"},
		},
		// crypto/x509's error for a chain to no trusted root, the one the cloud scan's calls
		// would fail with.
		{
			name: "a private CA's chain is not", args: []string{"version", "--verify-cert", private}, code: 1,
			stderr: "--verify-cert " + private + ": not trusted: x509: certificate signed by unknown authority",
		},
		{name: "no such file", args: []string{"version", "--verify-cert", missing}, code: 2, stderr: "--verify-cert: open " + missing},
		{name: "no certificate in the file", args: []string{"version", "--verify-cert", noCert}, code: 2, stderr: noCert + ": no PEM CERTIFICATE block"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, nil, tc.args...)
			assert.Equal(t, tc.code, r.code, "stderr: %s", r.stderr)
			for _, s := range tc.stdout {
				assert.Contains(t, r.stdout, s)
			}
			if tc.noStdoutOf != "" {
				assert.NotContains(t, r.stdout, tc.noStdoutOf)
			}
			if tc.stderr != "" {
				assert.Contains(t, r.stderr, tc.stderr)
			}
		})
	}
}

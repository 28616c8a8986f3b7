package testcerts_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cisgate/cisgate/internal/testcerts"
)

// TestHandshake: a server on the serving certificate, trusted through the returned pool, accepts
// a client certificate its CA signed and refuses one from another CA.
func TestHandshake(t *testing.T) {
	dir := t.TempDir()
	pool, err := testcerts.WriteServing(dir)
	require.NoError(t, err)
	serving, err := tls.LoadX509KeyPair(filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"))
	require.NoError(t, err)
	ca, err := testcerts.NewCA()
	require.NoError(t, err)
	clients := x509.NewCertPool()
	require.True(t, clients.AppendCertsFromPEM(ca.PEM()))

	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{serving}, ClientCAs: clients, ClientAuth: tls.RequireAndVerifyClientCert,
	})
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_, _ = conn.Write([]byte("ok"))
			}()
		}
	}()

	dial := func(signer *testcerts.CA, host string) error {
		certPEM, keyPEM, err := signer.ClientCert("kube-apiserver")
		require.NoError(t, err)
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		require.NoError(t, err)
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		conn, err := tls.Dial("tcp", net.JoinHostPort(host, port), &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}})
		if err != nil {
			return err
		}
		defer conn.Close()
		_, err = io.ReadAll(conn) // TLS 1.3 reports a refused client certificate on the first read
		return err
	}
	assert.NoError(t, dial(ca, "127.0.0.1"))
	assert.NoError(t, dial(ca, "localhost"))
	other, err := testcerts.NewCA()
	require.NoError(t, err)
	assert.Error(t, dial(other, "127.0.0.1"), "a certificate from another CA is refused")
}

package admission

import (
	"bytes"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cisgate/cisgate/internal/poll"
	"github.com/cisgate/cisgate/webhook"
)

// TestServerPicksUpARotatedCertificate rotates tls.crt and tls.key under a running server, as
// cert-manager does, and waits until new connections get the new certificate.
func TestServerPicksUpARotatedCertificate(t *testing.T) {
	dir := t.TempDir()
	selfSigned(t, dir)
	srv := webhook.NewServer(webhook.ServerOptions{Host: "127.0.0.1", CertDir: dir, DrainTimeout: time.Second})
	srv.Register(webhook.Path, newHandler(t, "mode: audit\n", nil, nil))
	addr := startServer(t, srv)

	waitForServedCert(t, addr, fileCert(t, dir))
	selfSigned(t, dir) // the rotation: a new key and certificate in place of the old
	rotated := fileCert(t, dir)
	waitForServedCert(t, addr, rotated)
}

func fileCert(t *testing.T, dir string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "tls.crt"))
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	require.NotNil(t, block)
	return block.Bytes
}

func waitForServedCert(t *testing.T, addr string, want []byte) {
	t.Helper()
	err := poll.Until(t.Context(), 30*time.Second, 100*time.Millisecond, "the expected certificate", func() error {
		// Only the served certificate is compared; trust is not what this test is about.
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			return err
		}
		defer conn.Close()
		got := conn.ConnectionState().PeerCertificates
		if len(got) == 0 || !bytes.Equal(got[0].Raw, want) {
			return errors.New("still serving another certificate")
		}
		return nil
	})
	require.NoError(t, err, "the server never served the expected certificate")
}

package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// DefaultClientCAPollInterval is how often the client CA file is read again. The kubelet updates
// a Secret volume about a minute after the Secret changes; ten seconds more is small beside that.
const DefaultClientCAPollInterval = 10 * time.Second

// clientCAs is the pool of CAs that sign the webhook's clients' certificates, from a PEM file read
// again every poll interval, so that a rotated CA (webhook.clientCASecret updated) is served
// without a restart, as certwatcher serves a rotated serving certificate. A file that no longer
// reads or holds no certificate keeps the last good pool: a broken rotation must not lock the API
// server out, and a pool is replaced only by one that parsed.
type clientCAs struct {
	path string
	last []byte
	pool atomic.Pointer[x509.CertPool]
}

// loadClientCAs reads path; it must hold at least one PEM certificate.
func loadClientCAs(path string) (*clientCAs, error) {
	c := &clientCAs{path: path}
	if _, err := c.reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// reload reads the file again and swaps the pool in when its content changed and parses.
func (c *clientCAs) reload() (changed bool, err error) {
	data, err := os.ReadFile(c.path)
	if err != nil {
		return false, fmt.Errorf("client CA: %w", err)
	}
	if c.pool.Load() != nil && bytes.Equal(data, c.last) {
		return false, nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return false, fmt.Errorf("client CA %s: no PEM certificate in it", c.path)
	}
	c.last = data
	c.pool.Store(pool)
	return true, nil
}

// watch reloads the file every interval until ctx ends.
func (c *clientCAs) watch(ctx context.Context, interval time.Duration) {
	logger := ctrllog.FromContext(ctx).WithValues("file", c.path)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		switch changed, err := c.reload(); {
		case err != nil:
			logger.Error(err, "Reading the client CA failed; the last one read stays in use")
		case changed:
			logger.Info("Client CA reloaded")
		}
	}
}

// requireClientCerts makes cfg ask every client for a certificate signed by the current pool:
// each handshake gets a copy of cfg with the pool of that moment.
func (c *clientCAs) requireClientCerts(cfg *tls.Config) {
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	cfg.ClientCAs = c.pool.Load()
	perHandshake := cfg.Clone()
	cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		hs := perHandshake.Clone()
		hs.ClientCAs = c.pool.Load()
		return hs, nil
	}
}

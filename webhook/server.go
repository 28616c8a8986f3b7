package webhook

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// Timeouts of the webhook's HTTPS server. The API server sends a review in one write and waits at
// most the webhook's timeoutSeconds (at most 30 s, the chart's 5 s) for the answer, so a client
// that takes longer to send its headers or its body is not the API server: it is cut, and with it
// what its connection holds.
//
// The server speaks HTTP/1.1 only, as the API server's webhook client does (k8s.io/apiserver
// pkg/util/webhook/client.go sets NextProtos to http/1.1 for every non-local webhook). Over
// HTTP/2 a read timeout resets only the stream: a stalled upload's connection stayed open, with
// what it had buffered, until the idle timeout. Over HTTP/1.1 a request whose body was not read
// to its end is answered and its connection closed: a stalled upload's connection is gone within
// ReadTimeout + 0.5 s (net/http's wait before it closes) + LingerTimeout, 15.5 s with the
// defaults (TestStalledUploadsAreClosed). It also leaves no HTTP/2 rapid reset to defend against.
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 10 * time.Second
	WriteTimeout             = 30 * time.Second
	// IdleTimeout outlasts the API server's webhook client, which drops an idle connection after
	// 90 s: the client, not the server, closes it, so no review is sent onto a closing connection.
	IdleTimeout = 120 * time.Second
	// poolGrace is how long, once it stops accepting, the server waits for clients to drop the
	// connections they pooled before closing them.
	poolGrace      = 2 * time.Second
	maxHeaderBytes = 64 << 10
)

// ServerOptions configure the webhook's HTTPS server.
type ServerOptions struct {
	// Host and Port are where it listens; port 0 picks a free one (see Addr).
	Host string
	Port int
	// CertDir holds tls.crt and tls.key; a rotation is served without a restart.
	CertDir string
	// ClientCAFile, when set, makes every client present a certificate signed by one of its CAs
	// (the API server does when its AdmissionConfiguration names a client certificate). It is
	// read again every ClientCAPollInterval (default DefaultClientCAPollInterval).
	ClientCAFile         string
	ClientCAPollInterval time.Duration
	// ShutdownDelay is how long the server keeps serving after its context ends, with readiness
	// failing, so that the Endpoints drop this replica before it stops accepting connections.
	ShutdownDelay time.Duration
	// DrainTimeout bounds the wait for requests in flight once it stops accepting.
	DrainTimeout time.Duration
	// ReadHeaderTimeout and ReadTimeout default to DefaultReadHeaderTimeout and DefaultReadTimeout.
	ReadHeaderTimeout, ReadTimeout time.Duration
}

// Server is the webhook's HTTPS server: controller-runtime's certwatcher for the serving
// certificate, timeouts against slow clients, optional client-certificate verification, and a
// shutdown that first fails readiness, then keeps serving for ShutdownDelay, then drains.
type Server struct {
	opts     ServerOptions
	mux      *http.ServeMux
	addr     atomic.Pointer[string]
	draining atomic.Bool
	// open counts the connections the server has not closed yet.
	open atomic.Int64
}

// NewServer returns a server for opts; Register the handlers, then Start it.
func NewServer(opts ServerOptions) *Server {
	return &Server{opts: opts, mux: http.NewServeMux()}
}

// Register serves h at path.
func (s *Server) Register(path string, h http.Handler) { s.mux.Handle(path, h) }

// Addr is the address the server listens on, "" before it does.
func (s *Server) Addr() string {
	if a := s.addr.Load(); a != nil {
		return *a
	}
	return ""
}

// Ready is a readiness check: it fails until the server listens and from the moment it begins
// to shut down.
func (s *Server) Ready(*http.Request) error {
	switch {
	case s.draining.Load():
		return errors.New("shutting down")
	case s.Addr() == "":
		return errors.New("webhook server not listening yet")
	}
	return nil
}

func (s *Server) tlsConfig(ctx context.Context) (*tls.Config, error) {
	cw, err := certwatcher.New(filepath.Join(s.opts.CertDir, "tls.crt"), filepath.Join(s.opts.CertDir, "tls.key"))
	if err != nil {
		return nil, err
	}
	go func() {
		if err := cw.Start(ctx); err != nil {
			ctrllog.FromContext(ctx).Error(err, "certificate watcher stopped")
		}
	}()
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: cw.GetCertificate, NextProtos: []string{"http/1.1"}}
	if s.opts.ClientCAFile != "" {
		cas, err := loadClientCAs(s.opts.ClientCAFile)
		if err != nil {
			return nil, err
		}
		go cas.watch(ctx, cmp.Or(s.opts.ClientCAPollInterval, DefaultClientCAPollInterval))
		cas.requireClientCerts(cfg)
	}
	return cfg, nil
}

// Start serves until ctx ends, then shuts down: readiness fails at once, connections are still
// accepted for ShutdownDelay (the API server may route here until the Endpoints update), then the
// listener closes and requests in flight finish within DrainTimeout. It returns when they have.
func (s *Server) Start(ctx context.Context) error {
	// The certificate watcher outlives ctx: the server still serves during the shutdown delay.
	certCtx, stopCerts := context.WithCancel(context.WithoutCancel(ctx))
	defer stopCerts()
	cfg, err := s.tlsConfig(certCtx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(s.opts.Host, strconv.Itoa(s.opts.Port)))
	if err != nil {
		return err
	}
	var http1 http.Protocols
	http1.SetHTTP1(true)
	srv := &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		Protocols:         &http1,
		TLSConfig:         cfg,
		ReadHeaderTimeout: cmp.Or(s.opts.ReadHeaderTimeout, DefaultReadHeaderTimeout),
		ReadTimeout:       cmp.Or(s.opts.ReadTimeout, DefaultReadTimeout),
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		// Failed handshakes from scanners and cut slow clients are not worth a log line each.
		ErrorLog:  log.New(io.Discard, "", 0),
		ConnState: s.trackConnection,
	}
	served := make(chan error, 1)
	go func() { served <- srv.ServeTLS(lingerListener{ln}, "", "") }()
	addr := ln.Addr().String()
	s.addr.Store(&addr)
	logger := ctrllog.FromContext(ctx)
	logger.Info("serving webhook", "address", addr, "clientCertificates", s.opts.ClientCAFile != "")

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	logger.Info("shutting down: still serving while the endpoints update", "delay", s.opts.ShutdownDelay)
	delay := time.NewTimer(s.opts.ShutdownDelay)
	defer delay.Stop()
	select {
	case err := <-served:
		return err
	case <-delay.C:
	}
	drainTimeout := s.opts.DrainTimeout
	if drainTimeout <= 0 {
		drainTimeout = WriteTimeout
	}
	drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
	defer cancel()
	// Stop accepting, but leave the connections the API server keeps in its pool open a while:
	// its webhook client speaks HTTP/1.1 and retries no POST, so an idle connection closed just
	// as it sends a review on it fails that create (1 to 3 in 4,000 in the local cluster's
	// drills). Each one it uses meanwhile is answered with "Connection: close" and dropped by the
	// client itself; what is still idle after poolGrace was not wanted, and is closed.
	_ = ln.Close()
	graceCtx, cancelGrace := context.WithTimeout(drainCtx, poolGrace)
	defer cancelGrace()
	s.waitForConnections(graceCtx)
	err = srv.Shutdown(drainCtx)
	if errors.Is(err, net.ErrClosed) {
		err = nil // the listener, closed above
	}
	<-served
	logger.Info("webhook server stopped")
	return err
}

func (s *Server) trackConnection(_ net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		s.open.Add(1)
	case http.StateClosed, http.StateHijacked:
		s.open.Add(-1)
	}
}

// waitForConnections returns once every connection is closed, or when ctx ends.
func (s *Server) waitForConnections(ctx context.Context) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for s.open.Load() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// serveHTTP answers with "Connection: close" once shutting down, so that clients reconnect after
// each answer and find another replica once the Endpoints have changed (HTTP/2: a GOAWAY). Not
// http.Server.SetKeepAlivesEnabled(false): it closes every idle connection at once, under a
// client that may be sending a review on one.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		w.Header().Set("Connection", "close")
	}
	s.mux.ServeHTTP(w, r)
}

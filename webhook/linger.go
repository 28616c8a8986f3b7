package webhook

import (
	"io"
	"net"
	"sync"
	"time"
)

// Closing a connection outright loses requests. When the server ends a connection (HTTP/2: a
// GOAWAY, then the close a second later; HTTP/1.1: after a "Connection: close" answer, or an idle
// connection at shutdown) a client may already have written its next request onto it. The kernel
// answers those bytes with a reset, the client's next write fails with "broken pipe", and the API
// server does not retry a webhook call: the create fails (seen in the mode-upgrade drill on the
// local cluster, 1 of 4,296 creates). Half-closed instead, the socket still takes the client's
// bytes; the client reads the GOAWAY and the end of the stream, and Go's transports (the API
// server's among them) send what the server never processed again on a new connection.
const (
	// LingerTimeout is the longest a closed connection is read after it was half-closed.
	LingerTimeout = 5 * time.Second
	// lingerMaxBytes bounds what one closed connection may still make the server read.
	lingerMaxBytes = 1 << 20
)

// lingerListener hands out connections whose Close half-closes them and lets the peer close.
type lingerListener struct{ net.Listener }

func (l lingerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		return &lingerConn{TCPConn: tc}, nil
	}
	return c, nil
}

// lingerConn's Close sends FIN and returns at once; the socket is closed when the peer has closed
// its side, after LingerTimeout, or after lingerMaxBytes, whichever comes first.
type lingerConn struct {
	*net.TCPConn
	once sync.Once
}

func (c *lingerConn) Close() error {
	var err error
	c.once.Do(func() {
		if err = c.CloseWrite(); err != nil {
			err = c.TCPConn.Close()
			return
		}
		go func() {
			_ = c.SetReadDeadline(time.Now().Add(LingerTimeout))
			_, _ = io.Copy(io.Discard, io.LimitReader(c.TCPConn, lingerMaxBytes))
			_ = c.TCPConn.Close()
		}()
	})
	return err
}

package webhook

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A client that wrote onto a connection the server then closed reads the end of the stream and
// can still write, instead of meeting a reset ("connection reset by peer", then "broken pipe"):
// the kernel resets a socket closed with unread bytes, which is what a plain Close does here.
func TestClosedConnectionsLetThePeerFinish(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	linger := lingerListener{ln}

	client, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer client.Close()
	server, err := linger.Accept()
	require.NoError(t, err)

	_, err = client.Write([]byte("POST /validate"))
	require.NoError(t, err)
	// The server reads part of it and closes with the rest unread, as after a GOAWAY.
	one := make([]byte, 1)
	_, err = io.ReadFull(server, one)
	require.NoError(t, err)
	require.NoError(t, server.Close())
	require.NoError(t, server.Close(), "a second Close is harmless")

	require.NoError(t, client.SetDeadline(time.Now().Add(10*time.Second)))
	n, err := client.Read(make([]byte, 16))
	require.Equal(t, 0, n)
	require.ErrorIs(t, err, io.EOF, "the client reads the end of the stream, not a reset")
	_, err = client.Write([]byte("next request"))
	require.NoError(t, err, "the client's next write still lands")
}

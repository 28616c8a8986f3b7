package cluster

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// nodeNS is the node's network and mount namespace, held open by a process that only sleeps
// (the holder). Everything of the node runs in it, entered with nsenter; when the last of those
// processes is gone the namespaces are gone with every mount and interface made in them.
type nodeNS struct {
	holderPID int
	netFD     int
}

func openNodeNS(holderPID int) (*nodeNS, error) {
	fd, err := unix.Open("/proc/"+strconv.Itoa(holderPID)+"/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open the node's network namespace: %w", err)
	}
	return &nodeNS{holderPID: holderPID, netFD: fd}, nil
}

func (n *nodeNS) close() { unix.Close(n.netFD) }

// nsenter prefixes a command so that it runs in the node's namespaces.
func (n *nodeNS) nsenter(args ...string) []string {
	pid := strconv.Itoa(n.holderPID)
	return append([]string{"nsenter", "--net=/proc/" + pid + "/ns/net", "--mount=/proc/" + pid + "/ns/mnt", "--"}, args...)
}

// DialContext connects to addr from inside the node's network namespace: the socket is made on
// an OS thread switched into the namespace and stays there after the thread switches back. This
// is how the test process (and the kubeconfig's local proxy) reach the API server, which like the
// rest of the node is reachable only inside its namespace.
func (n *nodeNS) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	type result struct {
		conn net.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		own, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{err: err}
			return
		}
		defer unix.Close(own)
		if err := unix.Setns(n.netFD, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- result{err: fmt.Errorf("enter the node's network namespace: %w", err)}
			return
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, network, addr)
		// A thread that cannot switch back stays locked, and Go ends it with this goroutine.
		if unix.Setns(own, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		done <- result{conn, err}
	}()
	r := <-done
	return r.conn, r.err
}

// proxy listens on a free port of the host's loopback and forwards each connection to target
// inside the node's namespace, so that helm, kubectl and a user's tools reach the API server.
type proxy struct {
	ln   net.Listener
	wg   sync.WaitGroup
	ns   *nodeNS
	addr string
}

func startProxy(ns *nodeNS, target string) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{ln: ln, ns: ns, addr: target}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

func (p *proxy) Addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.forward(c)
	}
}

func (p *proxy) forward(c net.Conn) {
	defer c.Close()
	up, err := p.ns.DialContext(context.Background(), "tcp", p.addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cluster proxy: %v\n", err)
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); up.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	go func() { io.Copy(c, up); c.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	<-done
	<-done
}

func (p *proxy) close() {
	p.ln.Close()
	p.wg.Wait()
}

// Command load is cisgate's load and fault harness: it serves cisgate's webhook handler (and an
// allow-all handler on the same server, the ceiling) in a child process on loopback, drives it
// from this process and prints, per drill, the requests failed, the counts lost, latencies and
// the server's peak RSS. Every drill is bounded in requests and time.
//
//	go run ./test/load throughput [-n 100000] [-c 64]   100,000 reviews at concurrency 64 over HTTP/1.1, cisgate and allow-all
//	go run ./test/load kinds [-n 50000]                 hostile case 1: unique kinds, with a well-behaved client alongside
//	go run ./test/load bodies [-conns 32]               hostile case 2: stalled 6.5 MB bodies and a 1 byte/s body, with a well-behaved client
//	go run ./test/load sigterm [-c 16]                  SIGTERM under load: requests failed, answered decisions not recorded
//
// The drills that need a kube-apiserver (the lease lost in an outage, the report ConfigMap after
// SIGTERM) are test/e2e/faults.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: load throughput|kinds|bodies|sigterm [flags]  (see the package doc)")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve": // the child
		err = serveChild(os.Args[2:])
	case "throughput":
		err = throughput(os.Args[2:])
	case "kinds":
		err = kinds(os.Args[2:])
	case "bodies":
		err = bodies(os.Args[2:])
	case "sigterm":
		err = sigterm(os.Args[2:])
	default:
		err = fmt.Errorf("unknown drill %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// child is the server process.
type child struct {
	cmd  *exec.Cmd
	addr string
	out  *bufio.Scanner
}

func startChild(args ...string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, append([]string{"serve"}, args...)...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, out: bufio.NewScanner(stdout)}
	if !c.out.Scan() {
		return nil, errors.New("the server printed no address")
	}
	c.addr = strings.TrimPrefix(c.out.Text(), "listening ")
	return c, nil
}

func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	_ = c.cmd.Wait()
}

// peakRSS is the child's peak resident set (VmHWM) in MiB.
func (c *child) peakRSS() float64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(c.cmd.Process.Pid) + "/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return -1
}

// resetPeakRSS starts a new high-water mark (Linux clear_refs "5").
func (c *child) resetPeakRSS() {
	_ = os.WriteFile("/proc/"+strconv.Itoa(c.cmd.Process.Pid)+"/clear_refs", []byte("5"), 0)
}

// client speaks HTTP/1.1 with up to conns keep-alive connections, as the API server's webhook
// client does and all the webhook serves.
func client(conns int) *http.Client {
	tr := &http.Transport{
		// Loopback, a self-signed certificate made by the child: trust is not what is measured.
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true},
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// result of one run of requests.
type result struct {
	ok, failed int64
	// refused are connections refused: after a server has closed its listener.
	refused   int64
	latencies []time.Duration
	elapsed   time.Duration
	lastErr   string
}

func (r *result) String() string {
	slices.Sort(r.latencies)
	at := func(q float64) time.Duration {
		if len(r.latencies) == 0 {
			return 0
		}
		return r.latencies[min(len(r.latencies)-1, int(q*float64(len(r.latencies))))]
	}
	s := fmt.Sprintf("ok %d  failed %d  p50 %v  p99 %v  %.0f req/s", r.ok, r.failed, at(0.5).Round(time.Microsecond), at(0.99).Round(time.Microsecond),
		float64(r.ok)/r.elapsed.Seconds())
	if r.lastErr != "" {
		s += "  last error: " + r.lastErr
	}
	return s
}

// run sends n bodies (body(i)) to url at concurrency c, or until stop is closed when n < 0,
// checking each answer contains want.
func run(cl *http.Client, url string, n, c int, body func(i int) []byte, want string, stop <-chan struct{}) *result {
	var next atomic.Int64
	var mu sync.Mutex
	res := &result{}
	var wg sync.WaitGroup
	start := time.Now()
	for range c {
		wg.Go(func() {
			var local []time.Duration
			var ok, failed, refused int64
			var lastErr string
			for {
				i := int(next.Add(1) - 1)
				if n >= 0 && i >= n {
					break
				}
				if stop != nil {
					select {
					case <-stop:
						n = 0
						continue
					default:
					}
				}
				t0 := time.Now()
				resp, err := cl.Post(url, "application/json", bytes.NewReader(body(i)))
				if err == nil {
					var data []byte
					data, err = io.ReadAll(resp.Body)
					resp.Body.Close()
					if err == nil && (resp.StatusCode != http.StatusOK || !bytes.Contains(data, []byte(want))) {
						err = fmt.Errorf("status %d: %.200s", resp.StatusCode, data)
					}
				}
				if err != nil && errors.Is(err, syscall.ECONNREFUSED) {
					refused++
					continue
				}
				if err != nil {
					failed++
					lastErr = err.Error()
					continue
				}
				ok++
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			res.ok += ok
			res.failed += failed
			res.refused += refused
			res.latencies = append(res.latencies, local...)
			if lastErr != "" {
				res.lastErr = lastErr
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

func throughput(args []string) error {
	fs := flag.NewFlagSet("throughput", flag.ExitOnError)
	n := fs.Int("n", 100000, "reviews per endpoint")
	c := fs.Int("c", 64, "concurrent requests")
	rounds := fs.Int("rounds", 2, "alternating rounds per endpoint (each of n/rounds reviews)")
	_ = fs.Parse(args)
	srv, err := startChild()
	if err != nil {
		return err
	}
	defer srv.stop()
	cl := client(*c)
	body := func(int) []byte { return deploymentReview }
	// Warm up both endpoints and the connection.
	run(cl, "https://"+srv.addr+"/validate", 500, *c, body, warning, nil)
	run(cl, "https://"+srv.addr+"/allow", 500, *c, body, `"allowed":true`, nil)
	fmt.Printf("throughput: %d reviews per endpoint (a 2.6 KB Deployment CREATE), concurrency %d, HTTP/1.1 keep-alive, one server, %d alternating rounds\n", *n, *c, *rounds)
	total := map[string]*result{"cisgate": {}, "allow-all": {}}
	peak := map[string]float64{}
	for range *rounds {
		for _, ep := range []struct{ name, path, want string }{{"allow-all", "/allow", `"allowed":true`}, {"cisgate", "/validate", warning}} {
			srv.resetPeakRSS()
			r := run(cl, "https://"+srv.addr+ep.path, *n / *rounds, *c, body, ep.want, nil)
			t := total[ep.name]
			t.ok, t.failed, t.elapsed = t.ok+r.ok, t.failed+r.failed, t.elapsed+r.elapsed
			t.latencies = append(t.latencies, r.latencies...)
			if r.lastErr != "" {
				t.lastErr = r.lastErr
			}
			peak[ep.name] = max(peak[ep.name], srv.peakRSS())
		}
	}
	for _, name := range []string{"allow-all", "cisgate"} {
		fmt.Printf("  %-9s %s  peak RSS %.1f MiB\n", name, total[name], peak[name])
	}
	a, g := total["allow-all"], total["cisgate"]
	fmt.Printf("  cisgate/allow-all: throughput %.2fx  p99 %.2fx\n",
		(float64(g.ok)/g.elapsed.Seconds())/(float64(a.ok)/a.elapsed.Seconds()), float64(p99(g))/float64(p99(a)))
	return nil
}

func p99(r *result) time.Duration {
	slices.Sort(r.latencies)
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[min(len(r.latencies)-1, int(0.99*float64(len(r.latencies))))]
}

// wellBehaved runs a client posting the ordinary review until stop, for its p99 during a drill.
func wellBehaved(addr string, stop <-chan struct{}) <-chan *result {
	out := make(chan *result, 1)
	go func() {
		out <- run(client(4), "https://"+addr+"/validate", -1, 4, func(int) []byte { return deploymentReview }, warning, stop)
	}()
	return out
}

func metricsBytes(addr string) int {
	resp, err := client(1).Get("https://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return len(data)
}

func kinds(args []string) error {
	fs := flag.NewFlagSet("kinds", flag.ExitOnError)
	n := fs.Int("n", 50000, "reviews, each of a kind never seen before")
	c := fs.Int("c", 64, "concurrent requests")
	_ = fs.Parse(args)
	srv, err := startChild()
	if err != nil {
		return err
	}
	defer srv.stop()
	before := metricsBytes(srv.addr)
	baseline := srv.peakRSS()
	stop := make(chan struct{})
	good := wellBehaved(srv.addr, stop)
	r := run(client(*c), "https://"+srv.addr+"/validate", *n, *c, func(i int) []byte { return uniqueKindReview(i) }, `"allowed":true`, nil)
	close(stop)
	g := <-good
	fmt.Printf("hostile case 1: %d reviews of unique kinds and operations at concurrency %d\n", *n, *c)
	fmt.Printf("  hostile client:      %s\n", r)
	fmt.Printf("  well-behaved client: %s\n", g)
	fmt.Printf("  /metrics %d -> %d bytes; server peak RSS %.1f MiB (%.1f MiB at start)\n", before, metricsBytes(srv.addr), srv.peakRSS(), baseline)
	return nil
}

func bodies(args []string) error {
	fs := flag.NewFlagSet("bodies", flag.ExitOnError)
	conns := fs.Int("conns", 32, "connections that send 6.5 MB of a 7 MB body and stall")
	hold := fs.Duration("hold", 30*time.Second, "how long the drill lasts")
	_ = fs.Parse(args)
	srv, err := startChild()
	if err != nil {
		return err
	}
	defer srv.stop()
	baseline := srv.peakRSS()
	stop := make(chan struct{})
	good := wellBehaved(srv.addr, stop)
	type outcome struct {
		cutAfter time.Duration
		status   string
	}
	outcomes := make(chan outcome, *conns+1)
	stall := func(send func(w io.Writer) error) {
		start := time.Now()
		conn, err := tls.Dial("tcp", srv.addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
		if err != nil {
			outcomes <- outcome{0, "dial: " + err.Error()}
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(*hold))
		header := "POST /validate HTTP/1.1\r\nHost: cisgate\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(7_000_000) + "\r\n\r\n"
		if _, err := io.WriteString(conn, header); err != nil {
			outcomes <- outcome{time.Since(start), "write: " + err.Error()}
			return
		}
		go func() { _ = send(conn) }()
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		switch {
		case err != nil && errors.Is(err, os.ErrDeadlineExceeded):
			outcomes <- outcome{time.Since(start), "still open at the end of the drill"}
		case err != nil:
			outcomes <- outcome{time.Since(start), "closed by the server"}
		default:
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			status := "answered " + resp.Status
			// A body cut by the read timeout is answered with an error review, as any unreadable one.
			if i := bytes.Index(body, []byte(`"code":`)); i >= 0 && resp.StatusCode == http.StatusOK {
				code, _, _ := bytes.Cut(body[i+len(`"code":`):], []byte(","))
				status += " with an error review of code " + string(bytes.Trim(code, "}"))
			}
			// The answer is not the end: the connection, and what it buffered, must go too.
			if _, err := io.Copy(io.Discard, br); errors.Is(err, os.ErrDeadlineExceeded) {
				status += ", connection still open at the end of the drill"
			} else {
				status += ", then closed by the server"
			}
			outcomes <- outcome{time.Since(start), status}
		}
	}
	var wg sync.WaitGroup
	for range *conns {
		wg.Go(func() {
			stall(func(w io.Writer) error {
				_, err := w.Write(bytes.Repeat([]byte(" "), 6_500_000))
				return err
			})
		})
	}
	wg.Go(func() {
		stall(func(w io.Writer) error {
			for {
				if _, err := w.Write([]byte(" ")); err != nil {
					return err
				}
				time.Sleep(time.Second)
			}
		})
	})
	wg.Wait()
	close(stop)
	g := <-good
	close(outcomes)
	summary := map[string]int{}
	var longest time.Duration
	for o := range outcomes {
		summary[o.status]++
		longest = max(longest, o.cutAfter)
	}
	fmt.Printf("hostile case 2: %d connections send 6.5 MB of a 7 MB body and stall, 1 sends a byte a second (drill bounded at %v)\n", *conns, *hold)
	for s, k := range summary {
		fmt.Printf("  %3d connections: %s\n", k, s)
	}
	fmt.Printf("  the last was done after %v\n", longest.Round(time.Millisecond))
	fmt.Printf("  well-behaved client: %s\n", g)
	fmt.Printf("  server peak RSS %.1f MiB (%.1f MiB at start)\n", srv.peakRSS(), baseline)
	return nil
}

func sigterm(args []string) error {
	fs := flag.NewFlagSet("sigterm", flag.ExitOnError)
	c := fs.Int("c", 16, "concurrent requests")
	delay := fs.Duration("shutdown-delay", 2*time.Second, "the server's shutdown delay")
	_ = fs.Parse(args)
	srv, err := startChild("-shutdown-delay", delay.String())
	if err != nil {
		return err
	}
	stop := make(chan struct{})
	done := make(chan *result, 1)
	cl := client(*c)
	go func() {
		done <- run(cl, "https://"+srv.addr+"/validate", -1, *c, func(int) []byte { return deploymentReview }, warning, stop)
	}()
	time.Sleep(time.Second) // load first: the drill is SIGTERM under load
	_ = srv.cmd.Process.Signal(syscall.SIGTERM)
	// The child prints how many decisions it recorded once it has drained.
	recorded := -1
	for srv.out.Scan() {
		if v, ok := strings.CutPrefix(srv.out.Text(), "recorded "); ok {
			recorded, _ = strconv.Atoi(v)
		}
	}
	_ = srv.cmd.Wait()
	close(stop)
	r := <-done
	fmt.Printf("SIGTERM under load (concurrency %d, shutdown delay %v):\n", *c, *delay)
	fmt.Printf("  answered %d; failed %d (last error: %q); refused once the listener had closed: %d\n", r.ok, r.failed, r.lastErr, r.refused)
	fmt.Printf("  recorded by the server %d; counts lost %d\n", recorded, r.ok-int64(recorded))
	return nil
}

// serveChild runs the server until SIGTERM.
func serveChild(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	delay := fs.Duration("shutdown-delay", 0, "shutdown delay")
	_ = fs.Parse(args)
	ctrllog.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return serveWebhook(ctx, *delay)
}

package admission

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/cisgate/cisgate/internal/testcerts"
	"github.com/cisgate/cisgate/webhook"
)

// reviewBody is an AdmissionReview of a privileged Pod in ns: denied in enforce mode.
func reviewBody(t testing.TB, kind metav1.GroupVersionKind, op admissionv1.Operation) []byte {
	t.Helper()
	return mustJSON(t, map[string]any{
		"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
		"request": map[string]any{
			"uid": "u-1", "kind": kind, "operation": op, "namespace": ns, "name": "web",
			"object": json.RawMessage(podJSON),
		},
	})
}

func post(t testing.TB, h http.Handler, method string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, webhook.Path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// seriesCount is how many series /metrics would show for the family name.
func seriesCount(t *testing.T, name string) int {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() == name {
			return len(f.GetMetric())
		}
	}
	return 0
}

// TestMetricLabelsAreBounded: kind and operation come from the request, which anyone who reaches
// the port writes. Thousands of made-up kinds and operations add one series ("other"), not one
// each (issue: 50,000 unique kinds grew /metrics from 60 KB to 104 MB).
func TestMetricLabelsAreBounded(t *testing.T) {
	h := newHandler(t, enforceConfig, cluster(), nil)
	// The known kinds first, so that only made-up ones are left to add series.
	post(t, h, http.MethodPost, reviewBody(t, podGVK, admissionv1.Create))
	post(t, h, http.MethodPost, reviewBody(t, metav1.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"}, "FORGE"))
	before := seriesCount(t, "cisgate_admission_requests_total")
	for i := range 3000 {
		kind := metav1.GroupVersionKind{Group: "evil.example", Version: "v1", Kind: "Kind" + strconv.Itoa(i)}
		rec := post(t, h, http.MethodPost, reviewBody(t, kind, admissionv1.Operation("OP"+strconv.Itoa(i))))
		require.Equal(t, http.StatusOK, rec.Code)
	}
	assert.Equal(t, before, seriesCount(t, "cisgate_admission_requests_total"), "made-up kinds and operations are counted as \"other\"")
	assert.Equal(t, "Pod", kindLabel(podGVK))
	assert.Equal(t, "Deployment", kindLabel(deploymentGVK))
	assert.Equal(t, otherLabel, kindLabel(metav1.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"}))
	assert.Equal(t, "DELETE", operationLabel(admissionv1.Delete))
	assert.Equal(t, otherLabel, operationLabel("delete"))
}

// TestOnlyPOSTIsEvaluated: the API server POSTs reviews; a GET or PUT carrying one is answered
// 405 and neither decided nor recorded.
func TestOnlyPOSTIsEvaluated(t *testing.T) {
	rec := &fakeRecorder{}
	h := newHandler(t, enforceConfig, cluster(), rec)
	body := reviewBody(t, podGVK, admissionv1.Create)
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete, "PROPFIND"} {
		resp := post(t, h, method, body)
		assert.Equal(t, http.StatusMethodNotAllowed, resp.Code, method)
		assert.Equal(t, http.MethodPost, resp.Header().Get("Allow"))
		assert.NotContains(t, resp.Body.String(), "cisgate denied", method)
	}
	assert.Empty(t, rec.all())
	resp := post(t, h, http.MethodPost, body)
	require.Equal(t, http.StatusOK, resp.Code)
	assert.Contains(t, resp.Body.String(), "cisgate denied")
	assert.Len(t, rec.all(), 1)
}

// hostileServer serves the enforce-mode handler with short timeouts and the given body budget.
func hostileServer(t *testing.T, budget int64, opts webhook.ServerOptions) (addr string, pool *x509.CertPool) {
	t.Helper()
	dir := t.TempDir()
	pool = selfSigned(t, dir)
	opts.Host, opts.CertDir = "127.0.0.1", dir
	srv := webhook.NewServer(opts)
	h := newHandler(t, enforceConfig, cluster(), nil)
	h.Bodies = NewBodyBudget(budget)
	srv.Register(webhook.Path, h)
	return startServer(t, srv), pool
}

// rawTLS opens a TLS connection speaking HTTP/1.1, for writing requests byte by byte.
func rawTLS(t *testing.T, addr string, pool *x509.CertPool) *tls.Conn {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, NextProtos: []string{"http/1.1"}})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn
}

// closedByServer waits until the server closes conn. The read deadline only keeps a broken
// server from hanging the test; it is far past the server's timeouts.
func closedByServer(t *testing.T, conn net.Conn) {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(time.Minute)))
	_, err := io.Copy(io.Discard, conn)
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		t.Fatal("the server kept the connection open")
	}
}

func header(contentLength int) string {
	return "POST " + webhook.Path + " HTTP/1.1\r\nHost: cisgate\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(contentLength) + "\r\n\r\n"
}

// TestSlowClientsAreCut: a client that sends its headers or its body slowly, or stops halfway
// (slowloris; the stalled 6.5 MB bodies were held for 30 s and more), is disconnected.
func TestSlowClientsAreCut(t *testing.T) {
	addr, pool := hostileServer(t, 32<<20, webhook.ServerOptions{ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: 600 * time.Millisecond})
	t.Run("headers never finished", func(t *testing.T) {
		conn := rawTLS(t, addr, pool)
		_, err := io.WriteString(conn, "POST /validate HTTP/1.1\r\nHost: cisgate\r\n")
		require.NoError(t, err)
		closedByServer(t, conn)
	})
	t.Run("body stalled halfway", func(t *testing.T) {
		conn := rawTLS(t, addr, pool)
		_, err := io.WriteString(conn, header(6<<20))
		require.NoError(t, err)
		_, err = conn.Write(bytes.Repeat([]byte(" "), 1<<20))
		require.NoError(t, err)
		closedByServer(t, conn)
	})
	t.Run("body at a byte at a time", func(t *testing.T) {
		conn := rawTLS(t, addr, pool)
		_, err := io.WriteString(conn, header(1000))
		require.NoError(t, err)
		closed := make(chan struct{})
		go func() {
			defer close(closed)
			closedByServer(t, conn)
		}()
		for {
			select {
			case <-closed:
				return
			case <-time.After(50 * time.Millisecond):
				if _, err := conn.Write([]byte(" ")); err != nil {
					<-closed
					return
				}
			}
		}
	})
}

// TestLargeBodiesAreBounded: a body announced past MaxRequestBytes is refused unread (413), and
// large bodies together never hold more than the budget: past it they are answered 503 while an
// ordinary review is still answered.
func TestLargeBodiesAreBounded(t *testing.T) {
	addr, pool := hostileServer(t, 8<<20, webhook.ServerOptions{ReadTimeout: time.Minute})

	conn := rawTLS(t, addr, pool)
	_, err := io.WriteString(conn, header(MaxRequestBytes+1))
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	var refused admissionv1.AdmissionReview
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&refused))
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "an error review, as controller-runtime answers")
	assert.Equal(t, int32(http.StatusRequestEntityTooLarge), refused.Response.Result.Code)

	// One stalled 6 MiB upload takes most of the 8 MiB budget...
	stalled := rawTLS(t, addr, pool)
	_, err = io.WriteString(stalled, header(6<<20))
	require.NoError(t, err)
	_, err = stalled.Write(bytes.Repeat([]byte(" "), 128<<10))
	require.NoError(t, err)
	// ...so a second one is refused at once, without being read.
	client := httpsClient(pool, false, 4)
	deadline := time.Now().Add(time.Minute)
	for {
		second, err := client.Post("https://"+addr+webhook.Path, "application/json", bytes.NewReader(bytes.Repeat([]byte(" "), 6<<20)))
		require.NoError(t, err)
		second.Body.Close()
		if second.StatusCode == http.StatusServiceUnavailable {
			break
		}
		// The stalled upload may not have been charged yet: its handler starts on its own.
		require.True(t, time.Now().Before(deadline), "a second large body was never refused (status %d)", second.StatusCode)
	}
	// An ordinary review does not need the budget.
	ok, err := client.Post("https://"+addr+webhook.Path, "application/json", bytes.NewReader(reviewBody(t, podGVK, admissionv1.Create)))
	require.NoError(t, err)
	body, _ := io.ReadAll(ok.Body)
	ok.Body.Close()
	assert.Equal(t, http.StatusOK, ok.StatusCode)
	assert.Contains(t, string(body), "cisgate denied")
}

// TestClientCertificates: with ClientCAFile set, a client without a certificate signed by it
// cannot even complete the handshake; the API server's client certificate is served.
func TestClientCertificates(t *testing.T) {
	dir := t.TempDir()
	ca, err := testcerts.NewCA()
	require.NoError(t, err)
	caFile := filepath.Join(dir, "client-ca.crt")
	require.NoError(t, os.WriteFile(caFile, ca.PEM(), 0o600))
	addr, pool := hostileServer(t, DefaultBodyBudget, webhook.ServerOptions{ClientCAFile: caFile})
	body := reviewBody(t, podGVK, admissionv1.Create)

	anonymous := httpsClient(pool, true, 1)
	_, err = anonymous.Post("https://"+addr+webhook.Path, "application/json", bytes.NewReader(body))
	require.Error(t, err, "a client without a certificate is refused")

	otherCA, err := testcerts.NewCA()
	require.NoError(t, err)
	forged := httpsClient(pool, true, 1)
	forged.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{clientCert(t, otherCA)}
	_, err = forged.Post("https://"+addr+webhook.Path, "application/json", bytes.NewReader(body))
	require.Error(t, err, "a certificate from another CA is refused")

	apiServer := httpsClient(pool, true, 1)
	apiServer.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{clientCert(t, ca)}
	resp, err := apiServer.Post("https://"+addr+webhook.Path, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(got), "cisgate denied")
}

// TestClientCARotation: a rotated client CA (the Secret behind --client-ca-file updated, the
// kubelet swapping the volume's files) is served without a restart: new connections are verified
// against the new CA. Before, the file was read once, and a rotation locked the API server out
// until the pods restarted.
func TestClientCARotation(t *testing.T) {
	dir := t.TempDir()
	oldCA, err := testcerts.NewCA()
	require.NoError(t, err)
	newCA, err := testcerts.NewCA()
	require.NoError(t, err)
	caFile := filepath.Join(dir, "client-ca.crt")
	writeAtomically(t, caFile, oldCA.PEM())
	addr, pool := hostileServer(t, DefaultBodyBudget, webhook.ServerOptions{ClientCAFile: caFile, ClientCAPollInterval: 10 * time.Millisecond})
	body := reviewBody(t, podGVK, admissionv1.Create)
	// One connection per request (HTTP/1.1, no keep-alive): each is a new handshake.
	post := func(ca *testcerts.CA) error {
		client := httpsClient(pool, false, 1)
		tr := client.Transport.(*http.Transport)
		tr.DisableKeepAlives = true
		tr.TLSClientConfig.Certificates = []tls.Certificate{clientCert(t, ca)}
		resp, err := client.Post("https://"+addr+webhook.Path, "application/json", bytes.NewReader(body))
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	require.NoError(t, post(oldCA))
	require.Error(t, post(newCA))

	writeAtomically(t, caFile, newCA.PEM())
	require.Eventually(t, func() bool { return post(newCA) == nil }, 10*time.Second, 10*time.Millisecond, "the new CA's client is served")
	require.Error(t, post(oldCA), "the old CA's client is refused once the file no longer lists it")
}

// writeAtomically replaces path's content in one rename, as the kubelet swaps a Secret volume's
// files, so that no reader sees half a file.
func writeAtomically(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, data, 0o600))
	require.NoError(t, os.Rename(tmp, path))
}

// clientCert is a client certificate that ca signed, as the API server presents one.
func clientCert(t *testing.T, ca *testcerts.CA) tls.Certificate {
	t.Helper()
	certPEM, keyPEM, err := ca.ClientCert("kube-apiserver")
	require.NoError(t, err)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	return cert
}

// TestShutdownKeepsServingThroughTheDelay: once the context ends, readiness fails at once, but
// requests are still answered, over new connections too, until the delay is over; then Start
// returns after the requests in flight. None fails in between (issue: new connections failed 41 ms
// after SIGTERM while the API server could still route to the pod).
func TestShutdownKeepsServingThroughTheDelay(t *testing.T) {
	srv, pool, cancel, done := shuttingDownServer(t, 5*time.Second)
	require.NoError(t, srv.Ready(nil))
	url := "https://" + srv.Addr() + webhook.Path
	body := reviewBody(t, podGVK, admissionv1.Create)

	cancel() // SIGTERM
	for srv.Ready(nil) == nil {
		time.Sleep(time.Millisecond)
	}
	assert.EqualError(t, srv.Ready(nil), "shutting down")

	// Through the delay: HTTP/2 on its connection, and HTTP/1.1 on a new connection each time.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	for _, h2 := range []bool{true, false} {
		wg.Go(func() {
			for range 10 {
				client := httpsClient(pool, h2, 1)
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
				if err == nil {
					got, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if !strings.Contains(string(got), "cisgate denied") {
						err = fmt.Errorf("answer %q", got)
					}
				}
				client.CloseIdleConnections()
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-done:
		t.Fatalf("the server stopped within its shutdown delay: %v", err)
	default:
	}
	assert.Empty(t, failures, "requests during the shutdown delay")
	require.NoError(t, <-done)
	_, err := httpsClient(pool, false, 1).Post(url, "application/json", bytes.NewReader(body))
	assert.Error(t, err, "after the delay and the drain, nothing is accepted")
}

// TestShutdownLetsPooledConnectionsFinish: a connection the API server keeps idle in its pool
// (its webhook client speaks HTTP/1.1) is not closed under it when the shutdown delay ends: its
// next review is still answered, with "Connection: close", so the client drops it itself. Closed
// instead, a review written onto it at that moment fails, and the API server retries no POST.
func TestShutdownLetsPooledConnectionsFinish(t *testing.T) {
	srv, pool, cancel, done := shuttingDownServer(t, 100*time.Millisecond)
	url := "https://" + srv.Addr() + webhook.Path
	body := reviewBody(t, podGVK, admissionv1.Create)
	client := httpsClient(pool, false, 1)
	resp, err := client.Post(url, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.False(t, resp.Close, "kept alive before the shutdown")

	cancel() // SIGTERM
	// Barrier: past the delay, the listener refuses new connections.
	for {
		conn, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			break
		}
		conn.Close()
		time.Sleep(10 * time.Millisecond)
	}
	resp, err = client.Post(url, "application/json", bytes.NewReader(body))
	require.NoError(t, err, "the pooled connection still answers")
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(got), "cisgate denied")
	assert.True(t, resp.Close, `answered with "Connection: close"`)
	require.NoError(t, <-done)
}

// shuttingDownServer starts an enforcing server with the given shutdown delay; cancel is its
// SIGTERM and done receives what Start returns.
func shuttingDownServer(t *testing.T, delay time.Duration) (srv *webhook.Server, pool *x509.CertPool, cancel context.CancelFunc, done chan error) {
	t.Helper()
	dir := t.TempDir()
	pool = selfSigned(t, dir)
	srv = webhook.NewServer(webhook.ServerOptions{Host: "127.0.0.1", CertDir: dir, ShutdownDelay: delay, DrainTimeout: 10 * time.Second})
	srv.Register(webhook.Path, newHandler(t, enforceConfig, cluster(), nil))
	ctx, cancel := context.WithCancel(context.Background())
	done = make(chan error, 1)
	go func() { done <- srv.Start(ctx) }()
	waitListening(t, srv, done)
	return srv, pool, cancel, done
}

// TestStalledUploadsAreClosed: the load drill's hostile case 2 in small: connections that send
// most of a large body and stop. Each is answered or cut at the read timeout and its connection
// closed by the server within the bound: the read timeout, the close's own linger (5 s) and a
// second of slack. Over HTTP/2 only the stream was reset, and the connection, holding what it had
// buffered, stayed open until the idle timeout (120 s): the server now speaks HTTP/1.1 only.
func TestStalledUploadsAreClosed(t *testing.T) {
	const readTimeout = 600 * time.Millisecond
	bound := readTimeout + webhook.LingerTimeout + time.Second
	addr, pool := hostileServer(t, 8<<20, webhook.ServerOptions{ReadTimeout: readTimeout})
	closedWithin := func(t *testing.T, conn net.Conn, start time.Time) {
		assert.NoError(t, conn.SetReadDeadline(start.Add(bound)))
		_, err := io.Copy(io.Discard, conn)
		var netErr net.Error
		if errors.As(err, &netErr) && netErr.Timeout() {
			t.Errorf("connection still open %v after it stalled", bound)
		}
	}
	t.Run("HTTP/1.1", func(t *testing.T) {
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				conn := rawTLS(t, addr, pool)
				start := time.Now()
				_, err := io.WriteString(conn, header(7_000_000))
				assert.NoError(t, err)
				// The write blocks once the server stops reading: the client is still sending.
				go func() { _, _ = conn.Write(bytes.Repeat([]byte(" "), 6_500_000)) }()
				closedWithin(t, conn, start)
			})
		}
		wg.Wait()
	})
	// Go's clients and the load drill offer h2 first: they get HTTP/1.1, so the stalled upload
	// above is all a client can do.
	t.Run("HTTP/2 offered", func(t *testing.T) {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, NextProtos: []string{"h2", "http/1.1"}})
		require.NoError(t, err)
		defer conn.Close()
		assert.Equal(t, "http/1.1", conn.ConnectionState().NegotiatedProtocol)
		start := time.Now()
		_, err = io.WriteString(conn, header(7_000_000))
		require.NoError(t, err)
		go func() { _, _ = conn.Write(bytes.Repeat([]byte(" "), 6_500_000)) }()
		closedWithin(t, conn, start)
	})
}

package admission

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/cisgate/cisgate/internal/poll"
	"github.com/cisgate/cisgate/internal/testcerts"
	"github.com/cisgate/cisgate/report"
	"github.com/cisgate/cisgate/webhook"
)

// benchConfig is the chart's default: audit mode, the default exemptions.
const benchConfig = "mode: audit\n"

// benchDeployment is a realistic Deployment: 3 containers (app, proxy, log shipper) with ports,
// probes, resources, env and volume mounts. Its log shipper leaves allowPrivilegeEscalation unset,
// so every request has one audit finding (4.2.5) to warn about and record.
func benchDeployment(tb testing.TB) []byte {
	c := func(name string, port int32) corev1.Container {
		ctr := hardened(name)
		ctr.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: port}}
		ctr.Env = []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "info"}, {Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}
		ctr.Resources = corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
		}
		ctr.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromString("http")}}, PeriodSeconds: 5}
		ctr.VolumeMounts = []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}}
		return ctr
	}
	shipper := c("log-shipper", 2020)
	shipper.SecurityContext.AllowPrivilegeEscalation = nil
	spec := compliantSpec(c("app", 8080), c("proxy", 15001), shipper)
	spec.Volumes = []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	d := deployment(ns, "shop", 3, spec)
	d.Labels = map[string]string{"app.kubernetes.io/name": "shop", "app.kubernetes.io/part-of": "storefront"}
	d.Annotations = map[string]string{"deployment.kubernetes.io/revision": "7"}
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       types.UID("0f8e5a8c-8b49-4d67-9a65-2b3f8a8f1c11"),
			Kind:      deploymentGVK,
			Resource:  deploymentRes,
			Name:      "shop",
			Namespace: ns,
			Operation: admissionv1.Create,
			Object:    kruntime.RawExtension{Raw: mustJSON(tb, d)},
			DryRun:    ptr.To(false),
		},
	}
	return mustJSON(tb, review)
}

const benchWarning = `[4.2.5] container "log-shipper" must set securityContext.allowPrivilegeEscalation=false (unset defaults to true)`

func benchHandler(tb testing.TB, rec Recorder) *Handler {
	return newHandler(tb, benchConfig, cluster(), rec)
}

// BenchmarkAdmissionReviewInProcess: AdmissionReview JSON in, JSON out, through the Handler's
// ServeHTTP, with no network.
func BenchmarkAdmissionReviewInProcess(b *testing.B) {
	log.SetLogger(logr.Discard())
	body := benchDeployment(b)
	wh := benchHandler(b, NewReportRecorder("bench", nil, nil))

	check := httptest.NewRecorder()
	wh.ServeHTTP(check, benchRequest(body))
	require.Contains(b, check.Body.String(), strconv.Quote(benchWarning)[1:len(strconv.Quote(benchWarning))-1])

	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		rec := httptest.NewRecorder()
		wh.ServeHTTP(rec, benchRequest(body))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

func benchRequest(body []byte) *http.Request {
	req := httptest.NewRequest(http.MethodPost, webhook.Path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

// selfSigned writes tls.crt and tls.key for 127.0.0.1 into dir and returns the certificate pool
// that trusts them (testcerts.WriteServing).
func selfSigned(tb testing.TB, dir string) *x509.CertPool {
	tb.Helper()
	pool, err := testcerts.WriteServing(dir)
	require.NoError(tb, err)
	return pool
}

// allowAll admits everything through controller-runtime's admission.Webhook.
func allowAll() http.Handler {
	return &admission.Webhook{Handler: admission.HandlerFunc(func(context.Context, admission.Request) admission.Response {
		return admission.Allowed("")
	})}
}

// startWebhookServer serves cisgate's handler on /validate and an allow-all handler on /allow
// on cisgate's webhook.Server, as `cisgate serve` does. Allow-all is controller-runtime's
// admission.Webhook around a handler that admits everything: the ceiling cisgate was held to
// when it was served that way (the same TLS, AdmissionReview decoding and encoding, no
// evaluation).
func startWebhookServer(tb testing.TB) (base string, pool *x509.CertPool) {
	log.SetLogger(logr.Discard())
	dir := tb.TempDir()
	pool = selfSigned(tb, dir)
	srv := webhook.NewServer(webhook.ServerOptions{Host: "127.0.0.1", CertDir: dir, DrainTimeout: time.Second})
	srv.Register(webhook.Path, benchHandler(tb, NewReportRecorder("bench", nil, nil)))
	srv.Register("/allow", allowAll())
	return "https://" + startServer(tb, srv), pool
}

// startServer starts srv and returns its address once it listens.
func startServer(tb testing.TB, srv *webhook.Server) string {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Start(ctx) }()
	tb.Cleanup(func() {
		cancel()
		require.NoError(tb, <-done)
	})
	return waitListening(tb, srv, done)
}

// waitListening returns srv's address once it listens, and fails the test if Start returns first
// (its error stays in done for whoever waits on it).
func waitListening(tb testing.TB, srv *webhook.Server, done chan error) string {
	tb.Helper()
	err := poll.Until(context.Background(), 30*time.Second, 10*time.Millisecond, "the webhook server to listen", func() error {
		select {
		case err := <-done:
			done <- err
			tb.Fatalf("webhook server stopped: %v", err)
		default:
		}
		if srv.Addr() == "" {
			return errors.New("not listening yet")
		}
		return nil
	})
	require.NoError(tb, err)
	return srv.Addr()
}

func httpsClient(pool *x509.CertPool, h2 bool, conns int) *http.Client {
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   h2,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     time.Minute,
	}
	if !h2 {
		// A non-nil empty map turns HTTP/2 off.
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// benchConcurrency is how many requests are in flight at once.
const benchConcurrency = 32

// BenchmarkHTTPS measures throughput and latency over loopback TLS at 32 concurrent requests, for
// cisgate's /validate and the allow-all ceiling on the same server, over HTTP/1.1 keep-alive (32
// connections), what the API server's webhook client speaks and all the server does.
// (HTTP/2, measured before the server dropped it, is in BENCHMARKS.md's history.)
func BenchmarkHTTPS(b *testing.B) {
	base, pool := startWebhookServer(b)
	body := benchDeployment(b)
	for _, proto := range []struct {
		name string
		h2   bool
	}{{"http1.1", false}} {
		client := httpsClient(pool, proto.h2, benchConcurrency)
		for _, ep := range []struct{ name, path, want string }{
			{"cisgate", webhook.Path, strconv.Quote(benchWarning)[1 : len(strconv.Quote(benchWarning))-1]},
			{"allow-all", "/allow", `"allowed":true`},
		} {
			b.Run(proto.name+"/"+ep.name, func(b *testing.B) {
				url := base + ep.path
				// One request first: the answer is what the endpoint should say, over the protocol asked for.
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
				require.NoError(b, err)
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				require.NoError(b, err)
				require.Equal(b, http.StatusOK, resp.StatusCode)
				require.Contains(b, string(got), ep.want)
				require.Equal(b, map[bool]int{true: 2, false: 1}[proto.h2], resp.ProtoMajor)

				var mu sync.Mutex
				latencies := make([]time.Duration, 0, b.N)
				b.SetParallelism((benchConcurrency + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					local := make([]time.Duration, 0, 1024)
					for pb.Next() {
						start := time.Now()
						resp, err := client.Post(url, "application/json", bytes.NewReader(body))
						if err != nil {
							b.Error(err)
							return
						}
						_, err = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if err != nil || resp.StatusCode != http.StatusOK {
							b.Errorf("status %d, %v", resp.StatusCode, err)
							return
						}
						local = append(local, time.Since(start))
					}
					mu.Lock()
					latencies = append(latencies, local...)
					mu.Unlock()
				})
				b.StopTimer()
				reportLatencies(b, latencies)
			})
		}
		client.CloseIdleConnections()
	}
}

func reportLatencies(b *testing.B, latencies []time.Duration) {
	if len(latencies) == 0 {
		return
	}
	slices.Sort(latencies)
	at := func(q float64) time.Duration { return latencies[min(len(latencies)-1, int(q*float64(len(latencies))))] }
	b.ReportMetric(float64(at(0.50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(at(0.99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(len(latencies))/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkHandleReportingDown: the same handler with a ReportRecorder whose Event sink and report
// writer talk to an API server that does not answer (127.0.0.1:1; sinks, writer and recorder all
// started), and with no recorder at all. Admission must not depend on the reporting API server.
func BenchmarkHandleReportingDown(b *testing.B) {
	log.SetLogger(logr.Discard())
	// client-go's event broadcaster logs every failed write through klog.
	klog.SetLogger(logr.Discard())
	body := benchDeployment(b)
	var sent review
	require.NoError(b, json.Unmarshal(body, &sent))
	req := sent.Request

	down, err := kubernetes.NewForConfig(&rest.Config{Host: "http://127.0.0.1:1", Timeout: 2 * time.Second})
	require.NoError(b, err)
	events, err := report.NewEventSink(down, "cisgate.io/webhook")
	require.NoError(b, err)
	writer, err := report.NewWriter(down, "cisgate-system", report.AdmissionKey("bench"), report.SplitBudget(report.AdmissionShare, 4),
		report.WithWriteInterval(100*time.Millisecond))
	require.NoError(b, err)
	recorder := NewReportRecorder("bench", events, writer)
	ctx, cancel := context.WithCancel(logr.NewContext(context.Background(), logr.Discard()))
	var wg sync.WaitGroup
	for _, r := range []interface{ Start(context.Context) error }{events, recorder} {
		wg.Go(func() { _ = r.Start(ctx) })
	}
	b.Cleanup(func() {
		cancel()
		wg.Wait()
	})

	for _, tc := range []struct {
		name string
		rec  Recorder
	}{{"recorder-apiserver-down", recorder}, {"no-recorder", nil}} {
		b.Run(tc.name, func(b *testing.B) {
			h := benchHandler(b, tc.rec)
			resp := h.Handle(context.Background(), req)
			require.True(b, resp.Allowed)
			require.Equal(b, []string{benchWarning}, []string(resp.Warnings))
			b.ReportAllocs()
			for b.Loop() {
				if resp := h.Handle(context.Background(), req); !resp.Allowed {
					b.Fatal(resp.Result.Message)
				}
			}
		})
	}
	if s, _ := recorder.snapshot(); s != nil {
		b.Logf("recorded %d findings of 4.2.5", s.Checks["4.2.5"].Warn)
	}
}

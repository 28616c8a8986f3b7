// Package framework starts a real kube-apiserver and etcd for the integration tests
// (controller-runtime's envtest) and hands out clients for them.
//
// The binaries come from $KUBEBUILDER_ASSETS, which `make test` and `make e2e` set to the
// directory that test/tools/tools.mk builds them into; nothing is downloaded at test time. Without
// KUBEBUILDER_ASSETS the tests skip (so a plain `go test ./...` passes); with it set, a missing or
// broken binary is a failure.
//
// One environment per test:
//
//	env := framework.StartT(t, framework.Options{CertManagerCRDs: true})
//	_, err := env.Clientset.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
//
// or one per package, from TestMain:
//
//	var env *framework.Env
//	func TestMain(m *testing.M) { os.Exit(framework.Main(m, framework.Options{}, &env)) }
//	func TestX(t *testing.T) { framework.Require(t, env); ... }
package framework

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/cisgate/cisgate/internal/poll"
)

// AssetsEnv names the directory holding the kube-apiserver and etcd binaries.
const AssetsEnv = "KUBEBUILDER_ASSETS"

// ErrNoAssets is returned by Start when KUBEBUILDER_ASSETS is not set.
var ErrNoAssets = errors.New(AssetsEnv + " is not set: the integration tests need kube-apiserver and etcd; " +
	"run `make test` or `make e2e`, which build them from the Go module proxy and set it")

// Options says what to install into the API server once it runs.
type Options struct {
	// CertManagerCRDs installs cert-manager's CRDs (Issuer, Certificate, ...) from the
	// cert-manager module's deploy/crds (see CertManagerCRDDir).
	CertManagerCRDs bool

	// CRDPaths are further CRD files or directories of them (YAML or JSON).
	CRDPaths []string

	// ValidatingWebhooks and MutatingWebhooks are created once the API server runs. A webhook
	// whose ClientConfig names a Service is pointed at
	// https://<Env.Webhook.Host>:<Env.Webhook.Port>/<Service.Path> instead, and every webhook's
	// CABundle is set to Env.Webhook.CAData. The test serves the webhook there with the
	// certificate in Env.Webhook.CertDir (tls.crt, tls.key), e.g. with controller-runtime's
	// webhook.NewServer(webhook.Options{Host: ..., Port: ..., CertDir: ...}).
	// The objects passed in are not modified.
	ValidatingWebhooks []*admissionregistrationv1.ValidatingWebhookConfiguration
	MutatingWebhooks   []*admissionregistrationv1.MutatingWebhookConfiguration

	// APIServerArgs are extra kube-apiserver flags, e.g. {"feature-gates": {"X=true"}}.
	APIServerArgs map[string][]string

	// StartTimeout bounds the start of etcd and of kube-apiserver each (default 60s).
	StartTimeout time.Duration

	// Verbose attaches the control plane's output to the test's stdout and stderr.
	Verbose bool
}

// Webhook is where the API server expects the webhooks of Options to be served.
type Webhook struct {
	Host    string
	Port    int
	CertDir string // tls.crt and tls.key, signed by CAData
	CAData  []byte
}

// Env is a running kube-apiserver and etcd.
type Env struct {
	// Config is an admin (system:masters) client config. Copy it (rest.CopyConfig) before changing
	// it, e.g. to set a WarningHandler that records admission warnings.
	Config *rest.Config
	// Clientset talks to the API server as kubectl would.
	Clientset kubernetes.Interface
	// Client is a controller-runtime client with Scheme.
	Client client.Client
	// Scheme has client-go's built-in types, apiextensions/v1 and cert-manager's certmanager/v1.
	Scheme *runtime.Scheme
	// Webhook is set when Options has webhooks.
	Webhook Webhook
	// KubeConfig is a kubeconfig file for Config, e.g. for `helm --kubeconfig`.
	KubeConfig string

	env       *envtest.Environment
	stopHooks []func()
}

// OnStop registers f to run when Stop begins, before the control plane stops: a test stops what
// it started against the API server (e.g. cisgate serve) so shutdown is not kept waiting.
func (e *Env) OnStop(f func()) { e.stopHooks = append(e.stopHooks, f) }

// NewScheme returns the scheme that Env.Client uses.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(apiextensionsv1.AddToScheme(s))
	utilruntime.Must(certmanagerv1.AddToScheme(s))
	return s
}

// AssetsDir returns $KUBEBUILDER_ASSETS, or ErrNoAssets.
func AssetsDir() (string, error) {
	dir := os.Getenv(AssetsEnv)
	if dir == "" {
		return "", ErrNoAssets
	}
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			return "", fmt.Errorf("%s=%s has no %s (run `make tools`): %w", AssetsEnv, dir, bin, err)
		}
	}
	return dir, nil
}

// Start starts etcd and kube-apiserver from $KUBEBUILDER_ASSETS, installs what opts asks for and
// returns clients for it. It returns ErrNoAssets when KUBEBUILDER_ASSETS is not set. The caller
// must call Stop.
func Start(opts Options) (*Env, error) {
	assets, err := AssetsDir()
	if err != nil {
		return nil, err
	}
	scheme := NewScheme()
	te := &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		Scheme:                   scheme,
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: opts.StartTimeout,
		AttachControlPlaneOutput: opts.Verbose,
	}
	if te.ControlPlaneStartTimeout == 0 {
		te.ControlPlaneStartTimeout = 60 * time.Second
	}
	api := te.ControlPlane.GetAPIServer()
	for flag, values := range opts.APIServerArgs {
		api.Configure().Set(flag, values...)
	}

	te.CRDDirectoryPaths = append(te.CRDDirectoryPaths, opts.CRDPaths...)
	if opts.CertManagerCRDs {
		dir, err := CertManagerCRDDir()
		if err != nil {
			return nil, err
		}
		te.CRDDirectoryPaths = append(te.CRDDirectoryPaths, dir)
	}

	for _, w := range opts.ValidatingWebhooks {
		w = w.DeepCopy()
		for i := range w.Webhooks {
			fixServicePath(&w.Webhooks[i].ClientConfig)
		}
		te.WebhookInstallOptions.ValidatingWebhooks = append(te.WebhookInstallOptions.ValidatingWebhooks, w)
	}
	for _, w := range opts.MutatingWebhooks {
		w = w.DeepCopy()
		for i := range w.Webhooks {
			fixServicePath(&w.Webhooks[i].ClientConfig)
		}
		te.WebhookInstallOptions.MutatingWebhooks = append(te.WebhookInstallOptions.MutatingWebhooks, w)
	}

	cfg, err := te.Start()
	if err != nil {
		_ = te.Stop() // whatever did start
		return nil, fmt.Errorf("starting kube-apiserver and etcd from %s: %w", assets, err)
	}
	e := &Env{Config: cfg, Scheme: scheme, env: te}
	if e.Clientset, err = kubernetes.NewForConfig(cfg); err == nil {
		e.Client, err = client.New(cfg, client.Options{Scheme: scheme})
	}
	if err == nil {
		e.KubeConfig, err = writeKubeConfig(te.KubeConfig)
	}
	if err != nil {
		_ = e.Stop()
		return nil, err
	}
	if len(opts.ValidatingWebhooks)+len(opts.MutatingWebhooks) > 0 {
		o := te.WebhookInstallOptions
		e.Webhook = Webhook{Host: o.LocalServingHost, Port: o.LocalServingPort, CertDir: o.LocalServingCertDir, CAData: o.LocalServingCAData}
	}
	return e, nil
}

// fixServicePath keeps envtest from building "https://host:port//path" (it joins host and path
// with a slash of its own): a mux would answer that with a redirect, which the API server does not
// follow.
func fixServicePath(cc *admissionregistrationv1.WebhookClientConfig) {
	if cc.Service != nil && cc.Service.Path != nil {
		p := strings.TrimLeft(*cc.Service.Path, "/")
		cc.Service.Path = &p
	}
}

func writeKubeConfig(data []byte) (string, error) {
	f, err := os.CreateTemp("", "cisgate-e2e-kubeconfig-*")
	if err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), f.Close()
}

// Stop stops kube-apiserver and etcd and removes their data. It is safe to call more than once.
func (e *Env) Stop() error {
	if e == nil || e.env == nil {
		return nil
	}
	te := e.env
	e.env = nil
	for _, f := range e.stopHooks {
		f()
	}
	if e.KubeConfig != "" {
		os.Remove(e.KubeConfig)
	}
	return te.Stop()
}

// StartT starts an environment for one test and stops it when the test ends. It skips the test when
// KUBEBUILDER_ASSETS is not set and fails it when the environment does not start.
func StartT(t testing.TB, opts Options) *Env {
	t.Helper()
	e, err := Start(opts)
	if errors.Is(err, ErrNoAssets) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Stop(); err != nil {
			t.Errorf("stopping kube-apiserver and etcd: %v", err)
		}
	})
	return e
}

// Main is for TestMain: it starts one environment for the package's tests, stores it in *env,
// runs the tests and stops it, and returns the exit code for os.Exit. Without KUBEBUILDER_ASSETS
// the tests run with *env nil, and Require skips them.
func Main(m *testing.M, opts Options, env **Env) int {
	e, err := Start(opts)
	if errors.Is(err, ErrNoAssets) {
		return m.Run()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	*env = e
	code := m.Run()
	if err := e.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stopping kube-apiserver and etcd: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Require skips the test when env is nil, which Main leaves it when KUBEBUILDER_ASSETS is not set.
func Require(t testing.TB, env *Env) {
	t.Helper()
	if env == nil {
		t.Skip(ErrNoAssets)
	}
}

// Helm returns the helm binary that `make test` builds: $HELM, or helm next to the other binaries
// in $KUBEBUILDER_ASSETS. It skips the test when neither is set.
func Helm(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("HELM")
	if bin == "" {
		if dir := os.Getenv(AssetsEnv); dir != "" {
			bin = filepath.Join(dir, "helm")
		}
	}
	if bin == "" {
		t.Skip("HELM is not set: run `make test` or `make e2e`, which build helm from the Go module proxy and set it")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("helm: %v (run `make tools`)", err)
	}
	return bin
}

// Namespace creates a namespace named prefix-<random> for the test and deletes it when the test
// ends (envtest runs no namespace controller, so its objects stay in etcd until the env stops).
func (e *Env) Namespace(t testing.TB, prefix string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns, err := e.Clientset.CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating namespace %s-*: %v", prefix, err)
	}
	t.Cleanup(func() {
		_ = e.Clientset.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})
	return ns.Name
}

// FreeAddr is a loopback address whose port was free a moment ago, for a server the test starts.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Ready is nil once the health-probe server at addr (host:port) answers /readyz with 200, as
// the kubelet's readiness probe asks of `cisgate serve`.
func Ready(addr string) error {
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("readyz: %s", resp.Status)
	}
	return nil
}

// WaitFor polls check every 50ms until it returns nil (poll.Until), and fails the test with
// check's last error when the timeout passes first. The API server and cisgate's informers are
// eventually consistent.
func WaitFor(t testing.TB, timeout time.Duration, what string, check func() error) {
	t.Helper()
	// Not t.Context(): cleanups wait too, and it is cancelled before they run.
	if err := poll.Until(context.Background(), timeout, 50*time.Millisecond, what, check); err != nil {
		t.Fatal(err)
	}
}

// Package clustertest runs a test package against one local cluster (package cluster) and
// installs the chart into it with helm:
//
//	var c *cluster.Cluster
//	func TestMain(m *testing.M) { os.Exit(clustertest.Main(m, cluster.Options{}, &c)) }
//	func TestX(t *testing.T) { clustertest.Require(t, c); r := clustertest.Install(t, c, "--set", "mode=enforce") }
//
// The cluster tests run when CISGATE_CLUSTER=1 (make test and make cluster-test set it, after
// building the cluster tools, the image and the pause image); otherwise they skip, so that
// `go test ./...` needs neither root nor the cluster's build.
package clustertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/cisgate/cisgate/internal/warnlog"
	"github.com/cisgate/cisgate/test/cluster"
)

// Environment of the cluster tests.
const (
	// EnableEnv turns the cluster tests on.
	EnableEnv = "CISGATE_CLUSTER"
	// ToolsEnv is the directory of the Kubernetes binaries (the one envtest uses too).
	ToolsEnv = "KUBEBUILDER_ASSETS"
)

var skipReason string

// RepoRoot is the repository's root, found from this file.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Main starts the cluster, runs the package's tests and tears the cluster down, also on
// SIGINT/SIGTERM. A test binary killed outright (a -timeout panic) leaves the cluster to the
// next Start on this machine, which removes it.
func Main(m *testing.M, opts cluster.Options, c **cluster.Cluster) int {
	if os.Getenv(EnableEnv) != "1" {
		skipReason = EnableEnv + "=1 is not set: the local-cluster tests need root and `make cluster-tools image pause-image`; run `make cluster-test`"
		return m.Run()
	}
	if opts.ToolsDir == "" {
		opts.ToolsDir = os.Getenv(ToolsEnv)
	}
	if opts.ToolsDir == "" {
		fmt.Fprintln(os.Stderr, ToolsEnv+" is not set (make -s tools-path)")
		return 1
	}
	root := RepoRoot()
	if len(opts.Images) == 0 {
		opts.Images = []string{filepath.Join(root, "bin", "pause-image"), filepath.Join(root, "bin", "image")}
	}
	if opts.Log == nil {
		opts.Log = os.Stderr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	started, err := cluster.Start(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "local cluster:", err)
		return 1
	}
	*c = started
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sig
		fmt.Fprintf(os.Stderr, "%v: tearing the local cluster down\n", s)
		_ = started.Stop()
		os.Exit(1)
	}()
	code := m.Run()
	signal.Stop(sig)
	if err := started.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "local cluster teardown:", err)
		return 1
	}
	return code
}

// Require skips the test when the cluster tests are off.
func Require(t testing.TB, c *cluster.Cluster) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	if c == nil {
		t.Fatal("the local cluster did not start (see TestMain's output)")
	}
}

// ChartDir is charts/cisgate.
func ChartDir() string { return filepath.Join(RepoRoot(), "charts", "cisgate") }

// Helm runs helm (from $HELM, else $KUBEBUILDER_ASSETS/helm) against the cluster with no user
// configuration, returning its output.
func Helm(ctx context.Context, c *cluster.Cluster, args ...string) (string, error) {
	bin := os.Getenv("HELM")
	if bin == "" {
		bin = filepath.Join(os.Getenv(ToolsEnv), "helm")
	}
	home, err := os.MkdirTemp("", "cisgate-helm")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(home)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
		"KUBECONFIG="+c.AdminKubeconfig,
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("helm %s: %w: %s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

// Release is a helm release of the chart in the cluster.
type Release struct {
	Name, Namespace string
	c               *cluster.Cluster
}

// TestValues are the values every test install needs on this cluster: the self-signed
// certificate (cert-manager is not installed), the image that was imported (never pulled),
// and the kubelet's directory for the node scan.
func TestValues(c *cluster.Cluster) []string {
	return []string{
		"--set", "certManager.enabled=false",
		"--set", "image.pullPolicy=Never",
		"--set", "nodeScan.extraHostPaths={" + c.KubeletDir() + "}",
	}
}

// Install installs the chart as release cisgate in cisgate-system with TestValues and args,
// waits for the webhook's Deployment, and uninstalls it when the test ends: a webhook with
// failurePolicy Fail must never outlive its test (it would block every later write).
func Install(t testing.TB, c *cluster.Cluster, args ...string) *Release {
	t.Helper()
	r := &Release{Name: "cisgate", Namespace: "cisgate-system", c: c}
	t.Cleanup(func() { r.cleanup(t) })
	if _, err := r.helm(t, "install", args...); err != nil {
		t.Fatal(err)
	}
	if err := WaitWebhookAnswers(context.Background(), r.c); err != nil {
		t.Fatal(err)
	}
	return r
}

// WaitWebhookAnswers waits until the API server reaches the webhook through its Service. helm's
// --wait ends when the pods are Ready; kube-proxy programs the Service's endpoints a moment
// later, and until then a webhook with failurePolicy Fail fails every write it matches
// ("connection refused"), and one with Ignore (audit mode) admits it unjudged, without a
// warning. The probe is a dry-run Namespace create that cisgate answers with a warning in every
// mode: its cisgate.io/mode label has a value cisgate ignores (a WARN finding); a dry run
// stores nothing.
func WaitWebhookAnswers(ctx context.Context, c *cluster.Cluster) error {
	warned := &warnlog.Log{}
	cfg := rest.CopyConfig(c.Config)
	cfg.WarningHandler = warned
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	return WaitFor(ctx, 2*time.Minute, "the webhook to answer through its Service", func() error {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "cisgate-webhook-probe", Labels: map[string]string{"cisgate.io/mode": "probe"}}}
		if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
			return err
		}
		if !slices.ContainsFunc(warned.Take(), func(w string) bool { return strings.Contains(w, "cisgate.io/mode") }) {
			return errors.New("admitted without cisgate's warning: the API server did not reach the webhook")
		}
		return nil
	})
}

// Upgrade runs helm upgrade with TestValues and args (other values reset to the chart's).
func (r *Release) Upgrade(t testing.TB, args ...string) {
	t.Helper()
	if _, err := r.helm(t, "upgrade", args...); err != nil {
		t.Fatal(err)
	}
	if err := WaitWebhookAnswers(context.Background(), r.c); err != nil {
		t.Fatal(err)
	}
}

func (r *Release) helm(t testing.TB, verb string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	all := append([]string{verb, r.Name, ChartDir(), "--namespace", r.Namespace, "--create-namespace", "--wait", "--timeout", "4m"}, TestValues(r.c)...)
	if verb == "upgrade" {
		all = append(all[:len(all):len(all)], "--reset-values")
	}
	return Helm(ctx, r.c, append(all, args...)...)
}

// Uninstall runs helm uninstall and waits for it.
func (r *Release) Uninstall(ctx context.Context) error {
	_, err := Helm(ctx, r.c, "uninstall", r.Name, "--namespace", r.Namespace, "--wait", "--timeout", "3m")
	return err
}

// cleanup uninstalls the release and makes sure no webhook configuration of it is left,
// and deletes the namespace (with the report ConfigMap the chart keeps on purpose).
func (r *Release) cleanup(t testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := r.Uninstall(ctx); err != nil && !strings.Contains(err.Error(), "not found") {
		t.Errorf("cleanup: %v", err)
	}
	cs := r.c.Clientset
	whs, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	for _, wh := range whs.Items {
		if strings.HasPrefix(wh.Name, r.Name) {
			t.Errorf("cleanup: helm uninstall left ValidatingWebhookConfiguration %q; deleting it", wh.Name)
			_ = cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(ctx, wh.Name, metav1.DeleteOptions{})
		}
	}
	if err := cs.CoreV1().Namespaces().Delete(ctx, r.Namespace, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("cleanup: %v", err)
	}
	if err := WaitFor(ctx, 3*time.Minute, "namespace "+r.Namespace+" to go", func() error {
		_, err := cs.CoreV1().Namespaces().Get(ctx, r.Namespace, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return errors.New("still there")
	}); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}

// WaitFor polls check until it returns nil or timeout passes: cluster.WaitFor.
func WaitFor(ctx context.Context, timeout time.Duration, what string, check func() error) error {
	return cluster.WaitFor(ctx, timeout, what, check)
}

// Package admission tests `cisgate serve` as users meet it: a real kube-apiserver calls the
// webhook, and the tests talk to the API server with client-go as kubectl would, asserting the
// denials, the warnings, the Events and the report ConfigMap.
package admission

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/cisgate/cisgate/cmd/cisgate/app"
	"github.com/cisgate/cisgate/internal/warnlog"
	"github.com/cisgate/cisgate/test/e2e/framework"
	"github.com/cisgate/cisgate/webhook"
)

const (
	cisgateNamespace = "cisgate-system"
	replica          = "e2e-replica"
	// summaryInterval is serve's --summary-interval in this suite.
	summaryInterval = 10 * time.Minute
)

var (
	env        *framework.Env
	configPath string
	// metricsAddr is where `cisgate serve` serves /metrics.
	metricsAddr string
)

func TestMain(m *testing.M) {
	path := webhook.Path
	cfg := webhook.Configuration("cisgate", []string{"kube-system", cisgateNamespace}, admissionregistrationv1.Fail,
		admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{
			Namespace: cisgateNamespace, Name: "cisgate", Path: &path,
		}})
	os.Exit(framework.Main(m, framework.Options{ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{cfg}}, &env))
}

// baseConfig is the config the suite serves with; tests that change it restore it.
const baseConfig = `
benchmark: eks-1.8.0
mode: enforce
exemptions:
  namespaces: [kube-system, cisgate-system, exempt-ns]
  groups: [system:nodes, platform:break-glass]
  usernames: [ci-bot]
  rules:
    - {checks: ["4.2.4"], kind: Deployment, name: "net-agent-*", reason: "needs the host network to program routes"}
`

var serveOnce sync.Once

// serve starts `cisgate serve` once for the package, as the chart runs it, and waits until it
// answers admission requests.
func serve(t testing.TB) {
	t.Helper()
	framework.Require(t, env)
	serveOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cisgate-admission-e2e")
		if err != nil {
			t.Fatal(err)
		}
		configPath = filepath.Join(dir, "config.yaml")
		writeConfig(t, baseConfig)
		probe := framework.FreeAddr(t)
		metricsAddr = framework.FreeAddr(t)
		args := []string{"serve",
			"--config", configPath, "--cert-dir", env.Webhook.CertDir, "--port", strconv.Itoa(env.Webhook.Port),
			"--kubeconfig", env.KubeConfig, "--namespace", cisgateNamespace, "--replica", replica,
			"--metrics-bind-address", metricsAddr, "--health-probe-bind-address", probe, "--leader-elect=false",
			"--config-poll-interval", "100ms", "--report-interval", "200ms", "--shutdown-delay", "0s",
			// Far beyond any test: summary.json must follow the report keys without its tick.
			"--summary-interval", summaryInterval.String(),
		}
		logs, err := os.Create(filepath.Join(dir, "serve.log"))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		exited := make(chan struct{})
		go func() {
			defer close(exited)
			if code := app.Run(ctx, args, app.IOStreams{In: nil, Out: logs, ErrOut: logs}); code != 0 {
				fmt.Fprintf(os.Stderr, "cisgate serve exited with %d; logs in %s\n", code, logs.Name())
			}
		}()
		env.OnStop(func() {
			cancel()
			<-exited
		})
		framework.WaitFor(t, 60*time.Second, "cisgate serve to become ready", func() error { return framework.Ready(probe) })
		// Namespaces are checked kinds and the suite's webhook fails closed: they can be created
		// only once serve answers. Its report writer and leader loops retry until then.
		ensureNamespace(t, cisgateNamespace, nil)
		ensureNamespace(t, "exempt-ns", nil)
	})
}

func writeConfig(t testing.TB, content string) {
	t.Helper()
	if err := os.WriteFile(configPath, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func ensureNamespace(t testing.TB, name string, labels map[string]string) {
	t.Helper()
	_, err := env.Clientset.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{})
	if err != nil && !isAlreadyExists(err) {
		t.Fatal(err)
	}
}

// userClient is a clientset that records warnings and acts as the given user (empty: admin).
func userClient(t *testing.T, user string, groups ...string) (kubernetes.Interface, *warnlog.Log) {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	w := &warnlog.Log{}
	cfg.WarningHandler = w
	if user != "" {
		cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: append(groups, "system:masters", "system:authenticated")}
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs, w
}

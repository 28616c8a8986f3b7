// Command demo is `make demo`: it starts a local control plane (kube-apiserver and etcd built from
// the Go module proxy), runs `cisgate serve` in enforce mode behind it, applies the samples in
// test/demo/samples, and shows what a newcomer needs to see: what was denied and warned with its
// CIS ID, the Events, the report ConfigMap, and a node scan.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	corev1 "k8s.io/api/core/v1"

	"github.com/cisgate/cisgate/cmd/cisgate/app"
	"github.com/cisgate/cisgate/manifest"
	"github.com/cisgate/cisgate/report"
	"github.com/cisgate/cisgate/test/e2e/framework"
	"github.com/cisgate/cisgate/webhook"
)

const (
	namespace  = "cisgate-system"
	replica    = "demo"
	samplesDir = "test/demo/samples"
	nodeName   = "ip-10-0-1-23.ec2.internal"
	nodeHost   = "test/testdata/nodes/al2023"
)

const demoConfig = `benchmark: eks-1.8.0
mode: enforce
exemptions:
  namespaces: [kube-system, cisgate-system]
  groups: [system:nodes, system:serviceaccounts:kube-system]
registries: ["123456789012.dkr.ecr.us-east-1.amazonaws.com/"]
`

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	heading("Starting a local control plane (kube-apiserver and etcd from the Go module proxy)")
	path := webhook.Path
	env, err := framework.Start(framework.Options{ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{
		webhook.Configuration("cisgate", []string{"kube-system", namespace}, admissionregistrationv1.Fail,
			admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{Namespace: namespace, Name: "cisgate", Path: &path}}),
	}})
	if err != nil {
		return err
	}
	defer env.Stop()

	work, err := os.MkdirTemp("", "cisgate-demo")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if err := startWebhook(ctx, env, work); err != nil {
		return err
	}

	warnings := &warningLog{}
	cfg := rest.CopyConfig(env.Config)
	cfg.WarningHandler = warnings
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		return err
	}

	heading("Applying " + samplesDir + " (global mode enforce; namespace legacy is labelled cisgate.io/mode=audit)")
	loaded := manifest.Load([]string{samplesDir}, nil)
	if len(loaded.Errors) > 0 {
		return errors.Join(loaded.Errors...)
	}
	settle := false
	for _, o := range loaded.Objects {
		obj, ok := o.Raw.(client.Object)
		if !ok {
			continue
		}
		switch o.Kind {
		case "Namespace", "NetworkPolicy":
			settle = true
		default:
			if settle {
				// The webhook's informers see new namespaces and NetworkPolicies within moments.
				time.Sleep(time.Second)
				settle = false
			}
		}
		err := c.Create(ctx, obj)
		warned := warnings.take()
		name := o.Kind + " " + objectName(o.Namespace, o.Name)
		switch {
		case apierrors.IsForbidden(err) && strings.Contains(err.Error(), "cisgate denied"):
			fmt.Printf("  DENIED   %s  (%s)\n", name, filepath.Base(o.File))
			for _, finding := range deniedFindings(err.Error()) {
				fmt.Printf("             %s\n", finding)
			}
		case err != nil:
			return fmt.Errorf("applying %s: %w", name, err)
		case len(warned) > 0:
			fmt.Printf("  WARNED   %s  (%s), admitted with warnings:\n", name, filepath.Base(o.File))
			for _, w := range warned {
				fmt.Printf("             %s\n", w)
			}
		default:
			fmt.Printf("  ADMITTED %s  (%s)\n", name, filepath.Base(o.File))
		}
	}

	heading("Events (events.k8s.io/v1) cisgate wrote")
	if err := printEvents(ctx, env); err != nil {
		return err
	}

	heading("Node scan of " + nodeHost + " as node " + nodeName + " (cisgate nodescan --report)")
	if _, err := env.Clientset.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	code := app.Run(ctx, []string{"nodescan", "--host-root", nodeHost, "--node-name", nodeName,
		"--report", "--kubeconfig", env.KubeConfig, "--namespace", namespace}, app.IOStreams{Out: os.Stdout, ErrOut: os.Stderr})
	fmt.Printf("  (exit code %d: 1 means a section 3 check failed)\n", code)

	heading("The report ConfigMap " + namespace + "/" + report.ConfigMapName)
	if err := printReport(ctx, env); err != nil {
		return err
	}

	heading("The same samples in CI, before they reach a cluster: cisgate check -f " + samplesDir)
	code = app.Run(ctx, []string{"check", "-f", samplesDir, "--config", filepath.Join(work, "config.yaml")},
		app.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	fmt.Printf("  (exit code %d: 1 means an enforce-mode FAIL, which fails the pipeline)\n", code)
	return nil
}

func startWebhook(ctx context.Context, env *framework.Env, work string) error {
	configPath := filepath.Join(work, "config.yaml")
	if err := os.WriteFile(configPath, []byte(demoConfig), 0o644); err != nil {
		return err
	}
	if _, err := env.Clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	probe, err := freeAddr()
	if err != nil {
		return err
	}
	logPath := filepath.Join(work, "serve.log")
	logs, err := os.Create(logPath)
	if err != nil {
		return err
	}
	heading("Starting cisgate serve in enforce mode (logs: " + logPath + ")")
	fmt.Print(indent(demoConfig))
	go app.Run(ctx, []string{"serve", "--config", configPath, "--cert-dir", env.Webhook.CertDir,
		"--port", strconv.Itoa(env.Webhook.Port), "--kubeconfig", env.KubeConfig, "--namespace", namespace,
		"--replica", replica, "--metrics-bind-address", "0", "--health-probe-bind-address", probe,
		"--leader-elect=false", "--report-interval", "500ms"}, app.IOStreams{Out: logs, ErrOut: logs})
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + probe + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return errors.New("cisgate serve did not become ready within a minute; see " + logPath)
}

func printEvents(ctx context.Context, env *framework.Env) error {
	time.Sleep(2 * time.Second) // the events sink sends asynchronously
	list, err := env.Clientset.EventsV1().Events("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Regarding.Name < list.Items[j].Regarding.Name })
	var audited []string
	for _, e := range list.Items {
		if !strings.HasPrefix(e.Reason, "CIS") {
			continue
		}
		name := e.Regarding.Kind + " " + objectName(e.Regarding.Namespace, e.Regarding.Name)
		if e.Action == string(report.ActionAudit) {
			audited = append(audited, name)
			continue
		}
		fmt.Printf("  %-12s %s\n               %s\n", e.Reason, name, e.Note)
	}
	if len(audited) > 0 {
		// The control plane's own ClusterRoles fail several 4.1 checks; the audit reports them once.
		fmt.Printf("  CISViolation from the background audit on %d existing objects, e.g. %s\n", len(audited), strings.Join(audited[:min(len(audited), 4)], ", "))
		fmt.Println("               (the list per check is audit.json in the report ConfigMap)")
	}
	return nil
}

func printReport(ctx context.Context, env *framework.Env) error {
	time.Sleep(time.Second) // past the replica's batching interval
	cm, err := env.Clientset.CoreV1().ConfigMaps(namespace).Get(ctx, report.ConfigMapName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(cm.Data))
	for k := range cm.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, []byte(cm.Data[k]), "    ", "  "); err != nil {
			return err
		}
		lines := strings.Split(pretty.String(), "\n")
		const shown = 40
		fmt.Printf("  %s (%d bytes):\n    %s\n", k, len(cm.Data[k]), strings.Join(lines[:min(len(lines), shown)], "\n"))
		if len(lines) > shown {
			fmt.Printf("    ... %d more lines\n", len(lines)-shown)
		}
	}
	return nil
}

// deniedFindings splits the webhook's denial message into its "[ID] detail" parts.
func deniedFindings(msg string) []string {
	_, list, ok := strings.Cut(msg, "): ")
	if !ok {
		return []string{msg}
	}
	parts := strings.Split(list, "; [")
	for i := 1; i < len(parts); i++ {
		parts[i] = "[" + parts[i]
	}
	return parts
}

type warningLog struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warningLog) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, text)
}

func (w *warningLog) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.msgs
	w.msgs = nil
	return out
}

func heading(s string) { fmt.Printf("\n== %s\n", s) }

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("    " + l + "\n")
	}
	return b.String()
}

func objectName(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

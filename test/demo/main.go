// Command demo is `make demo`: it starts the local one-node cluster (test/cluster: kubelet with
// containerd, kube-proxy and the control plane, built from the Go module proxy), imports
// cisgate's image, installs the chart with helm in enforce mode, applies the samples in
// test/demo/samples with client-go, and shows what a newcomer needs to see: what was denied and
// warned with its CIS ID, the Events, the node scan of the node's real kubelet and the report
// ConfigMap. The cluster is torn down at the end.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cisgate/cisgate/cmd/cisgate/app"
	"github.com/cisgate/cisgate/internal/warnlog"
	"github.com/cisgate/cisgate/manifest"
	"github.com/cisgate/cisgate/report"
	"github.com/cisgate/cisgate/test/cluster"
	"github.com/cisgate/cisgate/test/cluster/clustertest"
)

const (
	namespace  = "cisgate-system"
	samplesDir = "test/demo/samples"
)

// demoValues are the chart values of the demo: enforce mode, the sample registry approved.
var demoValues = []string{
	"--set", "mode=enforce",
	"--set", "registries={123456789012.dkr.ecr.us-east-1.amazonaws.com/}",
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	tools := os.Getenv(clustertest.ToolsEnv)
	if tools == "" {
		return errors.New(clustertest.ToolsEnv + " is not set; run `make demo`")
	}

	heading("Starting a local one-node cluster (kubelet, containerd, kube-proxy; logs under " + cluster.BaseDir + ")")
	start := time.Now()
	c, err := cluster.Start(ctx, cluster.Options{ToolsDir: tools, Images: []string{"bin/pause-image", "bin/image"}})
	if err != nil {
		return err
	}
	defer func() {
		heading("Tearing the cluster down")
		if err := c.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "demo: teardown:", err)
		}
	}()
	fmt.Printf("  node %s Ready in %s; cisgate's image imported into its containerd\n", cluster.NodeName, time.Since(start).Round(100*time.Millisecond))

	heading("helm install cisgate charts/cisgate --set mode=enforce (self-signed certificate, image never pulled)")
	args := append([]string{"install", "cisgate", clustertest.ChartDir(), "--namespace", namespace, "--create-namespace", "--wait", "--timeout", "4m"}, clustertest.TestValues(c)...)
	if _, err := clustertest.Helm(ctx, c, append(args, demoValues...)...); err != nil {
		return err
	}
	if err := clustertest.WaitWebhookAnswers(ctx, c); err != nil {
		return err
	}
	pods, err := c.Clientset.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=webhook"})
	if err != nil {
		return err
	}
	for _, p := range pods.Items {
		fmt.Printf("  pod %s %s on %s (%s)\n", p.Name, p.Status.Phase, p.Spec.NodeName, p.Status.PodIP)
	}

	warnings := &warnlog.Log{}
	cfg := rest.CopyConfig(c.Config)
	cfg.WarningHandler = warnings
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	cl, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}

	heading("Applying " + samplesDir + " with client-go (global mode enforce; namespace legacy is labelled cisgate.io/mode=audit)")
	loaded := manifest.Load([]string{samplesDir}, nil)
	if len(loaded.Errors) > 0 {
		return errors.Join(loaded.Errors...)
	}
	for _, o := range loaded.Objects {
		obj, ok := o.Raw.(client.Object)
		if !ok {
			continue
		}
		err := cl.Create(ctx, obj)
		warned := warnings.Take()
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
	if err := printEvents(ctx, c); err != nil {
		return err
	}

	heading("Node scan of the node's real kubelet (the chart's node-scan Job, cisgate nodescan --report)")
	if err := printNodeScan(ctx, c); err != nil {
		return err
	}

	heading("The report ConfigMap " + namespace + "/" + report.ConfigMapName)
	if err := printReport(ctx, c); err != nil {
		return err
	}

	heading("The same samples in CI, before they reach a cluster: cisgate check -f " + samplesDir)
	work, err := os.MkdirTemp("", "cisgate-demo")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	checkConfig := filepath.Join(work, "config.yaml")
	if err := os.WriteFile(checkConfig, []byte("mode: enforce\nregistries: [\"123456789012.dkr.ecr.us-east-1.amazonaws.com/\"]\n"), 0o644); err != nil {
		return err
	}
	code := app.Run(ctx, []string{"check", "-f", samplesDir, "--config", checkConfig},
		app.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	fmt.Printf("  (exit code %d: 1 means an enforce-mode FAIL, which fails the pipeline)\n", code)
	return nil
}

// printNodeScan waits for the node's report key and prints its results.
func printNodeScan(ctx context.Context, c *cluster.Cluster) error {
	key := "node." + cluster.NodeName + ".json"
	var raw string
	err := clustertest.WaitFor(ctx, 3*time.Minute, "the node scan's report key "+key, func() error {
		cm, err := c.Clientset.CoreV1().ConfigMaps(namespace).Get(ctx, report.ConfigMapName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		var ok bool
		if raw, ok = cm.Data[key]; !ok {
			return errors.New("not yet")
		}
		return nil
	})
	if err != nil {
		return err
	}
	var rep struct {
		Counts  map[string]int `json:"counts"`
		Results []struct {
			ID, Slug, Status, Actual, Source string
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(raw), &rep); err != nil {
		return err
	}
	fmt.Printf("  %s: %v\n", cluster.NodeName, rep.Counts)
	for _, r := range rep.Results {
		fmt.Printf("  %-5s [%s] %-24s %-10s %s\n", r.Status, r.ID, r.Slug, r.Actual, r.Source)
	}
	return nil
}

func printEvents(ctx context.Context, c *cluster.Cluster) error {
	// The events sink sends asynchronously: wait for the denial's Event.
	var list *eventsv1.EventList
	err := clustertest.WaitFor(ctx, time.Minute, "the CISDenied Event", func() error {
		var err error
		if list, err = c.Clientset.EventsV1().Events("").List(ctx, metav1.ListOptions{}); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Reason == string(report.ReasonDenied) {
				return nil
			}
		}
		return errors.New("not yet")
	})
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

func printReport(ctx context.Context, c *cluster.Cluster) error {
	// Each replica writes its key at most every 5 s, the leader the summary every minute.
	var cm *corev1.ConfigMap
	err := clustertest.WaitFor(ctx, 2*time.Minute, "summary.json and the admission keys", func() error {
		var err error
		if cm, err = c.Clientset.CoreV1().ConfigMaps(namespace).Get(ctx, report.ConfigMapName, metav1.GetOptions{}); err != nil {
			return err
		}
		admissions := 0
		for k := range cm.Data {
			if strings.HasPrefix(k, "admission.") {
				admissions++
			}
		}
		if _, ok := cm.Data["summary.json"]; !ok || admissions == 0 {
			return errors.New("not yet")
		}
		return nil
	})
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

func heading(s string) { fmt.Printf("\n== %s\n", s) }

func objectName(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

// Package cloudscan tests the leader's cloud scan as `cisgate serve` runs it: against moto's
// server for AWS (with internal/moto's EKS overlay for accessConfig, computeConfig and the add-on
// API, which moto 5.2.1 lacks) and a real kube-apiserver for the Nodes, the Pods' images and the
// report. A user finds cloud.json and the cloud counts of summary.json in the report ConfigMap,
// and a CISCloudScan Event in cisgate's namespace.
package cloudscan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	orv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	"github.com/openreports/reports-api/pkg/client/clientset/versioned"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cisgate/cisgate/cmd/cisgate/app"
	"github.com/cisgate/cisgate/controller"
	"github.com/cisgate/cisgate/internal/moto"
	"github.com/cisgate/cisgate/internal/testcerts"
	"github.com/cisgate/cisgate/openreports"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
	"github.com/cisgate/cisgate/test/e2e/framework"
)

const namespace = "cisgate-system"

var env *framework.Env

func TestMain(m *testing.M) {
	dir, err := framework.OpenReportsCRDDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(framework.Main(m, framework.Options{CRDPaths: []string{dir}}, &env))
}

func TestServeLeaderScansTheCloud(t *testing.T) {
	framework.Require(t, env)
	ctx := context.Background()
	m := moto.StartT(t)
	m.Env(t)
	overlay := moto.NewEKSOverlay(t, m)
	t.Setenv("AWS_ENDPOINT_URL_EKS", overlay.URL)

	// The cluster in AWS: logging only for the API server, public endpoint open to all, no
	// Secrets encryption; access entries on, the VPC CNI enforcing network policy.
	cfg, err := config.LoadDefaultConfig(ctx)
	require.NoError(t, err)
	_, err = eks.NewFromConfig(cfg).CreateCluster(ctx, &eks.CreateClusterInput{
		Name: aws.String("prod"), RoleArn: aws.String("arn:aws:iam::" + moto.AccountID + ":role/eks"),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: []string{"subnet-1"}, EndpointPublicAccess: aws.Bool(true), EndpointPrivateAccess: aws.Bool(false)},
		Logging:            &ekstypes.Logging{ClusterLogging: []ekstypes.LogSetup{{Enabled: aws.Bool(true), Types: []ekstypes.LogType{ekstypes.LogTypeApi}}}},
	})
	require.NoError(t, err)
	overlay.Set("prod", moto.ClusterExtras{AuthenticationMode: "API", Addon: &moto.Addon{Status: "ACTIVE", ConfigurationValues: `{"enableNetworkPolicy":"true"}`}})
	_, err = ecr.NewFromConfig(cfg).CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("shop/api"),
		ImageScanningConfiguration: &ecrtypes.ImageScanningConfiguration{ScanOnPush: true}})
	require.NoError(t, err)

	// The cluster in Kubernetes: a private node and a Pod pulling from that repository; in
	// kube-system, which the config exempts, an add-on Pod pulling from Amazon EKS's own registry
	// (not counted: the audit leaves it out too).
	ensureNamespace(t, namespace)
	_, err = env.Clientset.CoreV1().Pods("kube-system").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "aws-node-x"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "aws-node", Image: "602401143452.dkr.ecr.us-east-1.amazonaws.com/amazon-k8s-cni:v1.19.2"}}}}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = env.Clientset.CoreV1().Pods("kube-system").Delete(context.Background(), "aws-node-x", metav1.DeleteOptions{})
	})
	shop := env.Namespace(t, "shop")
	_, err = env.Clientset.CoreV1().Pods(shop).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "api"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: moto.AccountID + ".dkr.ecr.us-east-1.amazonaws.com/shop/api:1.0"}}}}, metav1.CreateOptions{})
	require.NoError(t, err)
	node, err := env.Clientset.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "ip-10-0-1-1.ec2.internal"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = env.Clientset.CoreV1().Nodes().Delete(context.Background(), node.Name, metav1.DeleteOptions{})
	})
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.1.1"}}
	_, err = env.Clientset.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
	require.NoError(t, err)

	startServe(t, "--cloud-scan", "--cloud-cluster=prod", "--cloud-region="+moto.Region, "--cloud-interval=1h", "--openreports")

	// cloud.json: every cloud item of eks-1.8.0 under its ID, with the value read.
	var cloud report.CloudReport
	framework.WaitFor(t, 60*time.Second, "cloud.json", func() error {
		return readKey(report.CloudKey(), &cloud)
	})
	assert.Equal(t, "prod", cloud.Cluster)
	for _, res := range cloud.Results {
		if res.Slug == "ecr-image-scanning" {
			assert.Equal(t, "1 of 1 repositories scanned; 1 Pods exempt by the config not counted", res.Actual)
		}
	}
	assert.Empty(t, cloud.Errors)
	cat, err := policy.CatalogueFor(policy.EKS180)
	require.NoError(t, err)
	statuses := map[policy.Slug]policy.Status{}
	for _, res := range cloud.Results {
		e, ok := cat.Entry(res.Slug)
		require.True(t, ok, res.Slug)
		assert.Equal(t, e.ID, res.ID)
		statuses[res.Slug] = res.Status
	}
	assert.Equal(t, map[policy.Slug]policy.Status{
		"control-plane-logging":      policy.StatusFail, // only api
		"secrets-kms-encryption":     policy.StatusFail, // no encryption config
		"endpoint-access-restricted": policy.StatusFail, // public from everywhere, private off
		"endpoint-private":           policy.StatusFail,
		"private-nodes":              policy.StatusPass,
		"access-manager":             policy.StatusPass,
		"cni-network-policy":         policy.StatusPass,
		"ecr-image-scanning":         policy.StatusPass,
	}, statuses)

	// The OpenReports ClusterReport cisgate-cloud, as Policy Reporter reads it: the same verdicts
	// as cloud.json, one result per item.
	or, err := versioned.NewForConfig(env.Config)
	require.NoError(t, err)
	var cr *orv1alpha1.ClusterReport
	framework.WaitFor(t, 60*time.Second, "ClusterReport "+openreports.CloudReportName, func() error {
		cr, err = or.OpenreportsV1alpha1().ClusterReports().Get(ctx, openreports.CloudReportName, metav1.GetOptions{})
		return err
	})
	assert.Equal(t, openreports.WriterCloudScan, cr.Labels[openreports.WriterLabel])
	reported := map[policy.Slug]policy.Status{}
	for _, res := range cr.Results {
		reported[policy.Slug(res.Properties[openreports.PropertySlug])] = map[orv1alpha1.Result]policy.Status{
			openreports.ResultFail: policy.StatusFail, openreports.ResultPass: policy.StatusPass, openreports.ResultWarn: policy.StatusWarn,
		}[res.Result]
		if e, ok := cat.Entry(policy.Slug(res.Properties[openreports.PropertySlug])); ok {
			assert.Equal(t, e.ID, res.Rule)
		}
	}
	assert.Equal(t, statuses, reported, "the ClusterReport gives each cloud item cloud.json's verdict")
	assert.Equal(t, orv1alpha1.ReportSummary{Fail: 4, Pass: 4}, cr.Summary)

	// summary.json: the cloud scan as a source of its own.
	logging, _ := cat.Entry("control-plane-logging")
	framework.WaitFor(t, 60*time.Second, "summary.json with the cloud scan", func() error {
		var s controller.Summary
		if err := readKey(report.SummaryKey(), &s); err != nil {
			return err
		}
		if s.Sources[controller.SourceCloud] == nil || s.Sources[controller.SourceCloud].Merged != 1 {
			return fmt.Errorf("sources: %v", s.Sources[controller.SourceCloud])
		}
		if c := s.Checks[logging.ID]; c == nil || c.Cloud == nil || c.Cloud.Fail != 1 {
			return fmt.Errorf("%s: %+v", logging.ID, c)
		}
		return nil
	})

	// The Event, as `kubectl get events -n cisgate-system --field-selector reason=CISCloudScan` shows it.
	framework.WaitFor(t, 30*time.Second, "the CISCloudScan Event", func() error {
		events, err := env.Clientset.EventsV1().Events(namespace).List(ctx, metav1.ListOptions{FieldSelector: "reason=" + string(report.ReasonCloudScan)})
		if err != nil {
			return err
		}
		if len(events.Items) == 0 {
			return errors.New("none yet")
		}
		ev := events.Items[0]
		assert.Equal(t, corev1.EventTypeWarning, ev.Type)
		assert.Equal(t, "ConfigMap", ev.Regarding.Kind)
		assert.Equal(t, report.ConfigMapName, ev.Regarding.Name)
		assert.Contains(t, ev.Note, "eks-1.8.0 cloud scan of EKS cluster prod (us-east-1): 4 FAIL, 0 WARN, 4 PASS; details in ConfigMap cisgate-report key cloud.json; FAIL [2.1.1] control-plane-logging (enabled: api)")
		return nil
	})
}

func ensureNamespace(t *testing.T, name string) {
	t.Helper()
	_, err := env.Clientset.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

func readKey(key report.Key, v any) error {
	cm, err := env.Clientset.CoreV1().ConfigMaps(namespace).Get(context.Background(), report.ConfigMapName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	data, ok := cm.Data[key.Name]
	if !ok {
		return fmt.Errorf("no key %s yet", key.Name)
	}
	return json.Unmarshal([]byte(data), v)
}

// startServe runs `cisgate serve` in-process, as the chart runs it, until the test ends.
func startServe(t *testing.T, extra ...string) {
	t.Helper()
	dir := t.TempDir()
	certDir := filepath.Join(dir, "certs")
	require.NoError(t, os.Mkdir(certDir, 0o700))
	_, err := testcerts.WriteServing(certDir)
	require.NoError(t, err)
	cfgFile := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(cfgFile, []byte("benchmark: eks-1.8.0\nmode: audit\nexemptions:\n  namespaces: [kube-system, "+namespace+"]\n"), 0o644))
	webhook, probe, metrics := framework.FreeAddr(t), framework.FreeAddr(t), framework.FreeAddr(t)
	_, port, _ := net.SplitHostPort(webhook)
	args := append([]string{"serve", "--config", cfgFile, "--cert-dir", certDir, "--port", port,
		"--kubeconfig", env.KubeConfig, "--namespace", namespace, "--replica", "r1",
		"--metrics-bind-address", metrics, "--health-probe-bind-address", probe, "--audit-interval", "1h",
		"--nodescan-enabled=false"}, extra...)
	logPath := filepath.Join(dir, "serve.log")
	logs, err := os.Create(logPath)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan int, 1)
	go func() {
		defer logs.Close()
		exited <- app.Run(ctx, args, app.IOStreams{Out: logs, ErrOut: logs})
	}()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			data, _ := os.ReadFile(logPath)
			t.Logf("serve's logs:\n%s", data)
		}
	})
	framework.WaitFor(t, 60*time.Second, "serve ready", func() error {
		select {
		case code := <-exited:
			exited <- code
			return fmt.Errorf("serve exited with %d", code)
		default:
		}
		return framework.Ready(probe)
	})
}

package chart

import (
	"context"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/cisgate/cisgate/test/e2e/framework"
)

// TestServiceMonitor: serviceMonitor.enabled renders a monitoring.coreos.com/v1 ServiceMonitor
// that decodes strictly into the operator's type, selects the chart's Service and scrapes its
// metrics port; the API server with the operator's CRD accepts it. Off by default.
func TestServiceMonitor(t *testing.T) {
	assert.Empty(t, ofKind(decode(t, template(t, defaultRelease())), "ServiceMonitor"))

	objs := decode(t, template(t, defaultRelease("--set", "serviceMonitor.enabled=true", "--set", "serviceMonitor.labels.release=kube-prometheus-stack")))
	u := find(t, objs, "ServiceMonitor", releaseName)
	sm := convert[monitoringv1.ServiceMonitor](t, u)
	svc := convert[corev1.Service](t, find(t, objs, "Service", releaseName))
	selector, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
	require.NoError(t, err)
	assert.True(t, selector.Matches(labels.Set(svc.Labels)), "the ServiceMonitor selects the chart's Service")
	assert.Equal(t, []string{releaseNamespace}, sm.Spec.NamespaceSelector.MatchNames)
	assert.Equal(t, "kube-prometheus-stack", sm.Labels["release"], "the label a Prometheus's serviceMonitorSelector matches")
	require.Len(t, sm.Spec.Endpoints, 1)
	ports := map[string]bool{}
	for _, p := range svc.Spec.Ports {
		ports[p.Name] = true
	}
	assert.True(t, ports[sm.Spec.Endpoints[0].Port], "port %q is the Service's", sm.Spec.Endpoints[0].Port)
	assert.Equal(t, "/metrics", sm.Spec.Endpoints[0].Path)
	assert.Equal(t, monitoringv1.Duration("30s"), sm.Spec.Endpoints[0].Interval)

	framework.Helm(t)
	crd, err := framework.ServiceMonitorCRD()
	require.NoError(t, err)
	env := framework.StartT(t, framework.Options{CRDPaths: []string{crd}})
	_, err = env.Clientset.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: releaseNamespace}}, metav1.CreateOptions{})
	require.NoError(t, err)
	require.NoError(t, env.Client.Create(context.Background(), u), "the API server with the operator's CRD accepts the ServiceMonitor")
}

package e2e

import (
	"context"
	"testing"
	"time"

	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cisgate/cisgate/test/e2e/framework"
)

// TestSmoke proves the chain the other integration tests stand on: kube-apiserver and etcd built
// by test/tools start, cert-manager's CRDs from its Go module install, and objects of those kinds
// round-trip through the real API server.
func TestSmoke(t *testing.T) {
	env := framework.StartT(t, framework.Options{CertManagerCRDs: true})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	ns, err := env.Clientset.CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "smoke"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	if ns.Status.Phase != corev1.NamespaceActive {
		t.Errorf("namespace phase = %q, want %q", ns.Status.Phase, corev1.NamespaceActive)
	}

	// The API server serves cert-manager's kinds.
	resources, err := env.Clientset.Discovery().ServerResourcesForGroupVersion("cert-manager.io/v1")
	if err != nil {
		t.Fatalf("discovery of cert-manager.io/v1: %v", err)
	}
	served := map[string]bool{}
	for _, r := range resources.APIResources {
		served[r.Kind] = true
	}
	for _, kind := range []string{"Issuer", "ClusterIssuer", "Certificate", "CertificateRequest"} {
		if !served[kind] {
			t.Errorf("cert-manager.io/v1 does not serve %s; it serves %v", kind, served)
		}
	}

	// An Issuer written as unstructured, as `kubectl apply` would send it ...
	issuer := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cert-manager.io/v1",
		"kind":       "Issuer",
		"metadata":   map[string]any{"name": "selfsigned", "namespace": ns.Name},
		"spec":       map[string]any{"selfSigned": map[string]any{}},
	}}
	if err := env.Client.Create(ctx, issuer); err != nil {
		t.Fatalf("create Issuer: %v", err)
	}

	// ... reads back through the typed cert-manager API.
	var got certmanagerv1.Issuer
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns.Name, Name: "selfsigned"}, &got); err != nil {
		t.Fatalf("get Issuer: %v", err)
	}
	if got.UID == "" || got.CreationTimestamp.IsZero() {
		t.Errorf("Issuer was not stored by the API server: uid %q, created %v", got.UID, got.CreationTimestamp)
	}
	if got.Spec.SelfSigned == nil {
		t.Errorf("Issuer spec.selfSigned lost on the way: %+v", got.Spec)
	}

	// The CRD's schema is in force: a wrong type is refused.
	bad := issuer.DeepCopy()
	bad.SetName("bad")
	bad.SetResourceVersion("")
	bad.Object["spec"] = map[string]any{"selfSigned": "yes"}
	if err := env.Client.Create(ctx, bad); err == nil {
		t.Errorf("Issuer with spec.selfSigned: \"yes\" was accepted; the CRD schema is not in force")
	}

	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(schema.GroupVersionKind{Group: "cert-manager.io", Version: "v1", Kind: "IssuerList"})
	if err := env.Client.List(ctx, l, client.InNamespace(ns.Name)); err != nil {
		t.Fatalf("list Issuers: %v", err)
	}
	if len(l.Items) != 1 || l.Items[0].GetName() != "selfsigned" {
		t.Errorf("Issuers in %s = %d items, want just selfsigned", ns.Name, len(l.Items))
	}
}

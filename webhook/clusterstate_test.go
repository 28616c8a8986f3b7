package webhook

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

func TestCachedStateConfirmsNoNetworkPolicyWithTheAPIServer(t *testing.T) {
	policyIn := func(ns string) *networkingv1.NetworkPolicy {
		return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default-deny"}}
	}
	// The cache has not seen the NetworkPolicy of "fresh" yet; the API server has.
	cache := fake.NewClientBuilder().WithScheme(scheme.Scheme).WithObjects(policyIn("old")).Build()
	live := fake.NewClientBuilder().WithScheme(scheme.Scheme).WithObjects(policyIn("old"), policyIn("fresh")).Build()

	withLive := &CachedState{Reader: cache, Live: live}
	n, err := withLive.NetworkPolicyCount("fresh")
	require.NoError(t, err)
	assert.Equal(t, 1, n, "a NetworkPolicy the cache has not seen yet is found live")
	n, err = withLive.NetworkPolicyCount("empty")
	require.NoError(t, err)
	assert.Zero(t, n, "none live either: the namespace really has none")

	cacheOnly := &CachedState{Reader: cache}
	n, err = cacheOnly.NetworkPolicyCount("fresh")
	require.NoError(t, err)
	assert.Zero(t, n)
	n, err = cacheOnly.NetworkPolicyCount("old")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

func TestCachedStateServiceAccountAndNamespaceMode(t *testing.T) {
	reader := fake.NewClientBuilder().WithScheme(scheme.Scheme).WithObjects(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"cisgate.io/mode": "audit"}}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}},
	).Build()
	s := &CachedState{Reader: reader}

	mode, err := s.NamespaceMode("shop")
	require.NoError(t, err)
	assert.Equal(t, "audit", mode)
	mode, err = s.NamespaceMode("nowhere")
	require.NoError(t, err, "a namespace the cache does not know has no label")
	assert.Empty(t, mode)

	sa, found, err := s.ServiceAccount("shop", "web")
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, "web", sa.Name)
	_, found, err = s.ServiceAccount("shop", "missing")
	require.NoError(t, err)
	assert.False(t, found)
}

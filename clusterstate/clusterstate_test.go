package clusterstate

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

func TestCachedConfirmsNoNetworkPolicyWithTheAPIServer(t *testing.T) {
	policyIn := func(ns string) *networkingv1.NetworkPolicy {
		return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default-deny"}}
	}
	// The cache has not seen the NetworkPolicy of "fresh" yet; the API server has.
	cache := fake.NewClientBuilder().WithScheme(scheme.Scheme).WithObjects(policyIn("old")).Build()
	live := fake.NewClientBuilder().WithScheme(scheme.Scheme).WithObjects(policyIn("old"), policyIn("fresh")).Build()

	withLive := &Cached{Reader: cache, Live: live}
	n, err := withLive.NetworkPolicyCount("fresh")
	require.NoError(t, err)
	assert.Equal(t, 1, n, "a NetworkPolicy the cache has not seen yet is found live")
	n, err = withLive.NetworkPolicyCount("empty")
	require.NoError(t, err)
	assert.Zero(t, n, "none live either: the namespace really has none")

	cacheOnly := &Cached{Reader: cache}
	n, err = cacheOnly.NetworkPolicyCount("fresh")
	require.NoError(t, err)
	assert.Zero(t, n)
	n, err = cacheOnly.NetworkPolicyCount("old")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

func TestCachedServiceAccountAndNamespaceMode(t *testing.T) {
	reader := fake.NewClientBuilder().WithScheme(scheme.Scheme).WithObjects(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"cisgate.io/mode": "audit"}}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}},
	).Build()
	s := &Cached{Reader: reader}

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

// TestLiveConfirmationsAreCoalescedButNeverStale: concurrent requests for a namespace share one
// live lookup, but never one that began before they arrived (it could miss a NetworkPolicy
// created just before them): at most one lookup runs and one waits, whatever the burst.
func TestLiveConfirmationsAreCoalescedButNeverStale(t *testing.T) {
	var c coalescer
	release := make(chan int)
	started := make(chan struct{}, 10)
	var calls atomic.Int32
	lookup := func(ctx context.Context) (int, error) {
		calls.Add(1)
		started <- struct{}{}
		return <-release, nil
	}
	type answer struct{ n int }
	ask := func() chan answer {
		out := make(chan answer, 1)
		go func() {
			n, err := c.do(context.Background(), "team-a", lookup)
			assert.NoError(t, err)
			out <- answer{n}
		}()
		return out
	}
	first := ask()
	<-started // the first lookup is in flight
	var later []chan answer
	for range 20 {
		later = append(later, ask())
	}
	// Barrier: all 20 wait for the next lookup (none may start while the first runs).
	require.Eventually(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		st := c.byNS["team-a"]
		return st != nil && st.next != nil && st.next.waiters == 20
	}, time.Minute, time.Millisecond)
	release <- 0 // the first lookup saw no NetworkPolicy...
	assert.Equal(t, 0, (<-first).n)
	<-started
	release <- 1 // ...the one after it, which all later requests share, sees the new one.
	for _, a := range later {
		assert.Equal(t, 1, (<-a).n)
	}
	assert.Equal(t, int32(2), calls.Load(), "21 requests, 2 lookups")
	c.mu.Lock()
	assert.Empty(t, c.byNS, "nothing kept once idle")
	c.mu.Unlock()
}

// TestLiveConfirmationFailureIsWarnAndCounted: a lookup that cannot be answered says why and is
// counted; the finding that needed it is WARN (policy's 4.3.2).
func TestLiveConfirmationFailureIsWarnAndCounted(t *testing.T) {
	cache := fake.NewClientBuilder().WithScheme(scheme.Scheme).Build()
	live := fake.NewClientBuilder().WithScheme(scheme.Scheme).WithInterceptorFuncs(interceptor.Funcs{
		List: func(context.Context, client.WithWatch, client.ObjectList, ...client.ListOption) error {
			return errors.New("connection refused")
		},
	}).Build()
	before := counterValue(t, lookupFailures.WithLabelValues(lookupNetworkPoliciesLive))
	_, err := (&Cached{Reader: cache, Live: live}).NetworkPolicyCount("team-a")
	require.EqualError(t, err, "the API server did not confirm it within 1s: connection refused")
	assert.Equal(t, before+1, counterValue(t, lookupFailures.WithLabelValues(lookupNetworkPoliciesLive)))
}

// Every lookup the cache cannot answer (an unsynced cache past its timeout, a forbidden list) is
// counted under its kind; a NotFound is an answer and is not.
func TestCacheLookupFailuresAreCounted(t *testing.T) {
	broken := fake.NewClientBuilder().WithScheme(scheme.Scheme).WithInterceptorFuncs(interceptor.Funcs{
		Get: func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
			return errors.New("timed out waiting for cache to be synced")
		},
		List: func(context.Context, client.WithWatch, client.ObjectList, ...client.ListOption) error {
			return errors.New("timed out waiting for cache to be synced")
		},
	}).Build()
	state := &Cached{Reader: broken}
	for _, c := range []struct {
		lookup string
		call   func() error
	}{
		{lookupNamespaces, func() error { _, err := state.NamespaceMode("team-a"); return err }},
		{lookupNetworkPolicies, func() error { _, err := state.NetworkPolicyCount("team-a"); return err }},
		{lookupServiceAccounts, func() error { _, _, err := state.ServiceAccount("team-a", "app"); return err }},
		{lookupIngressClasses, func() error { _, err := state.IngressClasses(); return err }},
	} {
		before := counterValue(t, lookupFailures.WithLabelValues(c.lookup))
		require.Error(t, c.call(), c.lookup)
		assert.Equal(t, before+1, counterValue(t, lookupFailures.WithLabelValues(c.lookup)), c.lookup)
	}

	empty := &Cached{Reader: fake.NewClientBuilder().WithScheme(scheme.Scheme).Build()}
	before := counterValue(t, lookupFailures.WithLabelValues(lookupServiceAccounts))
	_, found, err := empty.ServiceAccount("team-a", "app")
	require.NoError(t, err)
	assert.False(t, found)
	_, err = empty.NamespaceMode("team-a")
	require.NoError(t, err)
	assert.Equal(t, before, counterValue(t, lookupFailures.WithLabelValues(lookupServiceAccounts)), "a NotFound is no failure")
}

func TestCachedIngressClasses(t *testing.T) {
	alb := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "external"}, Spec: networkingv1.IngressClassSpec{Controller: "ingress.k8s.aws/alb"}}
	reader := fake.NewClientBuilder().WithScheme(scheme.Scheme).WithObjects(alb).Build()
	classes, err := (&Cached{Reader: reader}).IngressClasses()
	require.NoError(t, err)
	require.Len(t, classes, 1)
	assert.Equal(t, "ingress.k8s.aws/alb", classes[0].Spec.Controller)

	// An unsynced cache answers with an error, which 5.4.5 turns into a WARN.
	failing := interceptor.NewClient(fake.NewClientBuilder().WithScheme(scheme.Scheme).Build(), interceptor.Funcs{
		List: func(context.Context, client.WithWatch, client.ObjectList, ...client.ListOption) error {
			return errors.New("timed out waiting for cache to be synced")
		},
	})
	_, err = (&Cached{Reader: failing}).IngressClasses()
	assert.ErrorContains(t, err, "timed out")
}

func counterValue(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	require.NoError(t, c.Write(&m))
	return m.GetCounter().GetValue()
}

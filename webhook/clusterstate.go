package webhook

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/cisgate/cisgate/policy"
)

// LiveTimeout bounds the live "no NetworkPolicy" confirmation: within the chart's webhook timeout
// of 5 s, with room for the rest of the request.
const LiveTimeout = 3 * time.Second

// The live confirmation's own client-side limits. It must not share the manager's client and its
// default limiter (5/s, burst 10): under a burst of Pod creates the queue outgrew the budget and
// 4.3.2 turned WARN, admitting Pods that one at a time were denied. Confirmations are coalesced per
// namespace (at most one in flight and one waiting), so these bound namespaces, not requests.
const (
	liveQPS   = 100
	liveBurst = 200
)

var lookupFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "cisgate_lookup_failures_total",
	Help: "Cluster-state lookups that could not be answered at admission; the finding that needed one is WARN and says why.",
}, []string{"lookup"})

// The lookup label's values: one per cached kind, and the live confirmation of 4.3.2.
const (
	lookupNamespaces          = "namespaces"
	lookupNetworkPolicies     = "networkpolicies"
	lookupNetworkPoliciesLive = "networkpolicies-live"
	lookupServiceAccounts     = "serviceaccounts"
	lookupIngressClasses      = "ingressclasses"
)

// countFailure counts a lookup's error (a NotFound is an answer, not a failure) and returns it.
func countFailure(lookup string, err error) error {
	if err != nil {
		lookupFailures.WithLabelValues(lookup).Inc()
	}
	return err
}

func init() {
	metrics.Registry.MustRegister(lookupFailures)
	// Every lookup's series exists from the start, at 0, for dashboards' rates.
	for _, l := range []string{lookupNamespaces, lookupNetworkPolicies, lookupNetworkPoliciesLive, lookupServiceAccounts, lookupIngressClasses} {
		lookupFailures.WithLabelValues(l)
	}
}

// LiveConfig is cfg with the live confirmation's own rate limits.
func LiveConfig(cfg *rest.Config) *rest.Config {
	live := rest.CopyConfig(cfg)
	live.QPS, live.Burst, live.RateLimiter = liveQPS, liveBurst, nil
	return live
}

// CachedState answers lookups from the manager's informer caches: Namespaces and
// NetworkPolicies as metadata only, ServiceAccounts and IngressClasses in full (they are small). A cache lookup waits
// at most Timeout, so an unsynced cache turns into a WARN rather than a slow admission answer.
type CachedState struct {
	Reader client.Reader
	// Live reads the API server directly (built from LiveConfig). It confirms the one answer that
	// would deny on cache lag alone: "no NetworkPolicy in the namespace" right after one was
	// created (GitOps tools apply a NetworkPolicy and a Deployment together). Nil: the cache's
	// answer stands.
	Live    client.Reader
	Timeout time.Duration

	confirm coalescer
}

var _ ClusterState = (*CachedState)(nil)

// cachedKinds are the objects CachedState reads; WarmCaches starts their informers up front.
func cachedKinds() []client.Object {
	return []client.Object{namespaceMeta(), networkPolicyMeta(), &corev1.ServiceAccount{}, &networkingv1.IngressClass{}}
}

func namespaceMeta() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	return m
}

func networkPolicyMeta() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(networkingv1.SchemeGroupVersion.WithKind("NetworkPolicy"))
	return m
}

// WarmCaches starts the informers CachedState reads, so no request starts one lazily.
func WarmCaches(ctx context.Context, c cache.Cache) error {
	for _, obj := range cachedKinds() {
		if _, err := c.GetInformer(ctx, obj); err != nil {
			return err
		}
	}
	return nil
}

func (s *CachedState) context() (context.Context, context.CancelFunc) {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = time.Second
	}
	return context.WithTimeout(context.Background(), timeout)
}

// NamespaceMode implements ClusterState.
func (s *CachedState) NamespaceMode(namespace string) (string, error) {
	ctx, cancel := s.context()
	defer cancel()
	ns := namespaceMeta()
	if err := s.Reader.Get(ctx, client.ObjectKey{Name: namespace}, ns); err != nil {
		return "", countFailure(lookupNamespaces, client.IgnoreNotFound(err))
	}
	return ns.Labels[policy.NamespaceModeLabel], nil
}

func countNetworkPolicies(ctx context.Context, r client.Reader, namespace string, opts ...client.ListOption) (int, error) {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(networkingv1.SchemeGroupVersion.WithKind("NetworkPolicyList"))
	if err := r.List(ctx, list, append(opts, client.InNamespace(namespace))...); err != nil {
		return 0, err
	}
	return len(list.Items), nil
}

// NetworkPolicyCount implements policy.Lookup.
func (s *CachedState) NetworkPolicyCount(namespace string) (int, error) {
	ctx, cancel := s.context()
	n, err := countNetworkPolicies(ctx, s.Reader, namespace)
	cancel()
	if err != nil || n > 0 || s.Live == nil {
		return n, countFailure(lookupNetworkPolicies, err)
	}
	live, cancelLive := context.WithTimeout(context.Background(), LiveTimeout)
	defer cancelLive()
	n, err = s.confirm.do(live, namespace, func(ctx context.Context) (int, error) {
		return countNetworkPolicies(ctx, s.Live, namespace, client.Limit(1))
	})
	if countFailure(lookupNetworkPoliciesLive, err) != nil {
		return 0, fmt.Errorf("the API server did not confirm it within %s: %w", LiveTimeout, err)
	}
	return n, nil
}

// ServiceAccount implements policy.Lookup.
func (s *CachedState) ServiceAccount(namespace, name string) (*corev1.ServiceAccount, bool, error) {
	ctx, cancel := s.context()
	defer cancel()
	sa := &corev1.ServiceAccount{}
	switch err := s.Reader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, sa); {
	case apierrors.IsNotFound(err):
		return nil, false, nil
	case err != nil:
		return nil, false, countFailure(lookupServiceAccounts, err)
	}
	return sa, true, nil
}

// IngressClasses implements policy.Lookup. An error (an unsynced cache past Timeout) leaves 5.4.5
// a WARN: it never denies on its own.
func (s *CachedState) IngressClasses() ([]networkingv1.IngressClass, error) {
	ctx, cancel := s.context()
	defer cancel()
	list := &networkingv1.IngressClassList{}
	if err := s.Reader.List(ctx, list); err != nil {
		return nil, countFailure(lookupIngressClasses, err)
	}
	return list.Items, nil
}

// coalescer shares live lookups between requests for the same namespace without ever answering
// a request with a lookup that started before it arrived (a NetworkPolicy created just before
// must be seen): a request joins the lookup waiting to start, or starts one when none runs.
// At most one lookup per namespace is in flight and one waits.
type coalescer struct {
	mu   sync.Mutex
	byNS map[string]*coalesced
}

type coalesced struct {
	running, next *lookupCall
}

type lookupCall struct {
	done chan struct{}
	n    int
	err  error
	// waiters is how many requests share the call (a test waits on it).
	waiters int
}

// do waits for a lookup of namespace that starts after this call, or until ctx ends.
func (c *coalescer) do(ctx context.Context, namespace string, lookup func(context.Context) (int, error)) (int, error) {
	c.mu.Lock()
	if c.byNS == nil {
		c.byNS = map[string]*coalesced{}
	}
	st := c.byNS[namespace]
	if st == nil {
		st = &coalesced{}
		c.byNS[namespace] = st
	}
	var call *lookupCall
	switch {
	case st.running == nil:
		call = &lookupCall{done: make(chan struct{})}
		st.running = call
		go c.run(namespace, call, lookup)
	case st.next == nil:
		call = &lookupCall{done: make(chan struct{})}
		st.next = call
	default:
		call = st.next
	}
	call.waiters++
	c.mu.Unlock()
	select {
	case <-call.done:
		return call.n, call.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// run performs call, then the call that waited meanwhile, if any.
func (c *coalescer) run(namespace string, call *lookupCall, lookup func(context.Context) (int, error)) {
	for call != nil {
		ctx, cancel := context.WithTimeout(context.Background(), LiveTimeout)
		call.n, call.err = lookup(ctx)
		cancel()
		close(call.done)

		c.mu.Lock()
		st := c.byNS[namespace]
		call, st.running, st.next = st.next, st.next, nil
		if call == nil {
			delete(c.byNS, namespace)
		}
		c.mu.Unlock()
	}
}

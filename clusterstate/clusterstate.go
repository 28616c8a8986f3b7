// Package clusterstate answers the few questions about the cluster that admission decisions
// need (a namespace's mode label and NetworkPolicies, a ServiceAccount, the IngressClasses) from
// informer caches, confirming a missing NetworkPolicy with the API server, each request within
// LookupBudget.
package clusterstate

import (
	"context"
	"fmt"
	"sync"
	"time"

	"errors"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/cisgate/cisgate/policy"
)

// State is the read-only view of the cluster the admission handler decides with, served from
// informer caches (Cached).
type State interface {
	policy.Lookup
	// NamespaceMode is the cisgate.io/mode label of a namespace ("" when none).
	NamespaceMode(namespace string) (string, error)
}

// RequestScoped is a State whose lookups for one request share that request's budget.
type RequestScoped interface {
	ForRequest(ctx context.Context) State
}

// LookupBudget is the time one request's cluster-state lookups have together, cache reads and the
// live read alike, counted from the moment the request is decided. A lookup not answered within it
// fails, and the finding that needed it is WARN: an answer is never older than the request, and no
// request waits longer for the cluster than this, whatever the API server does (down, hung,
// dropping connections; client-go's own retries, 1 s apart, end with the budget).
const LookupBudget = time.Second

// The live confirmation's own client-side limits. It must not share the manager's client and its
// default limiter (5/s, burst 10): under a burst of Pod creates the queue outgrew the budget and
// 4.3.2 turned WARN, admitting Pods that one at a time were denied. Confirmations are coalesced per
// namespace (at most one in flight and one waiting), so these bound namespaces, not requests.
const (
	liveQPS   = 100
	liveBurst = 200
)

// networkPolicyLookups counts the answers to "does this namespace have a NetworkPolicy" by where
// they came from: a 4.3.2 denial stands only on source="live", result="none".
var networkPolicyLookups = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "cisgate_networkpolicy_lookups_total",
	Help: "Answers to whether a namespace has a NetworkPolicy, by source (cache, live: a read of the API server begun and answered within the request's lookup budget) and result (found, none, failed). A 4.3.2 denial stands only on source=live, result=none.",
}, []string{"source", "result"})

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
	metrics.Registry.MustRegister(lookupFailures, networkPolicyLookups)
	// Every lookup's series exists from the start, at 0, for dashboards' rates.
	for _, l := range []string{lookupNamespaces, lookupNetworkPolicies, lookupNetworkPoliciesLive, lookupServiceAccounts, lookupIngressClasses} {
		lookupFailures.WithLabelValues(l)
	}
}

func countNetworkPolicyAnswer(source string, n int, err error) {
	result := "found"
	switch {
	case err != nil:
		result = "failed"
	case n == 0:
		result = "none"
	}
	networkPolicyLookups.WithLabelValues(source, result).Inc()
}

// LiveConfig is cfg with the live confirmation's own rate limits.
func LiveConfig(cfg *rest.Config) *rest.Config {
	live := rest.CopyConfig(cfg)
	live.QPS, live.Burst, live.RateLimiter = liveQPS, liveBurst, nil
	return live
}

// Cached answers lookups from the manager's informer caches: Namespaces and
// NetworkPolicies as metadata only, ServiceAccounts and IngressClasses in full (they are small).
// ForRequest gives one request's view: every lookup of it within one LookupBudget, so an unsynced
// cache or an unreachable API server turns into a WARN rather than a slow or stale answer.
type Cached struct {
	Reader client.Reader
	// Live reads the API server directly (built from LiveConfig). It confirms the one answer that
	// would deny on cache lag alone: "no NetworkPolicy in the namespace" right after one was
	// created (GitOps tools apply a NetworkPolicy and a Deployment together). Nil: the cache's
	// answer stands.
	Live client.Reader

	confirm coalescer
}

var _ State = (*Cached)(nil)

// cachedKinds are the objects Cached reads; WarmCaches starts their informers up front.
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

// WarmCaches starts the informers Cached reads, so no request starts one lazily.
func WarmCaches(ctx context.Context, c cache.Cache) error {
	for _, obj := range cachedKinds() {
		if _, err := c.GetInformer(ctx, obj); err != nil {
			return err
		}
	}
	return nil
}

// ForRequest is the state as one request sees it: its lookups end with ctx, which the handler
// gives LookupBudget from the request's arrival.
func (s *Cached) ForRequest(ctx context.Context) State { return requestState{s, ctx} }

// NamespaceMode, NetworkPolicyCount, ServiceAccount and IngressClasses answer one lookup outside
// any request, within its own LookupBudget.
func (s *Cached) NamespaceMode(namespace string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), LookupBudget)
	defer cancel()
	return requestState{s, ctx}.NamespaceMode(namespace)
}

func (s *Cached) NetworkPolicyCount(namespace string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), LookupBudget)
	defer cancel()
	return requestState{s, ctx}.NetworkPolicyCount(namespace)
}

func (s *Cached) ServiceAccount(namespace, name string) (*corev1.ServiceAccount, bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), LookupBudget)
	defer cancel()
	return requestState{s, ctx}.ServiceAccount(namespace, name)
}

func (s *Cached) IngressClasses() ([]networkingv1.IngressClass, error) {
	ctx, cancel := context.WithTimeout(context.Background(), LookupBudget)
	defer cancel()
	return requestState{s, ctx}.IngressClasses()
}

// requestState is Cached within one request's budget (ctx).
type requestState struct {
	*Cached
	ctx context.Context
}

// NamespaceMode implements State.
func (s requestState) NamespaceMode(namespace string) (string, error) {
	ns := namespaceMeta()
	if err := s.Reader.Get(s.ctx, client.ObjectKey{Name: namespace}, ns); err != nil {
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

// NetworkPolicyCount implements policy.Lookup. The cache's "found" stands (a NetworkPolicy it has
// seen existed); its "none" may be lag, and is confirmed by a live read that begins after this
// request arrived and is answered within its budget, or the answer is an error (4.3.2 WARN).
// Before, the live read had 3 s of its own and client-go retried it after a dropped connection
// 1 s later, so a request that arrived during an API server outage could be denied on a read
// answered 2 to 3 s after it, once the API server was back or resumed (issue 20, item 3).
func (s requestState) NetworkPolicyCount(namespace string) (int, error) {
	n, err := countNetworkPolicies(s.ctx, s.Reader, namespace)
	if err != nil || n > 0 || s.Live == nil {
		countNetworkPolicyAnswer("cache", n, err)
		return n, countFailure(lookupNetworkPolicies, err)
	}
	deadline, _ := s.ctx.Deadline()
	n, err = s.confirm.do(s.ctx, namespace, func(ctx context.Context) (int, error) {
		return countNetworkPolicies(ctx, s.Live, namespace, client.Limit(1))
	})
	countNetworkPolicyAnswer("live", n, err)
	if countFailure(lookupNetworkPoliciesLive, err) != nil {
		return 0, fmt.Errorf("the API server did not confirm it within %s: %w", LookupBudget, err)
	}
	if n == 0 {
		lookupLog.V(1).Info("no NetworkPolicy, confirmed by a live read", "namespace", namespace, "budgetLeft", time.Until(deadline).Round(time.Millisecond).String())
	}
	return n, nil
}

var lookupLog = ctrllog.Log.WithName("lookup")

// ServiceAccount implements policy.Lookup.
func (s requestState) ServiceAccount(namespace, name string) (*corev1.ServiceAccount, bool, error) {
	sa := &corev1.ServiceAccount{}
	switch err := s.Reader.Get(s.ctx, client.ObjectKey{Namespace: namespace, Name: name}, sa); {
	case apierrors.IsNotFound(err):
		return nil, false, nil
	case err != nil:
		return nil, false, countFailure(lookupServiceAccounts, err)
	}
	return sa, true, nil
}

// IngressClasses implements policy.Lookup. An error (an unsynced cache past the budget) leaves 5.4.5
// a WARN: it never denies on its own.
func (s requestState) IngressClasses() ([]networkingv1.IngressClass, error) {
	list := &networkingv1.IngressClassList{}
	if err := s.Reader.List(s.ctx, list); err != nil {
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
	// deadline is the latest of its requests' deadlines: the read ends with it.
	deadline time.Time
	// started and answered bound the read, for the requests to check it against their budget.
	started, answered time.Time
	n                 int
	err               error
	// waiters is how many requests share the call (a test waits on it).
	waiters int
}

// errOutsideBudget: the shared read was not answered within this request's budget.
var errOutsideBudget = errors.New("the read answered after this request's lookup budget")

// do waits for a lookup of namespace that starts after this call and is answered before ctx's
// deadline, or until ctx ends.
func (c *coalescer) do(ctx context.Context, namespace string, lookup func(context.Context) (int, error)) (int, error) {
	arrived := time.Now()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = arrived.Add(LookupBudget)
	}
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
	if deadline.After(call.deadline) {
		call.deadline = deadline
	}
	c.mu.Unlock()
	select {
	case <-call.done:
		// Checked, not assumed: an answer is this request's only if the read began after it
		// arrived and ended within its budget.
		if call.started.Before(arrived) || call.answered.After(deadline) {
			return 0, errOutsideBudget
		}
		return call.n, call.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// run performs call, then the call that waited meanwhile, if any.
func (c *coalescer) run(namespace string, call *lookupCall, lookup func(context.Context) (int, error)) {
	for call != nil {
		c.mu.Lock()
		deadline := call.deadline
		c.mu.Unlock()
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		call.started = time.Now()
		call.n, call.err = lookup(ctx)
		call.answered = time.Now()
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

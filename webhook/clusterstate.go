package webhook

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cisgate/cisgate/policy"
)

// CachedState answers lookups from the manager's informer caches: Namespaces and
// NetworkPolicies as metadata only, ServiceAccounts in full (they are small). A lookup waits at
// most Timeout, so an unsynced cache turns into a WARN rather than a slow admission answer.
type CachedState struct {
	Reader client.Reader
	// Live reads the API server directly. It confirms the one answer that would deny on cache lag
	// alone: "no NetworkPolicy in the namespace" right after one was created (GitOps tools apply a
	// NetworkPolicy and a Deployment together). Nil: the cache's answer stands.
	Live    client.Reader
	Timeout time.Duration
}

var _ ClusterState = (*CachedState)(nil)

// cachedKinds are the objects CachedState reads; WarmCaches starts their informers up front.
func cachedKinds() []client.Object {
	return []client.Object{namespaceMeta(), networkPolicyMeta(), &corev1.ServiceAccount{}}
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
		return "", client.IgnoreNotFound(err)
	}
	return ns.Labels[policy.NamespaceModeLabel], nil
}

// NetworkPolicyCount implements policy.Lookup.
func (s *CachedState) NetworkPolicyCount(namespace string) (int, error) {
	ctx, cancel := s.context()
	defer cancel()
	count := func(r client.Reader, opts ...client.ListOption) (int, error) {
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(networkingv1.SchemeGroupVersion.WithKind("NetworkPolicyList"))
		if err := r.List(ctx, list, append(opts, client.InNamespace(namespace))...); err != nil {
			return 0, err
		}
		return len(list.Items), nil
	}
	n, err := count(s.Reader)
	if err != nil || n > 0 || s.Live == nil {
		return n, err
	}
	return count(s.Live, client.Limit(1))
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
		return nil, false, err
	}
	return sa, true, nil
}

package audit

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/test/e2e/framework"
)

// BenchmarkAuditTenThousandObjects times one leader audit cycle (list every kind page by page,
// judge, write audit.json and summary.json) of 10,000 objects on a real kube-apiserver: 2,000
// each of privileged Pods, Deployments, ServiceAccounts, wildcard Roles and cluster-admin
// RoleBindings in 20 namespaces. peak-heap-B is the most live heap seen during the runs, less
// the heap before them.
func BenchmarkAuditTenThousandObjects(b *testing.B) {
	e := framework.StartT(b, framework.Options{})
	const namespaces, perKind = 20, 2000
	ctx := context.Background()
	cs := e.Clientset
	for n := range namespaces {
		ns := fmt.Sprintf("bench-%02d", n)
		ensureNamespace(b, e, ns)
		_, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, serviceAccount(ns, "web", ptr.To(false)), metav1.CreateOptions{})
		require.NoError(b, err)
	}
	at := func(i int) (string, string) {
		return fmt.Sprintf("bench-%02d", i%namespaces), fmt.Sprintf("obj-%05d", i)
	}
	createInParallel(b, perKind, 8, func(i int) error {
		ns, name := at(i)
		if _, err := cs.CoreV1().Pods(ns).Create(ctx, pod(ns, name, spec(makePrivileged)), metav1.CreateOptions{}); err != nil {
			return err
		}
		if _, err := cs.AppsV1().Deployments(ns).Create(ctx, deployment(ns, name, spec(makePrivileged)), metav1.CreateOptions{}); err != nil {
			return err
		}
		if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, serviceAccount(ns, name, nil), metav1.CreateOptions{}); err != nil {
			return err
		}
		if _, err := cs.RbacV1().Roles(ns).Create(ctx, wildcardRole(ns, name), metav1.CreateOptions{}); err != nil {
			return err
		}
		_, err := cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			RoleRef: clusterAdmin, Subjects: userSubject("user-" + name)}, metav1.CreateOptions{})
		return err
	})
	auditor := newAuditor(b, e, nil)

	runtime.GC()
	baseline := liveHeap()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var sampling sync.WaitGroup
	sampling.Add(1)
	go func() {
		defer sampling.Done()
		// runtime/metrics reads the heap without stopping the world, unlike ReadMemStats.
		for t := time.NewTicker(2 * time.Millisecond); ; {
			select {
			case <-stop:
				t.Stop()
				return
			case <-t.C:
				if h := liveHeap(); h > peak.Load() {
					peak.Store(h)
				}
			}
		}
	}()
	for b.Loop() {
		require.NoError(b, auditor.RunOnce(ctx))
	}
	close(stop)
	sampling.Wait()
	b.ReportMetric(float64(peak.Load()-min(baseline, peak.Load())), "peak-heap-B")
}

// liveHeap is the bytes of heap objects, live or not yet swept.
func liveHeap() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

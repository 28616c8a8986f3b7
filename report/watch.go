package report

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// WatchConfigMap calls onChange with the ConfigMap namespace/name when it is added or updated,
// until ctx ends. One informer on that one object: its list and watch carry a metadata.name field
// selector, which RBAC can limit with resourceNames. A deletion is not reported.
func WatchConfigMap(ctx context.Context, client kubernetes.Interface, namespace, name string, onChange func(*corev1.ConfigMap)) error {
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
		}))
	informer := factory.Core().V1().ConfigMaps().Informer()
	handle := func(obj any) {
		// A fake clientset ignores field selectors; the name check keeps the contract.
		if cm, ok := obj.(*corev1.ConfigMap); ok && cm.Name == name {
			onChange(cm)
		}
	}
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    handle,
		UpdateFunc: func(_, obj any) { handle(obj) },
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	<-ctx.Done()
	factory.Shutdown()
	return nil
}

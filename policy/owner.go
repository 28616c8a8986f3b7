package policy

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ControlledByCheckedKind reports an object whose controller is a checked kind that creates it
// from its pod template (CheckedKind.Controls: a Pod of a ReplicaSet, a ReplicaSet of a
// Deployment, a Job of a CronJob): its findings are the owner's, so the webhook raises no Event
// for it (a 50-replica Deployment makes one, not 50) and the audit leaves it to its owner. Both
// are matched by group and kind, so a custom resource named Deployment does not count.
func ControlledByCheckedKind(o Object) bool {
	owners := controllers[groupKindOf(o.Kind, o.Raw)]
	if owners == nil {
		return false
	}
	meta, ok := o.Raw.(metav1.Object)
	if !ok {
		return false
	}
	ref := metav1.GetControllerOfNoCopy(meta)
	if ref == nil {
		return false
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	return err == nil && owners[schema.GroupKind{Group: gv.Group, Kind: ref.Kind}]
}

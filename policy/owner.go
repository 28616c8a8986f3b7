package policy

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// checkedOwners are the controllers whose own object carries the findings of the pods, replica
// sets or jobs they create from their template.
var checkedOwners = map[schema.GroupKind]bool{
	{Group: "apps", Kind: "Deployment"}:        true,
	{Group: "apps", Kind: "ReplicaSet"}:        true,
	{Group: "apps", Kind: "StatefulSet"}:       true,
	{Group: "apps", Kind: "DaemonSet"}:         true,
	{Group: "batch", Kind: "Job"}:              true,
	{Group: "batch", Kind: "CronJob"}:          true,
	{Group: "", Kind: "ReplicationController"}: true,
}

// ControlledByCheckedKind reports a Pod, ReplicaSet or Job whose controller is a kind the checks
// decide on itself: its findings are the owner's, so the webhook raises no Event for it (a
// 50-replica Deployment makes one, not 50) and the audit leaves it to its owner. Owners are
// matched by group and kind, so a custom resource named Deployment does not count.
func ControlledByCheckedKind(o Object) bool {
	if o.Kind != "Pod" && o.Kind != "ReplicaSet" && o.Kind != "Job" {
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
	return err == nil && checkedOwners[schema.GroupKind{Group: gv.Group, Kind: ref.Kind}]
}

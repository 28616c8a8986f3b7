package policy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestControlledByCheckedKind(t *testing.T) {
	controller, notController := true, false
	owned := func(apiVersion, kind string, isController bool) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: "x", OwnerReferences: []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: "owner", Controller: &isController}}}
	}
	for _, tc := range []struct {
		name string
		kind string
		obj  runtime.Object
		want bool
	}{
		{"Pod of a ReplicaSet", "Pod", &corev1.Pod{ObjectMeta: owned("apps/v1", "ReplicaSet", controller)}, true},
		{"ReplicaSet of a Deployment", "ReplicaSet", &appsv1.ReplicaSet{ObjectMeta: owned("apps/v1", "Deployment", controller)}, true},
		{"Job of a CronJob", "Job", &batchv1.Job{ObjectMeta: owned("batch/v1", "CronJob", controller)}, true},
		{"Pod of a ReplicationController", "Pod", &corev1.Pod{ObjectMeta: owned("v1", "ReplicationController", controller)}, true},
		{"Pod of a custom resource named Deployment", "Pod", &corev1.Pod{ObjectMeta: owned("example.com/v1", "Deployment", controller)}, false},
		{"Pod of a StatefulSet", "Pod", &corev1.Pod{ObjectMeta: owned("apps/v1", "StatefulSet", controller)}, true},
		// A CronJob creates Jobs, and a Deployment ReplicaSets: a Pod that names either as its
		// controller was not made from their template, and carries its own findings.
		{"Pod naming a CronJob its controller", "Pod", &corev1.Pod{ObjectMeta: owned("batch/v1", "CronJob", controller)}, false},
		{"Pod naming a Deployment its controller", "Pod", &corev1.Pod{ObjectMeta: owned("apps/v1", "Deployment", controller)}, false},
		{"Pod of an unchecked kind", "Pod", &corev1.Pod{ObjectMeta: owned("argoproj.io/v1alpha1", "Rollout", controller)}, false},
		{"owner that is not the controller", "Pod", &corev1.Pod{ObjectMeta: owned("apps/v1", "ReplicaSet", notController)}, false},
		{"a Deployment carries its own findings", "Deployment", &appsv1.Deployment{ObjectMeta: owned("apps/v1", "Deployment", controller)}, false},
		{"bare Pod", "Pod", &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, ControlledByCheckedKind(NewObject(tc.kind, tc.obj)))
		})
	}
}

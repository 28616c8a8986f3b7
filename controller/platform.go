package controller

import (
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The control plane's own RBAC, which the background audit reports in its "platform" bucket: no
// Event, and apart from the cluster's own findings in audit.json and summary.json. Users cannot
// change these objects (kube-apiserver puts its bootstrap policy back at every start), so an Event
// about them on every new leader is noise that buries the findings users can act on.
//
// A name proves nothing: anyone allowed to create ClusterRoles can call one system:x. An object is
// the platform's when it carries the mark its creator puts on it and a name of that creator's set:
//   - Kubernetes' bootstrap policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy): the label
//     kubernetes.io/bootstrapping=rbac-defaults, and the name system:*, cluster-admin, admin, edit
//     or view;
//   - Amazon EKS: the name eks:* and a label under eks.amazonaws.com/.
//
// Both marks can be copied by someone allowed to write RBAC objects. That write goes through
// admission, which judges every object whatever its name or labels (only kube-apiserver's own
// requests skip the webhook), so a copied mark can hide a finding from the audit's Events, never
// from admission; and the object is still listed, under platform, in audit.json.
const (
	bootstrappingLabel = "kubernetes.io/bootstrapping"
	rbacDefaults       = "rbac-defaults"
	eksLabelPrefix     = "eks.amazonaws.com/"
)

// platformKinds are the kinds whose objects can be the platform's.
var platformKinds = []string{"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}

// bootstrapNames are the bootstrap policy's names outside system:*.
var bootstrapNames = []string{"cluster-admin", "admin", "edit", "view"}

// isPlatformObject reports whether an object of a kind is the control plane's own (see above).
func isPlatformObject(kind string, obj metav1.Object) bool {
	if !slices.Contains(platformKinds, kind) {
		return false
	}
	name, labels := obj.GetName(), obj.GetLabels()
	if labels[bootstrappingLabel] == rbacDefaults && (strings.HasPrefix(name, "system:") || slices.Contains(bootstrapNames, name)) {
		return true
	}
	if strings.HasPrefix(name, "eks:") {
		for key := range labels {
			if strings.HasPrefix(key, eksLabelPrefix) {
				return true
			}
		}
	}
	return false
}

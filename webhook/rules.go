package webhook

import (
	"slices"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cisgate/cisgate/policy"
)

//go:generate go run ./internal/genchart -o ../charts/cisgate/templates/_checkedkinds.tpl

// Path is where the webhook is served.
const Path = "/validate"

// Rules are the webhook rules for everything outside the default namespace: every checked kind
// (policy.CheckedKinds) on CREATE and UPDATE, and the DELETE of the kinds decided on delete (a
// namespace's last NetworkPolicy, 4.3.2).
func Rules() []admissionregistrationv1.RuleWithOperations {
	written, deleted := checkedKindRules()
	return append(written, deleted...)
}

// checkedKindRules are the rules of the checked kinds: written are one CREATE and UPDATE rule per
// API group, in the table's order, with the subresources the checks read; deleted are the DELETE
// rules of the kinds decided on delete.
func checkedKindRules() (written, deleted []admissionregistrationv1.RuleWithOperations) {
	var groups []string
	resources := map[string][]string{}
	for _, k := range policy.CheckedKinds() {
		if k.DeleteOnly {
			deleted = append(deleted, rule([]string{k.Group}, []string{k.Resource}, admissionregistrationv1.Delete))
			continue
		}
		if _, seen := resources[k.Group]; !seen {
			groups = append(groups, k.Group)
		}
		resources[k.Group] = append(resources[k.Group], k.Resource)
		for _, sub := range k.Subresources {
			resources[k.Group] = append(resources[k.Group], k.Resource+"/"+sub)
		}
	}
	for _, g := range groups {
		written = append(written, rule([]string{g}, resources[g], admissionregistrationv1.Create, admissionregistrationv1.Update))
	}
	return written, deleted
}

// DefaultNamespaceRules cover every namespaced kind in the default namespace (4.5.2), and with
// it the other checks for the objects there, so that each request is sent once.
func DefaultNamespaceRules() []admissionregistrationv1.RuleWithOperations {
	// "*" matches no subresource: those the checks read are named.
	resources := []string{"*"}
	for _, k := range policy.CheckedKinds() {
		for _, sub := range k.Subresources {
			resources = append(resources, k.Resource+"/"+sub)
		}
	}
	everything := rule([]string{"*"}, resources, admissionregistrationv1.Create, admissionregistrationv1.Update)
	// A namespaceSelector never skips cluster-scoped objects: without the scope this entry would
	// send every ClusterRole, Node and CRD write to cisgate a second time.
	namespaced := admissionregistrationv1.NamespacedScope
	everything.Scope = &namespaced
	// A namespaceSelector matches a Namespace by its own labels, so the Namespace "default" itself
	// (its cisgate.io/mode label) is sent by this entry, not by the first.
	namespaces := rule([]string{""}, []string{"namespaces"}, admissionregistrationv1.Create, admissionregistrationv1.Update)
	_, deleted := checkedKindRules()
	return append([]admissionregistrationv1.RuleWithOperations{everything, namespaces}, deleted...)
}

// notTheAPIServer keeps kube-apiserver's own writes away from cisgate: its bootstrap RBAC at every
// start (system:* ClusterRoles with wildcards) and its reconciling of the Service, Endpoints and
// EndpointSlice "kubernetes" in default every few seconds. With failurePolicy Fail they would
// otherwise depend on cisgate being up.
var notTheAPIServer = admissionregistrationv1.MatchCondition{
	Name:       "not-the-api-server",
	Expression: "request.userInfo.username != 'system:apiserver'",
}

// notEvents keeps Events out of the default-namespace entry: the control plane writes Events about
// cluster-scoped objects (Nodes, and cisgate's own about ClusterRoleBindings) into default, and a
// webhook on them would put every Event write behind cisgate. Only the Events of Kubernetes' two
// groups (core and events.k8s.io): a custom resource named events is a user's object (4.5.2).
var notEvents = admissionregistrationv1.MatchCondition{
	Name:       "not-events",
	Expression: "request.resource.resource != 'events' || !(request.resource.group in ['', 'events.k8s.io'])",
}

// onlyModeLabelNamespaces sends a Namespace write to cisgate only when the object or the stored one
// carries the cisgate.io/mode label, the one thing cisgate decides on Namespaces: creating or
// editing any other namespace never waits on cisgate (with failurePolicy Fail, a namespace could
// not be created while cisgate is down), while a label edit does, so namespaceModeEditors fails
// closed.
var onlyModeLabelNamespaces = admissionregistrationv1.MatchCondition{
	Name: "namespaces-with-the-mode-label",
	Expression: "request.resource.resource != 'namespaces' || " +
		"(has(object.metadata.labels) && 'cisgate.io/mode' in object.metadata.labels) || " +
		"(oldObject != null && has(oldObject.metadata.labels) && 'cisgate.io/mode' in oldObject.metadata.labels)",
}

func rule(groups, resources []string, ops ...admissionregistrationv1.OperationType) admissionregistrationv1.RuleWithOperations {
	versions := []string{"v1"}
	if groups[0] == "*" {
		versions = []string{"*"}
	}
	return admissionregistrationv1.RuleWithOperations{
		Operations: ops,
		Rule:       admissionregistrationv1.Rule{APIGroups: groups, APIVersions: versions, Resources: resources},
	}
}

// Configuration builds the ValidatingWebhookConfiguration the chart renders, for tests and the
// demo: one entry for the checked kinds outside excluded namespaces and default, one for every
// kind in default. clientConfig is filled in by the caller (Service or URL).
func Configuration(name string, excludedNamespaces []string, failurePolicy admissionregistrationv1.FailurePolicyType, clientConfig admissionregistrationv1.WebhookClientConfig) *admissionregistrationv1.ValidatingWebhookConfiguration {
	sideEffects := admissionregistrationv1.SideEffectClassNoneOnDryRun
	timeout := int32(5)
	equivalent := admissionregistrationv1.Equivalent
	entry := func(webhookName string, rules []admissionregistrationv1.RuleWithOperations, sel metav1.LabelSelectorRequirement, conditions ...admissionregistrationv1.MatchCondition) admissionregistrationv1.ValidatingWebhook {
		fp := failurePolicy
		return admissionregistrationv1.ValidatingWebhook{
			MatchConditions:         conditions,
			Name:                    webhookName,
			ClientConfig:            clientConfig,
			Rules:                   rules,
			FailurePolicy:           &fp,
			MatchPolicy:             &equivalent,
			SideEffects:             &sideEffects,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
			NamespaceSelector:       &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{sel}},
		}
	}
	return &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{
			entry("validate.cisgate.io", Rules(), metav1.LabelSelectorRequirement{
				Key: corev1.LabelMetadataName, Operator: metav1.LabelSelectorOpNotIn, Values: slices.Concat(excludedNamespaces, []string{"default"}),
			}, notTheAPIServer, onlyModeLabelNamespaces),
			entry("default-namespace.cisgate.io", DefaultNamespaceRules(), metav1.LabelSelectorRequirement{
				Key: corev1.LabelMetadataName, Operator: metav1.LabelSelectorOpIn, Values: []string{"default"},
			}, notTheAPIServer, notEvents, onlyModeLabelNamespaces),
		},
	}
}

package admission

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/internal/fakecluster"
	"github.com/cisgate/cisgate/policy"
)

// seen is what a test asserts of one finding.
type seen struct {
	ID           string
	Verdict      Verdict
	Preexisting  bool
	ExemptReason string
}

func seenOf(findings []Ruling) []seen {
	var out []seen
	for _, f := range findings {
		out = append(out, seen{ID: f.ID, Verdict: f.Verdict, Preexisting: f.Preexisting, ExemptReason: f.ExemptReason})
	}
	return out
}

// Messages of the checks the table uses, without their IDs.
const (
	msgPrivileged  = `container "app" must not set securityContext.privileged=true`
	msgHostNetwork = `pod must not set hostNetwork=true`
	// A privileged container escalates privileges whatever allowPrivilegeEscalation says (4.2.5).
	msgEscalates  = `container "app" escalates privileges whatever allowPrivilegeEscalation says: it sets securityContext.privileged=true`
	msgLastNetpol = `deleting NetworkPolicy "deny-all" would leave namespace "team-a" without any NetworkPolicy`
	preexisting   = " (already present before this update; not denied)"
	undecided     = " (cannot be decided here)"
)

func deniedPrefix(kind, name string) string {
	return "cisgate denied " + kind + ` "` + name + `" (CIS Amazon EKS Benchmark eks-1.8.0): `
}

// privilegedHostNetwork is a pod spec with two findings: 4.2.1 and 4.2.4.
func privilegedHostNetwork() corev1.PodSpec {
	spec := compliantSpec(privileged(hardened("app")))
	spec.HostNetwork = true
	return spec
}

func create(o policy.Object) Request { return Request{Operation: policy.OperationCreate, Object: o} }

func networkPolicy(namespace, name string) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
	}
}

func TestDecide(t *testing.T) {
	privPod := object(pod(ns, "web", privilegedHostNetwork()))
	legacySpec := compliantSpec()
	legacySpec.HostNetwork = true
	legacy := deployment(ns, "legacy", 3, legacySpec)
	withDebug := legacy.DeepCopy()
	withDebug.Spec.Template.Spec.Containers = append(withDebug.Spec.Template.Spec.Containers, privileged(hardened("debug")))
	scaled := legacy.DeepCopy()
	scaled.Spec.Replicas = ptr.To(int32(10))

	twoPrivileged := pod(ns, "web", compliantSpec(privileged(hardened("a")), privileged(hardened("b"))))
	reordered := twoPrivileged.DeepCopy()
	reordered.Spec.Containers[0], reordered.Spec.Containers[1] = reordered.Spec.Containers[1], reordered.Spec.Containers[0]
	reordered.Labels = map[string]string{"relabelled": "yes"}

	compliantPod := pod(ns, "web", compliantSpec())
	withEphemeral := compliantPod.DeepCopy()
	debugger := privileged(hardened("debugger"))
	withEphemeral.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon(debugger)}}

	tokenUnset := compliantSpec()
	tokenUnset.AutomountServiceAccountToken = nil

	manyFindings := compliantSpec(privileged(hardened("app")), hardened("sidecar"))
	manyFindings.Containers[1].SecurityContext.AllowPrivilegeEscalation = nil
	manyFindings.ServiceAccountName = ""
	manyFindings.HostNetwork, manyFindings.HostPID = true, true

	clusterRole := &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: "pv-admin"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"nodes/proxy"}, Verbs: []string{"get"}},
			{APIGroups: []string{""}, Resources: []string{"persistentvolumes"}, Verbs: []string{"create"}},
		},
	}
	defaultSA := &corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns},
	}
	twoNetpols := cluster()
	twoNetpols.NetworkPolicies[ns] = 2
	netpolErr := cluster()
	netpolErr.NetworkPolicyErr = errBoom
	saErr := cluster()
	saErr.ServiceAccountErr = errBoom
	exporterRule := `mode: enforce
exemptions:
  rules:
    - {checks: ["4.2.4", host-pid], namespace: team-a, kind: Pod, name: "node-exporter-*", reason: "node-exporter reads the host's network statistics"}
`

	cases := []struct {
		name     string
		config   string // default enforceConfig
		req      Request
		lookup   *fakecluster.State // default cluster()
		noLookup bool

		allowed  bool
		message  string
		warnings []string
		findings []seen
	}{
		{
			name: "compliant pod", req: create(object(compliantPod)), allowed: true,
		},
		{
			name: "enforce denies and lists every finding, sorted by ID",
			req:  create(object(pod(ns, "web", manyFindings))),
			message: deniedPrefix("Pod", "team-a/web") +
				`[4.1.5] pod must set serviceAccountName to a dedicated ServiceAccount, not "default" (empty means "default"); ` +
				`[4.2.1] ` + msgPrivileged + `; ` +
				`[4.2.2] pod must not set hostPID=true; ` +
				`[4.2.4] ` + msgHostNetwork + `; ` +
				`[4.2.5] ` + msgEscalates + `; ` +
				`[4.2.5] container "sidecar" must set securityContext.allowPrivilegeEscalation=false (unset defaults to true)`,
			findings: []seen{{"4.1.5", VerdictDeny, false, ""}, {"4.2.1", VerdictDeny, false, ""}, {"4.2.2", VerdictDeny, false, ""},
				{"4.2.4", VerdictDeny, false, ""}, {"4.2.5", VerdictDeny, false, ""}, {"4.2.5", VerdictDeny, false, ""}},
		},
		{
			name: "IDs sort numerically, not by rule order or as text",
			req:  create(object(clusterRole)),
			message: deniedPrefix("ClusterRole", "pv-admin") +
				`[4.1.9] rules[1] must not grant create on persistentvolumes (grants "create" on "persistentvolumes"); ` +
				`[4.1.10] rules[0] must not grant any verb on nodes/proxy (grants "get" on "nodes/proxy")`,
			findings: []seen{{"4.1.9", VerdictDeny, false, ""}, {"4.1.10", VerdictDeny, false, ""}},
		},
		{
			name: "audit allows with warnings carrying the IDs", config: "mode: audit\n",
			req: create(privPod), allowed: true,
			warnings: []string{"[4.2.1] " + msgPrivileged, "[4.2.4] " + msgHostNetwork, "[4.2.5] " + msgEscalates},
			findings: []seen{{"4.2.1", VerdictWarn, false, ""}, {"4.2.4", VerdictWarn, false, ""}, {"4.2.5", VerdictWarn, false, ""}},
		},

		// Modes, highest first: check off > namespace label > per-check > global.
		{
			name: "per-check audit under global enforce", config: "mode: enforce\nchecks: {\"4.2.4\": audit}\n",
			req:      create(privPod),
			message:  deniedPrefix("Pod", "team-a/web") + "[4.2.1] " + msgPrivileged + "; [4.2.5] " + msgEscalates,
			warnings: []string{"[4.2.4] " + msgHostNetwork},
			findings: []seen{{"4.2.1", VerdictDeny, false, ""}, {"4.2.4", VerdictWarn, false, ""}, {"4.2.5", VerdictDeny, false, ""}},
		},
		{
			name: "per-check mode by slug", config: "mode: audit\nchecks: {privileged: enforce}\n",
			req:      create(privPod),
			message:  deniedPrefix("Pod", "team-a/web") + "[4.2.1] " + msgPrivileged,
			warnings: []string{"[4.2.4] " + msgHostNetwork, "[4.2.5] " + msgEscalates},
			findings: []seen{{"4.2.1", VerdictDeny, false, ""}, {"4.2.4", VerdictWarn, false, ""}, {"4.2.5", VerdictWarn, false, ""}},
		},
		{
			name: "namespace label audit beats per-check enforce", config: "mode: enforce\nchecks: {\"4.2.1\": enforce}\n",
			req:      Request{Operation: policy.OperationCreate, Object: privPod, NamespaceMode: "audit"},
			allowed:  true,
			warnings: []string{"[4.2.1] " + msgPrivileged, "[4.2.4] " + msgHostNetwork, "[4.2.5] " + msgEscalates},
			findings: []seen{{"4.2.1", VerdictWarn, false, ""}, {"4.2.4", VerdictWarn, false, ""}, {"4.2.5", VerdictWarn, false, ""}},
		},
		{
			name: "namespace label enforce beats global audit", config: "mode: audit\n",
			req:      Request{Operation: policy.OperationCreate, Object: privPod, NamespaceMode: "enforce"},
			message:  deniedPrefix("Pod", "team-a/web") + "[4.2.1] " + msgPrivileged + "; [4.2.4] " + msgHostNetwork + "; [4.2.5] " + msgEscalates,
			findings: []seen{{"4.2.1", VerdictDeny, false, ""}, {"4.2.4", VerdictDeny, false, ""}, {"4.2.5", VerdictDeny, false, ""}},
		},
		{
			name: "check off beats the namespace label", config: "mode: audit\nchecks: {\"4.2.1\": \"off\"}\n",
			req:      Request{Operation: policy.OperationCreate, Object: privPod, NamespaceMode: "enforce"},
			message:  deniedPrefix("Pod", "team-a/web") + "[4.2.4] " + msgHostNetwork + "; [4.2.5] " + msgEscalates,
			findings: []seen{{"4.2.4", VerdictDeny, false, ""}, {"4.2.5", VerdictDeny, false, ""}},
		},
		{
			name: "an invalid namespace label is ignored", config: "mode: audit\nchecks: {\"4.2.1\": enforce}\n",
			req:      Request{Operation: policy.OperationCreate, Object: privPod, NamespaceMode: "Enforce!"},
			message:  deniedPrefix("Pod", "team-a/web") + "[4.2.1] " + msgPrivileged,
			warnings: []string{"[4.2.4] " + msgHostNetwork, "[4.2.5] " + msgEscalates},
			findings: []seen{{"4.2.1", VerdictDeny, false, ""}, {"4.2.4", VerdictWarn, false, ""}, {"4.2.5", VerdictWarn, false, ""}},
		},

		// Exemptions: neither denied nor warned, counted with their reason.
		{
			name: "exempt namespace", config: "mode: enforce\nexemptions: {namespaces: [legacy]}\n",
			req:      create(object(pod("legacy", "web", privilegedHostNetwork()))),
			allowed:  true,
			findings: []seen{{"4.2.1", VerdictExempt, false, "namespace legacy is exempt"}, {"4.2.4", VerdictExempt, false, "namespace legacy is exempt"}, {"4.2.5", VerdictExempt, false, "namespace legacy is exempt"}, {"4.3.2", VerdictExempt, false, "namespace legacy is exempt"}},
		},
		{
			name:     "kube-system is exempt by default",
			req:      create(object(pod("kube-system", "web", compliantSpec(privileged(hardened("app")))))),
			allowed:  true,
			findings: []seen{{"4.2.1", VerdictExempt, false, "namespace kube-system is exempt"}, {"4.2.5", VerdictExempt, false, "namespace kube-system is exempt"}, {"4.3.2", VerdictExempt, false, "namespace kube-system is exempt"}},
		},
		{
			name: "exempt username", config: "mode: enforce\nexemptions: {usernames: [ci-bot]}\n",
			req:      Request{Operation: policy.OperationCreate, Object: privPod, Username: "ci-bot", Groups: []string{"system:authenticated"}},
			allowed:  true,
			findings: []seen{{"4.2.1", VerdictExempt, false, `user "ci-bot" is exempt`}, {"4.2.4", VerdictExempt, false, `user "ci-bot" is exempt`}, {"4.2.5", VerdictExempt, false, `user "ci-bot" is exempt`}},
		},
		{
			name: "another username is not exempt", config: "mode: enforce\nexemptions: {usernames: [ci-bot]}\n",
			req:      Request{Operation: policy.OperationCreate, Object: privPod, Username: "ci-bot-2"},
			message:  deniedPrefix("Pod", "team-a/web") + "[4.2.1] " + msgPrivileged + "; [4.2.4] " + msgHostNetwork + "; [4.2.5] " + msgEscalates,
			findings: []seen{{"4.2.1", VerdictDeny, false, ""}, {"4.2.4", VerdictDeny, false, ""}, {"4.2.5", VerdictDeny, false, ""}},
		},
		{
			name:     "exempt group (system:nodes by default)",
			req:      Request{Operation: policy.OperationCreate, Object: privPod, Username: "system:node:ip-10-0-1-1", Groups: []string{"system:authenticated", "system:nodes"}},
			allowed:  true,
			findings: []seen{{"4.2.1", VerdictExempt, false, `group "system:nodes" is exempt`}, {"4.2.4", VerdictExempt, false, `group "system:nodes" is exempt`}, {"4.2.5", VerdictExempt, false, `group "system:nodes" is exempt`}},
		},
		{
			name: "exemption rule by name glob covers its checks only", config: exporterRule,
			req:      create(object(pod(ns, "node-exporter-x7k2p", privilegedHostNetwork()))),
			message:  deniedPrefix("Pod", "team-a/node-exporter-x7k2p") + "[4.2.1] " + msgPrivileged + "; [4.2.5] " + msgEscalates,
			findings: []seen{{"4.2.1", VerdictDeny, false, ""}, {"4.2.4", VerdictExempt, false, "node-exporter reads the host's network statistics"}, {"4.2.5", VerdictDeny, false, ""}},
		},
		{
			name: "exemption rule: another name", config: exporterRule,
			req:      create(privPod),
			message:  deniedPrefix("Pod", "team-a/web") + "[4.2.1] " + msgPrivileged + "; [4.2.4] " + msgHostNetwork + "; [4.2.5] " + msgEscalates,
			findings: []seen{{"4.2.1", VerdictDeny, false, ""}, {"4.2.4", VerdictDeny, false, ""}, {"4.2.5", VerdictDeny, false, ""}},
		},
		{
			name: "exemption rule: another kind", config: exporterRule,
			req: create(object(deployment(ns, "node-exporter-x7k2p", 1, privilegedHostNetwork()))),
			message: deniedPrefix("Deployment", "team-a/node-exporter-x7k2p") +
				`[4.2.1] container "app" must not set securityContext.privileged=true; [4.2.4] ` + msgHostNetwork + "; [4.2.5] " + msgEscalates,
			findings: []seen{{"4.2.1", VerdictDeny, false, ""}, {"4.2.4", VerdictDeny, false, ""}, {"4.2.5", VerdictDeny, false, ""}},
		},
		{
			name: "exemption rule: another namespace", config: exporterRule,
			req:      create(object(pod("team-b", "node-exporter-x7k2p", compliantSpec(privileged(hardened("app")))))),
			lookup:   &fakecluster.State{NetworkPolicies: map[string]int{"team-b": 3}, ServiceAccounts: map[string]*corev1.ServiceAccount{"team-b/app": {}}},
			message:  deniedPrefix("Pod", "team-b/node-exporter-x7k2p") + "[4.2.1] " + msgPrivileged + "; [4.2.5] " + msgEscalates,
			findings: []seen{{"4.2.1", VerdictDeny, false, ""}, {"4.2.5", VerdictDeny, false, ""}},
		},

		// Advisory findings are warned, never denied.
		{
			name: "ServiceAccount default is advisory in enforce", req: create(object(defaultSA)), allowed: true,
			warnings: []string{`[4.1.5] ServiceAccount "default" must set automountServiceAccountToken=false (advisory; never denied)`},
			findings: []seen{{"4.1.5", VerdictWarn, false, ""}},
		},
		{
			name: "ServiceAccount default in audit", config: "mode: audit\n", req: create(object(defaultSA)), allowed: true,
			warnings: []string{`[4.1.5] ServiceAccount "default" must set automountServiceAccountToken=false`},
			findings: []seen{{"4.1.5", VerdictWarn, false, ""}},
		},

		// UPDATE: what the old object already had is warned, what is new is denied.
		{
			name: "adding a privileged container to a legacy Deployment is denied",
			req:  Request{Operation: policy.OperationUpdate, Object: object(withDebug), OldObject: objPtr(legacy)},
			message: deniedPrefix("Deployment", "team-a/legacy") +
				`[4.2.1] container "debug" must not set securityContext.privileged=true; ` +
				`[4.2.5] container "debug" escalates privileges whatever allowPrivilegeEscalation says: it sets securityContext.privileged=true`,
			warnings: []string{"[4.2.4] " + msgHostNetwork + preexisting},
			findings: []seen{{"4.2.1", VerdictDeny, false, ""}, {"4.2.4", VerdictWarn, true, ""}, {"4.2.5", VerdictDeny, false, ""}},
		},
		{
			name:     "scaling a legacy hostNetwork Deployment is allowed",
			req:      Request{Operation: policy.OperationUpdate, Object: object(scaled), OldObject: objPtr(legacy)},
			allowed:  true,
			warnings: []string{"[4.2.4] " + msgHostNetwork + preexisting},
			findings: []seen{{"4.2.4", VerdictWarn, true, ""}},
		},
		{
			name: "scaling a legacy Deployment in audit mode", config: "mode: audit\n",
			req:      Request{Operation: policy.OperationUpdate, Object: object(scaled), OldObject: objPtr(legacy)},
			allowed:  true,
			warnings: []string{"[4.2.4] " + msgHostNetwork},
			findings: []seen{{"4.2.4", VerdictWarn, true, ""}},
		},
		{
			name:    "reordering containers and relabelling keeps old findings old",
			req:     Request{Operation: policy.OperationUpdate, Object: object(reordered), OldObject: objPtr(twoPrivileged)},
			allowed: true,
			warnings: []string{`[4.2.1] container "b" must not set securityContext.privileged=true` + preexisting,
				`[4.2.1] container "a" must not set securityContext.privileged=true` + preexisting,
				`[4.2.5] container "b" escalates privileges whatever allowPrivilegeEscalation says: it sets securityContext.privileged=true` + preexisting,
				`[4.2.5] container "a" escalates privileges whatever allowPrivilegeEscalation says: it sets securityContext.privileged=true` + preexisting},
			findings: []seen{{"4.2.1", VerdictWarn, true, ""}, {"4.2.1", VerdictWarn, true, ""}, {"4.2.5", VerdictWarn, true, ""}, {"4.2.5", VerdictWarn, true, ""}},
		},
		{
			name:     "UPDATE without an old object judges every finding as new",
			req:      Request{Operation: policy.OperationUpdate, Object: object(scaled)},
			message:  deniedPrefix("Deployment", "team-a/legacy") + "[4.2.4] " + msgHostNetwork,
			findings: []seen{{"4.2.4", VerdictDeny, false, ""}},
		},

		// DELETE: only a namespace's last NetworkPolicy matters.
		{
			name:     "deleting a namespace's last NetworkPolicy is denied",
			req:      Request{Operation: policy.OperationDelete, Object: object(networkPolicy(ns, "deny-all"))},
			message:  deniedPrefix("NetworkPolicy", "team-a/deny-all") + "[4.3.2] " + msgLastNetpol,
			findings: []seen{{"4.3.2", VerdictDeny, false, ""}},
		},
		{
			name:    "deleting one of two NetworkPolicies is allowed",
			req:     Request{Operation: policy.OperationDelete, Object: object(networkPolicy(ns, "deny-all"))},
			lookup:  twoNetpols,
			allowed: true,
		},
		{
			name: "deleting the last NetworkPolicy in audit mode", config: "mode: audit\n",
			req:      Request{Operation: policy.OperationDelete, Object: object(networkPolicy(ns, "deny-all"))},
			allowed:  true,
			warnings: []string{"[4.3.2] " + msgLastNetpol},
			findings: []seen{{"4.3.2", VerdictWarn, false, ""}},
		},
		{
			name:     "deleting a NetworkPolicy when they cannot be counted",
			req:      Request{Operation: policy.OperationDelete, Object: object(networkPolicy(ns, "deny-all"))},
			lookup:   netpolErr,
			allowed:  true,
			warnings: []string{`[4.3.2] cannot count NetworkPolicies in namespace "team-a": the cache is not synced` + undecided},
			findings: []seen{{"4.3.2", VerdictWarn, false, ""}},
		},
		{
			name: "deleting a privileged Pod is allowed without evaluation",
			req:  Request{Operation: policy.OperationDelete, Object: privPod}, allowed: true,
		},
		{
			name: "deleting a ClusterRole is allowed without evaluation",
			req:  Request{Operation: policy.OperationDelete, Object: object(clusterRole)}, allowed: true,
		},
		{
			name: "deleting an object in default is allowed without evaluation",
			req:  Request{Operation: policy.OperationDelete, Object: object(pod("default", "web", compliantSpec()))}, allowed: true,
		},

		// Subresources.
		{
			name: "status of a privileged pod is not evaluated",
			req:  Request{Operation: policy.OperationUpdate, SubResource: "status", Object: privPod, OldObject: &privPod}, allowed: true,
		},
		{
			name: "scale is not evaluated",
			req:  Request{Operation: policy.OperationUpdate, SubResource: "scale", Object: object(withDebug)}, allowed: true,
		},
		{
			name: "a privileged ephemeral container is denied",
			req:  Request{Operation: policy.OperationUpdate, SubResource: "ephemeralcontainers", Object: object(withEphemeral), OldObject: objPtr(compliantPod)},
			message: deniedPrefix("Pod", "team-a/web") + `[4.2.1] ephemeral container "debugger" must not set securityContext.privileged=true; ` +
				`[4.2.5] ephemeral container "debugger" escalates privileges whatever allowPrivilegeEscalation says: it sets securityContext.privileged=true`,
			findings: []seen{{"4.2.1", VerdictDeny, false, ""}, {"4.2.5", VerdictDeny, false, ""}},
		},

		// WARN results (no cluster state, lookup errors) never deny.
		{
			name: "no cluster state", req: create(object(pod(ns, "web", tokenUnset))), noLookup: true, allowed: true,
			warnings: []string{
				`[4.1.6] needs cluster state: pod leaves automountServiceAccountToken unset and ServiceAccount "app" cannot be read here; set automountServiceAccountToken=false on the pod to decide it` + undecided,
				`[4.3.2] needs cluster state: cannot tell whether the namespace has a NetworkPolicy` + undecided,
			},
			findings: []seen{{"4.1.6", VerdictWarn, false, ""}, {"4.3.2", VerdictWarn, false, ""}},
		},
		{
			name: "a lookup error warns next to a denial",
			req: create(object(pod(ns, "web", func() corev1.PodSpec {
				s := tokenUnset
				s.Containers = []corev1.Container{privileged(hardened("app"))}
				return s
			}()))),
			lookup:   saErr,
			message:  deniedPrefix("Pod", "team-a/web") + "[4.2.1] " + msgPrivileged + "; [4.2.5] " + msgEscalates,
			warnings: []string{`[4.1.6] cannot read ServiceAccount "app": the cache is not synced` + undecided},
			findings: []seen{{"4.1.6", VerdictWarn, false, ""}, {"4.2.1", VerdictDeny, false, ""}, {"4.2.5", VerdictDeny, false, ""}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			config := tc.config
			if config == "" {
				config = enforceConfig
			}
			var lookup policy.Lookup = cluster()
			switch {
			case tc.noLookup:
				lookup = nil
			case tc.lookup != nil:
				lookup = tc.lookup
			}
			d := Decide(mustPolicy(t, config), tc.req, lookup)
			assert.Equal(t, tc.allowed, d.Allowed, "allowed")
			assert.Equal(t, tc.message, d.Message, "message")
			assert.Equal(t, tc.warnings, d.Warnings, "warnings")
			assert.Equal(t, tc.findings, seenOf(d.Rulings), "findings")
			if !tc.allowed {
				require.NotEmpty(t, d.Message)
			}
		})
	}
}

// TestDecideMessageListsEveryFindingSorted checks the denial against the findings themselves, for
// a pod with a finding in every pod check and ID range (4.1.x, 4.2.x, 4.3.x, 4.4.x, 4.5.x): each
// denying finding appears once, in ID order, and no warned one does.
func TestDecideMessageListsEveryFindingSorted(t *testing.T) {
	spec := compliantSpec(privileged(hardened("app")))
	spec.ServiceAccountName = "default"
	spec.AutomountServiceAccountToken = ptr.To(true)
	spec.HostPID, spec.HostIPC, spec.HostNetwork = true, true, true
	spec.InitContainers = []corev1.Container{hardened("init")}
	spec.InitContainers[0].SecurityContext.AllowPrivilegeEscalation = ptr.To(true)
	spec.Containers[0].Env = []corev1.EnvVar{{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{
		SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "api"}, Key: "token"}}}}
	empty := &fakecluster.State{}
	d := Decide(mustPolicy(t, "mode: enforce\nchecks: {\"4.2.3\": audit}\n"), create(object(pod("default", "web", spec))), empty)

	require.False(t, d.Allowed)
	var ids, denials, warnings []string
	for _, f := range d.Rulings {
		ids = append(ids, f.ID)
		switch f.Verdict {
		case VerdictDeny:
			denials = append(denials, f.Message())
		case VerdictWarn:
			warnings = append(warnings, f.Message())
		}
	}
	assert.Equal(t, []string{"4.1.5", "4.1.6", "4.2.1", "4.2.2", "4.2.3", "4.2.4", "4.2.5", "4.2.5", "4.3.2", "4.4.1", "4.5.2"}, ids)
	assert.Equal(t, []string{"[4.2.3] pod must not set hostIPC=true"}, warnings)
	assert.Equal(t, d.Warnings, warnings)
	want := deniedPrefix("Pod", "default/web")
	for i, m := range denials {
		if i > 0 {
			want += "; "
		}
		want += m
	}
	assert.Equal(t, want, d.Message)
	assert.Contains(t, d.Message, `[4.4.1] container "app" must not read Secret "api" into env "TOKEN"; mount it as a volume`)
	assert.Contains(t, d.Message, `[4.5.2] Pod must not be created in namespace "default"; use a dedicated namespace`)
}

// #9 item 1: with namespaceModeEditors set, only they may set, change or remove a Namespace's
// cisgate.io/mode label, whatever the mode; Pod Security Admission leaves its labels to RBAC alone.
func TestDecideNamespaceModeEditors(t *testing.T) {
	namespace := func(labels map[string]string) policy.Object {
		return policy.NewObject("Namespace", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: labels}})
	}
	mode := func(v string) map[string]string { return map[string]string{policy.NamespaceModeLabel: v} }
	update := func(old, cur map[string]string, user string, groups ...string) Request {
		o := namespace(old)
		return Request{Operation: policy.OperationUpdate, Object: namespace(cur), OldObject: &o, Username: user, Groups: groups}
	}
	const editors = "mode: audit\nnamespaceModeEditors: {users: [alice], groups: [platform]}\nexemptions: {usernames: [ci-bot]}\n"
	const tail = "; only the users and groups in the cisgate config's namespaceModeEditors may"
	for _, tc := range []struct {
		name    string
		config  string
		req     Request
		message string // "" means allowed
	}{
		{"create with a label by another user", editors,
			Request{Operation: policy.OperationCreate, Object: namespace(mode("audit")), Username: "bob"},
			`cisgate denied Namespace "shop": user "bob" may not set label cisgate.io/mode="audit"` + tail},
		{"change by another user", editors, update(mode("enforce"), mode("off"), "bob", "devs"),
			`cisgate denied Namespace "shop": user "bob" may not change label cisgate.io/mode from "enforce" to "off"` + tail},
		{"removal by another user", editors, update(mode("enforce"), nil, "bob"),
			`cisgate denied Namespace "shop": user "bob" may not remove label cisgate.io/mode (was "enforce")` + tail},
		{"an exempt user is no editor", editors, update(nil, mode("audit"), "ci-bot"),
			`cisgate denied Namespace "shop": user "ci-bot" may not set label cisgate.io/mode="audit"` + tail},
		{"change by an editor user", editors, update(mode("enforce"), mode("audit"), "alice"), ""},
		{"change by an editor group", editors, update(mode("enforce"), mode("audit"), "carol", "platform"), ""},
		{"other labels by anyone", editors, update(mode("audit"), map[string]string{policy.NamespaceModeLabel: "audit", "team": "x"}, "bob"), ""},
		{"create without the label by anyone", editors, Request{Operation: policy.OperationCreate, Object: namespace(nil), Username: "bob"}, ""},
		{"no editors configured: left to RBAC", "mode: enforce\n", update(mode("enforce"), mode("audit"), "bob"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(mustPolicy(t, tc.config), tc.req, cluster())
			assert.Equal(t, tc.message == "", d.Allowed)
			assert.Equal(t, tc.message, d.Message)
		})
	}

	t.Run("an ignored label value is a warning on the Namespace, never a denial", func(t *testing.T) {
		d := Decide(mustPolicy(t, enforceConfig), update(nil, mode("off"), "bob"), cluster())
		require.True(t, d.Allowed)
		require.Len(t, d.Warnings, 1)
		assert.Contains(t, d.Warnings[0], `[cisgate.1] label cisgate.io/mode="off" is ignored`)
	})
	t.Run("a namespace labelled off still gets denials", func(t *testing.T) {
		d := Decide(mustPolicy(t, enforceConfig), Request{Operation: policy.OperationCreate, Object: object(pod(ns, "web", privilegedHostNetwork())), NamespaceMode: "off"}, cluster())
		assert.False(t, d.Allowed)
		assert.Contains(t, d.Message, msgPrivileged)
	})
}

// #9 item 10: an Ingress's class is looked up in the cluster's IngressClasses; the AWS Load
// Balancer Controller's makes it an ALB, which 5.4.5 holds to a certificate. A lookup that fails
// is a warning, never a denial: cisgate never denies on its own failure.
func TestDecideFollowsTheIngressClassInTheCluster(t *testing.T) {
	pol := mustPolicy(t, enforceConfig)
	className := "external"
	ingress := object(&networkingv1.Ingress{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec:       networkingv1.IngressSpec{IngressClassName: &className},
	})
	classOf := func(controller string) []networkingv1.IngressClass {
		return []networkingv1.IngressClass{{ObjectMeta: metav1.ObjectMeta{Name: className}, Spec: networkingv1.IngressClassSpec{Controller: controller}}}
	}
	const need = " must set annotation alb.ingress.kubernetes.io/certificate-arn to an ACM certificate ARN"

	alb := cluster()
	alb.Classes = classOf("ingress.k8s.aws/alb")
	d := Decide(pol, create(ingress), alb)
	assert.False(t, d.Allowed)
	assert.Equal(t, deniedPrefix("Ingress", ns+"/web")+`[5.4.5] Ingress of class "external" (controller ingress.k8s.aws/alb)`+need, d.Message)

	nginx := cluster()
	nginx.Classes = classOf("k8s.io/ingress-nginx")
	assert.Equal(t, Decision{Allowed: true}, Decide(pol, create(ingress), nginx))

	unreadable := cluster()
	unreadable.IngressClassErr = errors.New("timed out waiting for the IngressClass cache")
	d = Decide(pol, create(ingress), unreadable)
	assert.True(t, d.Allowed, "a failed lookup never denies")
	assert.Equal(t, []string{`[5.4.5] cannot read IngressClass "external": timed out waiting for the IngressClass cache; ` +
		`if the AWS Load Balancer Controller (ingress.k8s.aws/alb) serves the Ingress, it` + need + undecided}, d.Warnings)
}

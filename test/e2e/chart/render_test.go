package chart

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/webhook"
)

func convert[T any](t testing.TB, u *unstructured.Unstructured) *T {
	t.Helper()
	var out T
	require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, &out, true),
		"%s %s does not decode strictly", u.GetKind(), u.GetName())
	return &out
}

// renderedConfig returns config.yaml from the ConfigMap <release>-config.
func renderedConfig(t testing.TB, objs []*unstructured.Unstructured, release string) string {
	t.Helper()
	cm := convert[corev1.ConfigMap](t, find(t, objs, "ConfigMap", release+"-config"))
	cfg, ok := cm.Data["config.yaml"]
	require.True(t, ok, "ConfigMap %s-config has no key config.yaml", release)
	return cfg
}

// TestEveryObjectNamespaced: every namespaced object names the release namespace itself (so
// that `cisgate check` and `kubectl apply -f` on the rendered chart see where it goes).
func TestEveryObjectNamespaced(t *testing.T) {
	clusterScoped := []string{"ClusterRole", "ClusterRoleBinding", "ValidatingWebhookConfiguration"}
	for _, v := range variants {
		for _, o := range decode(t, template(t, defaultRelease(v.args...))) {
			if slices.Contains(clusterScoped, o.GetKind()) {
				assert.Empty(t, o.GetNamespace(), "%s %s", o.GetKind(), o.GetName())
				continue
			}
			assert.Equal(t, releaseNamespace, o.GetNamespace(), "%s %s", o.GetKind(), o.GetName())
		}
	}
}

// TestRenderedKinds pins what each variant renders.
func TestRenderedKinds(t *testing.T) {
	kinds := func(args ...string) []string {
		var out []string
		for _, o := range decode(t, template(t, defaultRelease(args...))) {
			out = append(out, o.GetKind()+"/"+o.GetName())
		}
		sort.Strings(out)
		return out
	}
	common := []string{
		"ClusterRole/cisgate", "ClusterRole/cisgate-nodescan",
		"ClusterRoleBinding/cisgate", "ClusterRoleBinding/cisgate-nodescan",
		"ConfigMap/cisgate-config", "Deployment/cisgate", "Lease/cisgate-leader", "NetworkPolicy/cisgate", "NetworkPolicy/cisgate-nodescan",
		"PodDisruptionBudget/cisgate", "Role/cisgate", "Role/cisgate-nodescan",
		"RoleBinding/cisgate", "RoleBinding/cisgate-nodescan", "Service/cisgate",
		"ServiceAccount/cisgate", "ServiceAccount/cisgate-nodescan",
		"ValidatingWebhookConfiguration/cisgate",
	}
	certManager := []string{"Certificate/cisgate-ca", "Certificate/cisgate-serving", "Issuer/cisgate-ca", "Issuer/cisgate-selfsigned"}
	want := append(slices.Clone(common), certManager...)
	sort.Strings(want)
	assert.Equal(t, want, kinds())

	want = append(slices.Clone(common), "Secret/cisgate-tls")
	sort.Strings(want)
	assert.Equal(t, want, kinds("--set", "certManager.enabled=false"))

	// One replica: no PDB (minAvailable 1 would block every drain). No node scan: none of its objects.
	got := kinds("--set", "replicaCount=1", "--set", "nodeScan.enabled=false", "--set", "networkPolicy.enabled=false")
	assert.NotContains(t, got, "PodDisruptionBudget/cisgate")
	assert.NotContains(t, got, "NetworkPolicy/cisgate")
	for _, k := range got {
		assert.NotContains(t, k, "nodescan")
	}
}

// TestWebhookConfiguration: the rendered ValidatingWebhookConfiguration is exactly what
// webhook.Configuration builds (rules for every checked kind from webhook.Rules, every kind in
// default from webhook.DefaultNamespaceRules, the namespace selectors, NoneOnDryRun, 5s,
// Equivalent), with the failure policy the mode implies.
func TestWebhookConfiguration(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		policy   admissionregistrationv1.FailurePolicyType
		excluded []string
	}{
		{"audit", nil, admissionregistrationv1.Ignore, []string{"kube-system", releaseNamespace}},
		{"enforce", []string{"--set", "mode=enforce"}, admissionregistrationv1.Fail, []string{"kube-system", releaseNamespace}},
		{"enforce, failurePolicy Ignore", []string{"--set", "mode=enforce", "--set", "webhook.failurePolicy=Ignore"}, admissionregistrationv1.Ignore, []string{"kube-system", releaseNamespace}},
		{"audit, failurePolicy Fail", []string{"--set", "webhook.failurePolicy=Fail"}, admissionregistrationv1.Fail, []string{"kube-system", releaseNamespace}},
		{"no cert-manager", []string{"--set", "certManager.enabled=false"}, admissionregistrationv1.Ignore, []string{"kube-system", releaseNamespace}},
		// kube-system and the release namespace stay excluded whatever the exempt namespaces are.
		{"more exempt namespaces", []string{"--set", "exemptions.namespaces={legacy,kube-system}"}, admissionregistrationv1.Ignore, []string{"kube-system", "legacy", releaseNamespace}},
		{"kube-system not exempt", []string{"--set", "exemptions.namespaces={legacy}"}, admissionregistrationv1.Ignore, []string{"kube-system", "legacy", releaseNamespace}},
		// A namespace exempt until a date stays under the webhook, which must see its requests
		// again from that date on; the release namespace stays excluded even with an expiry.
		{"exempt namespaces with an expiry", []string{"--set-json", `exemptions.namespaces=["old", {"name": "legacy", "expires": "2026-12-01T00:00:00Z", "owner": "team-a"}, {"name": "forever", "reason": "r"}, {"name": "` + releaseNamespace + `", "expires": "2026-12-01T00:00:00Z"}]`},
			admissionregistrationv1.Ignore, []string{"kube-system", "old", "forever", releaseNamespace}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := decode(t, template(t, defaultRelease(tc.args...)))
			got := convert[admissionregistrationv1.ValidatingWebhookConfiguration](t, find(t, objs, "ValidatingWebhookConfiguration", releaseName))

			clientConfig := admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{
				Namespace: releaseNamespace, Name: releaseName, Path: ptr.To(webhook.Path), Port: ptr.To[int32](443),
			}}
			certManager := !slices.Contains(tc.args, "certManager.enabled=false")
			if certManager {
				assert.Equal(t, releaseNamespace+"/"+releaseName+"-serving", got.Annotations["cert-manager.io/inject-ca-from"])
			} else {
				assert.NotContains(t, got.Annotations, "cert-manager.io/inject-ca-from")
				require.Len(t, got.Webhooks, 2)
				clientConfig.CABundle = got.Webhooks[0].ClientConfig.CABundle
				assert.Equal(t, clientConfig.CABundle, got.Webhooks[1].ClientConfig.CABundle)
				verifyServingCert(t, objs, clientConfig.CABundle)
			}
			want := webhook.Configuration(releaseName, tc.excluded, tc.policy, clientConfig)
			assert.Equal(t, want.Webhooks, got.Webhooks)
			// The same rules, said the other way round: exactly Rules() and DefaultNamespaceRules().
			assert.Equal(t, webhook.Rules(), got.Webhooks[0].Rules)
			assert.Equal(t, webhook.DefaultNamespaceRules(), got.Webhooks[1].Rules)
		})
	}
}

// verifyServingCert: without cert-manager, the Secret's certificate is signed by the caBundle's CA
// for the Service's DNS names, and ca.crt is that CA.
func verifyServingCert(t *testing.T, objs []*unstructured.Unstructured, caBundle []byte) {
	t.Helper()
	secret := convert[corev1.Secret](t, find(t, objs, "Secret", releaseName+"-tls"))
	assert.Equal(t, corev1.SecretTypeTLS, secret.Type)
	assert.Equal(t, caBundle, secret.Data["ca.crt"])
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(caBundle), "caBundle holds no PEM certificate")
	block, _ := pem.Decode(secret.Data["tls.crt"])
	require.NotNil(t, block, "tls.crt is no PEM")
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	for _, dns := range []string{releaseName + "." + releaseNamespace + ".svc", releaseName + "." + releaseNamespace + ".svc.cluster.local"} {
		_, err := cert.Verify(x509.VerifyOptions{DNSName: dns, Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		assert.NoError(t, err, "serving certificate for %s", dns)
	}
	keyBlock, _ := pem.Decode(secret.Data["tls.key"])
	require.NotNil(t, keyBlock, "tls.key is no PEM")
}

// TestCertManagerObjects: the serving Certificate covers the Service's DNS names, is issued by the
// chart's CA Issuer, and lands in the Secret the Deployment mounts.
func TestCertManagerObjects(t *testing.T) {
	objs := decode(t, template(t, defaultRelease()))
	serving := find(t, objs, "Certificate", releaseName+"-serving")
	dnsNames, _, _ := unstructured.NestedStringSlice(serving.Object, "spec", "dnsNames")
	assert.Equal(t, []string{"cisgate.cisgate-system.svc", "cisgate.cisgate-system.svc.cluster.local"}, dnsNames)
	secretName, _, _ := unstructured.NestedString(serving.Object, "spec", "secretName")
	assert.Equal(t, releaseName+"-tls", secretName)
	issuer, _, _ := unstructured.NestedString(serving.Object, "spec", "issuerRef", "name")
	assert.Equal(t, releaseName+"-ca", issuer)

	ca := find(t, objs, "Certificate", releaseName+"-ca")
	isCA, _, _ := unstructured.NestedBool(ca.Object, "spec", "isCA")
	assert.True(t, isCA)
	caIssuer, _, _ := unstructured.NestedString(ca.Object, "spec", "issuerRef", "name")
	assert.Equal(t, releaseName+"-selfsigned", caIssuer)
	_, selfSigned, _ := unstructured.NestedMap(find(t, objs, "Issuer", releaseName+"-selfsigned").Object, "spec", "selfSigned")
	assert.True(t, selfSigned)
	caSecret, _, _ := unstructured.NestedString(find(t, objs, "Issuer", releaseName+"-ca").Object, "spec", "ca", "secretName")
	assert.Equal(t, releaseName+"-ca", caSecret)

	dep := convert[appsv1.Deployment](t, find(t, objs, "Deployment", releaseName))
	var mounted string
	for _, v := range dep.Spec.Template.Spec.Volumes {
		if v.Secret != nil {
			mounted = v.Secret.SecretName
		}
	}
	assert.Equal(t, releaseName+"-tls", mounted)
}

// TestDeployment: the fixed interface of `cisgate serve`, and the pod's hardening.
func TestDeployment(t *testing.T) {
	objs := decode(t, template(t, defaultRelease()))
	dep := convert[appsv1.Deployment](t, find(t, objs, "Deployment", releaseName))
	assert.Equal(t, ptr.To[int32](2), dep.Spec.Replicas)
	pod := dep.Spec.Template.Spec
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	assert.Equal(t, "ghcr.io/cisgate/cisgate:0.1.0", c.Image)
	assert.Equal(t, []string{
		"serve", "--config=/etc/cisgate/config.yaml", "--config-map=cisgate-config", "--cert-dir=/tmp/k8s-webhook-server/serving-certs",
		"--port=9443", "--namespace=$(POD_NAMESPACE)", "--replica=$(POD_NAME)",
		"--metrics-bind-address=:8080", "--health-probe-bind-address=:8081",
		"--shutdown-delay=5s", "--drain-timeout=15s",
		"--audit-interval=10m", "--audit-page-size=500",
		"--nodescan-enabled=true", "--nodescan-image=ghcr.io/cisgate/cisgate:0.1.0", "--nodescan-interval=24h",
		"--nodescan-parallelism=10", "--nodescan-job-qps=1", "--nodescan-ttl=1h", "--nodescan-active-deadline=5m",
		"--nodescan-service-account=cisgate-nodescan",
	}, c.Args)
	assert.Empty(t, c.Command, "the image's entrypoint is cisgate")
	env := map[string]string{}
	for _, e := range c.Env {
		require.NotNil(t, e.ValueFrom, e.Name)
		env[e.Name] = e.ValueFrom.FieldRef.FieldPath
	}
	assert.Equal(t, map[string]string{"POD_NAMESPACE": "metadata.namespace", "POD_NAME": "metadata.name"}, env)

	require.NotNil(t, c.LivenessProbe)
	require.NotNil(t, c.ReadinessProbe)
	assert.Equal(t, "/healthz", c.LivenessProbe.HTTPGet.Path)
	assert.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path)
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	assert.Equal(t, map[string]int32{"webhook": 9443, "metrics": 8080, "health": 8081}, ports)
	assert.Equal(t, "health", c.LivenessProbe.HTTPGet.Port.StrVal)
	assert.Equal(t, "health", c.ReadinessProbe.HTTPGet.Port.StrVal)
	assert.False(t, c.Resources.Requests.Cpu().IsZero())
	assert.False(t, c.Resources.Limits.Memory().IsZero())

	sc := c.SecurityContext
	require.NotNil(t, sc)
	assert.Equal(t, ptr.To(true), sc.RunAsNonRoot)
	assert.Equal(t, ptr.To[int64](65532), sc.RunAsUser)
	assert.Equal(t, ptr.To(true), sc.ReadOnlyRootFilesystem)
	assert.Equal(t, ptr.To(false), sc.AllowPrivilegeEscalation)
	assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
	assert.Empty(t, sc.Capabilities.Add)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, sc.SeccompProfile.Type)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, pod.SecurityContext.SeccompProfile.Type)
	assert.Equal(t, ptr.To(true), pod.SecurityContext.RunAsNonRoot)

	assert.Equal(t, releaseName, pod.ServiceAccountName)
	assert.Equal(t, ptr.To(true), pod.AutomountServiceAccountToken)
	sa := convert[corev1.ServiceAccount](t, find(t, objs, "ServiceAccount", releaseName))
	assert.Equal(t, ptr.To(false), sa.AutomountServiceAccountToken, "only the pod that needs the token asks for it")
	assert.False(t, pod.HostPID || pod.HostIPC || pod.HostNetwork)

	require.NotNil(t, pod.Affinity)
	require.NotNil(t, pod.Affinity.PodAntiAffinity)
	terms := pod.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution
	require.Len(t, terms, 1)
	assert.Equal(t, "kubernetes.io/hostname", terms[0].PodAffinityTerm.TopologyKey)
	assert.Equal(t, dep.Spec.Selector.MatchLabels, terms[0].PodAffinityTerm.LabelSelector.MatchLabels)

	hard := convert[appsv1.Deployment](t, find(t, decode(t, template(t, defaultRelease("--set", "podAntiAffinity=hard"))), "Deployment", releaseName))
	require.Len(t, hard.Spec.Template.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution, 1)

	// The config volume is a whole directory, so that a change to the ConfigMap reaches the pod.
	for _, m := range c.VolumeMounts {
		assert.Empty(t, m.SubPath, m.Name)
	}

	// The PDB and the Service select these pods; the Service sends 443 to the webhook port.
	pdb := find(t, objs, "PodDisruptionBudget", releaseName)
	minAvailable, _, _ := unstructured.NestedFieldNoCopy(pdb.Object, "spec", "minAvailable")
	assert.EqualValues(t, 1, minAvailable)
	svc := convert[corev1.Service](t, find(t, objs, "Service", releaseName))
	assert.Equal(t, dep.Spec.Selector.MatchLabels, svc.Spec.Selector)
	svcPorts := map[int32]string{}
	for _, p := range svc.Spec.Ports {
		svcPorts[p.Port] = p.TargetPort.StrVal
	}
	assert.Equal(t, map[int32]string{443: "webhook", 8080: "metrics"}, svcPorts)

	np := convert[networkingv1.NetworkPolicy](t, find(t, objs, "NetworkPolicy", releaseName))
	assert.Equal(t, dep.Spec.Selector.MatchLabels, np.Spec.PodSelector.MatchLabels)
}

// readsBeyondCheckedKinds are the ClusterRole's reads of kinds no check decides on, by API group:
// the node scan scheduler's Nodes, and the IngressClasses 5.4.5 follows an Ingress to.
var readsBeyondCheckedKinds = map[string][]string{
	"":                  {"nodes"},
	"networking.k8s.io": {"ingressclasses"},
}

// expectedClusterReads are the ClusterRole's get, list and watch, by API group, sorted: every
// checked kind (the background audit lists them all, and the webhook caches some) and
// readsBeyondCheckedKinds.
func expectedClusterReads() map[string][]string {
	reads := map[string][]string{}
	for g, resources := range readsBeyondCheckedKinds {
		reads[g] = slices.Clone(resources)
	}
	for _, k := range policy.CheckedKinds() {
		reads[k.Group] = append(reads[k.Group], k.Resource)
	}
	for _, resources := range reads {
		slices.Sort(resources)
	}
	return reads
}

// TestWebhookRulesFollowCheckedKinds ties the chart's webhook rules to the table of checked kinds
// (policy.CheckedKinds), independently of webhook.Rules: the entry outside default sends exactly
// the CREATE and UPDATE of every checked kind and of the subresources it lists, and the DELETE of
// the kinds decided on delete, in the served version.
func TestWebhookRulesFollowCheckedKinds(t *testing.T) {
	var want []string
	for _, k := range policy.CheckedKinds() {
		resources := []string{k.Resource}
		for _, sub := range k.Subresources {
			resources = append(resources, k.Resource+"/"+sub)
		}
		ops := []string{"CREATE", "UPDATE"}
		if k.DeleteOnly {
			ops = []string{"DELETE"}
		}
		for _, r := range resources {
			for _, op := range ops {
				want = append(want, op+" "+k.Group+"/"+k.Version+"/"+r)
			}
		}
	}
	objs := decode(t, template(t, defaultRelease()))
	vwc := convert[admissionregistrationv1.ValidatingWebhookConfiguration](t, find(t, objs, "ValidatingWebhookConfiguration", releaseName))
	require.Equal(t, "validate.cisgate.io", vwc.Webhooks[0].Name)
	var got []string
	for _, r := range vwc.Webhooks[0].Rules {
		for _, op := range r.Operations {
			for _, g := range r.APIGroups {
				for _, v := range r.APIVersions {
					for _, res := range r.Resources {
						got = append(got, string(op)+" "+g+"/"+v+"/"+res)
					}
				}
			}
		}
	}
	assert.ElementsMatch(t, want, got)
}

// TestRBAC: no wildcard, no Secrets, no escalation verbs anywhere; exactly the reads the webhook
// and the audit need; writes limited to the report ConfigMap, the leader Lease, Events and Jobs.
// nodeScan.extraHostPaths reach the controller as one flag each (it mounts them into the Jobs).
func TestNodeScanExtraHostPaths(t *testing.T) {
	objs := decode(t, template(t, defaultRelease("--set", "nodeScan.extraHostPaths[0]=/etc/eks/kubelet",
		"--set", "nodeScan.extraHostPaths[1].path=/var/lib/kubelet/kubeconfig", "--set", "nodeScan.extraHostPaths[1].type=File")))
	dep := convert[appsv1.Deployment](t, find(t, objs, "Deployment", releaseName))
	args := dep.Spec.Template.Spec.Containers[0].Args
	assert.Equal(t, []string{"--nodescan-extra-host-path=path=/etc/eks/kubelet", "--nodescan-extra-host-path=path=/var/lib/kubelet/kubeconfig,type=File"}, args[len(args)-2:])

	_, err := runHelm(t, "template", releaseName, chartDir(t), "--set", "nodeScan.extraHostPaths={relative/path}")
	require.Error(t, err, "the schema wants absolute paths")
}

func TestRBAC(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			objs := decode(t, template(t, defaultRelease(v.args...)))
			roles := map[string][]rbacv1.PolicyRule{}
			for _, o := range ofKind(objs, "ClusterRole", "Role") {
				var rules []rbacv1.PolicyRule
				if o.GetKind() == "ClusterRole" {
					cr := convert[rbacv1.ClusterRole](t, o)
					assert.Nil(t, cr.AggregationRule, o.GetName())
					rules = cr.Rules
				} else {
					rules = convert[rbacv1.Role](t, o).Rules
				}
				roles[o.GetKind()+"/"+o.GetName()] = rules
				for _, r := range rules {
					for _, s := range slices.Concat(r.APIGroups, r.Resources, r.Verbs, r.ResourceNames, r.NonResourceURLs) {
						assert.NotContains(t, s, "*", "%s %s: wildcard in %+v", o.GetKind(), o.GetName(), r)
					}
					assert.Empty(t, r.NonResourceURLs, o.GetName())
					for _, res := range r.Resources {
						assert.NotContains(t, []string{"secrets", "nodes/proxy", "serviceaccounts/token", "persistentvolumes",
							"validatingwebhookconfigurations", "mutatingwebhookconfigurations", "pods/exec", "pods/attach"}, res, o.GetName())
					}
					for _, verb := range r.Verbs {
						assert.NotContains(t, []string{"bind", "escalate", "impersonate"}, verb, o.GetName())
					}
				}
			}

			// The webhook: read cluster-wide exactly what it caches and audits; write Events.
			reads := map[string][]string{}
			for _, r := range roles["ClusterRole/cisgate"] {
				if slices.Equal(r.Verbs, []string{"get", "list", "watch"}) {
					require.Len(t, r.APIGroups, 1)
					reads[r.APIGroups[0]] = append(reads[r.APIGroups[0]], r.Resources...)
					continue
				}
				assert.Equal(t, rbacv1.PolicyRule{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}}, r)
			}
			for _, resources := range reads {
				slices.Sort(resources)
			}
			assert.Equal(t, expectedClusterReads(), reads, "every checked kind and readsBeyondCheckedKinds, nothing else")

			// In its namespace: the report and the config by name (each also watched by name),
			// the release's Lease by name (the chart creates it: no create on Leases),
			// leader election Events, the scan Jobs.
			assert.Equal(t, []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"cisgate-report"}, Verbs: []string{"get", "list", "watch", "create", "patch", "update"}},
				{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"cisgate-config"}, Verbs: []string{"get", "list", "watch"}},
				{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, ResourceNames: []string{"cisgate-leader"}, Verbs: []string{"get", "update"}},
				{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
				{APIGroups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: []string{"create", "delete", "list", "watch"}},
			}, roles["Role/cisgate"])

			// The node scan: its Node, its Event, its report key.
			assert.Equal(t, []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "list"}},
				{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create"}},
			}, roles["ClusterRole/cisgate-nodescan"])
			assert.Equal(t, []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"cisgate-report"}, Verbs: []string{"get", "create", "patch"}},
			}, roles["Role/cisgate-nodescan"])

			// Every binding binds one of these roles to one of the chart's ServiceAccounts.
			for _, o := range ofKind(objs, "ClusterRoleBinding", "RoleBinding") {
				var ref rbacv1.RoleRef
				var subjects []rbacv1.Subject
				if o.GetKind() == "ClusterRoleBinding" {
					b := convert[rbacv1.ClusterRoleBinding](t, o)
					ref, subjects = b.RoleRef, b.Subjects
				} else {
					b := convert[rbacv1.RoleBinding](t, o)
					ref, subjects = b.RoleRef, b.Subjects
				}
				assert.Contains(t, roles, ref.Kind+"/"+ref.Name, o.GetName())
				assert.Equal(t, []rbacv1.Subject{{Kind: "ServiceAccount", Name: o.GetName(), Namespace: releaseNamespace}}, subjects, o.GetName())
			}
		})
	}
}

// TestConfig: the rendered config passes policy.ParseConfig, carries the values, exempts the
// release namespace and declares the chart's own exemption rules, each with a reason.
func TestConfig(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			p, err := policy.ParseConfig([]byte(renderedConfig(t, decode(t, template(t, defaultRelease(v.args...))), releaseName)))
			require.NoError(t, err)
			wantMode := policy.ModeAudit
			if slices.Contains(v.args, "mode=enforce") {
				wantMode = policy.ModeEnforce
			}
			assert.Equal(t, wantMode, p.Config.Mode)
			assert.Equal(t, policy.EKS200, p.Config.Benchmark)
			assert.Equal(t, policy.ExemptNames("kube-system", releaseNamespace), p.Config.Exemptions.Namespaces)
			assert.Equal(t, policy.ExemptNames("system:nodes", "system:serviceaccounts:kube-system"), p.Config.Exemptions.Groups)
			assert.Equal(t, []rbacv1.Subject{{Kind: "Group", Name: "system:masters"}}, p.Config.RBAC.ClusterAdminSubjects)
			assert.Empty(t, p.Config.Registries)
			assert.Empty(t, p.Config.Checks)
			require.NotEmpty(t, p.Config.Exemptions.Rules)
			for _, r := range p.Config.Exemptions.Rules {
				assert.Contains(t, r.Reason, "(chart)", "the chart's rules say they are the chart's")
			}
		})
	}

	t.Run("every value", func(t *testing.T) {
		values := filepath.Join(t.TempDir(), "values.yaml")
		require.NoError(t, os.WriteFile(values, []byte(`
benchmark: eks-1.2.0
mode: enforce
checks: {"4.1.6": "off", "privileged": "enforce", "4.2.5": "audit"}
exemptions:
  namespaces: [legacy]
  groups: [ci-admins]
  usernames: [alice]
  rules:
    - {checks: ["4.2.1"], namespace: legacy, kind: DaemonSet, name: "agent-*", reason: "vendor agent (TICKET-1)"}
registries: ["123456789012.dkr.ecr.us-east-1.amazonaws.com/"]
rbac:
  clusterAdminSubjects:
    - {kind: Group, name: platform-admins}
    - {kind: ServiceAccount, name: argo, namespace: argocd}
`), 0o644))
		p, err := policy.ParseConfig([]byte(renderedConfig(t, decode(t, template(t, defaultRelease("-f", values))), releaseName)))
		require.NoError(t, err)
		c := p.Config
		assert.Equal(t, policy.EKS120, c.Benchmark)
		assert.Equal(t, policy.ModeEnforce, c.Mode)
		assert.Equal(t, map[string]policy.Mode{"4.1.6": "off", "privileged": "enforce", "4.2.5": "audit"}, c.Checks)
		assert.Equal(t, policy.ExemptNames("legacy", releaseNamespace), c.Exemptions.Namespaces)
		assert.Equal(t, policy.ExemptNames("ci-admins"), c.Exemptions.Groups)
		assert.Equal(t, policy.ExemptNames("alice"), c.Exemptions.Usernames)
		require.NotEmpty(t, c.Exemptions.Rules)
		assert.Equal(t, policy.ExemptionRule{Checks: []string{"4.2.1"}, Namespace: "legacy", Kind: "DaemonSet", Name: "agent-*", Reason: "vendor agent (TICKET-1)"},
			c.Exemptions.Rules[0], "the user's rules come first")
		assert.Equal(t, []string{"123456789012.dkr.ecr.us-east-1.amazonaws.com/"}, c.Registries)
		assert.Equal(t, []rbacv1.Subject{{Kind: "Group", Name: "platform-admins"}, {Kind: "ServiceAccount", Name: "argo", Namespace: "argocd"}}, c.RBAC.ClusterAdminSubjects)
		assert.Equal(t, policy.ModeOff, p.ModeFor("sa-token-automount", ""))
	})

	// Exemptions that end: the object form, requireReason and expiryWarning reach the config
	// as written, and with requireReason the release namespace carries the chart's reason.
	t.Run("exemption terms", func(t *testing.T) {
		values := filepath.Join(t.TempDir(), "values.yaml")
		require.NoError(t, os.WriteFile(values, []byte(`
exemptions:
  requireReason: true
  expiryWarning: 72h
  namespaces:
    - {name: kube-system, reason: the control plane's add-ons}
    - {name: legacy, expires: "2026-12-01T00:00:00Z", reason: moving to restricted PSS, owner: team-a}
  groups: [{name: system:nodes, reason: the kubelets' mirror Pods}]
  usernames: [{name: system:apiserver, reason: kube-apiserver's bootstrap RBAC}]
  rules:
    - {checks: [privileged], kind: DaemonSet, name: gpu-driver, reason: loads a kernel module, expires: "2027-01-01T00:00:00Z", owner: team-gpu}
`), 0o644))
		p, err := policy.ParseConfig([]byte(renderedConfig(t, decode(t, template(t, defaultRelease("-f", values))), releaseName)))
		require.NoError(t, err)
		ex := p.Config.Exemptions
		assert.True(t, ex.RequireReason)
		assert.Equal(t, 72*time.Hour, p.ExpiryWarning())
		assert.Equal(t, []policy.ExemptName{
			{Name: "kube-system", ExemptionTerms: policy.ExemptionTerms{Reason: "the control plane's add-ons"}},
			{Name: "legacy", ExemptionTerms: policy.ExemptionTerms{Expires: "2026-12-01T00:00:00Z", Reason: "moving to restricted PSS", Owner: "team-a"}},
			{Name: releaseNamespace, ExemptionTerms: policy.ExemptionTerms{Reason: "cisgate's own namespace (chart): its webhook and node scan Jobs"}},
		}, ex.Namespaces)
		assert.Equal(t, policy.ExemptionRule{Checks: []string{"privileged"}, Kind: "DaemonSet", Name: "gpu-driver", Reason: "loads a kernel module",
			Expires: "2027-01-01T00:00:00Z", Owner: "team-gpu"}, ex.Rules[0])

		// The defaults have no reason: with requireReason the install fails naming the first.
		_, err = runHelm(t, "template", releaseName, chartDir(t), "--namespace", releaseNamespace, "--set", "exemptions.requireReason=true")
		assert.ErrorContains(t, err, `exemptions.namespaces[0] ("kube-system"): exemptions.requireReason is set: write it as {name, reason}`)
		// The schema refuses an expiry that is not RFC 3339.
		_, err = runHelm(t, "template", releaseName, chartDir(t), "--namespace", releaseNamespace, "--set-json", `exemptions.namespaces=[{"name": "legacy", "expires": "2026-12-01"}]`)
		assert.ErrorContains(t, err, "/exemptions/namespaces/0/expires")
	})

	// The chart's rules name checks by slug, so they hold in every benchmark version.
	for _, b := range policy.Benchmarks() {
		t.Run(string(b), func(t *testing.T) {
			_, err := policy.ParseConfig([]byte(renderedConfig(t, decode(t, template(t, defaultRelease("--set", "benchmark="+string(b)))), releaseName)))
			require.NoError(t, err)
		})
	}
	// docs/install.md's upgrade note: under eks-2.0.0 the chart keeps v1.8.0's per-namespace
	// NetworkPolicy check when checks names its slug, and it reports under that slug.
	t.Run("kept by slug", func(t *testing.T) {
		p, err := policy.ParseConfig([]byte(renderedConfig(t, decode(t, template(t, defaultRelease("--set", "checks.namespace-network-policy=enforce"))), releaseName)))
		require.NoError(t, err)
		assert.Equal(t, policy.EKS200, p.Catalogue.Benchmark())
		e, ok := p.Catalogue.Entry("namespace-network-policy")
		require.True(t, ok)
		assert.Equal(t, "namespace-network-policy", e.ID)
		assert.Equal(t, policy.ModeEnforce, p.ModeFor("namespace-network-policy", ""))
	})
}

// TestChartExemptions: what the chart's own rules exempt, and what they do not, judged by the
// compiled policy as the webhook and the audit would.
func TestChartExemptions(t *testing.T) {
	p, err := policy.ParseConfig([]byte(renderedConfig(t, decode(t, template(t, defaultRelease())), releaseName)))
	require.NoError(t, err)
	for _, tc := range []struct {
		slug policy.Slug
		obj  policy.Object
		want string // a word of the reason; "" for not exempt
	}{
		{"host-pid", obj("Job", releaseNamespace, "cisgate-nodescan-ip-10-0-1-1"), "node scan"},
		{"host-pid", obj("Pod", releaseNamespace, "cisgate-nodescan-ip-10-0-1-1-x7k2p"), "node scan"},
		{"sa-token-automount", obj("Pod", releaseNamespace, "cisgate-nodescan-ip-10-0-1-1-x7k2p"), "node scan"},
		{"sa-token-automount", obj("Deployment", releaseNamespace, "cisgate"), "webhook"},
		{"sa-token-automount", obj("ReplicaSet", releaseNamespace, "cisgate-5d8f9c7b4"), "webhook"},
		{"sa-token-automount", obj("Pod", releaseNamespace, "cisgate-5d8f9c7b4-abcde"), "webhook"},
		// Not exempt: the webhook may not run privileged or share the host PID namespace, the
		// node scan gets no other exemption, nothing outside the release namespace is covered.
		{"host-pid", obj("Deployment", releaseNamespace, "cisgate"), ""},
		{"privileged", obj("Pod", releaseNamespace, "cisgate-nodescan-ip-10-0-1-1-x7k2p"), ""},
		{"sa-token-automount", obj("Deployment", "apps", "cisgate"), ""},
		{"host-pid", obj("Pod", "apps", "cisgate-nodescan-x"), ""},
		{"default-namespace", obj("ConfigMap", "default", "settings"), ""},
	} {
		reason, ok := p.ExemptionFor(tc.slug, tc.obj)
		if tc.want == "" {
			assert.False(t, ok, "%s on %s %s/%s is exempt: %s", tc.slug, tc.obj.Kind, tc.obj.Namespace, tc.obj.Name, reason)
			continue
		}
		if assert.True(t, ok, "%s on %s %s/%s is not exempt", tc.slug, tc.obj.Kind, tc.obj.Namespace, tc.obj.Name) {
			assert.Contains(t, reason, tc.want)
		}
	}
}

func obj(kind, namespace, name string) policy.Object {
	return policy.Object{Kind: kind, Namespace: namespace, Name: name}
}

// TestConfigChangeRollsThePods: `helm upgrade --set mode=enforce` changes the pod template (the
// config's checksum), so the rollout brings the new config even to a pod that could not follow
// the ConfigMap through the API; a change elsewhere does not roll them. The pods start behind a
// start-up probe, so a starting pod fails no readiness probe.
func TestConfigChangeRollsThePods(t *testing.T) {
	deployment := func(args ...string) *appsv1.Deployment {
		return convert[appsv1.Deployment](t, find(t, decode(t, template(t, defaultRelease(args...))), "Deployment", "cisgate"))
	}
	checksum := func(d *appsv1.Deployment) string { return d.Spec.Template.Annotations["checksum/config"] }
	audit := deployment()
	require.NotEmpty(t, checksum(audit))
	assert.NotEqual(t, checksum(audit), checksum(deployment("--set", "mode=enforce")), "a config change rolls the pods")
	assert.Equal(t, checksum(audit), checksum(deployment("--set", "replicaCount=3")), "a change outside the config does not")
	assert.Equal(t, checksum(audit), checksum(deployment("--set", "podAnnotations.team=payments")))
	assert.Equal(t, "payments", deployment("--set", "podAnnotations.team=payments").Spec.Template.Annotations["team"])

	probe := audit.Spec.Template.Spec.Containers[0].StartupProbe
	require.NotNil(t, probe)
	assert.Equal(t, "/readyz", probe.HTTPGet.Path)
}

// TestServingHardening: the values of issue 10. SIGTERM's grace period covers the shutdown delay
// and the drain; a client CA Secret turns on client-certificate verification; webhookFrom
// restricts who may reach port 9443 and nothing else.
func TestServingHardening(t *testing.T) {
	objs := decode(t, template(t, defaultRelease()))
	pod := convert[appsv1.Deployment](t, find(t, objs, "Deployment", releaseName)).Spec.Template.Spec
	assert.Equal(t, ptr.To[int64](30), pod.TerminationGracePeriodSeconds, "5s delay + 15s drain + 10s for the last report write")
	assert.NotContains(t, pod.Containers[0].Args, "--client-ca-file=/etc/cisgate/client-ca/ca.crt")
	np := convert[networkingv1.NetworkPolicy](t, find(t, objs, "NetworkPolicy", releaseName))
	for _, rule := range np.Spec.Ingress {
		assert.Empty(t, rule.From, "every port open to any source by default")
	}

	objs = decode(t, template(t, defaultRelease("--set", "webhook.clientCASecret=apiserver-client-ca",
		"--set", "webhook.shutdownDelaySeconds=10", "--set", "webhook.drainTimeoutSeconds=20",
		"--set-json", `networkPolicy.webhookFrom=[{"ipBlock":{"cidr":"10.0.0.0/16"}}]`)))
	pod = convert[appsv1.Deployment](t, find(t, objs, "Deployment", releaseName)).Spec.Template.Spec
	assert.Equal(t, ptr.To[int64](40), pod.TerminationGracePeriodSeconds)
	c := pod.Containers[0]
	assert.Subset(t, c.Args, []string{"--shutdown-delay=10s", "--drain-timeout=20s", "--client-ca-file=/etc/cisgate/client-ca/ca.crt"})
	assert.Contains(t, c.VolumeMounts, corev1.VolumeMount{Name: "client-ca", MountPath: "/etc/cisgate/client-ca", ReadOnly: true})
	var secret string
	for _, v := range pod.Volumes {
		if v.Name == "client-ca" {
			secret = v.Secret.SecretName
		}
	}
	assert.Equal(t, "apiserver-client-ca", secret)
	np = convert[networkingv1.NetworkPolicy](t, find(t, objs, "NetworkPolicy", releaseName))
	from := map[string][]networkingv1.NetworkPolicyPeer{}
	for _, rule := range np.Spec.Ingress {
		for _, p := range rule.Ports {
			from[p.Port.StrVal] = rule.From
		}
	}
	assert.Equal(t, []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/16"}}}, from["webhook"])
	assert.Empty(t, from["health"], "the kubelet's probes are not restricted")
	assert.Empty(t, from["metrics"])
}

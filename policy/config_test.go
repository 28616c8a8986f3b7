package policy_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/internal/fakecluster"
	"github.com/cisgate/cisgate/policy"
)

// TestParseConfigEmpty: a config with no YAML document is refused, not read as the defaults
// (audit mode): a truncated or unrendered file must not turn an enforcing gate off.
func TestParseConfigEmpty(t *testing.T) {
	for name, data := range map[string]string{"empty": "", "blank": " \n\t\n", "comment only": "# nothing set\n",
		"comments and a separator": "# rendered by CI\n---\n# mode: enforce\n", "null": "null\n"} {
		t.Run(name, func(t *testing.T) {
			p, err := policy.ParseConfig([]byte(data))
			assert.ErrorIs(t, err, policy.ErrEmptyConfig)
			assert.Nil(t, p)
		})
	}
}

func TestParseConfigDefaults(t *testing.T) {
	for name, data := range map[string]string{"empty object": "{}", "only a separator and an object": "---\n{}\n"} {
		t.Run(name, func(t *testing.T) {
			p, err := policy.ParseConfig([]byte(data))
			require.NoError(t, err)
			assert.Equal(t, policy.DefaultConfig(), p.Config)
			assert.Equal(t, policy.EKS200, p.Catalogue.Benchmark())
			assert.Equal(t, policy.ModeAudit, p.Config.Mode)
			assert.Equal(t, policy.ExemptNames("kube-system", "cisgate-system"), p.Config.Exemptions.Namespaces)
			assert.Equal(t, policy.ExemptNames("system:nodes", "system:serviceaccounts:kube-system"), p.Config.Exemptions.Groups)
			assert.Equal(t, []rbacv1.Subject{{Kind: "Group", Name: "system:masters"}}, p.Config.RBAC.ClusterAdminSubjects)
			assert.Empty(t, p.Config.Registries)
			require.NotNil(t, p.Evaluator)
			assert.Equal(t, policy.EKS200, p.Evaluator.Catalogue().Benchmark())
		})
	}
}

func TestParseConfigFull(t *testing.T) {
	p, err := policy.ParseConfig([]byte(`
benchmark: eks-1.2.0
mode: enforce
checks: {"4.1.6": "off", "privileged": "audit", "4.2.7": "enforce"}
exemptions:
  namespaces: [kube-system, cisgate-system]
  groups: [system:nodes]
  usernames: [admin@example.com]
  rules:
    - {checks: ["4.2.2"], namespace: cisgate-system, kind: Pod, name: "cisgate-nodescan-*", reason: "reads the kubelet's command line"}
registries: ["123456789012.dkr.ecr.us-east-1.amazonaws.com/"]
rbac: {clusterAdminSubjects: [{kind: Group, name: system:masters}, {kind: ServiceAccount, name: deployer, namespace: ci}]}
`))
	require.NoError(t, err)
	assert.Equal(t, policy.EKS120, p.Catalogue.Benchmark())
	assert.Equal(t, policy.ModeOff, p.ModeFor("sa-token-automount", ""))
	assert.Equal(t, policy.ModeAudit, p.ModeFor("privileged", ""))
	assert.Equal(t, policy.ModeEnforce, p.ModeFor("added-capabilities", "")) // 4.2.7 in eks-1.2.0
	assert.Equal(t, policy.ModeEnforce, p.ModeFor("approved-registries", ""))
	// Exemptions keep what the file lists, not the defaults.
	assert.Equal(t, policy.ExemptNames("system:nodes"), p.Config.Exemptions.Groups)
	assert.Len(t, p.Config.RBAC.ClusterAdminSubjects, 2)
}

func TestParseConfigPartialExemptionsKeepDefaults(t *testing.T) {
	p, err := policy.ParseConfig([]byte("exemptions: {usernames: [ops]}\n"))
	require.NoError(t, err)
	assert.Equal(t, policy.ExemptNames("kube-system", "cisgate-system"), p.Config.Exemptions.Namespaces)
	assert.Equal(t, policy.ExemptNames("ops"), p.Config.Exemptions.Usernames)
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want []string // each a whole line of the error
	}{
		{"benchmark", "benchmark: eks-9.9.9\n", []string{
			`benchmark: Unsupported value: "eks-9.9.9": supported values: "eks-1.0.1", "eks-1.1.0", "eks-1.2.0", "eks-1.5.0", "eks-1.7.0", "eks-1.8.0", "eks-2.0.0"`}},
		{"mode", "mode: block\n", []string{`mode: Unsupported value: "block": supported values: "enforce", "audit"`}},
		{"mode off is not global", "mode: \"off\"\n", []string{`mode: Unsupported value: "off": supported values: "enforce", "audit"`}},
		{"unknown check", `checks: {"4.9.9": audit}`, []string{`checks[4.9.9]: Invalid value: "4.9.9": no check with this ID or slug in benchmark eks-2.0.0`}},
		{"check of another version", `checks: {"4.2.6": audit}`, []string{`checks[4.2.6]: Invalid value: "4.2.6": no check with this ID or slug in benchmark eks-2.0.0`}},
		{"check mode", `checks: {"4.2.1": deny}`, []string{`checks[4.2.1]: Unsupported value: "deny": supported values: "enforce", "audit", "off"`}},
		{"check by slug, bad mode", `checks: {"host-pid": "yes"}`, []string{`checks[host-pid]: Unsupported value: "yes": supported values: "enforce", "audit", "off"`}},
		{"manual item", `checks: {"4.1.7": "off"}`, []string{`checks[4.1.7]: Invalid value: "4.1.7": check 4.1.7 (access-manager) is not decided on objects and has no mode`}},
		{"node item", `checks: {"read-only-port": "off"}`, []string{`checks[read-only-port]: Invalid value: "read-only-port": check 3.2.4 (read-only-port) is not decided on objects and has no mode`}},
		{"rule without checks", `exemptions: {rules: [{reason: legacy}]}`, []string{`exemptions.rules[0].checks: Required value: name at least one check ID or slug`}},
		{"rule with a bad check", `exemptions: {rules: [{checks: ["4.2.1", "4.7.1"], reason: legacy}]}`, []string{
			`exemptions.rules[0].checks[1]: Invalid value: "4.7.1": no check with this ID or slug in benchmark eks-2.0.0`}},
		{"rule with a bad glob", `exemptions: {rules: [{checks: ["4.2.1"], name: "web-[", reason: legacy}]}`, []string{
			`exemptions.rules[0].name: Invalid value: "web-[": bad glob: syntax error in pattern`}},
		{"rule without reason", `exemptions: {rules: [{checks: ["4.2.1"], reason: legacy}, {checks: ["4.2.2"], reason: "  "}]}`, []string{
			`exemptions.rules[1].reason: Required value: say why the exemption exists`}},
		{"empty namespace", `exemptions: {namespaces: [kube-system, ""]}`, []string{`exemptions.namespaces[1]: Required value: must not be empty`}},
		{"empty registry", `registries: ["123456789012.dkr.ecr.us-east-1.amazonaws.com/", " "]`, []string{`registries[1]: Invalid value: " ": must not be empty`}},
		{"subject kind", `rbac: {clusterAdminSubjects: [{kind: Team, name: ops}]}`, []string{
			`rbac.clusterAdminSubjects[0].kind: Unsupported value: "Team": supported values: "User", "Group", "ServiceAccount"`}},
		{"subject name", `rbac: {clusterAdminSubjects: [{kind: Group, name: system:masters}, {kind: User}]}`, []string{
			`rbac.clusterAdminSubjects[1].name: Required value`}},
		{"subject namespace", `rbac: {clusterAdminSubjects: [{kind: ServiceAccount, name: deployer}]}`, []string{
			`rbac.clusterAdminSubjects[0].namespace: Required value: a ServiceAccount subject needs its namespace`}},
		{"every error at once", `
benchmark: eks-0.1
mode: strict
checks: {"4.9.9": audit, "4.2.1": deny}
exemptions:
  namespaces: [""]
  rules: [{checks: [nope], name: "[", reason: ""}]
registries: [""]
rbac: {clusterAdminSubjects: [{kind: ServiceAccount}]}
`, []string{
			`benchmark: Unsupported value: "eks-0.1": supported values: "eks-1.0.1", "eks-1.1.0", "eks-1.2.0", "eks-1.5.0", "eks-1.7.0", "eks-1.8.0", "eks-2.0.0"`,
			`mode: Unsupported value: "strict": supported values: "enforce", "audit"`,
			`checks[4.9.9]: Invalid value: "4.9.9": no check with this ID or slug in benchmark eks-2.0.0`,
			`checks[4.2.1]: Unsupported value: "deny": supported values: "enforce", "audit", "off"`,
			`exemptions.rules[0].checks[0]: Invalid value: "nope": no check with this ID or slug in benchmark eks-2.0.0`,
			`exemptions.rules[0].name: Invalid value: "[": bad glob: syntax error in pattern`,
			`exemptions.rules[0].reason: Required value: say why the exemption exists`,
			`exemptions.namespaces[0]: Required value: must not be empty`,
			`registries[0]: Invalid value: "": must not be empty`,
			`rbac.clusterAdminSubjects[0].name: Required value`,
			`rbac.clusterAdminSubjects[0].namespace: Required value: a ServiceAccount subject needs its namespace`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := policy.ParseConfig([]byte(tc.yaml))
			require.Error(t, err)
			require.Nil(t, p)
			// Map order of checks is random: compare as sets of lines.
			assert.ElementsMatch(t, tc.want, strings.Split(err.Error(), "\n"))
		})
	}
}

func TestParseConfigStrict(t *testing.T) {
	for _, tc := range []struct{ yaml, key string }{
		{"mode: audit\nregistry: [x]\n", `unknown field "registry"`},
		{"exemptions: {namespace: [a]}\n", `unknown field "namespace"`},
		{"exemptions: {rules: [{checks: [\"4.2.1\"], reason: r, names: x}]}\n", `unknown field "names"`},
	} {
		_, err := policy.ParseConfig([]byte(tc.yaml))
		require.Error(t, err, tc.yaml)
		assert.Contains(t, err.Error(), "invalid config")
		assert.Contains(t, err.Error(), tc.key)
	}
	_, err := policy.ParseConfig([]byte("mode: [audit]\n"))
	require.ErrorContains(t, err, "invalid config")
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(good, []byte("mode: enforce\n"), 0o644))
	p, err := policy.LoadConfig(good)
	require.NoError(t, err)
	assert.Equal(t, policy.ModeEnforce, p.Config.Mode)

	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("mode: block\n"), 0o644))
	_, err = policy.LoadConfig(bad)
	require.EqualError(t, err, bad+`: mode: Unsupported value: "block": supported values: "enforce", "audit"`)

	empty := filepath.Join(dir, "empty.yaml")
	require.NoError(t, os.WriteFile(empty, []byte("# mode: enforce\n"), 0o644))
	_, err = policy.LoadConfig(empty)
	require.ErrorIs(t, err, policy.ErrEmptyConfig)
	require.ErrorContains(t, err, empty+": the config is empty")

	_, err = policy.LoadConfig(filepath.Join(dir, "missing.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)
	require.ErrorContains(t, err, "missing.yaml")
}

func mustParse(t *testing.T, yaml string) *policy.Policy {
	t.Helper()
	p, err := policy.ParseConfig([]byte(yaml))
	require.NoError(t, err)
	return p
}

func TestModeFor(t *testing.T) {
	p := mustParse(t, `
mode: audit
checks: {"4.1.6": "off", "4.2.1": enforce, "host-pid": audit}
`)
	withRegistries := mustParse(t, "mode: enforce\nregistries: [\"ecr/\"]\n")
	for _, tc := range []struct {
		name   string
		p      *policy.Policy
		slug   policy.Slug
		nsMode string
		want   policy.Mode
	}{
		{"global", p, "host-ipc", "", policy.ModeAudit},
		{"per-check over global", p, "privileged", "", policy.ModeEnforce},
		{"per-check audit", p, "host-pid", "", policy.ModeAudit},
		{"namespace label over per-check", p, "privileged", "audit", policy.ModeAudit},
		{"namespace label over global", p, "host-ipc", "enforce", policy.ModeEnforce},
		// #9 item 1 / DESIGN: exemptions live in the config only. A label is writable by anyone
		// who may label a namespace, so "off" (or any other value) is ignored, never obeyed.
		{"namespace label off is ignored", p, "host-ipc", "off", policy.ModeAudit},
		{"namespace label off is ignored, per-check enforce", p, "privileged", "off", policy.ModeEnforce},
		{"namespace label OFF is ignored", p, "privileged", "OFF", policy.ModeEnforce},
		{"namespace label Audit (case) is ignored", p, "privileged", "Audit", policy.ModeEnforce},
		{"namespace label with a space is ignored", p, "privileged", " audit", policy.ModeEnforce},
		{"check off over namespace label", p, "sa-token-automount", "enforce", policy.ModeOff},
		{"invalid label ignored", p, "privileged", "Enforce!", policy.ModeEnforce},
		{"invalid label ignored, global", p, "host-ipc", "strict", policy.ModeAudit},
		{"5.1.4 off without registries", p, "approved-registries", "enforce", policy.ModeOff},
		{"5.1.4 with registries", withRegistries, "approved-registries", "", policy.ModeEnforce},
		{"5.1.4 with registries, namespace label", withRegistries, "approved-registries", "audit", policy.ModeAudit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.p.ModeFor(tc.slug, tc.nsMode))
		})
	}
}

func TestExemptUserAndNamespace(t *testing.T) {
	p := mustParse(t, `
exemptions:
  namespaces: [kube-system, cisgate-system]
  groups: [system:nodes, system:serviceaccounts:kube-system]
  usernames: [admin@example.com]
`)
	for _, tc := range []struct {
		user   string
		groups []string
		reason string
	}{
		{"admin@example.com", nil, `user "admin@example.com" is exempt`},
		{"system:node:ip-10-0-1-1", []string{"system:authenticated", "system:nodes"}, `group "system:nodes" is exempt`},
		{"system:serviceaccount:kube-system:coredns", []string{"system:serviceaccounts", "system:serviceaccounts:kube-system"}, `group "system:serviceaccounts:kube-system" is exempt`},
		{"alice", []string{"system:authenticated", "devs"}, ""},
		{"Admin@example.com", nil, ""},
	} {
		reason, ok := p.ExemptUser(tc.user, tc.groups)
		assert.Equal(t, tc.reason != "", ok, tc.user)
		assert.Equal(t, tc.reason, reason, tc.user)
	}
	assert.True(t, p.ExemptNamespace("kube-system"))
	assert.True(t, p.ExemptNamespace("cisgate-system"))
	assert.False(t, p.ExemptNamespace("kube-public"))
	assert.False(t, p.ExemptNamespace(""))
}

func TestExemptionFor(t *testing.T) {
	p := mustParse(t, `
exemptions:
  rules:
    - {checks: ["4.2.2", "host-network"], namespace: cisgate-system, kind: Pod, name: "cisgate-nodescan-*", reason: "reads the kubelet's command line"}
    - {checks: ["4.4.1"], reason: "legacy app, tracked in JIRA-1"}
    - {checks: ["privileged"], kind: DaemonSet, name: "aws-node", reason: "VPC CNI"}
`)
	obj := func(kind, ns, name string) policy.Object {
		return policy.Object{Kind: kind, Namespace: ns, Name: name, Namespaced: true}
	}
	for _, tc := range []struct {
		name   string
		slug   policy.Slug
		obj    policy.Object
		reason string
	}{
		{"glob match by ID", "host-pid", obj("Pod", "cisgate-system", "cisgate-nodescan-ip-10-0-1-1"), "reads the kubelet's command line"},
		{"glob match by slug", "host-network", obj("Pod", "cisgate-system", "cisgate-nodescan-x"), "reads the kubelet's command line"},
		{"check not listed", "privileged", obj("Pod", "cisgate-system", "cisgate-nodescan-x"), ""},
		{"glob does not match", "host-pid", obj("Pod", "cisgate-system", "cisgate-webhook-0"), ""},
		{"glob needs the prefix", "host-pid", obj("Pod", "cisgate-system", "x-cisgate-nodescan-1"), ""},
		{"other namespace", "host-pid", obj("Pod", "default", "cisgate-nodescan-x"), ""},
		{"other kind", "host-pid", obj("Job", "cisgate-system", "cisgate-nodescan-x"), ""},
		{"empty namespace, kind and name match any", "secrets-in-env", obj("CronJob", "billing", "nightly"), "legacy app, tracked in JIRA-1"},
		{"exact name", "privileged", obj("DaemonSet", "kube-system", "aws-node"), "VPC CNI"},
		{"exact name only", "privileged", obj("DaemonSet", "kube-system", "aws-node-2"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reason, ok := p.ExemptionFor(tc.slug, tc.obj)
			assert.Equal(t, tc.reason != "", ok)
			assert.Equal(t, tc.reason, reason)
		})
	}
}

func TestJudge(t *testing.T) {
	p := mustParse(t, `
benchmark: eks-1.8.0
mode: enforce
checks: {"4.2.2": audit, "4.1.6": "off"}
exemptions:
  namespaces: [kube-system]
  rules:
    - {checks: ["4.4.1"], kind: Deployment, name: "legacy-*", reason: "migrating to mounted secrets"}
`)
	spec := corev1.PodSpec{
		ServiceAccountName: "web", AutomountServiceAccountToken: ptr.To(false), HostPID: true,
		Containers: []corev1.Container{withSC(ctr("app"), corev1.SecurityContext{Privileged: ptr.To(true), AllowPrivilegeEscalation: ptr.To(false)})},
	}
	spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}}}}
	deployment := func(ns, name string) policy.Object {
		w := workloads(ns, spec)[1]
		w.Obj.(metav1.Object).SetName(name)
		return policy.NewObject(w.Kind, w.Obj)
	}
	type judged struct {
		ID     string
		Status policy.Status
		Mode   policy.Mode
		Exempt string
		Denies bool
	}
	flatten := func(js []policy.Finding) []judged {
		out := []judged{}
		for _, j := range js {
			out = append(out, judged{j.ID, j.Status, j.Mode, j.ExemptReason, j.Denies()})
		}
		return out
	}
	lookup := &fakecluster.State{NetworkPolicies: map[string]int{"team-a": 1, "kube-system": 1}}

	t.Run("modes", func(t *testing.T) {
		assert.Equal(t, []judged{
			{"4.2.1", policy.StatusFail, policy.ModeEnforce, "", true},
			{"4.2.2", policy.StatusFail, policy.ModeAudit, "", false},
			{"4.2.5", policy.StatusFail, policy.ModeEnforce, "", true}, // privileged: allowPrivilegeEscalation is true whatever it says
			{"4.4.1", policy.StatusFail, policy.ModeEnforce, "", true},
		}, flatten(p.Judge(deployment("team-a", "web"), policy.OperationCreate, lookup, "")))
	})
	t.Run("exemption rule", func(t *testing.T) {
		assert.Equal(t, []judged{
			{"4.2.1", policy.StatusFail, policy.ModeEnforce, "", true},
			{"4.2.2", policy.StatusFail, policy.ModeAudit, "", false},
			{"4.2.5", policy.StatusFail, policy.ModeEnforce, "", true}, // privileged: allowPrivilegeEscalation is true whatever it says
			{"4.4.1", policy.StatusFail, policy.ModeEnforce, "migrating to mounted secrets", false},
		}, flatten(p.Judge(deployment("team-a", "legacy-billing"), policy.OperationCreate, lookup, "")))
	})
	t.Run("exempt namespace", func(t *testing.T) {
		assert.Equal(t, []judged{
			{"4.2.1", policy.StatusFail, policy.ModeEnforce, "namespace kube-system is exempt", false},
			{"4.2.2", policy.StatusFail, policy.ModeAudit, "namespace kube-system is exempt", false},
			{"4.2.5", policy.StatusFail, policy.ModeEnforce, "namespace kube-system is exempt", false}, // privileged: allowPrivilegeEscalation is true whatever it says
			{"4.4.1", policy.StatusFail, policy.ModeEnforce, "namespace kube-system is exempt", false},
		}, flatten(p.Judge(deployment("kube-system", "web"), policy.OperationCreate, lookup, "")))
	})
	t.Run("namespace label audit", func(t *testing.T) {
		assert.Equal(t, []judged{
			{"4.2.1", policy.StatusFail, policy.ModeAudit, "", false},
			{"4.2.2", policy.StatusFail, policy.ModeAudit, "", false},
			{"4.2.5", policy.StatusFail, policy.ModeAudit, "", false}, // privileged: allowPrivilegeEscalation is true whatever it says
			{"4.4.1", policy.StatusFail, policy.ModeAudit, "", false},
		}, flatten(p.Judge(deployment("team-a", "web"), policy.OperationCreate, lookup, "audit")))
	})
	t.Run("namespace label off silences nothing", func(t *testing.T) {
		assert.Equal(t, []judged{
			{"4.2.1", policy.StatusFail, policy.ModeEnforce, "", true},
			{"4.2.2", policy.StatusFail, policy.ModeAudit, "", false},
			{"4.2.5", policy.StatusFail, policy.ModeEnforce, "", true}, // privileged: allowPrivilegeEscalation is true whatever it says
			{"4.4.1", policy.StatusFail, policy.ModeEnforce, "", true},
		}, flatten(p.Judge(deployment("team-a", "web"), policy.OperationCreate, lookup, "off")))
	})
	t.Run("a check off drops its WARN", func(t *testing.T) {
		// 4.1.6 would WARN without a lookup (automount unset), but it is off.
		s := spec.DeepCopy()
		s.AutomountServiceAccountToken = nil
		w := workloads("team-a", *s)[0]
		for _, j := range p.Judge(policy.NewObject(w.Kind, w.Obj), policy.OperationCreate, nil, "") {
			assert.NotEqual(t, "4.1.6", j.ID)
		}
	})
	t.Run("WARN never denies", func(t *testing.T) {
		s := corev1.PodSpec{ServiceAccountName: "web", AutomountServiceAccountToken: ptr.To(false), Containers: []corev1.Container{hardened("app")}}
		w := workloads("team-a", s)[0]
		js := p.Judge(policy.NewObject(w.Kind, w.Obj), policy.OperationCreate, nil, "")
		assert.Equal(t, []judged{{"4.3.2", policy.StatusWarn, policy.ModeEnforce, "", false}}, flatten(js))
	})
}

func TestFindingDenies(t *testing.T) {
	for _, tc := range []struct {
		name string
		j    policy.Finding
		want bool
	}{
		{"enforce FAIL", policy.Finding{Status: policy.StatusFail, Mode: policy.ModeEnforce}, true},
		{"audit FAIL", policy.Finding{Status: policy.StatusFail, Mode: policy.ModeAudit}, false},
		{"enforce WARN", policy.Finding{Status: policy.StatusWarn, Mode: policy.ModeEnforce}, false},
		{"enforce FAIL, exempt", policy.Finding{Status: policy.StatusFail, Mode: policy.ModeEnforce, ExemptReason: "why"}, false},
		{"enforce FAIL, advisory", policy.Finding{Status: policy.StatusFail, Advisory: true, Mode: policy.ModeEnforce}, false},
	} {
		assert.Equal(t, tc.want, tc.j.Denies(), tc.name)
	}
}

// A list entry must not inherit fields from the default list it replaces.
func TestParseConfigSubjectsDoNotInheritDefaults(t *testing.T) {
	_, err := policy.ParseConfig([]byte("rbac: {clusterAdminSubjects: [{kind: Group}]}\n"))
	require.EqualError(t, err, "rbac.clusterAdminSubjects[0].name: Required value")

	p := mustParse(t, "rbac: {clusterAdminSubjects: [{kind: User, name: alice}]}\n")
	assert.Equal(t, []rbacv1.Subject{{Kind: "User", Name: "alice"}}, p.Config.RBAC.ClusterAdminSubjects)

	p = mustParse(t, "rbac: {clusterAdminSubjects: []}\n")
	assert.Empty(t, p.Config.RBAC.ClusterAdminSubjects, "an explicit empty list allows no one")

	p = mustParse(t, "rbac: {}\n")
	assert.Equal(t, []rbacv1.Subject{{Kind: "Group", Name: "system:masters"}}, p.Config.RBAC.ClusterAdminSubjects)
}

// TestKeepUnnumberedCheck: eks-2.0.0 numbers no root-containers check nor a per-namespace
// NetworkPolicy check (its 4.3.2 is manual); a config keeps either by slug, and it then reports
// under its slug, not under an ID in the benchmark's numbering.
func TestKeepUnnumberedCheck(t *testing.T) {
	rootPod := policy.NewObject("Pod", &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{withSC(ctr("app"), corev1.SecurityContext{RunAsUser: ptr.To(int64(0))})}},
	})
	idsOf := func(p *policy.Policy) []string {
		var out []string
		for _, r := range p.Evaluator.Evaluate(rootPod, policy.OperationCreate, &fakecluster.State{NetworkPolicies: map[string]int{}}) {
			if (r.Slug == "root-containers" || r.Slug == "namespace-network-policy") && !slices.Contains(out, r.ID) {
				out = append(out, r.ID)
			}
		}
		return out
	}

	plain := mustParse(t, "benchmark: eks-2.0.0\n")
	_, carried := plain.Catalogue.Entry("root-containers")
	assert.False(t, carried)
	assert.Empty(t, idsOf(plain), "off unless kept")
	var unnumbered []policy.Slug
	for _, e := range plain.Catalogue.Unnumbered() {
		assert.Equal(t, string(e.Slug), e.ID)
		assert.False(t, e.Numbered())
		unnumbered = append(unnumbered, e.Slug)
	}
	assert.Equal(t, []policy.Slug{"added-capabilities", "capabilities-not-dropped", "namespace-network-policy", "net-raw",
		"root-containers", "security-context", "system-masters-binding"}, unnumbered)

	kept := mustParse(t, `
benchmark: eks-2.0.0
checks: {root-containers: enforce, namespace-network-policy: audit, net-raw: "off"}
exemptions:
  rules: [{checks: [security-context, root-containers], namespace: legacy, reason: "runs as root until the rewrite"}]
`)
	assert.Equal(t, []string{"namespace-network-policy", "root-containers"}, idsOf(kept))
	e, ok := kept.Catalogue.Entry("root-containers")
	require.True(t, ok)
	assert.Equal(t, policy.Entry{ID: "root-containers", Slug: "root-containers", Title: "Minimize the admission of root containers", Section: policy.SectionObject}, e)
	assert.Equal(t, policy.ModeEnforce, kept.ModeFor("root-containers", ""))
	_, netRaw := kept.Catalogue.Entry("net-raw")
	assert.False(t, netRaw, "off keeps nothing")
	// The kept checks sort after the benchmark's IDs.
	entries := kept.Catalogue.Entries()
	assert.Equal(t, "namespace-network-policy", entries[len(entries)-2].ID)
	assert.Equal(t, "root-containers", entries[len(entries)-1].ID)

	// An ID of another version keeps nothing: only slugs do.
	_, err := policy.ParseConfig([]byte("benchmark: eks-2.0.0\nchecks: {\"4.2.6\": enforce}\n"))
	require.EqualError(t, err, `checks[4.2.6]: Invalid value: "4.2.6": no check with this ID or slug in benchmark eks-2.0.0`)
	// Node and manual items have no mode, whichever version numbers them.
	_, err = policy.ParseConfig([]byte("benchmark: eks-2.0.0\nchecks: {streaming-idle-timeout: enforce}\n"))
	require.EqualError(t, err, `checks[streaming-idle-timeout]: Invalid value: "streaming-idle-timeout": no check with this ID or slug in benchmark eks-2.0.0`)
}

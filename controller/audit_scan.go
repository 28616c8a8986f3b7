package controller

import (
	"context"
	"fmt"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/cisgate/cisgate/openreports"
	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
)

// DefaultPageSize is how many objects one list request asks for.
const DefaultPageSize = 500

// namespaceNetworkPolicy is 4.3.2's slug: the audit decides it per namespace, not per workload.
const namespaceNetworkPolicy policy.Slug = "namespace-network-policy"

// ClusterKind is the object kind of the findings on the cluster as a whole: the benchmark's
// manual items, which no Kubernetes object decides.
const ClusterKind = "Cluster"

// Counts are one check's results from one source, counted per object (or request, or node).
// Deny is admission's alone: a FAIL that was denied (admission counts no PASS and no other FAIL).
type Counts struct {
	Pass   int `json:"pass"`
	Fail   int `json:"fail"`
	Deny   int `json:"deny,omitempty"`
	Warn   int `json:"warn"`
	Exempt int `json:"exempt"`
}

func (c *Counts) add(o Counts) {
	c.Pass += o.Pass
	c.Fail += o.Fail
	c.Deny += o.Deny
	c.Warn += o.Warn
	c.Exempt += o.Exempt
}

// AuditRun is the result of one audit of a cluster.
type AuditRun struct {
	Benchmark policy.Benchmark
	Time      time.Time
	// Report holds every finding (FAIL, WARN and exempt) on the live objects, sorted by ID then
	// object, and every object evaluated in Checked: what `cisgate audit` prints.
	Report *output.Report
	// Counts are the results per check: an object counts once per check it is subject to. They
	// are keyed by slug, so that the summary files them under the IDs of the benchmark running
	// when it is written, which a config change may have switched since the audit. The control
	// plane's own objects (isPlatformObject) count in PlatformCounts instead.
	Counts         map[policy.Slug]*Counts
	PlatformCounts map[policy.Slug]*Counts
	// Platform are the objects of Report that are the control plane's own: no Events, and their
	// own bucket in audit.json and summary.json.
	Platform map[output.ObjectRef]bool
	// references identify the objects with a failing, unexempted finding, for their Events.
	references map[output.ObjectRef]corev1.ObjectReference
	// NamespaceModes are the cisgate.io/mode label values by namespace, where set: summary.json
	// lists the downgrades among them.
	NamespaceModes map[string]string
	// Passes are how many objects passed each check, by the namespace they are in or are ("" for
	// the other cluster-scoped objects): the OpenReports' pass results.
	Passes map[string]map[policy.Slug]int
}

// auditedKind is one kind the audit lists and evaluates.
type auditedKind struct {
	kind       string
	apiVersion string
	each       eachFunc
}

// eachFunc visits every object of a kind in every namespace, one page at a time.
type eachFunc func(ctx context.Context, pageSize int64, visit func(runtime.Object)) error

// each lists a kind with a typed client-go List.
func each[L interface{ GetContinue() string }, T any, PT interface {
	*T
	runtime.Object
}](list func(context.Context, metav1.ListOptions) (L, error), items func(L) []T) eachFunc {
	return func(ctx context.Context, pageSize int64, visit func(runtime.Object)) error {
		return listEach(ctx, pageSize, list, items, func(obj PT) { visit(obj) })
	}
}

// listEach visits every object a List returns, asking for pageSize objects at a time. The objects
// point into their page, which is dropped once visited, so the audit never holds more than one
// page of objects. An expired continue token (a list that outlived etcd's compaction) fails the
// list; the next cycle starts over.
func listEach[L interface{ GetContinue() string }, T any, PT interface {
	*T
	runtime.Object
}](ctx context.Context, pageSize int64, list func(context.Context, metav1.ListOptions) (L, error), items func(L) []T, visit func(PT)) error {
	opts := metav1.ListOptions{Limit: pageSize}
	for {
		page, err := list(ctx, opts)
		if err != nil {
			return err
		}
		objs := items(page)
		for i := range objs {
			visit(PT(&objs[i]))
		}
		next := page.GetContinue()
		if next == "" {
			return nil
		}
		opts.Continue = next
	}
}

// typedLists list the checked kinds the audit judges object by object with their typed client-go
// List, by kind. Namespaces, ServiceAccounts and NetworkPolicies are listed first, on their own,
// for the lookups (listedForLookups); a test ties the two to policy.CheckedKinds.
func typedLists(c kubernetes.Interface) map[string]eachFunc {
	const all = metav1.NamespaceAll
	return map[string]eachFunc{
		"Pod":                   each(c.CoreV1().Pods(all).List, func(l *corev1.PodList) []corev1.Pod { return l.Items }),
		"ReplicationController": each(c.CoreV1().ReplicationControllers(all).List, func(l *corev1.ReplicationControllerList) []corev1.ReplicationController { return l.Items }),
		"PodTemplate":           each(c.CoreV1().PodTemplates(all).List, func(l *corev1.PodTemplateList) []corev1.PodTemplate { return l.Items }),
		"Service":               each(c.CoreV1().Services(all).List, func(l *corev1.ServiceList) []corev1.Service { return l.Items }),
		"Deployment":            each(c.AppsV1().Deployments(all).List, func(l *appsv1.DeploymentList) []appsv1.Deployment { return l.Items }),
		"ReplicaSet":            each(c.AppsV1().ReplicaSets(all).List, func(l *appsv1.ReplicaSetList) []appsv1.ReplicaSet { return l.Items }),
		"StatefulSet":           each(c.AppsV1().StatefulSets(all).List, func(l *appsv1.StatefulSetList) []appsv1.StatefulSet { return l.Items }),
		"DaemonSet":             each(c.AppsV1().DaemonSets(all).List, func(l *appsv1.DaemonSetList) []appsv1.DaemonSet { return l.Items }),
		"Job":                   each(c.BatchV1().Jobs(all).List, func(l *batchv1.JobList) []batchv1.Job { return l.Items }),
		"CronJob":               each(c.BatchV1().CronJobs(all).List, func(l *batchv1.CronJobList) []batchv1.CronJob { return l.Items }),
		"Role":                  each(c.RbacV1().Roles(all).List, func(l *rbacv1.RoleList) []rbacv1.Role { return l.Items }),
		"ClusterRole":           each(c.RbacV1().ClusterRoles().List, func(l *rbacv1.ClusterRoleList) []rbacv1.ClusterRole { return l.Items }),
		"RoleBinding":           each(c.RbacV1().RoleBindings(all).List, func(l *rbacv1.RoleBindingList) []rbacv1.RoleBinding { return l.Items }),
		"ClusterRoleBinding":    each(c.RbacV1().ClusterRoleBindings().List, func(l *rbacv1.ClusterRoleBindingList) []rbacv1.ClusterRoleBinding { return l.Items }),
		"Ingress":               each(c.NetworkingV1().Ingresses(all).List, func(l *networkingv1.IngressList) []networkingv1.Ingress { return l.Items }),
	}
}

// listedForLookups are the checked kinds Audit lists before the others, for what the lookups and
// 4.3.2 need: Namespaces (their mode labels), ServiceAccounts (4.1.6) and NetworkPolicies.
var listedForLookups = map[string]bool{"Namespace": true, "ServiceAccount": true, "NetworkPolicy": true}

// evaluatedKinds are the checked kinds (policy.CheckedKinds, in its order) that Audit judges after
// the lookups are filled.
func evaluatedKinds(c kubernetes.Interface) []auditedKind {
	lists := typedLists(c)
	var kinds []auditedKind
	for _, k := range policy.CheckedKinds() {
		if listedForLookups[k.Kind] {
			continue
		}
		kinds = append(kinds, auditedKind{kind: k.Kind, apiVersion: k.GroupVersionKind().GroupVersion().String(), each: lists[k.Kind]})
	}
	return kinds
}

// clusterState answers the checks' lookups from what the audit listed.
type clusterState struct {
	networkPolicies map[string]int
	// serviceAccounts keep only what 4.1.6 reads, keyed by namespace/name.
	serviceAccounts map[string]*corev1.ServiceAccount
	// ingressClasses are the cluster's, for 5.4.5; ingressClassesErr says why they could not be
	// listed (5.4.5 is then a WARN on the Ingresses that needed them, and the audit goes on).
	ingressClasses    []networkingv1.IngressClass
	ingressClassesErr error
}

func (s *clusterState) NetworkPolicyCount(namespace string) (int, error) {
	return s.networkPolicies[namespace], nil
}

func (s *clusterState) ServiceAccount(namespace, name string) (*corev1.ServiceAccount, bool, error) {
	sa, ok := s.serviceAccounts[namespace+"/"+name]
	return sa, ok, nil
}

func (s *clusterState) IngressClasses() ([]networkingv1.IngressClass, error) {
	return s.ingressClasses, s.ingressClassesErr
}

// Audit lists every kind that has a check, page by page, and judges each object with pol as an
// object at rest (policy.OperationNone, as `cisgate check` judges a manifest), with the lookups
// answered from the listed NetworkPolicies, ServiceAccounts and IngressClasses, so 4.1.6 is
// decided, not WARN, and 5.4.5 follows an Ingress to its IngressClass. Pods, ReplicaSets and Jobs
// controlled by a checked kind are skipped: their owner carries the finding. 4.3.2 is decided once
// per namespace (kind Namespace), and the benchmark's manual items are listed as WARN on the
// cluster.
func Audit(ctx context.Context, client kubernetes.Interface, pol *policy.Policy, pageSize int64) (*AuditRun, error) {
	rec := newRunRecorder(pol)
	namespaceModes := map[string]string{}
	var namespaces []*corev1.Namespace
	err := listEach(ctx, pageSize, client.CoreV1().Namespaces().List, func(l *corev1.NamespaceList) []corev1.Namespace { return l.Items },
		func(ns *corev1.Namespace) {
			if v, ok := ns.Labels[policy.NamespaceModeLabel]; ok {
				namespaceModes[ns.Name] = v
				rec.run.NamespaceModes[ns.Name] = v
			}
			// The Namespace's own checks (an ignored cisgate.io/mode label) need no lookup.
			rec.judge(namespaceKind, ns, nil, namespaceModes)
			// Only what the 4.3.2 finding and its Event need.
			namespaces = append(namespaces, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns.Name, UID: ns.UID}})
		})
	if err != nil {
		return nil, fmt.Errorf("listing Namespaces: %w", err)
	}
	state := &clusterState{networkPolicies: map[string]int{}, serviceAccounts: map[string]*corev1.ServiceAccount{}}
	err = listEach(ctx, pageSize, client.NetworkingV1().NetworkPolicies(metav1.NamespaceAll).List,
		func(l *networkingv1.NetworkPolicyList) []networkingv1.NetworkPolicy { return l.Items },
		func(np *networkingv1.NetworkPolicy) { state.networkPolicies[np.Namespace]++ })
	if err != nil {
		return nil, fmt.Errorf("listing NetworkPolicies: %w", err)
	}
	err = listEach(ctx, pageSize, client.NetworkingV1().IngressClasses().List,
		func(l *networkingv1.IngressClassList) []networkingv1.IngressClass { return l.Items },
		func(ic *networkingv1.IngressClass) {
			// Only what ServingIngressClass reads.
			state.ingressClasses = append(state.ingressClasses, networkingv1.IngressClass{
				ObjectMeta: metav1.ObjectMeta{Name: ic.Name, Annotations: ic.Annotations, CreationTimestamp: ic.CreationTimestamp},
				Spec:       networkingv1.IngressClassSpec{Controller: ic.Spec.Controller},
			})
		})
	if err != nil {
		state.ingressClasses, state.ingressClassesErr = nil, fmt.Errorf("listing IngressClasses: %w", err)
	}
	saKind := auditedKind{kind: "ServiceAccount", apiVersion: "v1"}
	err = listEach(ctx, pageSize, client.CoreV1().ServiceAccounts(metav1.NamespaceAll).List,
		func(l *corev1.ServiceAccountList) []corev1.ServiceAccount { return l.Items },
		func(sa *corev1.ServiceAccount) {
			state.serviceAccounts[sa.Namespace+"/"+sa.Name] = &corev1.ServiceAccount{
				ObjectMeta:                   metav1.ObjectMeta{Namespace: sa.Namespace, Name: sa.Name},
				AutomountServiceAccountToken: sa.AutomountServiceAccountToken,
			}
			// A ServiceAccount's own checks need no lookup, so it is judged in the same pass.
			rec.judge(saKind, sa, state, namespaceModes)
		})
	if err != nil {
		return nil, fmt.Errorf("listing ServiceAccounts: %w", err)
	}
	for _, k := range evaluatedKinds(client) {
		if err := k.each(ctx, pageSize, func(obj runtime.Object) { rec.judge(k, obj, state, namespaceModes) }); err != nil {
			return nil, fmt.Errorf("listing %ss: %w", k.kind, err)
		}
	}
	for _, ns := range namespaces {
		rec.judgeNamespace(ns, state.networkPolicies[ns.Name], namespaceModes[ns.Name])
	}
	rec.listManual()
	rec.run.Report.Sort()
	return rec.run, nil
}

// runRecorder accumulates one audit run.
type runRecorder struct {
	pol *policy.Policy
	// now is the instant the run judges at (the policy's clock at its start): the exemptions in
	// force then apply to every object of the run.
	now      time.Time
	registry *policy.Registry
	// objectChecks are the benchmark's checks decided on objects, except 4.3.2.
	objectChecks []policy.Entry
	run          *AuditRun
}

func newRunRecorder(pol *policy.Policy) *runRecorder {
	now := pol.Now()
	rec := &runRecorder{
		pol:      pol,
		now:      now,
		registry: policy.DefaultRegistry(),
		run: &AuditRun{
			Benchmark:      pol.Catalogue.Benchmark(),
			Time:           now.UTC().Truncate(time.Second),
			Report:         &output.Report{Benchmark: pol.Catalogue.Benchmark()},
			Counts:         map[policy.Slug]*Counts{},
			PlatformCounts: map[policy.Slug]*Counts{},
			Platform:       map[output.ObjectRef]bool{},
			references:     map[output.ObjectRef]corev1.ObjectReference{},
			NamespaceModes: map[string]string{},
			Passes:         map[string]map[policy.Slug]int{},
		},
	}
	for _, e := range pol.Catalogue.Entries() {
		if e.Section == policy.SectionObject && e.Slug != namespaceNetworkPolicy {
			rec.objectChecks = append(rec.objectChecks, e)
		}
	}
	return rec
}

func (rec *runRecorder) counts(slug policy.Slug) *Counts { return countsOf(rec.run.Counts, slug) }

func countsOf(m map[policy.Slug]*Counts, slug policy.Slug) *Counts {
	c := m[slug]
	if c == nil {
		c = &Counts{}
		m[slug] = c
	}
	return c
}

// judge evaluates one listed object and records its findings and counts.
func (rec *runRecorder) judge(k auditedKind, raw runtime.Object, state policy.Lookup, namespaceModes map[string]string) {
	meta, ok := raw.(metav1.Object)
	obj := policy.NewObject(k.kind, raw)
	if !ok || policy.ControlledByCheckedKind(obj) {
		return
	}
	ref := output.ObjectRef{Kind: k.kind, Namespace: obj.Namespace, Name: obj.Name}
	rec.run.Report.Checked = append(rec.run.Report.Checked, ref)
	platform := isPlatformObject(k.kind, meta)
	counts := rec.run.Counts
	if platform {
		rec.run.Platform[ref] = true
		counts = rec.run.PlatformCounts
	}
	namespaceMode := namespaceModes[obj.Namespace]
	judged := rec.pol.JudgeAt(obj, policy.OperationNone, state, namespaceMode, rec.now)
	failing := false
	for _, j := range judged {
		if j.Slug == namespaceNetworkPolicy {
			continue // decided once per namespace
		}
		rec.run.Report.Findings = append(rec.run.Report.Findings, output.NewFinding(j, ref))
		failing = failing || (j.Status == policy.StatusFail && j.ExemptReason == "")
	}
	if failing && !platform {
		rec.run.references[ref] = corev1.ObjectReference{
			Kind: k.kind, APIVersion: k.apiVersion, Namespace: obj.Namespace, Name: obj.Name, UID: meta.GetUID(),
		}
	}
	for _, e := range rec.objectChecks {
		check, ok := rec.registry.Check(e.Slug)
		if !ok || !check.AppliesTo(obj) || rec.pol.ModeFor(e.Slug, namespaceMode) == policy.ModeOff {
			continue
		}
		o := outcome(e.Slug, judged)
		countsOf(counts, e.Slug).add(o)
		if o.Pass > 0 {
			rec.pass(reportScope(k.kind, obj.Namespace, obj.Name), e.Slug)
		}
	}
}

// pass counts an object of scope that passed a check.
func (rec *runRecorder) pass(scope string, slug policy.Slug) {
	m := rec.run.Passes[scope]
	if m == nil {
		m = map[policy.Slug]int{}
		rec.run.Passes[scope] = m
	}
	m[slug]++
}

// reportScope is the namespace whose report carries an object's results: its own, or, for a
// Namespace, the one it is; "" for the other cluster-scoped objects (openreports.ScopeOf).
func reportScope(kind, namespace, name string) string {
	return openreports.ScopeOf(output.ObjectRef{Kind: kind, Namespace: namespace, Name: name})
}

// outcome classifies an object's results of one check: FAIL before WARN before exempt; no result
// is a pass.
func outcome(slug policy.Slug, judged []policy.Finding) Counts {
	var exempt, warn bool
	for _, j := range judged {
		switch {
		case j.Slug != slug:
		case j.ExemptReason != "":
			exempt = true
		case j.Status == policy.StatusFail:
			return Counts{Fail: 1}
		default:
			warn = true
		}
	}
	switch {
	case warn:
		return Counts{Warn: 1}
	case exempt:
		return Counts{Exempt: 1}
	}
	return Counts{Pass: 1}
}

var namespaceKind = auditedKind{kind: "Namespace", apiVersion: "v1"}

// judgeNamespace decides 4.3.2 on a namespace: it fails without a NetworkPolicy.
func (rec *runRecorder) judgeNamespace(ns *corev1.Namespace, networkPolicies int, namespaceMode string) {
	ref := output.ObjectRef{Kind: "Namespace", Name: ns.Name} // in Checked already (judge)
	entry, ok := rec.pol.Catalogue.Entry(namespaceNetworkPolicy)
	mode := rec.pol.ModeFor(namespaceNetworkPolicy, namespaceMode)
	if !ok || mode == policy.ModeOff {
		return
	}
	counts := rec.counts(entry.Slug)
	if networkPolicies > 0 {
		counts.Pass++
		rec.pass(ns.Name, entry.Slug)
		return
	}
	f := output.Finding{
		ID: entry.ID, Slug: entry.Slug, Title: entry.Title, Status: policy.StatusFail, Mode: mode, Object: ref,
		Detail: "namespace " + strconv.Quote(ns.Name) + " has no NetworkPolicy; add one (at least a default deny) to every namespace",
	}
	// A rule scoped to a namespace covers the Namespace object itself.
	v := rec.pol.ExemptNamespaceAt(ns.Name, rec.now).Or(
		rec.pol.ExemptionForAt(namespaceNetworkPolicy, policy.Object{Kind: "Namespace", Namespace: ns.Name, Name: ns.Name}, rec.now))
	f.ExemptReason, f.ExpiredExemption = v.Reason, v.Expired
	rec.run.Report.Findings = append(rec.run.Report.Findings, f)
	if f.ExemptReason != "" {
		counts.Exempt++
		return
	}
	counts.Fail++
	rec.run.references[ref] = corev1.ObjectReference{Kind: "Namespace", APIVersion: "v1", Name: ns.Name, UID: ns.UID}
}

// undecidedDetail is the WARN detail of the sections no Kubernetes object decides.
var undecidedDetail = map[policy.Section]string{
	policy.SectionManual: "manual: not decided from Kubernetes objects; review it by hand",
	policy.SectionCloud:  "decided through the AWS API: not decided from Kubernetes objects; the cloud scan decides it (cloud.json, with cloud.enabled)",
}

// listManual adds the benchmark's manual items, and those decided through the AWS API, as WARN
// on the cluster: no object decides them.
func (rec *runRecorder) listManual() {
	ref := output.ObjectRef{Kind: ClusterKind}
	for _, e := range rec.pol.Catalogue.Entries() {
		detail, ok := undecidedDetail[e.Section]
		if !ok {
			continue
		}
		rec.run.Report.Findings = append(rec.run.Report.Findings, output.Finding{
			ID: e.ID, Slug: e.Slug, Title: e.Title, Status: policy.StatusWarn, Mode: rec.pol.ModeFor(e.Slug, ""), Object: ref,
			Detail: detail,
		})
		rec.counts(e.Slug).Warn++
	}
}

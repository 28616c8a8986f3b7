package policy

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Benchmark names a CIS Amazon EKS Benchmark version as used in config and flags.
type Benchmark string

const (
	EKS101 Benchmark = "eks-1.0.1"
	EKS110 Benchmark = "eks-1.1.0"
	EKS120 Benchmark = "eks-1.2.0"
	EKS150 Benchmark = "eks-1.5.0"
	EKS170 Benchmark = "eks-1.7.0"
	EKS180 Benchmark = "eks-1.8.0"
	EKS200 Benchmark = "eks-2.0.0"

	DefaultBenchmark = EKS200
)

// Benchmarks lists the supported versions, oldest first.
func Benchmarks() []Benchmark {
	return []Benchmark{EKS101, EKS110, EKS120, EKS150, EKS170, EKS180, EKS200}
}

// Section says which part of cisgate decides a catalogue item.
type Section int

const (
	// SectionNode items are decided by the node scanner on a kubelet (benchmark section 3).
	SectionNode Section = iota + 1
	// SectionObject items are decided on Kubernetes objects by the checks in this package.
	SectionObject
	// SectionManual items cannot be decided from Kubernetes objects; reports list them as WARN.
	SectionManual
	// SectionCloud items are decided from the cluster's configuration in the AWS API (EKS, ECR);
	// the cloud scan (package cloudscan) decides them; the audit, which reads no AWS API, lists
	// them as WARN pointing to it.
	SectionCloud
)

// Assessment is the benchmark's own status of an item in one version: Automated items come
// with an audit a tool can run, Manual ones need a reviewer's judgement. It is the benchmark's
// label, not a statement of what cisgate decides (see Section).
type Assessment string

const (
	Automated Assessment = "Automated"
	Manual    Assessment = "Manual"
)

// Entry is one catalogue item as the selected benchmark names it.
type Entry struct {
	ID         string
	Slug       Slug
	Title      string
	Section    Section
	Assessment Assessment
}

// Numbered reports whether the benchmark carries the item. An object check the benchmark does
// not number runs only when a config keeps it by slug; its ID is then its slug, never an ID
// made up in the benchmark's numbering, and it has no assessment.
func (e Entry) Numbered() bool { return e.ID != string(e.Slug) }

// numbering is how one benchmark version carries an item.
type numbering struct {
	id         string
	title      string // "": the item's title
	assessment Assessment
}

// item is one check across versions: how each benchmark numbers it (absent: not in that version).
type item struct {
	slug    Slug
	title   string
	section Section
	in      map[Benchmark]numbering
}

// at builds rows of the version table: the same ID and assessment for the versions listed.
func at(id string, a Assessment, versions ...Benchmark) map[Benchmark]numbering {
	m := make(map[Benchmark]numbering, len(versions))
	for _, v := range versions {
		m[v] = numbering{id: id, assessment: a}
	}
	return m
}

// titled gives rows a title of their own where those versions word the item differently.
func titled(title string, rows map[Benchmark]numbering) map[Benchmark]numbering {
	for v, n := range rows {
		n.title = title
		rows[v] = n
	}
	return rows
}

func merge(parts ...map[Benchmark]numbering) map[Benchmark]numbering {
	m := map[Benchmark]numbering{}
	for _, p := range parts {
		for k, v := range p {
			m[k] = v
		}
	}
	return m
}

var (
	upTo180 = []Benchmark{EKS101, EKS110, EKS120, EKS150, EKS170, EKS180}
	upTo120 = []Benchmark{EKS101, EKS110, EKS120}
	from150 = []Benchmark{EKS150, EKS170, EKS180}
)

// v1xAt is the common row of the 1.x versions: one ID, Manual up to 1.2.0 and Automated from
// 1.5.0, when the benchmark first gave most items an automated audit.
func v1xAt(id string) map[Benchmark]numbering {
	return merge(at(id, Manual, upTo120...), at(id, Automated, from150...))
}

// in2 is the row of eks-2.0.0 with its own title.
func in2(id string, a Assessment, title string) map[Benchmark]numbering {
	return titled(title, at(id, a, EKS200))
}

// items is the catalogue: every slug with its ID, title and assessment in each benchmark version
// (docs/checks.md is generated from it). The versions' section tables are the source; kube-bench's
// cfg/eks-<version>/ files carry the same numbering, titles and Automated/Manual.
var items = []item{
	// Section 2: control plane logging.
	{"control-plane-logging", "Enable audit Logs", SectionCloud, merge(
		at("2.1.1", Manual, EKS101, EKS110, EKS120, EKS170, EKS180), at("2.1.1", Automated, EKS150),
		in2("2.1.1", Automated, "Enable EKS control plane logging"))},
	{"audit-log-collection", "Ensure audit logs are collected and managed", SectionManual, at("2.1.2", Manual, EKS170, EKS180)},

	// Section 3: worker node kubelet.
	{"kubeconfig-perms", "Ensure that the kubeconfig file permissions are set to 644 or more restrictive", SectionNode, merge(v1xAt("3.1.1"), at("3.1.1", Automated, EKS200))},
	{"kubeconfig-owner", "Ensure that the kubelet kubeconfig file ownership is set to root:root", SectionNode, merge(v1xAt("3.1.2"),
		in2("3.1.2", Automated, "Ensure that the kubeconfig file ownership is set to root:root"))},
	{"kubelet-config-perms", "Ensure that the kubelet configuration file has permissions set to 644 or more restrictive", SectionNode, merge(v1xAt("3.1.3"), at("3.1.3", Automated, EKS200))},
	{"kubelet-config-owner", "Ensure that the kubelet configuration file ownership is set to root:root", SectionNode, merge(v1xAt("3.1.4"), at("3.1.4", Automated, EKS200))},
	{"anonymous-auth", "Ensure that the Anonymous Auth is Not Enabled", SectionNode, merge(at("3.2.1", Automated, upTo180...),
		in2("3.2.1", Automated, "Ensure kubelet anonymous authentication is disabled"))},
	{"authorization-mode", "Ensure that the --authorization-mode argument is not set to AlwaysAllow", SectionNode, at("3.2.2", Automated, upTo180...)},
	// 2.0.0 asks for Webhook where earlier versions only ruled out AlwaysAllow: a slug of its own.
	{"authorization-mode-webhook", "Ensure kubelet authorization mode is set to Webhook", SectionNode, at("3.2.2", Automated, EKS200)},
	{"client-ca", "Ensure that a Client CA File is Configured", SectionNode, merge(v1xAt("3.2.3"),
		in2("3.2.3", Automated, "Ensure the kubelet X.509 client CA file is configured"))},
	{"read-only-port", "Ensure that the --read-only-port is disabled", SectionNode, merge(v1xAt("3.2.4"),
		in2("3.2.4", Automated, "Ensure the kubelet read-only port is disabled"))},
	{"streaming-idle-timeout", "Ensure that the --streaming-connection-idle-timeout argument is not set to 0", SectionNode, merge(
		at("3.2.5", Manual, EKS101, EKS110), at("3.2.5", Automated, EKS120, EKS150, EKS170, EKS180))},
	{"protect-kernel-defaults", "Ensure that the --protect-kernel-defaults argument is set to true", SectionNode, at("3.2.6", Automated, upTo120...)},
	{"iptables-util-chains", "Ensure that the --make-iptables-util-chains argument is set to true", SectionNode, merge(
		at("3.2.7", Automated, upTo120...), at("3.2.6", Automated, from150...),
		in2("3.2.5", Automated, "Ensure the kubelet iptables utility chains are enabled"))},
	{"hostname-override", "Ensure that the --hostname-override argument is not set", SectionNode, at("3.2.8", Manual, upTo120...)},
	{"event-qps", "Ensure that the --eventRecordQPS argument is set to 0 or a level which ensures appropriate event capture", SectionNode, merge(
		at("3.2.9", Automated, upTo120...), at("3.2.7", Automated, from150...),
		in2("3.2.6", Automated, "Ensure the kubelet event recording QPS is set to an appropriate value"))},
	{"rotate-certificates", "Ensure that the --rotate-certificates argument is not present or is set to true", SectionNode, merge(
		at("3.2.10", Manual, upTo120...), at("3.2.8", Automated, from150...),
		in2("3.2.7", Automated, "Ensure the kubelet client certificate rotation is enabled"))},
	{"rotate-server-cert", "Ensure that the RotateKubeletServerCertificate argument is set to true", SectionNode, merge(
		at("3.2.11", Manual, upTo120...), at("3.2.9", Automated, from150...))},
	// 2.0.0 requires serverTLSBootstrap as well as the gate: a slug of its own.
	{"serving-cert-rotation", "Ensure serverTLSBootstrap and RotateKubeletServerCertificate are enabled", SectionNode, at("3.2.8", Automated, EKS200)},
	{"container-optimized-os", "Prefer using a container-optimized OS when possible", SectionManual, at("3.3.1", Manual, EKS110, EKS120)},

	// Section 4.1: RBAC and service accounts.
	{"cluster-admin-binding", "Ensure that the cluster-admin role is only used where required", SectionObject, merge(v1xAt("4.1.1"), at("4.1.1", Manual, EKS200))},
	{"secrets-access", "Minimize access to secrets", SectionObject, merge(v1xAt("4.1.2"),
		in2("4.1.2", Manual, "Ensure access to Secrets is minimized and granted only where required"))},
	{"rbac-wildcards", "Minimize wildcard use in Roles and ClusterRoles", SectionObject, merge(v1xAt("4.1.3"), at("4.1.3", Manual, EKS200))},
	{"create-pods", "Minimize access to create pods", SectionObject, merge(v1xAt("4.1.4"), at("4.1.4", Manual, EKS200))},
	{"default-service-account", "Ensure that default service accounts are not actively used", SectionObject, merge(v1xAt("4.1.5"), at("4.1.5", Automated, EKS200))},
	{"sa-token-automount", "Ensure that Service Account Tokens are only mounted where necessary", SectionObject, merge(v1xAt("4.1.6"), at("4.1.6", Automated, EKS200))},
	{"system-masters-binding", "Avoid use of system:masters group", SectionObject, merge(at("4.1.7", Manual, EKS120), at("4.1.7", Automated, EKS150))},
	{"access-manager", "Cluster Access Manager API to streamline and enhance the management of access controls within EKS clusters", SectionCloud, merge(
		at("4.1.7", Manual, EKS170, EKS180),
		in2("4.1.7", Automated, "Standardize EKS cluster access by using access entries, policies, and scoped permissions"))},
	{"bind-escalate-impersonate", "Limit use of the Bind, Impersonate and Escalate permissions in the Kubernetes cluster", SectionObject, at("4.1.8", Manual, EKS120, EKS150, EKS170, EKS180, EKS200)},
	{"create-persistentvolumes", "Minimize access to create persistent volumes", SectionObject, at("4.1.9", Manual, EKS180, EKS200)},
	{"node-proxy", "Minimize access to the proxy sub-resource of nodes", SectionObject, at("4.1.10", Manual, EKS180, EKS200)},
	{"webhook-config-access", "Minimize access to webhook configuration objects", SectionObject, at("4.1.11", Manual, EKS180, EKS200)},
	{"sa-token-create", "Minimize access to the service account token creation", SectionObject, at("4.1.12", Manual, EKS180, EKS200)},

	// Section 4.2: pod security.
	{"privileged", "Minimize the admission of privileged containers", SectionObject, at("4.2.1", Automated, Benchmarks()...)},
	{"host-pid", "Minimize the admission of containers wishing to share the host process ID namespace", SectionObject, at("4.2.2", Automated, Benchmarks()...)},
	{"host-ipc", "Minimize the admission of containers wishing to share the host IPC namespace", SectionObject, at("4.2.3", Automated, Benchmarks()...)},
	{"host-network", "Minimize the admission of containers wishing to share the host network namespace", SectionObject, at("4.2.4", Automated, Benchmarks()...)},
	{"privilege-escalation", "Minimize the admission of containers with allowPrivilegeEscalation", SectionObject, at("4.2.5", Automated, Benchmarks()...)},
	{"root-containers", "Minimize the admission of root containers", SectionObject, at("4.2.6", Automated, upTo120...)},
	{"net-raw", "Minimize the admission of containers with the NET_RAW capability", SectionObject, at("4.2.7", Automated, EKS101, EKS110)},
	{"added-capabilities", "Minimize the admission of containers with added capabilities", SectionObject, merge(
		at("4.2.8", Automated, EKS101), at("4.2.8", Manual, EKS110), at("4.2.7", Manual, EKS120))},
	{"capabilities-not-dropped", "Minimize the admission of containers with capabilities assigned", SectionObject, merge(
		at("4.2.9", Manual, EKS101, EKS110), at("4.2.8", Manual, EKS120))},

	// Section 4.3: CNI and network policies.
	// 1.0.1 and 1.1.0 number another recommendation 4.3.1 (kube-bench cfg/eks-1.0.1/policies.yaml,
	// cfg/eks-1.1.0/policies.yaml): keeping the CNI current. Network policy support is 4.3.1 from
	// 1.2.0 on; those two versions do not carry it, so the cloud scan does not decide it there.
	{"cni-latest-version", "Ensure that the latest CNI version is used", SectionManual, at("4.3.1", Manual, EKS101, EKS110)},
	{"cni-network-policy", "Ensure CNI plugin supports network policies", SectionCloud, merge(
		at("4.3.1", Manual, EKS120, EKS150, EKS170, EKS180),
		in2("4.3.1", Automated, "Ensure VPC CNI network policy support is enabled"))},
	{"namespace-network-policy", "Ensure that all Namespaces have Network Policies defined", SectionObject, merge(
		at("4.3.2", Automated, EKS101), at("4.3.2", Manual, EKS110, EKS120), at("4.3.2", Automated, from150...))},
	// 2.0.0 asks a reviewer which workloads need isolation: no object decides that.
	{"workload-network-policy", "Ensure required workloads are covered by Kubernetes network policies", SectionManual, at("4.3.2", Manual, EKS200)},

	// Section 4.4: secrets.
	{"secrets-in-env", "Prefer using secrets as files over secrets as environment variables", SectionObject, merge(v1xAt("4.4.1"),
		in2("4.4.1", Automated, "Prefer exposing secrets as mounted files rather than environment variables"))},
	{"external-secrets", "Consider external secret storage", SectionManual, at("4.4.2", Manual, Benchmarks()...)},

	// Section 4.5 (4.6 before 1.5.0; 1.0.1's 4.5 is image provenance): general policies.
	{"image-provenance", "Configure Image Provenance using ImagePolicyWebhook admission controller", SectionManual, at("4.5.1", Manual, EKS101)},
	{"namespace-boundaries", "Create administrative boundaries between resources using namespaces", SectionManual, merge(
		at("4.6.1", Manual, upTo120...), at("4.5.1", Manual, EKS150, EKS170, EKS180, EKS200))},
	{"security-context", "Apply Security Context to Your Pods and Containers", SectionObject, merge(at("4.6.2", Manual, upTo120...), at("4.5.2", Manual, EKS150))},
	{"default-namespace", "The default namespace should not be used", SectionObject, merge(
		at("4.6.3", Automated, EKS101), at("4.6.3", Manual, EKS110, EKS120), at("4.5.3", Automated, EKS150),
		at("4.5.2", Automated, EKS170, EKS180, EKS200))},

	// Section 5.1: image registry and image scanning.
	{"ecr-image-scanning", "Ensure Image Vulnerability Scanning using Amazon ECR image scanning or a third party provider", SectionCloud, merge(
		at("5.1.1", Manual, EKS101, EKS110, EKS120, EKS170, EKS180), at("5.1.1", Automated, EKS150, EKS200))},
	{"ecr-user-access", "Minimize user access to Amazon ECR", SectionManual, merge(at("5.1.2", Manual, upTo180...),
		in2("5.1.2", Manual, "Ensure least-privilege access is enforced for Amazon ECR repositories used by EKS workloads"))},
	{"ecr-cluster-read-only", "Minimize cluster access to read-only for Amazon ECR", SectionManual, merge(at("5.1.3", Manual, upTo180...),
		in2("5.1.3", Manual, "Restrict ECR access for EKS runtime identities to pull-only permissions"))},
	{"approved-registries", "Minimize Container Registries to only those approved", SectionObject, merge(at("5.1.4", Manual, upTo180...),
		in2("5.1.4", Manual, "Allow only approved container registries for images used by EKS workloads"))},

	// Section 5.2 and 5.3: IAM and KMS.
	{"dedicated-service-accounts", "Prefer using dedicated Amazon EKS Service Accounts", SectionManual, merge(
		at("5.2.1", Manual, EKS101, EKS110, EKS120, EKS170, EKS180), at("5.2.1", Automated, EKS150),
		in2("5.2.1", Automated, "Prefer using dedicated EKS Service Accounts"))},
	{"secrets-kms-encryption", "Ensure Kubernetes Secrets are encrypted using Customer Master Keys (CMKs) managed in AWS KMS", SectionCloud, merge(
		at("5.3.1", Manual, upTo180...),
		in2("5.3.1", Manual, "Use customer managed KMS keys for EKS envelope encryption of Kubernetes secrets"))},

	// Section 5.4: cluster networking.
	{"endpoint-access-restricted", "Restrict Access to the Control Plane Endpoint", SectionCloud, merge(
		at("5.4.1", Manual, EKS101, EKS110, EKS120, EKS170, EKS180), at("5.4.1", Automated, EKS150),
		in2("5.4.1", Automated, "Restrict EKS control plane endpoint access with private access and public CIDR allowlists"))},
	{"endpoint-private", "Ensure clusters are created with Private Endpoint Enabled and Public Access Disabled", SectionCloud, merge(
		at("5.4.2", Manual, EKS101, EKS110, EKS120, EKS170, EKS180), at("5.4.2", Automated, EKS150),
		in2("5.4.2", Automated, "Enable private-only EKS control plane access and disable the public endpoint"))},
	{"private-nodes", "Ensure clusters are created with Private Nodes", SectionCloud, merge(
		at("5.4.3", Manual, EKS101, EKS110, EKS120, EKS170, EKS180, EKS200), at("5.4.3", Automated, EKS150))},
	{"network-policy-enabled", "Ensure Network Policy is Enabled and set as appropriate", SectionManual, merge(
		at("5.4.4", Manual, EKS101, EKS110, EKS120, EKS170, EKS180), at("5.4.4", Automated, EKS150))},
	{"lb-tls", "Encrypt traffic to HTTPS load balancers with TLS certificates", SectionObject, merge(at("5.4.5", Manual, upTo180...),
		in2("5.4.4", Manual, "Use TLS certificates on EKS load balancer listeners for encrypted client connections"))},

	// Section 5.5 and 5.6: authentication, and Fargate before 1.5.0.
	{"iam-authenticator", "Manage Kubernetes RBAC users with AWS IAM Authenticator for Kubernetes or Upgrade to AWS CLI v1.16.156 or greater", SectionManual, merge(
		titled("Manage Kubernetes RBAC users with AWS IAM Authenticator for Kubernetes", at("5.5.1", Manual, upTo120...)),
		at("5.5.1", Manual, from150...))},
	{"access-entries", "Use EKS access entries to manage IAM principal access to Kubernetes", SectionCloud, at("5.5.1", Automated, EKS200)},
	{"fargate-untrusted-workloads", "Consider Fargate for running untrusted workloads", SectionManual, at("5.6.1", Manual, upTo120...)},

	// cisgate's own items, in every version: not benchmark recommendations, but what keeps the
	// others from being silenced.
	{"namespace-mode-label", "cisgate: a Namespace's cisgate.io/mode label holds enforce or audit (any other value is ignored)", SectionObject, at(NamespaceModeLabelID, Automated, Benchmarks()...)},
}

// NamespaceModeLabelID is the ID of cisgate's own namespace-mode-label item. It is no benchmark
// ID, and sorts after every one of them.
const NamespaceModeLabelID = "cisgate.1"

// Catalogue is the benchmark-specific view of items: slug to entry, in ID order.
type Catalogue struct {
	benchmark Benchmark
	bySlug    map[Slug]Entry
	byID      map[string]Entry
	entries   []Entry
}

var catalogues = func() map[Benchmark]*Catalogue {
	out := make(map[Benchmark]*Catalogue)
	for _, b := range Benchmarks() {
		c := &Catalogue{benchmark: b, bySlug: map[Slug]Entry{}, byID: map[string]Entry{}}
		for _, it := range items {
			n, ok := it.in[b]
			if !ok {
				continue
			}
			e := Entry{ID: n.id, Slug: it.slug, Title: it.title, Section: it.section, Assessment: n.assessment}
			if n.title != "" {
				e.Title = n.title
			}
			c.bySlug[it.slug] = e
			c.byID[n.id] = e
			c.entries = append(c.entries, e)
		}
		slices.SortFunc(c.entries, func(a, b Entry) int { return CompareIDs(a.ID, b.ID) })
		out[b] = c
	}
	return out
}()

// CatalogueFor returns the catalogue of a benchmark version, e.g. "eks-1.8.0".
func CatalogueFor(b Benchmark) (*Catalogue, error) {
	c, ok := catalogues[b]
	if !ok {
		return nil, fmt.Errorf("unknown benchmark %q (supported: %v)", b, Benchmarks())
	}
	return c, nil
}

// Benchmark is the version this catalogue describes.
func (c *Catalogue) Benchmark() Benchmark { return c.benchmark }

// Entry returns the entry of a slug in this benchmark; false when the version does not carry it.
func (c *Catalogue) Entry(s Slug) (Entry, bool) {
	e, ok := c.bySlug[s]
	return e, ok
}

// Resolve accepts an ID of this benchmark or any slug it carries.
func (c *Catalogue) Resolve(idOrSlug string) (Entry, bool) {
	if e, ok := c.byID[idOrSlug]; ok {
		return e, true
	}
	return c.Entry(Slug(idOrSlug))
}

// Entries lists every item of this benchmark in ID order, and the unnumbered checks a config
// keeps after them; filter by section as needed.
func (c *Catalogue) Entries() []Entry { return slices.Clone(c.entries) }

// Unnumbered lists the object checks of other versions this benchmark does not number, in slug
// order, each under its slug as ID and with its latest title: a config can keep any of them by
// slug. Those already kept are left out.
func (c *Catalogue) Unnumbered() []Entry {
	var out []Entry
	for _, it := range items {
		if !c.leavesUnnumbered(it.slug) {
			continue
		}
		out = append(out, Entry{ID: string(it.slug), Slug: it.slug, Title: latestTitle(it), Section: SectionObject})
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(string(a.Slug), string(b.Slug)) })
	return out
}

// leavesUnnumbered reports whether s is an object check this benchmark does not number (see
// Unnumbered).
func (c *Catalogue) leavesUnnumbered(s Slug) bool {
	it, known := knownSlug(s)
	_, carried := c.bySlug[s]
	return known && !carried && it.section == SectionObject
}

// latestTitle is the item's wording in the newest version that carries it.
func latestTitle(it item) string {
	vs := Benchmarks()
	for i := len(vs) - 1; i >= 0; i-- {
		if n, ok := it.in[vs[i]]; ok && n.title != "" {
			return n.title
		} else if ok {
			break
		}
	}
	return it.title
}

// keep returns the catalogue with unnumbered object checks added under their slugs (see
// Unnumbered); it is c itself when there are none. Slugs the benchmark numbers, or no object
// check has, are errors.
func (c *Catalogue) keep(slugs []Slug) (*Catalogue, error) {
	if len(slugs) == 0 {
		return c, nil
	}
	unnumbered := map[Slug]Entry{}
	for _, e := range c.Unnumbered() {
		unnumbered[e.Slug] = e
	}
	out := &Catalogue{benchmark: c.benchmark, bySlug: maps.Clone(c.bySlug), byID: maps.Clone(c.byID), entries: slices.Clone(c.entries)}
	for _, s := range slugs {
		e, ok := unnumbered[s]
		if !ok {
			return nil, fmt.Errorf("%q is no object check that benchmark %s leaves unnumbered", s, c.benchmark)
		}
		out.bySlug[s] = e
		out.byID[e.ID] = e
		out.entries = append(out.entries, e)
	}
	slices.SortFunc(out.entries, func(a, b Entry) int { return CompareIDs(a.ID, b.ID) })
	return out, nil
}

// knownSlug reports whether any benchmark version carries the slug.
func knownSlug(s Slug) (item, bool) {
	for _, it := range items {
		if it.slug == s {
			return it, true
		}
	}
	return item{}, false
}

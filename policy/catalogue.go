package policy

import (
	"fmt"
	"slices"
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

	DefaultBenchmark = EKS180
)

// Benchmarks lists the supported versions, oldest first.
func Benchmarks() []Benchmark { return []Benchmark{EKS101, EKS110, EKS120, EKS150, EKS170, EKS180} }

// Section says which part of cisgate decides a catalogue item.
type Section int

const (
	// SectionNode items are decided by the node scanner on a kubelet (benchmark section 3).
	SectionNode Section = iota + 1
	// SectionObject items are decided on Kubernetes objects by the checks in this package.
	SectionObject
	// SectionManual items cannot be decided from Kubernetes objects; reports list them as WARN.
	SectionManual
)

// Entry is one catalogue item as the selected benchmark names it.
type Entry struct {
	ID      string
	Slug    Slug
	Title   string
	Section Section
}

// item is one check across versions: its IDs per benchmark (absent: not in that version).
type item struct {
	slug    Slug
	title   string
	section Section
	ids     map[Benchmark]string
}

// ids builds the version table row: the same ID for the versions listed.
func ids(id string, versions ...Benchmark) map[Benchmark]string {
	m := make(map[Benchmark]string, len(versions))
	for _, v := range versions {
		m[v] = id
	}
	return m
}

func merge(parts ...map[Benchmark]string) map[Benchmark]string {
	m := map[Benchmark]string{}
	for _, p := range parts {
		for k, v := range p {
			m[k] = v
		}
	}
	return m
}

var (
	allVersions = Benchmarks()
	upTo120     = []Benchmark{EKS101, EKS110, EKS120}
	from150     = []Benchmark{EKS150, EKS170, EKS180}
)

// items is the catalogue: every slug with its ID in each benchmark version (docs/checks.md is
// generated from it).
var items = []item{
	// Section 3: worker node kubelet.
	{"kubeconfig-perms", "Ensure that the kubeconfig file permissions are set to 644 or more restrictive", SectionNode, ids("3.1.1", allVersions...)},
	{"kubeconfig-owner", "Ensure that the kubelet kubeconfig file ownership is set to root:root", SectionNode, ids("3.1.2", allVersions...)},
	{"kubelet-config-perms", "Ensure that the kubelet configuration file has permissions set to 644 or more restrictive", SectionNode, ids("3.1.3", allVersions...)},
	{"kubelet-config-owner", "Ensure that the kubelet configuration file ownership is set to root:root", SectionNode, ids("3.1.4", allVersions...)},
	{"anonymous-auth", "Ensure that the Anonymous Auth is Not Enabled", SectionNode, ids("3.2.1", allVersions...)},
	{"authorization-mode", "Ensure that the --authorization-mode argument is not set to AlwaysAllow", SectionNode, ids("3.2.2", allVersions...)},
	{"client-ca", "Ensure that a Client CA File is Configured", SectionNode, ids("3.2.3", allVersions...)},
	{"read-only-port", "Ensure that the --read-only-port is disabled", SectionNode, ids("3.2.4", allVersions...)},
	{"streaming-idle-timeout", "Ensure that the --streaming-connection-idle-timeout argument is not set to 0", SectionNode, ids("3.2.5", allVersions...)},
	{"protect-kernel-defaults", "Ensure that the --protect-kernel-defaults argument is set to true", SectionNode, ids("3.2.6", upTo120...)},
	{"iptables-util-chains", "Ensure that the --make-iptables-util-chains argument is set to true", SectionNode, merge(ids("3.2.7", upTo120...), ids("3.2.6", from150...))},
	{"hostname-override", "Ensure that the --hostname-override argument is not set", SectionNode, ids("3.2.8", upTo120...)},
	{"event-qps", "Ensure that the --eventRecordQPS argument is set to 0 or a level which ensures appropriate event capture", SectionNode, merge(ids("3.2.9", upTo120...), ids("3.2.7", from150...))},
	{"rotate-certificates", "Ensure that the --rotate-certificates argument is not present or is set to true", SectionNode, merge(ids("3.2.10", upTo120...), ids("3.2.8", from150...))},
	{"rotate-server-cert", "Ensure that the RotateKubeletServerCertificate argument is set to true", SectionNode, merge(ids("3.2.11", upTo120...), ids("3.2.9", from150...))},

	// Section 4.1: RBAC and service accounts.
	{"cluster-admin-binding", "Ensure that the cluster-admin role is only used where required", SectionObject, ids("4.1.1", allVersions...)},
	{"secrets-access", "Minimize access to secrets", SectionObject, ids("4.1.2", allVersions...)},
	{"rbac-wildcards", "Minimize wildcard use in Roles and ClusterRoles", SectionObject, ids("4.1.3", allVersions...)},
	{"create-pods", "Minimize access to create pods", SectionObject, ids("4.1.4", allVersions...)},
	{"default-service-account", "Ensure that default service accounts are not actively used", SectionObject, ids("4.1.5", allVersions...)},
	{"sa-token-automount", "Ensure that Service Account Tokens are only mounted where necessary", SectionObject, ids("4.1.6", allVersions...)},
	{"system-masters-binding", "Avoid use of system:masters group", SectionObject, ids("4.1.7", EKS120, EKS150)},
	{"access-manager", "Cluster Access Manager API to streamline and enhance the management of access controls", SectionManual, ids("4.1.7", EKS170, EKS180)},
	{"bind-escalate-impersonate", "Limit use of the Bind, Impersonate and Escalate permissions in the Kubernetes cluster", SectionObject, ids("4.1.8", EKS120, EKS150, EKS170, EKS180)},
	{"create-persistentvolumes", "Minimize access to create persistent volumes", SectionObject, ids("4.1.9", EKS180)},
	{"node-proxy", "Minimize access to the proxy sub-resource of nodes", SectionObject, ids("4.1.10", EKS180)},
	{"webhook-config-access", "Minimize access to webhook configuration objects", SectionObject, ids("4.1.11", EKS180)},
	{"sa-token-create", "Minimize access to the service account token creation", SectionObject, ids("4.1.12", EKS180)},

	// Section 4.2: pod security.
	{"privileged", "Minimize the admission of privileged containers", SectionObject, ids("4.2.1", allVersions...)},
	{"host-pid", "Minimize the admission of containers wishing to share the host process ID namespace", SectionObject, ids("4.2.2", allVersions...)},
	{"host-ipc", "Minimize the admission of containers wishing to share the host IPC namespace", SectionObject, ids("4.2.3", allVersions...)},
	{"host-network", "Minimize the admission of containers wishing to share the host network namespace", SectionObject, ids("4.2.4", allVersions...)},
	{"privilege-escalation", "Minimize the admission of containers with allowPrivilegeEscalation", SectionObject, ids("4.2.5", allVersions...)},
	{"root-containers", "Minimize the admission of root containers", SectionObject, ids("4.2.6", upTo120...)},
	{"net-raw", "Minimize the admission of containers with the NET_RAW capability", SectionObject, ids("4.2.7", EKS101, EKS110)},
	{"added-capabilities", "Minimize the admission of containers with added capabilities", SectionObject, merge(ids("4.2.8", EKS101, EKS110), ids("4.2.7", EKS120))},
	{"capabilities-not-dropped", "Minimize the admission of containers with capabilities assigned", SectionObject, merge(ids("4.2.9", EKS101, EKS110), ids("4.2.8", EKS120))},

	// Section 4.3: CNI and network policies.
	{"cni-network-policy", "Ensure CNI plugin supports network policies", SectionManual, ids("4.3.1", allVersions...)},
	{"namespace-network-policy", "Ensure that all Namespaces have Network Policies defined", SectionObject, ids("4.3.2", allVersions...)},

	// Section 4.4: secrets.
	{"secrets-in-env", "Prefer using secrets as files over secrets as environment variables", SectionObject, ids("4.4.1", allVersions...)},
	{"external-secrets", "Consider external secret storage", SectionManual, ids("4.4.2", allVersions...)},

	// Section 4.5 (4.6 before 1.5.0): general policies.
	{"namespace-boundaries", "Create administrative boundaries between resources using namespaces", SectionManual, merge(ids("4.6.1", upTo120...), ids("4.5.1", from150...))},
	{"security-context", "Apply Security Context to Your Pods and Containers", SectionObject, merge(ids("4.6.2", upTo120...), ids("4.5.2", EKS150))},
	{"default-namespace", "The default namespace should not be used", SectionObject, merge(ids("4.6.3", upTo120...), ids("4.5.3", EKS150), ids("4.5.2", EKS170, EKS180))},

	// Section 5: the part decidable at admission.
	{"approved-registries", "Minimize user access to Amazon ECR", SectionObject, ids("5.1.4", allVersions...)},
	{"lb-tls", "Encrypt traffic to HTTPS load balancers with TLS certificates", SectionObject, ids("5.4.5", allVersions...)},

	// cisgate's own items, in every version: not benchmark recommendations, but what keeps the
	// others from being silenced.
	{"namespace-mode-label", "cisgate: a Namespace's cisgate.io/mode label holds enforce or audit (any other value is ignored)", SectionObject, ids(NamespaceModeLabelID, allVersions...)},
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
			id, ok := it.ids[b]
			if !ok {
				continue
			}
			e := Entry{ID: id, Slug: it.slug, Title: it.title, Section: it.section}
			c.bySlug[it.slug] = e
			c.byID[id] = e
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

// Entries lists every item of this benchmark in ID order; filter by section as needed.
func (c *Catalogue) Entries() []Entry { return slices.Clone(c.entries) }

// knownSlug reports whether any benchmark version carries the slug.
func knownSlug(s Slug) (item, bool) {
	for _, it := range items {
		if it.slug == s {
			return it, true
		}
	}
	return item{}, false
}

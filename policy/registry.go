package policy

import (
	"errors"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Target is a class of objects a check applies to.
type Target int

const (
	// TargetPodSpec: every object that carries a pod spec (see ExtractPodSpec).
	TargetPodSpec Target = iota + 1
	// TargetRole: Role and ClusterRole.
	TargetRole
	// TargetBinding: RoleBinding and ClusterRoleBinding.
	TargetBinding
	TargetServiceAccount
	TargetService
	TargetIngress
	TargetNetworkPolicy
	// TargetNamespaced: every namespaced object, of any kind, known or not.
	TargetNamespaced
	// TargetNamespace: the Namespace object itself.
	TargetNamespace
)

// String names the class for docs: what the check is evaluated on.
func (t Target) String() string {
	switch t {
	case TargetPodSpec:
		return "every kind with a pod spec"
	case TargetRole:
		return "Role, ClusterRole"
	case TargetBinding:
		return "RoleBinding, ClusterRoleBinding"
	case TargetServiceAccount:
		return "ServiceAccount"
	case TargetService:
		return "Service"
	case TargetIngress:
		return "Ingress"
	case TargetNetworkPolicy:
		return "NetworkPolicy (DELETE)"
	case TargetNamespaced:
		return "every namespaced object, custom resources included"
	case TargetNamespace:
		return "Namespace"
	}
	return "unknown"
}

func (t Target) matches(o Object) bool {
	switch t {
	case TargetPodSpec:
		return o.Pod != nil
	case TargetRole:
		_, ok := o.rules()
		return ok
	case TargetBinding:
		_, _, ok := o.binding()
		return ok
	// By group and kind: a custom kind may share a built-in kind's name (Knative's Service,
	// Calico's NetworkPolicy).
	case TargetServiceAccount:
		return o.GroupKind() == schema.GroupKind{Kind: "ServiceAccount"}
	case TargetService:
		return o.GroupKind() == schema.GroupKind{Kind: "Service"}
	case TargetIngress:
		return o.GroupKind() == schema.GroupKind{Group: "networking.k8s.io", Kind: "Ingress"}
	case TargetNetworkPolicy:
		return o.GroupKind() == schema.GroupKind{Group: "networking.k8s.io", Kind: "NetworkPolicy"}
	case TargetNamespaced:
		return o.Namespaced
	case TargetNamespace:
		return o.GroupKind() == schema.GroupKind{Kind: "Namespace"}
	}
	return false
}

// Check is the definition of one check: what it is and how it decides. Its results are Findings;
// nothing about a particular evaluation is stored here.
type Check struct {
	Slug Slug
	// Decides is the one-line specification shown in docs and `cisgate check --list`.
	Decides string
	// Targets are the object classes the check applies to.
	Targets []Target
	// Evaluate returns the findings on one object; none means it passes.
	Evaluate func(*Input) []Finding

	// container is set on checks built by containerCheck: whether they skip Windows pods.
	container *linuxOnly
	// verbs are the RBAC verbs a rule check judges (ruleCheck); each must be a row of rbacVerbs.
	verbs []string
}

// AppliesTo reports whether the check decides on the object: one of its targets matches.
func (c *Check) AppliesTo(o Object) bool {
	for _, t := range c.Targets {
		if t.matches(o) {
			return true
		}
	}
	return false
}

// builtin collects the checks of this package through register, called from each check's init.
var builtin []*Check

func register(c *Check) { builtin = append(builtin, c) }

// Registry is a validated set of checks.
type Registry struct {
	checks map[Slug]*Check
}

// NewRegistry validates checks: unique slugs, each in the catalogue as an object check, each
// with targets and an evaluate function; and every object check of the catalogue implemented.
func NewRegistry(checks []*Check) (*Registry, error) {
	r := &Registry{checks: make(map[Slug]*Check, len(checks))}
	var errs []error
	for _, c := range checks {
		switch it, known := knownSlug(c.Slug); {
		case c.Slug == "":
			errs = append(errs, errors.New("check with empty slug"))
			continue
		case !known:
			errs = append(errs, fmt.Errorf("check %q: slug not in the catalogue", c.Slug))
		case it.section != SectionObject:
			errs = append(errs, fmt.Errorf("check %q: the catalogue has it decided outside the policy engine", c.Slug))
		}
		if _, dup := r.checks[c.Slug]; dup {
			errs = append(errs, fmt.Errorf("check %q: registered twice", c.Slug))
			continue
		}
		for _, v := range c.verbs {
			if _, ok := verbRow(v); !ok {
				errs = append(errs, fmt.Errorf("check %q: verb %q is not in the table of RBAC verbs (rbacVerbs)", c.Slug, v))
			}
		}
		if len(c.Targets) == 0 || c.Evaluate == nil || c.Decides == "" {
			errs = append(errs, fmt.Errorf("check %q: needs Decides, Targets and Evaluate", c.Slug))
		}
		r.checks[c.Slug] = c
	}
	for _, it := range items {
		if it.section == SectionObject && r.checks[it.slug] == nil {
			errs = append(errs, fmt.Errorf("catalogue slug %q has no check", it.slug))
		}
	}
	return r, errors.Join(errs...)
}

// DefaultRegistry holds every check of this package. It panics only if the package itself is
// inconsistent, which TestDefaultRegistry catches first.
func DefaultRegistry() *Registry { return defaultRegistry() }

// defaultRegistry is built on first use: the checks register in init functions, which run after
// package-level variables are initialised.
var defaultRegistry = sync.OnceValue(func() *Registry {
	r, err := NewRegistry(builtin)
	if err != nil {
		panic("policy: invalid built-in checks: " + err.Error())
	}
	return r
})

// Check returns a registered check by slug.
func (r *Registry) Check(s Slug) (*Check, bool) {
	c, ok := r.checks[s]
	return c, ok
}

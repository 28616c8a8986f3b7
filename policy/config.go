package policy

import (
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

// Mode is what a check does with its findings at admission.
type Mode string

const (
	// ModeEnforce denies the request.
	ModeEnforce Mode = "enforce"
	// ModeAudit admits the request with a warning and records the finding.
	ModeAudit Mode = "audit"
	// ModeOff does not run the check.
	ModeOff Mode = "off"
)

// NamespaceModeLabel on a Namespace overrides the per-check and global modes inside it. It
// accepts enforce and audit only: anyone allowed to label a namespace could otherwise switch every
// check off there, and exemptions belong in the config (NamespaceLabelMode).
const NamespaceModeLabel = "cisgate.io/mode"

func (m Mode) valid() bool { return m == ModeEnforce || m == ModeAudit || m == ModeOff }

// NamespaceLabelMode reads a cisgate.io/mode label value: enforce or audit, exactly. Any other
// value ("off", "Enforce", " audit") is ignored (ok=false) and must be reported, never obeyed.
func NamespaceLabelMode(value string) (mode Mode, ok bool) {
	switch m := Mode(value); m {
	case ModeEnforce, ModeAudit:
		return m, true
	}
	return "", false
}

// Config is the one configuration file of cisgate (--config; the chart's ConfigMap).
type Config struct {
	Benchmark Benchmark `json:"benchmark"`
	// Mode is the global mode: enforce or audit.
	Mode Mode `json:"mode"`
	// Checks sets a mode per check, keyed by an ID of the selected benchmark or by slug.
	Checks     map[string]Mode `json:"checks,omitempty"`
	Exemptions Exemptions      `json:"exemptions"`
	// Registries are the approved image prefixes of 5.1.4; empty turns that check off.
	Registries []string   `json:"registries,omitempty"`
	RBAC       RBACConfig `json:"rbac"`
	// NamespaceModeEditors, when it names anyone, are the only users and groups that may set,
	// change or remove a Namespace's cisgate.io/mode label; the webhook denies anyone else.
	NamespaceModeEditors Editors `json:"namespaceModeEditors,omitzero"`
}

// Editors are users and groups.
type Editors struct {
	Users  []string `json:"users,omitempty"`
	Groups []string `json:"groups,omitempty"`
}

// Set reports whether the list names anyone: an empty list restricts nothing.
func (e Editors) Set() bool { return len(e.Users)+len(e.Groups) > 0 }

// Includes reports whether the user, by name or one of its groups, is an editor.
func (e Editors) Includes(username string, groups []string) bool {
	if slices.Contains(e.Users, username) {
		return true
	}
	for _, g := range groups {
		if slices.Contains(e.Groups, g) {
			return true
		}
	}
	return false
}

// Exemptions name what is neither denied nor warned; exempt findings are counted with a reason.
type Exemptions struct {
	Namespaces []string        `json:"namespaces,omitempty"`
	Groups     []string        `json:"groups,omitempty"`
	Usernames  []string        `json:"usernames,omitempty"`
	Rules      []ExemptionRule `json:"rules,omitempty"`
}

// ExemptionRule exempts some checks on matching objects. Empty namespace or kind match any.
type ExemptionRule struct {
	// Checks are IDs of the selected benchmark or slugs.
	Checks    []string `json:"checks"`
	Namespace string   `json:"namespace,omitempty"`
	Kind      string   `json:"kind,omitempty"`
	// Name is a glob (path.Match syntax), e.g. "cisgate-nodescan-*"; empty matches any.
	Name   string `json:"name,omitempty"`
	Reason string `json:"reason"`
}

// RBACConfig tunes the RBAC checks.
type RBACConfig struct {
	// ClusterAdminSubjects may be bound to ClusterRole cluster-admin (4.1.1).
	ClusterAdminSubjects []rbacv1.Subject `json:"clusterAdminSubjects,omitempty"`
}

// DefaultConfig is what an empty file means.
func DefaultConfig() Config {
	return Config{
		Benchmark: DefaultBenchmark,
		Mode:      ModeAudit,
		Exemptions: Exemptions{
			Namespaces: []string{"kube-system", "cisgate-system"},
			Groups:     []string{"system:nodes", "system:serviceaccounts:kube-system"},
		},
		RBAC: RBACConfig{ClusterAdminSubjects: DefaultSettings().ClusterAdminSubjects},
	}
}

// LoadConfig reads and validates a config file. Keys absent from the file keep their defaults;
// unknown keys are errors.
func LoadConfig(file string) (*Policy, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	p, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return p, nil
}

// ParseConfig decodes and validates YAML or JSON config.
func ParseConfig(data []byte) (*Policy, error) {
	cfg := DefaultConfig()
	// encoding/json decodes a list into the existing elements of the default slice, so an entry
	// that omits a field would inherit the default subject's (e.g. {kind: Group} would become
	// Group system:masters); decode the subjects into nothing and default them when absent.
	cfg.RBAC.ClusterAdminSubjects = nil
	if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		return nil, fmt.Errorf("invalid config: %w", err)
	}
	if cfg.RBAC.ClusterAdminSubjects == nil {
		cfg.RBAC.ClusterAdminSubjects = DefaultConfig().RBAC.ClusterAdminSubjects
	}
	return cfg.Compile()
}

// Policy is a validated Config resolved against its benchmark: what the webhook, the audit and
// `cisgate check` decide with. It is immutable once built.
type Policy struct {
	Config    Config
	Catalogue *Catalogue
	Evaluator *Evaluator
	modes     map[Slug]Mode
	rules     []compiledRule
}

type compiledRule struct {
	slugs map[Slug]bool
	ExemptionRule
}

// Compile validates the config; every error names the key it is about.
func (c Config) Compile() (*Policy, error) {
	var errs []error
	bad := func(key, msg string) { errs = append(errs, fmt.Errorf("%s: %s", key, msg)) }

	cat, err := CatalogueFor(c.Benchmark)
	if err != nil {
		bad("benchmark", err.Error())
		cat = catalogues[DefaultBenchmark] // keep validating the rest against the default
	}
	if c.Mode != ModeEnforce && c.Mode != ModeAudit {
		bad("mode", fmt.Sprintf("must be %q or %q, got %q", ModeEnforce, ModeAudit, c.Mode))
	}
	p := &Policy{Config: c, Catalogue: cat, modes: map[Slug]Mode{}}
	for key, mode := range c.Checks {
		k := "checks[" + strconv.Quote(key) + "]"
		e, ok := cat.Resolve(key)
		switch {
		case !ok:
			bad(k, "no check with this ID or slug in benchmark "+string(cat.Benchmark()))
		case e.Section != SectionObject:
			bad(k, "check "+e.ID+" ("+string(e.Slug)+") is not decided on objects and has no mode")
		case !mode.valid():
			bad(k, fmt.Sprintf("mode must be %q, %q or %q, got %q", ModeEnforce, ModeAudit, ModeOff, mode))
		default:
			p.modes[e.Slug] = mode
		}
	}
	for i, r := range c.Exemptions.Rules {
		k := "exemptions.rules[" + strconv.Itoa(i) + "]"
		cr := compiledRule{ExemptionRule: r, slugs: map[Slug]bool{}}
		if len(r.Checks) == 0 {
			bad(k+".checks", "must name at least one check ID or slug")
		}
		for j, id := range r.Checks {
			if e, ok := cat.Resolve(id); ok {
				cr.slugs[e.Slug] = true
			} else {
				bad(k+".checks["+strconv.Itoa(j)+"]", strconv.Quote(id)+" is no check ID or slug in benchmark "+string(cat.Benchmark()))
			}
		}
		if _, err := path.Match(r.Name, ""); err != nil {
			bad(k+".name", "bad glob "+strconv.Quote(r.Name)+": "+err.Error())
		}
		if strings.TrimSpace(r.Reason) == "" {
			bad(k+".reason", "required: say why the exemption exists")
		}
		p.rules = append(p.rules, cr)
	}
	for i, ns := range c.Exemptions.Namespaces {
		if ns == "" {
			bad("exemptions.namespaces["+strconv.Itoa(i)+"]", "must not be empty")
		}
	}
	for i, reg := range c.Registries {
		if _, err := parseRegistry(reg); err != nil {
			bad("registries["+strconv.Itoa(i)+"]", quote(reg)+": "+err.Error())
		}
	}
	for i, s := range c.RBAC.ClusterAdminSubjects {
		k := "rbac.clusterAdminSubjects[" + strconv.Itoa(i) + "]"
		switch s.Kind {
		case rbacv1.UserKind, rbacv1.GroupKind, rbacv1.ServiceAccountKind:
		default:
			bad(k+".kind", fmt.Sprintf("must be User, Group or ServiceAccount, got %q", s.Kind))
		}
		if s.Name == "" {
			bad(k+".name", "required")
		}
		if s.Kind == rbacv1.ServiceAccountKind && s.Namespace == "" {
			bad(k+".namespace", "required for a ServiceAccount")
		}
	}
	for i, u := range c.NamespaceModeEditors.Users {
		if u == "" {
			bad("namespaceModeEditors.users["+strconv.Itoa(i)+"]", "must not be empty")
		}
	}
	for i, g := range c.NamespaceModeEditors.Groups {
		if g == "" {
			bad("namespaceModeEditors.groups["+strconv.Itoa(i)+"]", "must not be empty")
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	p.Evaluator = NewEvaluator(cat, DefaultRegistry(), Settings{
		Registries:           c.Registries,
		ClusterAdminSubjects: c.RBAC.ClusterAdminSubjects,
	})
	return p, nil
}

// ModeFor resolves a check's mode, highest first: the check set to off in the config; the
// namespace's cisgate.io/mode label (namespaceMode, the raw label value: only enforce and audit
// count, anything else is ignored); the per-check setting; the global mode. 5.1.4 with no
// registries configured is off. A namespace label can never switch a check off.
func (p *Policy) ModeFor(slug Slug, namespaceMode string) Mode {
	perCheck, set := p.modes[slug]
	if set && perCheck == ModeOff {
		return ModeOff
	}
	if slug == "approved-registries" && len(p.Config.Registries) == 0 {
		return ModeOff
	}
	if m, ok := NamespaceLabelMode(namespaceMode); ok {
		return m
	}
	if set {
		return perCheck
	}
	return p.Config.Mode
}

// Downgrades lists the checks whose mode a namespace's cisgate.io/mode label lowers below the
// configured one (enforce to audit), in ID order; none for an ignored or raising label.
func (p *Policy) Downgrades(label string) []Entry {
	var out []Entry
	for _, e := range p.Catalogue.Entries() {
		if e.Section == SectionObject && p.ModeFor(e.Slug, "") == ModeEnforce && p.ModeFor(e.Slug, label) == ModeAudit {
			out = append(out, e)
		}
	}
	return out
}

// ExemptNamespace reports whether the namespace is exempt from every check.
func (p *Policy) ExemptNamespace(ns string) bool {
	for _, n := range p.Config.Exemptions.Namespaces {
		if n == ns {
			return true
		}
	}
	return false
}

// ExemptUser reports whether a request's user is exempt by username or group, and why.
func (p *Policy) ExemptUser(username string, groups []string) (string, bool) {
	for _, u := range p.Config.Exemptions.Usernames {
		if u == username {
			return "user " + strconv.Quote(username) + " is exempt", true
		}
	}
	for _, g := range p.Config.Exemptions.Groups {
		for _, have := range groups {
			if g == have {
				return "group " + strconv.Quote(g) + " is exempt", true
			}
		}
	}
	return "", false
}

// ExemptionFor returns the reason of the first rule that exempts the check on the object.
func (p *Policy) ExemptionFor(slug Slug, obj Object) (string, bool) {
	for _, r := range p.rules {
		if !r.slugs[slug] ||
			(r.Namespace != "" && r.Namespace != obj.Namespace) ||
			(r.Kind != "" && r.Kind != obj.Kind) {
			continue
		}
		if ok, _ := path.Match(r.Name, obj.Name); r.Name != "" && !ok {
			continue
		}
		return r.Reason, true
	}
	return "", false
}

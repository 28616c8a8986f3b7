package policy

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/clock"
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
// Every entry may carry expires (RFC 3339), reason and owner; an expired one no longer applies.
type Exemptions struct {
	Namespaces []ExemptName    `json:"namespaces,omitempty"`
	Groups     []ExemptName    `json:"groups,omitempty"`
	Usernames  []ExemptName    `json:"usernames,omitempty"`
	Rules      []ExemptionRule `json:"rules,omitempty"`
	// RequireReason refuses a namespace, group or username entry without a reason (a rule always
	// needs one).
	RequireReason bool `json:"requireReason,omitempty"`
	// ExpiryWarning (a Go duration, default DefaultExpiryWarning) is how long before its expiry
	// an exemption is listed as expiring: in summary.json, the metric and check's output.
	ExpiryWarning string `json:"expiryWarning,omitempty"`
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
	// Expires and Owner are as in ExemptionTerms.
	Expires string `json:"expires,omitempty"`
	Owner   string `json:"owner,omitempty"`
}

// RBACConfig tunes the RBAC checks.
type RBACConfig struct {
	// ClusterAdminSubjects may be bound to ClusterRole cluster-admin (4.1.1).
	ClusterAdminSubjects []rbacv1.Subject `json:"clusterAdminSubjects,omitempty"`
}

// DefaultConfig is what a config leaves out: `{}` is these defaults. A config with no YAML
// document at all (ErrEmptyConfig) is refused.
func DefaultConfig() Config {
	return Config{
		Benchmark: DefaultBenchmark,
		Mode:      ModeAudit,
		Exemptions: Exemptions{
			Namespaces: ExemptNames("kube-system", "cisgate-system"),
			Groups:     ExemptNames("system:nodes", "system:serviceaccounts:kube-system"),
		},
		RBAC: RBACConfig{ClusterAdminSubjects: DefaultSettings().ClusterAdminSubjects},
	}
}

// ErrEmptyConfig is a config with no YAML document: empty, blank, or only comments or a bare
// "---". It is refused rather than read as the defaults (audit mode): a truncated or unrendered
// config file must not quietly turn an enforcing gate off. `{}` states the defaults explicitly.
var ErrEmptyConfig = errors.New("the config is empty (no YAML document: blank, or only comments); an empty config is not the defaults, write at least \"mode: audit\"")

// LoadConfig reads and validates a config file (ReadConfig).
func LoadConfig(file string) (*Policy, error) {
	p, _, err := ReadConfig(file)
	return p, err
}

// ReadConfig is the one loader of a config file, for serve's config watcher and for check,
// audit and cloudscan: it reads the file, parses and validates it (ParseConfig) and returns the
// policy with the content it was built from. Every error names the file. Keys absent from the
// file keep their defaults; unknown keys are errors. When the file was read but is invalid, the
// content is returned with the error, so the watcher can tell a change from the last content.
func ReadConfig(file string) (*Policy, []byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	p, err := ParseConfig(data)
	if err != nil {
		return nil, data, fmt.Errorf("%s: %w", file, err)
	}
	return p, data, nil
}

// ParseConfig decodes and validates a YAML or JSON config; a content with no document is
// ErrEmptyConfig.
func ParseConfig(data []byte) (*Policy, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, ErrEmptyConfig
	}
	if doc, err := yaml.YAMLToJSON(data); err == nil && string(bytes.TrimSpace(doc)) == "null" {
		return nil, ErrEmptyConfig
	}
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
	// namespaces, usernames, groups and rules are the exemptions, compiled.
	namespaces, usernames, groups []Exemption
	rules                         []compiledRule
	expiryWarning                 time.Duration
	// clock tells the time exemptions expire by (WithClock); nil: the real clock.
	clock clock.PassiveClock
}

type compiledRule struct {
	slugs map[Slug]bool
	ExemptionRule
	exemption Exemption
}

// Compile validates the config; every error names the key it is about, as a field path
// (checks[4.2.1], exemptions.rules[0].reason) in the Kubernetes validation style, one per line.
func (c Config) Compile() (*Policy, error) {
	cat, errs := c.catalogue(field.NewPath("benchmark"))
	if c.Mode != ModeEnforce && c.Mode != ModeAudit {
		errs = append(errs, field.NotSupported(field.NewPath("mode"), c.Mode, []Mode{ModeEnforce, ModeAudit}))
	}
	modes, kept, modeErrs := compileModes(cat, c.Checks, field.NewPath("checks"))
	if len(modeErrs) == 0 {
		var err error
		if cat, err = cat.keep(kept); err != nil {
			modeErrs = append(modeErrs, field.InternalError(field.NewPath("checks"), err))
		}
	}
	ex := field.NewPath("exemptions")
	rules, ruleErrs := compileRules(cat, c.Exemptions.Rules, c.Exemptions.RequireReason, ex.Child("rules"))
	errs = append(errs, modeErrs...)
	errs = append(errs, ruleErrs...)
	namespaces, nsErrs := compileNames(c.Exemptions.Namespaces, ExemptNamespaceKind, c.Exemptions.RequireReason, ex.Child("namespaces"))
	usernames, userErrs := compileNames(c.Exemptions.Usernames, ExemptUsernameKind, c.Exemptions.RequireReason, ex.Child("usernames"))
	groups, groupErrs := compileNames(c.Exemptions.Groups, ExemptGroupKind, c.Exemptions.RequireReason, ex.Child("groups"))
	expiryWarning, warnErrs := compileExpiryWarning(c.Exemptions.ExpiryWarning, ex.Child("expiryWarning"))
	errs = append(errs, nsErrs...)
	errs = append(errs, userErrs...)
	errs = append(errs, groupErrs...)
	errs = append(errs, warnErrs...)
	errs = append(errs, validateRegistries(c.Registries, field.NewPath("registries"))...)
	errs = append(errs, validateSubjects(c.RBAC.ClusterAdminSubjects, field.NewPath("rbac", "clusterAdminSubjects"))...)
	errs = append(errs, nonEmpty(c.NamespaceModeEditors.Users, field.NewPath("namespaceModeEditors", "users"))...)
	errs = append(errs, nonEmpty(c.NamespaceModeEditors.Groups, field.NewPath("namespaceModeEditors", "groups"))...)
	if len(errs) > 0 {
		return nil, joinFieldErrors(errs)
	}
	p := &Policy{Config: c, Catalogue: cat, modes: modes, rules: rules,
		namespaces: namespaces, usernames: usernames, groups: groups, expiryWarning: expiryWarning}
	p.Evaluator = NewEvaluator(cat, DefaultRegistry(), Settings{
		Registries:           c.Registries,
		ClusterAdminSubjects: c.RBAC.ClusterAdminSubjects,
	})
	return p, nil
}

// joinFieldErrors puts one error per line, so a reader (and a log line) sees every key at once;
// field.ErrorList.ToAggregate would print them as one bracketed list.
func joinFieldErrors(list field.ErrorList) error {
	errs := make([]error, len(list))
	for i, e := range list {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// catalogue is the config's benchmark; an unknown one is an error, and the rest is validated
// against the default so that every other error is still reported.
func (c Config) catalogue(path *field.Path) (*Catalogue, field.ErrorList) {
	if cat, ok := catalogues[c.Benchmark]; ok {
		return cat, nil
	}
	return catalogues[DefaultBenchmark], field.ErrorList{field.NotSupported(path, c.Benchmark, Benchmarks())}
}

// compileModes resolves checks: keys (IDs of the benchmark or slugs) to per-slug modes. A slug
// of an object check the benchmark does not number keeps that check (kept) unless its mode is
// off, which is what leaving it out already means.
func compileModes(cat *Catalogue, checks map[string]Mode, path *field.Path) (map[Slug]Mode, []Slug, field.ErrorList) {
	var errs field.ErrorList
	var kept []Slug
	modes := map[Slug]Mode{}
	unnumbered := map[Slug]Entry{}
	for _, e := range cat.Unnumbered() {
		unnumbered[e.Slug] = e
	}
	for _, key := range slices.Sorted(maps.Keys(checks)) {
		mode, k := checks[key], path.Key(key)
		e, ok := cat.Resolve(key)
		if u, isUnnumbered := unnumbered[Slug(key)]; !ok && isUnnumbered {
			e, ok = u, true
			if mode.valid() && mode != ModeOff {
				kept = append(kept, u.Slug)
			}
		}
		switch {
		case !ok:
			errs = append(errs, field.Invalid(k, key, "no check with this ID or slug in benchmark "+string(cat.Benchmark())))
		case e.Section != SectionObject:
			errs = append(errs, field.Invalid(k, key, "check "+e.ID+" ("+string(e.Slug)+") is not decided on objects and has no mode"))
		case !mode.valid():
			errs = append(errs, field.NotSupported(k, mode, []Mode{ModeEnforce, ModeAudit, ModeOff}))
		default:
			modes[e.Slug] = mode
		}
	}
	return modes, kept, errs
}

func compileRules(cat *Catalogue, rules []ExemptionRule, requireReason bool, fp *field.Path) ([]compiledRule, field.ErrorList) {
	var errs field.ErrorList
	var out []compiledRule
	for i, r := range rules {
		k := fp.Index(i)
		cr := compiledRule{ExemptionRule: r, slugs: map[Slug]bool{},
			exemption: Exemption{Key: k.String(), Kind: ExemptRuleKind, Name: ruleName(r)}}
		if len(r.Checks) == 0 {
			errs = append(errs, field.Required(k.Child("checks"), "name at least one check ID or slug"))
		}
		for j, id := range r.Checks {
			if e, ok := cat.Resolve(id); ok {
				cr.slugs[e.Slug] = true
			} else if cat.leavesUnnumbered(Slug(id)) {
				// An unnumbered check the config does not keep never runs: the rule holds for
				// the benchmarks that number it, so a config moves between versions unchanged.
				continue
			} else {
				errs = append(errs, field.Invalid(k.Child("checks").Index(j), id, "no check with this ID or slug in benchmark "+string(cat.Benchmark())))
			}
		}
		if _, err := path.Match(r.Name, ""); err != nil {
			errs = append(errs, field.Invalid(k.Child("name"), r.Name, "bad glob: "+err.Error()))
		}
		if strings.TrimSpace(r.Reason) == "" {
			errs = append(errs, field.Required(k.Child("reason"), "say why the exemption exists"))
		}
		// A rule always needs its reason (above); requireReason adds nothing to it.
		errs = append(errs, compileTerms(&cr.exemption, ExemptionTerms{Expires: r.Expires, Reason: r.Reason, Owner: r.Owner}, false, k)...)
		out = append(out, cr)
	}
	return out, errs
}

func nonEmpty(list []string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, s := range list {
		if s == "" {
			errs = append(errs, field.Required(path.Index(i), "must not be empty"))
		}
	}
	return errs
}

func validateRegistries(regs []string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, reg := range regs {
		if _, err := parseRegistry(reg); err != nil {
			errs = append(errs, field.Invalid(path.Index(i), reg, err.Error()))
		}
	}
	return errs
}

func validateSubjects(subjects []rbacv1.Subject, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, s := range subjects {
		k := path.Index(i)
		switch s.Kind {
		case rbacv1.UserKind, rbacv1.GroupKind, rbacv1.ServiceAccountKind:
		default:
			errs = append(errs, field.NotSupported(k.Child("kind"), s.Kind, []string{rbacv1.UserKind, rbacv1.GroupKind, rbacv1.ServiceAccountKind}))
		}
		if s.Name == "" {
			errs = append(errs, field.Required(k.Child("name"), ""))
		}
		if s.Kind == rbacv1.ServiceAccountKind && s.Namespace == "" {
			errs = append(errs, field.Required(k.Child("namespace"), "a ServiceAccount subject needs its namespace"))
		}
	}
	return errs
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

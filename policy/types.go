package policy

import (
	"strconv"
	"strings"
)

// Slug is a check's stable identity in code, config, metrics and tests. IDs move between
// benchmark versions; slugs never do.
type Slug string

// Status is the state of one result.
type Status string

const (
	StatusPass Status = "PASS"
	// StatusFail means the evidence shows non-compliance.
	StatusFail Status = "FAIL"
	// StatusWarn means the evidence cannot decide (or the benchmark marks the item manual).
	StatusWarn Status = "WARN"
)

// Finding is one result of one check on one object, through its stages: a check returns it
// with Status, Path, Detail and Advisory; the evaluator places it in the benchmark (ID, Slug,
// Title from the catalogue); Judge sets what the policy does with it (Mode, ExemptReason,
// ExpiredExemption). Checks never return a passing finding: no finding from a check that applied
// means the object passed it.
type Finding struct {
	ID    string
	Slug  Slug
	Title string
	// Status is StatusFail or StatusWarn.
	Status Status
	// Path is the field path from the object's root, e.g. spec.template.spec.containers[0].image.
	Path string
	// Detail says what is wrong and what is required, without the ID.
	Detail string
	// Advisory findings are never denied at admission, only warned (e.g. the default
	// ServiceAccount, which the control plane itself creates).
	Advisory bool
	// Mode is the check's resolved mode for the object (never ModeOff: those are dropped).
	Mode Mode
	// ExemptReason is set when an exemption in force covers the finding: neither denied nor warned.
	ExemptReason string
	// ExpiredExemption, when no exemption in force covers the finding, names the one that did
	// until it expired: the finding is decided as if it had never existed, and says why.
	ExpiredExemption string
}

func fail(path, detail string) Finding {
	return Finding{Status: StatusFail, Path: path, Detail: detail}
}
func warn(path, detail string) Finding {
	return Finding{Status: StatusWarn, Path: path, Detail: detail}
}

// Message is the user-facing line, e.g. `[4.2.1] container "app" must not set
// securityContext.privileged=true`, naming the exemption that expired, if one did.
func (f Finding) Message() string {
	if f.ExpiredExemption == "" {
		return "[" + f.ID + "] " + f.Detail
	}
	return "[" + f.ID + "] " + f.Detail + " (" + f.ExpiredExemption + ")"
}

// Denies reports a finding that blocks admission: a FAIL of an enforce-mode check that no
// exemption covers and that is not advisory.
func (f Finding) Denies() bool {
	return f.Mode == ModeEnforce && f.Status == StatusFail && f.ExemptReason == "" && !f.Advisory
}

// CompareIDs orders benchmark IDs numerically per dotted component, so 4.1.9 sorts before 4.1.10.
func CompareIDs(a, b string) int {
	for a != "" || b != "" {
		var pa, pb string
		pa, a, _ = strings.Cut(a, ".")
		pb, b, _ = strings.Cut(b, ".")
		na, errA := strconv.Atoi(pa)
		nb, errB := strconv.Atoi(pb)
		switch {
		case errA == nil && errB == nil && na != nb:
			if na < nb {
				return -1
			}
			return 1
		case (errA != nil || errB != nil) && pa != pb:
			return strings.Compare(pa, pb)
		}
	}
	return 0
}

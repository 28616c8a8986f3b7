// Package output renders findings as a table, JSON (a contract: docs/architecture.md, "Fixed
// interfaces"), JUnit XML or SARIF 2.1.0: findings on objects from `cisgate check` and `cisgate
// audit` (Write), and the rows of `cisgate nodescan` and `cisgate cloudscan` decided on evidence
// (WriteEvidence).
package output

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/cisgate/cisgate/policy"
)

// Format is an output format.
type Format string

const (
	FormatTable Format = "table"
	FormatJSON  Format = "json"
	FormatJUnit Format = "junit"
	FormatSARIF Format = "sarif"
)

// Formats are the formats Write renders.
func Formats() []Format { return []Format{FormatTable, FormatJSON, FormatJUnit, FormatSARIF} }

// ParseFormat accepts one of the known formats; any other is UnknownFormat's error.
func ParseFormat(s string, known ...Format) (Format, error) {
	if !slices.Contains(known, Format(s)) {
		return "", UnknownFormat(Format(s), known...)
	}
	return Format(s), nil
}

// UnknownFormat is the one error for a format outside known, from ParseFormat and from every
// writer (Write, nodescan.Write); a command answers it with exit code 2, as any usage error.
func UnknownFormat(f Format, known ...Format) error {
	names := make([]string, len(known))
	for i, k := range known {
		names[i] = string(k)
	}
	return fmt.Errorf("--output must be one of %s, got %q", strings.Join(names, ", "), f)
}

// ObjectRef names the object a finding is on; File is set for manifests.
type ObjectRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	File      string `json:"file,omitempty"`
}

func (o ObjectRef) String() string {
	if o.Namespace == "" {
		return o.Kind + " " + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

// Finding is a judged policy.Finding with the object it is on, as check and audit render it;
// its JSON is a contract (docs/architecture.md, "Fixed interfaces").
type Finding struct {
	ID           string        `json:"id"`
	Slug         policy.Slug   `json:"slug"`
	Title        string        `json:"title"`
	Status       policy.Status `json:"status"`
	Mode         policy.Mode   `json:"mode"`
	Object       ObjectRef     `json:"object"`
	Path         string        `json:"path"`
	Detail       string        `json:"detail"`
	ExemptReason string        `json:"exemptReason,omitempty"`
	// ExpiredExemption names the exemption that covered the finding until it expired
	// (policy.Finding.ExpiredExemption).
	ExpiredExemption string `json:"expiredExemption,omitempty"`
	// Advisory findings never block (policy.Finding.Advisory), e.g. the default ServiceAccount.
	Advisory bool `json:"advisory,omitempty"`
}

// Blocks reports a finding that fails the caller: what admission would deny, as the policy
// decides it (policy.Finding.Denies).
func (f Finding) Blocks() bool {
	return policy.Finding{Status: f.Status, Advisory: f.Advisory, Mode: f.Mode, ExemptReason: f.ExemptReason}.Denies()
}

// Message is the finding's line as admission words it (policy.Finding.Message), naming the
// exemption that expired, if one did.
func (f Finding) Message() string {
	return policy.Finding{ID: f.ID, Detail: f.Detail, ExpiredExemption: f.ExpiredExemption}.Message()
}

// expiredNote is " [<the expired exemption>]" when one covered the finding until it expired.
func (f Finding) expiredNote() string {
	if f.ExpiredExemption == "" {
		return ""
	}
	return " [" + f.ExpiredExemption + "]"
}

// Report is the result of checking a set of objects.
type Report struct {
	Benchmark policy.Benchmark `json:"benchmark"`
	Findings  []Finding        `json:"findings"`
	// Checked lists every object evaluated, with or without findings (JUnit test cases, summary).
	Checked []ObjectRef `json:"-"`
}

// NewFinding is a judged policy finding on an object, as rendered.
func NewFinding(j policy.Finding, obj ObjectRef) Finding {
	return Finding{
		ID: j.ID, Slug: j.Slug, Title: j.Title, Status: j.Status, Mode: j.Mode,
		Object: obj, Path: j.Path, Detail: j.Detail, ExemptReason: j.ExemptReason, ExpiredExemption: j.ExpiredExemption, Advisory: j.Advisory,
	}
}

// Sort orders findings by ID, then object; a check's findings on one object keep their field order.
func (r *Report) Sort() {
	slices.SortStableFunc(r.Findings, func(a, b Finding) int {
		if c := policy.CompareIDs(a.ID, b.ID); c != 0 {
			return c
		}
		if c := strings.Compare(a.Object.File, b.Object.File); c != 0 {
			return c
		}
		return strings.Compare(a.Object.String(), b.Object.String())
	})
}

// Blocking counts the findings that fail the caller.
func (r *Report) Blocking() int {
	n := 0
	for _, f := range r.Findings {
		if f.Blocks() {
			n++
		}
	}
	return n
}

// Write renders the report in a format, one of Formats.
func Write(w io.Writer, r *Report, f Format) error {
	switch f {
	case FormatTable:
		return writeTable(w, r)
	case FormatJSON:
		return writeJSON(w, r)
	case FormatJUnit:
		return writeJUnit(w, r)
	case FormatSARIF:
		return writeSARIF(w, r)
	}
	return UnknownFormat(f, Formats()...)
}

package admission

import (
	"strconv"
	"strings"

	"github.com/cisgate/cisgate/policy"
)

// Request is what Decide needs to know of an admission request.
type Request struct {
	Operation policy.Operation
	// SubResource is the request's subresource ("" for the object itself).
	SubResource string
	// Object is the object being written (for DELETE: the object being deleted).
	Object policy.Object
	// OldObject is the stored object on UPDATE; nil otherwise.
	OldObject *policy.Object
	// NamespaceMode is the cisgate.io/mode label of the object's namespace ("" when none).
	NamespaceMode string
	Username      string
	Groups        []string
}

// Verdict is what happens to one judged finding at admission.
type Verdict string

const (
	VerdictDeny   Verdict = "deny"
	VerdictWarn   Verdict = "warn"
	VerdictExempt Verdict = "exempt"
)

// Ruling is what admission made of one judged policy.Finding: what this request does about it.
type Ruling struct {
	policy.Finding
	Verdict Verdict
	// Preexisting is set on UPDATE when the old object already had the finding: enforce mode
	// only warns about it, so scaling or relabelling a legacy workload is never blocked.
	Preexisting bool
}

// Decision is the webhook's answer and what it reports.
type Decision struct {
	Allowed bool
	// Message lists every denying finding, sorted by ID; empty when allowed.
	Message string
	// Warnings go back to the client (kubectl prints them).
	Warnings []string
	// Rulings are the findings with their verdicts, in policy order.
	Rulings []Ruling
}

// subresourceChecked reports whether a request to a subresource of a kind is evaluated at all:
// only those of policy.CheckedKind.Subresources change what a check reads.
func subresourceChecked(kind, sub string) bool {
	return sub == "" || checkedSubresources[kind+"/"+sub]
}

// checkedSubresources are the checked kinds' subresources, as "Kind/subresource".
var checkedSubresources = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range policy.CheckedKinds() {
		for _, sub := range k.Subresources {
			m[k.Kind+"/"+sub] = true
		}
	}
	return m
}()

// Decide applies modes, exemptions and the UPDATE and DELETE rules (docs/architecture.md, "A request") to one request.
// lookup may be nil (no cluster state); checks that need it answer WARN.
func Decide(pol *policy.Policy, req Request, lookup policy.Lookup) Decision {
	if msg, denied := modeLabelEdit(pol, req); denied {
		return Decision{Message: msg}
	}
	// Status, scale and other subresources carry nothing the checks decide on; on DELETE only the
	// loss of a namespace's last NetworkPolicy (4.3.2) matters.
	if !subresourceChecked(req.Object.Kind, req.SubResource) || (req.Operation == policy.OperationDelete && !policy.DecidedOnDelete(req.Object.Kind)) {
		return Decision{Allowed: true}
	}
	// One instant for the whole request: an exemption applies to all of it or to none of it.
	now := pol.Now()
	judged := pol.JudgeAt(req.Object, req.Operation, lookup, req.NamespaceMode, now)
	if len(judged) == 0 {
		return Decision{Allowed: true}
	}
	var before map[findingKey]bool
	if req.Operation == policy.OperationUpdate && req.OldObject != nil {
		before = map[findingKey]bool{}
		for _, j := range pol.JudgeAt(*req.OldObject, req.Operation, lookup, req.NamespaceMode, now) {
			before[keyOf(j)] = true
		}
	}
	user := pol.ExemptUserAt(req.Username, req.Groups, now)

	d := Decision{Allowed: true, Rulings: make([]Ruling, 0, len(judged))}
	var denials []string
	for _, j := range judged {
		switch {
		case j.ExemptReason != "":
		case user.Exempt():
			j.ExemptReason, j.ExpiredExemption = user.Reason, ""
		case j.ExpiredExemption == "":
			j.ExpiredExemption = user.Expired
		}
		f := Ruling{Finding: j, Preexisting: before[keyOf(j)]}
		switch {
		case j.ExemptReason != "":
			f.Verdict = VerdictExempt
		case j.Denies() && !f.Preexisting:
			f.Verdict = VerdictDeny
			denials = append(denials, j.Message())
		default:
			f.Verdict = VerdictWarn
			d.Warnings = append(d.Warnings, warning(f))
		}
		d.Rulings = append(d.Rulings, f)
	}
	if len(denials) > 0 {
		d.Allowed = false
		d.Message = "cisgate denied " + describe(req.Object) + " (CIS Amazon EKS Benchmark " +
			string(pol.Catalogue.Benchmark()) + "): " + strings.Join(denials, "; ")
	}
	return d
}

// modeLabelEdit denies a Namespace CREATE or UPDATE that sets, changes or removes the
// cisgate.io/mode label by anyone but the config's namespaceModeEditors, when that list names
// anyone. It applies whatever the mode and whatever the exemptions: the label lowers the mode of
// every check in the namespace, so who may write it is part of the policy, not of a check.
func modeLabelEdit(pol *policy.Policy, req Request) (string, bool) {
	editors := pol.Config.NamespaceModeEditors
	if req.Object.Kind != "Namespace" || req.SubResource != "" || !editors.Set() ||
		(req.Operation != policy.OperationCreate && req.Operation != policy.OperationUpdate) {
		return "", false
	}
	value, set := req.Object.Labels[policy.NamespaceModeLabel]
	var old string
	var wasSet bool
	if req.OldObject != nil {
		old, wasSet = req.OldObject.Labels[policy.NamespaceModeLabel]
	}
	if set == wasSet && value == old {
		return "", false
	}
	if editors.Includes(req.Username, req.Groups) {
		return "", false
	}
	var change string
	switch {
	case !set:
		change = "remove label " + policy.NamespaceModeLabel + " (was " + strconv.Quote(old) + ")"
	case !wasSet:
		change = "set label " + policy.NamespaceModeLabel + "=" + strconv.Quote(value)
	default:
		change = "change label " + policy.NamespaceModeLabel + " from " + strconv.Quote(old) + " to " + strconv.Quote(value)
	}
	return "cisgate denied " + describe(req.Object) + ": user " + strconv.Quote(req.Username) + " may not " + change +
		"; only the users and groups in the cisgate config's namespaceModeEditors may", true
}

// findingKey identifies a finding across the old and new object: the detail names the container
// or rule, so reordering containers does not turn an old finding into a new one.
type findingKey struct {
	slug   policy.Slug
	detail string
}

func keyOf(j policy.Finding) findingKey { return findingKey{j.Slug, j.Detail} }

func warning(f Ruling) string {
	switch {
	case f.Status == policy.StatusWarn:
		return f.Message() + " (cannot be decided here)"
	case f.Preexisting && f.Mode == policy.ModeEnforce:
		return f.Message() + " (already present before this update; not denied)"
	case f.Advisory && f.Mode == policy.ModeEnforce:
		return f.Message() + " (advisory; never denied)"
	}
	return f.Message()
}

func describe(o policy.Object) string {
	if o.Namespace == "" {
		return o.Kind + " " + strconv.Quote(o.Name)
	}
	return o.Kind + " " + strconv.Quote(o.Namespace+"/"+o.Name)
}

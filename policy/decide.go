package policy

import "time"

// Judged is a result with what the policy does with it.
type Judged struct {
	Result
	// Mode is the check's resolved mode for the object (never ModeOff: those are dropped).
	Mode Mode
	// ExemptReason is set when an exemption in force covers the result: neither denied nor warned.
	ExemptReason string
	// ExpiredExemption, when no exemption in force covers the result, names the one that did
	// until it expired: the result is decided as if it had never existed, and says why.
	ExpiredExemption string
}

// Message is the result's message, naming the exemption that expired, if one did.
func (j Judged) Message() string {
	if j.ExpiredExemption == "" {
		return j.Result.Message()
	}
	return j.Result.Message() + " (" + j.ExpiredExemption + ")"
}

// Denies reports a result that blocks admission: a FAIL of an enforce-mode check that no
// exemption covers and that is not advisory.
func (j Judged) Denies() bool {
	return j.Mode == ModeEnforce && j.Status == StatusFail && j.ExemptReason == "" && !j.Advisory
}

// Judge is JudgeAt at the policy's clock (Now).
func (p *Policy) Judge(obj Object, op Operation, lookup Lookup, namespaceMode string) []Judged {
	return p.JudgeAt(obj, op, lookup, namespaceMode, p.Now())
}

// JudgeAt evaluates obj and places each result under its mode and the exemptions in force at
// now. namespaceMode is the value of the object's namespace's cisgate.io/mode label ("" when
// none). Results of checks that are off are dropped. The order of results (by ID) is kept.
func (p *Policy) JudgeAt(obj Object, op Operation, lookup Lookup, namespaceMode string, now time.Time) []Judged {
	results := p.Evaluator.Evaluate(obj, op, lookup)
	out := make([]Judged, 0, len(results))
	var nsVerdict ExemptionVerdict
	if obj.Namespace != "" {
		nsVerdict = p.ExemptNamespaceAt(obj.Namespace, now)
	}
	for _, r := range results {
		mode := p.ModeFor(r.Slug, namespaceMode)
		if mode == ModeOff {
			continue
		}
		v := nsVerdict.Or(p.ExemptionForAt(r.Slug, obj, now))
		out = append(out, Judged{Result: r, Mode: mode, ExemptReason: v.Reason, ExpiredExemption: v.Expired})
	}
	return out
}

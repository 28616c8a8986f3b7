package policy

import "time"

// Judge is JudgeAt at the policy's clock (Now).
func (p *Policy) Judge(obj Object, op Operation, lookup Lookup, namespaceMode string) []Finding {
	return p.JudgeAt(obj, op, lookup, namespaceMode, p.Now())
}

// JudgeAt evaluates obj and places each finding under its mode and the exemptions in force at
// now. namespaceMode is the value of the object's namespace's cisgate.io/mode label ("" when
// none). Findings of checks that are off are dropped. The order (by ID) is kept.
func (p *Policy) JudgeAt(obj Object, op Operation, lookup Lookup, namespaceMode string, now time.Time) []Finding {
	findings := p.Evaluator.Evaluate(obj, op, lookup)
	out := make([]Finding, 0, len(findings))
	var nsVerdict ExemptionVerdict
	if obj.Namespace != "" {
		nsVerdict = p.ExemptNamespaceAt(obj.Namespace, now)
	}
	for _, f := range findings {
		f.Mode = p.ModeFor(f.Slug, namespaceMode)
		if f.Mode == ModeOff {
			continue
		}
		v := nsVerdict.Or(p.ExemptionForAt(f.Slug, obj, now))
		f.ExemptReason, f.ExpiredExemption = v.Reason, v.Expired
		out = append(out, f)
	}
	return out
}

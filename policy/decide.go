package policy

// Judged is a result with what the policy does with it.
type Judged struct {
	Result
	// Mode is the check's resolved mode for the object (never ModeOff: those are dropped).
	Mode Mode
	// ExemptReason is set when an exemption covers the result: neither denied nor warned.
	ExemptReason string
}

// Denies reports a result that blocks admission: a FAIL of an enforce-mode check that no
// exemption covers and that is not advisory.
func (j Judged) Denies() bool {
	return j.Mode == ModeEnforce && j.Status == StatusFail && j.ExemptReason == "" && !j.Advisory
}

// Judge evaluates obj and places each result under its mode and exemptions. namespaceMode is the
// value of the object's namespace's cisgate.io/mode label ("" when none). Results of checks that
// are off are dropped. The order of results (by ID) is kept.
func (p *Policy) Judge(obj Object, op Operation, lookup Lookup, namespaceMode string) []Judged {
	results := p.Evaluator.Evaluate(obj, op, lookup)
	out := make([]Judged, 0, len(results))
	nsExempt := obj.Namespace != "" && p.ExemptNamespace(obj.Namespace)
	for _, r := range results {
		mode := p.ModeFor(r.Slug, namespaceMode)
		if mode == ModeOff {
			continue
		}
		j := Judged{Result: r, Mode: mode}
		switch reason, ok := p.ExemptionFor(r.Slug, obj); {
		case nsExempt:
			j.ExemptReason = "namespace " + obj.Namespace + " is exempt"
		case ok:
			j.ExemptReason = reason
		}
		out = append(out, j)
	}
	return out
}

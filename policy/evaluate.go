package policy

// Evaluator runs the checks of one benchmark version on objects. It is safe for concurrent use.
type Evaluator struct {
	catalogue *Catalogue
	checks    []placedCheck
	settings  Settings
}

type placedCheck struct {
	check *Check
	entry Entry
}

// NewEvaluator places the registry's checks in the catalogue; checks the version does not carry
// are left out.
func NewEvaluator(cat *Catalogue, reg *Registry, settings Settings) *Evaluator {
	settings.registries = parseRegistries(settings.Registries)
	e := &Evaluator{catalogue: cat, settings: settings}
	for _, entry := range cat.Entries() {
		if c, ok := reg.Check(entry.Slug); ok {
			e.checks = append(e.checks, placedCheck{check: c, entry: entry})
		}
	}
	return e
}

// Catalogue is the benchmark the evaluator places findings in.
func (e *Evaluator) Catalogue() *Catalogue { return e.catalogue }

// Evaluate runs every applicable check on obj and returns its findings, placed in the benchmark,
// sorted by ID.
func (e *Evaluator) Evaluate(obj Object, op Operation, lookup Lookup) []Finding {
	in := &Input{Object: obj, Operation: op, Lookup: lookup, Settings: &e.settings}
	var findings []Finding
	for _, pc := range e.checks {
		if !pc.check.AppliesTo(obj) {
			continue
		}
		for _, f := range pc.check.Evaluate(in) {
			f.ID, f.Slug, f.Title = pc.entry.ID, pc.entry.Slug, pc.entry.Title
			findings = append(findings, f)
		}
	}
	// Checks run in ID order, so findings are sorted by ID, each check in its own (field) order.
	return findings
}

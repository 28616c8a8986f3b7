package policy

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Rebase returns the config for benchmark b: the same checks, decided under b's IDs. Every ID in
// checks and exemptions.rules[].checks means what it means in the config's own benchmark (the one
// its author read), so it is resolved there and carried to b by slug; an ID resolved against b
// directly could name another check (4.2.7 is net-raw in eks-1.0.1, added-capabilities in
// eks-1.2.0). An object check b does not number is carried as its slug, which keeps it in b; any
// other check b does not carry cannot be rebased: dropping its setting would change what the
// config decides, so it is an error naming the key. The config must have compiled against its
// own benchmark.
func (c Config) Rebase(b Benchmark) (Config, error) {
	if b == c.Benchmark {
		return c, nil
	}
	from, err := CatalogueFor(c.Benchmark)
	if err != nil {
		return c, fmt.Errorf("benchmark: %w", err)
	}
	to, err := CatalogueFor(b)
	if err != nil {
		return c, err
	}
	var errs field.ErrorList
	// carry resolves a key in the config's benchmark and names the same check in b by slug,
	// which b's catalogue resolves like an ID.
	carry := func(key *field.Path, value string) string {
		e, ok := from.Resolve(value)
		if !ok && from.leavesUnnumbered(Slug(value)) {
			e, ok = Entry{Slug: Slug(value)}, true
		}
		if !ok {
			errs = append(errs, field.Invalid(key, value, "no check with this ID or slug in benchmark "+string(from.Benchmark())))
			return value
		}
		// An object check b does not number is kept there by its slug (Catalogue.Unnumbered).
		if _, ok := to.Entry(e.Slug); !ok && !to.leavesUnnumbered(e.Slug) {
			errs = append(errs, field.Invalid(key, value, fmt.Sprintf("check %s (%s) of benchmark %s is not in benchmark %s", e.ID, e.Slug, from.Benchmark(), to.Benchmark())))
		}
		return string(e.Slug)
	}
	out := c
	out.Benchmark = b
	if c.Checks != nil {
		out.Checks = make(map[string]Mode, len(c.Checks))
		for _, key := range slices.Sorted(maps.Keys(c.Checks)) {
			k := field.NewPath("checks").Key(key)
			slug := carry(k, key)
			if prev, dup := out.Checks[slug]; dup && prev != c.Checks[key] {
				errs = append(errs, field.Duplicate(k, key+" is check "+slug+", which another key sets to "+strconv.Quote(string(prev))))
			}
			out.Checks[slug] = c.Checks[key]
		}
	}
	out.Exemptions.Rules = slices.Clone(c.Exemptions.Rules)
	for i, r := range out.Exemptions.Rules {
		r.Checks = slices.Clone(r.Checks)
		for j, id := range r.Checks {
			r.Checks[j] = carry(field.NewPath("exemptions", "rules").Index(i).Child("checks").Index(j), id)
		}
		out.Exemptions.Rules[i] = r
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("the config's IDs are those of benchmark %s and cannot be rendered under %s: %w", c.Benchmark, b, joinFieldErrors(errs))
	}
	return out, nil
}

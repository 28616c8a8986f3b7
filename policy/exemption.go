package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/clock"
)

// DefaultExpiryWarning is how long before its expiry an exemption is listed as expiring
// (exemptions.expiryWarning): a week, so that its owner hears of it on a working day.
const DefaultExpiryWarning = 7 * 24 * time.Hour

// ExemptName is one entry of exemptions.namespaces, .usernames or .groups: a plain name, or an
// object {name, expires, reason, owner}.
type ExemptName struct {
	Name string `json:"name"`
	ExemptionTerms
}

// ExemptionTerms are what any exemption may carry beside what it matches.
type ExemptionTerms struct {
	// Expires (RFC 3339) ends the exemption: from that instant on (now >= expires) it no longer
	// applies, at admission, in the audit and in check alike.
	Expires string `json:"expires,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// Owner is who answers for the exemption (a team, an address): named when it expires.
	Owner string `json:"owner,omitempty"`
}

// ExemptNames are plain-name entries, as the defaults and older configs write them.
func ExemptNames(names ...string) []ExemptName {
	out := make([]ExemptName, len(names))
	for i, n := range names {
		out[i] = ExemptName{Name: n}
	}
	return out
}

// UnmarshalJSON accepts a plain string or the object form. The whole entry is replaced: decoding
// a list reuses the default list's elements, which must not leak into the entry.
func (e *ExemptName) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		*e = ExemptName{}
		return json.Unmarshal(data, &e.Name)
	}
	type object ExemptName // without this method
	var o object
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return fmt.Errorf("an exemption is a name or {name, expires, reason, owner}: %w", err)
	}
	*e = ExemptName(o)
	return nil
}

// MarshalJSON writes an entry without terms as its plain name.
func (e ExemptName) MarshalJSON() ([]byte, error) {
	if e.ExemptionTerms == (ExemptionTerms{}) {
		return json.Marshal(e.Name)
	}
	type object ExemptName
	return json.Marshal(object(e))
}

// ExemptionKind says what an exemption matches.
type ExemptionKind string

const (
	ExemptNamespaceKind ExemptionKind = "namespace"
	ExemptUsernameKind  ExemptionKind = "username"
	ExemptGroupKind     ExemptionKind = "group"
	ExemptRuleKind      ExemptionKind = "rule"
)

// Exemption is one exemption of the config, compiled: its key, what it matches and its terms.
type Exemption struct {
	// Key is its place in the config, e.g. exemptions.namespaces[1].
	Key  string        `json:"key"`
	Kind ExemptionKind `json:"kind"`
	// Name is the namespace, username or group; for a rule, its checks and match.
	Name string `json:"name"`
	// Expires is zero for an exemption that never expires.
	Expires time.Time `json:"expires,omitzero"`
	Reason  string    `json:"reason,omitempty"`
	Owner   string    `json:"owner,omitempty"`
}

// ExpiredAt reports whether the exemption has expired at now: now >= expires.
func (e Exemption) ExpiredAt(now time.Time) bool {
	return !e.Expires.IsZero() && !now.Before(e.Expires)
}

// String is how messages name the exemption: its key and what it matches, with its owner.
func (e Exemption) String() string {
	s := "exemption " + e.Key + " (" + string(e.Kind) + " " + strconv.Quote(e.Name)
	if e.Owner != "" {
		s += ", owner " + strconv.Quote(e.Owner)
	}
	return s + ")"
}

// expiredText says why an exemption no longer applies.
func (e Exemption) expiredText() string {
	return e.String() + " expired at " + e.Expires.UTC().Format(time.RFC3339)
}

// terms is the suffix of an exempt finding's reason: the entry's reason, then annotation.
func (e Exemption) terms() string {
	if e.Reason == "" {
		return e.annotation()
	}
	return ": " + e.Reason + e.annotation()
}

// annotation is " (owner O, until T)" for what of the two the exemption has.
func (e Exemption) annotation() string {
	var extra []string
	if e.Owner != "" {
		extra = append(extra, "owner "+e.Owner)
	}
	if !e.Expires.IsZero() {
		extra = append(extra, "until "+e.Expires.UTC().Format(time.RFC3339))
	}
	if len(extra) == 0 {
		return ""
	}
	return " (" + strings.Join(extra, ", ") + ")"
}

// ExemptionVerdict is what the exemptions say about one finding at one instant.
type ExemptionVerdict struct {
	// Reason is set when an exemption in force covers the finding: the reason reports carry.
	Reason string
	// Expired, when none in force covers it, names the exemption that did until it expired.
	Expired string
}

// Exempt reports whether an exemption in force covers the finding.
func (v ExemptionVerdict) Exempt() bool { return v.Reason != "" }

// Or is v, else (when v exempts nothing) w, keeping the first expired exemption found.
func (v ExemptionVerdict) Or(w ExemptionVerdict) ExemptionVerdict {
	if v.Exempt() {
		return v
	}
	if w.Exempt() {
		return w
	}
	if v.Expired == "" {
		v.Expired = w.Expired
	}
	return v
}

// match returns the verdict of the first exemption of list that matches, at now.
func match(list []Exemption, now time.Time, matches func(Exemption) bool, reason func(Exemption) string) ExemptionVerdict {
	var v ExemptionVerdict
	for _, e := range list {
		if !matches(e) {
			continue
		}
		if !e.ExpiredAt(now) {
			return ExemptionVerdict{Reason: reason(e)}
		}
		if v.Expired == "" {
			v.Expired = e.expiredText()
		}
	}
	return v
}

// WithClock returns a copy of the policy that tells the time by c. serve and the commands use the
// real clock; tests use a fake one. Admission, the audit and check read the same clock, so an
// exemption stops applying at one instant everywhere.
func (p *Policy) WithClock(c clock.PassiveClock) *Policy {
	cp := *p
	cp.clock = c
	return &cp
}

// Now is the policy's clock.
func (p *Policy) Now() time.Time {
	if p.clock == nil {
		return time.Now()
	}
	return p.clock.Now()
}

// ExemptNamespaceAt is the verdict of the namespace exemptions on namespace ns at now.
func (p *Policy) ExemptNamespaceAt(ns string, now time.Time) ExemptionVerdict {
	return match(p.namespaces, now, func(e Exemption) bool { return e.Name == ns },
		func(e Exemption) string { return "namespace " + ns + " is exempt" + e.terms() })
}

// ExemptUserAt is the verdict of the username and group exemptions on a request's user at now.
func (p *Policy) ExemptUserAt(username string, groups []string, now time.Time) ExemptionVerdict {
	v := match(p.usernames, now, func(e Exemption) bool { return e.Name == username },
		func(e Exemption) string { return "user " + strconv.Quote(username) + " is exempt" + e.terms() })
	return v.Or(match(p.groups, now, func(e Exemption) bool { return slices.Contains(groups, e.Name) },
		func(e Exemption) string { return "group " + strconv.Quote(e.Name) + " is exempt" + e.terms() }))
}

// ExemptionForAt is the verdict of the exemption rules on a check's finding on obj at now.
func (p *Policy) ExemptionForAt(slug Slug, obj Object, now time.Time) ExemptionVerdict {
	var v ExemptionVerdict
	for _, r := range p.rules {
		if !r.slugs[slug] ||
			(r.Namespace != "" && r.Namespace != obj.Namespace) ||
			(r.Kind != "" && r.Kind != obj.Kind) {
			continue
		}
		if ok, _ := path.Match(r.Name, obj.Name); r.Name != "" && !ok {
			continue
		}
		if !r.exemption.ExpiredAt(now) {
			return ExemptionVerdict{Reason: r.Reason + r.exemption.annotation()}
		}
		if v.Expired == "" {
			v.Expired = r.exemption.expiredText()
		}
	}
	return v
}

// ExemptNamespace reports whether the namespace is exempt from every check now.
func (p *Policy) ExemptNamespace(ns string) bool { return p.ExemptNamespaceAt(ns, p.Now()).Exempt() }

// ExemptUser reports whether a request's user is exempt now by username or group, and why.
func (p *Policy) ExemptUser(username string, groups []string) (string, bool) {
	v := p.ExemptUserAt(username, groups, p.Now())
	return v.Reason, v.Exempt()
}

// ExemptionFor returns the reason of the first rule in force now that exempts the check on the
// object.
func (p *Policy) ExemptionFor(slug Slug, obj Object) (string, bool) {
	v := p.ExemptionForAt(slug, obj, p.Now())
	return v.Reason, v.Exempt()
}

// ExpiringExemptions are the exemptions that expire within the config's expiry warning of now
// (expiring) and those that have expired (expired), each by expiry (Exemptions).
func (p *Policy) ExpiringExemptions(now time.Time) (expiring, expired []Exemption) {
	for _, e := range p.Exemptions() {
		switch {
		case e.Expires.IsZero():
		case e.ExpiredAt(now):
			expired = append(expired, e)
		case e.Expires.Sub(now) <= p.expiryWarning:
			expiring = append(expiring, e)
		}
	}
	return expiring, expired
}

// ExpiryWarning is how long before its expiry an exemption is listed as expiring.
func (p *Policy) ExpiryWarning() time.Duration { return p.expiryWarning }

// Exemptions are every exemption of the config by expiry, those that never expire last; equal
// expiries keep the config's order: namespaces, usernames, groups, rules.
func (p *Policy) Exemptions() []Exemption {
	all := slices.Concat(p.namespaces, p.usernames, p.groups)
	for _, r := range p.rules {
		all = append(all, r.exemption)
	}
	slices.SortStableFunc(all, func(a, b Exemption) int {
		switch {
		case a.Expires.IsZero() != b.Expires.IsZero():
			if a.Expires.IsZero() {
				return 1
			}
			return -1
		case !a.Expires.Equal(b.Expires):
			return a.Expires.Compare(b.Expires)
		}
		return 0
	})
	return all
}

// compileTerms validates an exemption's terms at fp: expires is RFC 3339, and with
// requireReason the reason is set.
func compileTerms(e *Exemption, t ExemptionTerms, requireReason bool, fp *field.Path) field.ErrorList {
	var errs field.ErrorList
	if t.Expires != "" {
		at, err := time.Parse(time.RFC3339, t.Expires)
		if err != nil {
			errs = append(errs, field.Invalid(fp.Child("expires"), t.Expires, "not an RFC 3339 time, e.g. 2026-03-31T00:00:00Z: "+err.Error()))
		}
		e.Expires = at
	}
	if requireReason && strings.TrimSpace(t.Reason) == "" {
		errs = append(errs, field.Required(fp.Child("reason"), "exemptions.requireReason is set: say why "+string(e.Kind)+" "+strconv.Quote(e.Name)+" is exempt"))
	}
	e.Reason, e.Owner = t.Reason, t.Owner
	return errs
}

// compileNames compiles the namespace, username or group entries at fp.
func compileNames(names []ExemptName, kind ExemptionKind, requireReason bool, fp *field.Path) ([]Exemption, field.ErrorList) {
	var errs field.ErrorList
	out := make([]Exemption, 0, len(names))
	for i, n := range names {
		k := fp.Index(i)
		if n.Name == "" {
			p := k
			if n.ExemptionTerms != (ExemptionTerms{}) {
				p = k.Child("name")
			}
			errs = append(errs, field.Required(p, "must not be empty"))
		}
		e := Exemption{Key: k.String(), Kind: kind, Name: n.Name}
		errs = append(errs, compileTerms(&e, n.ExemptionTerms, requireReason, k)...)
		out = append(out, e)
	}
	return out, errs
}

// compileExpiryWarning parses exemptions.expiryWarning (a Go duration; empty: the default).
func compileExpiryWarning(s string, fp *field.Path) (time.Duration, field.ErrorList) {
	if s == "" {
		return DefaultExpiryWarning, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, field.ErrorList{field.Invalid(fp, s, "a Go duration of at least 0, e.g. 168h")}
	}
	return d, nil
}

// ruleName describes what a rule matches, for messages and the summary.
func ruleName(r ExemptionRule) string {
	obj := r.Kind
	if obj == "" {
		obj = "any kind"
	}
	where := r.Namespace
	if where == "" {
		where = "*"
	}
	name := r.Name
	if name == "" {
		name = "*"
	}
	return strings.Join(r.Checks, ",") + " on " + obj + " " + where + "/" + name
}

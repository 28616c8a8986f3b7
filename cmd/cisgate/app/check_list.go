package app

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/cisgate/cisgate/cloudscan"
	"github.com/cisgate/cisgate/nodescan"
	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
)

// listFormats are the formats of `check --list`: a catalogue has no findings for junit or sarif.
var listFormats = []output.Format{output.FormatTable, output.FormatJSON}

// CatalogueList is `check --list -o json`: the benchmark's items, then the object checks it does
// not number, for tools that read the catalogue.
type CatalogueList struct {
	Benchmark policy.Benchmark `json:"benchmark"`
	Items     []ListedItem     `json:"items"`
}

// ListedItem is one item as the selected benchmark carries it, with its numbering in every
// version.
type ListedItem struct {
	// ID is the selected benchmark's; an unnumbered check's is its slug.
	ID   string      `json:"id"`
	Slug policy.Slug `json:"slug"`
	// Title is the selected benchmark's wording (an unnumbered check's newest).
	Title string `json:"title"`
	// Numbered is false for an object check the benchmark does not number: it runs only when
	// the config keeps it by slug (Kept).
	Numbered bool `json:"numbered"`
	Kept     bool `json:"kept,omitempty"`
	// Assessment is the benchmark's Automated or Manual; empty when unnumbered.
	Assessment policy.Assessment `json:"assessment,omitempty"`
	// DecidedBy is nodescan, check (the check command, the webhook and the audit), aws or
	// manual.
	DecidedBy string `json:"decidedBy"`
	Decides   string `json:"decides"`
	// Versions holds the item's ID and assessment in every version that numbers it.
	Versions map[policy.Benchmark]ListedVersion `json:"versions"`
}

// ListedVersion is an item's numbering in one benchmark version.
type ListedVersion struct {
	ID         string            `json:"id"`
	Assessment policy.Assessment `json:"assessment"`
}

// decidedBy names what decides an item, for the table (by) and the JSON (key).
var decidedBy = map[policy.Section]struct{ key, by string }{
	policy.SectionNode:   {"nodescan", "nodescan"},
	policy.SectionObject: {"check", "check, webhook, audit"},
	policy.SectionCloud:  {"aws", "AWS API"},
	policy.SectionManual: {"manual", "manual"},
}

// listedBy is the table's name for each DecidedBy key.
var listedBy = func() map[string]string {
	m := map[string]string{}
	for _, d := range decidedBy {
		m[d.key] = d.by
	}
	return m
}()

// RunList prints the benchmark's catalogue: every item with what decides it, then the object
// checks the benchmark does not number, which a config can keep by slug.
func (o *CheckOptions) RunList(streams IOStreams) error {
	pol, err := o.policy()
	if err != nil {
		return usageError(err)
	}
	list := catalogueList(pol)
	if output.Format(o.Output) == output.FormatJSON {
		enc := json.NewEncoder(streams.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	tw := tabwriter.NewWriter(streams.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSLUG\tASSESSMENT\tDECIDED BY\tDECIDES")
	var unnumbered []ListedItem
	for _, it := range list.Items {
		if !it.Numbered {
			unnumbered = append(unnumbered, it)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", it.ID, it.Slug, it.Assessment, listedBy[it.DecidedBy], it.Decides)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(unnumbered) == 0 {
		return nil
	}
	fmt.Fprintf(streams.Out, "\nNot in %s, selectable by slug (checks: {SLUG: enforce} keeps one; it then reports under its slug):\n\n", list.Benchmark)
	tw = tabwriter.NewWriter(streams.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SLUG\tRUNS\tIDS IN OTHER VERSIONS\tDECIDES")
	for _, it := range unnumbered {
		runs := "no"
		if it.Kept {
			runs = "kept by the config"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", it.Slug, runs, versionIDs(it), it.Decides)
	}
	return tw.Flush()
}

// catalogueList is the policy's catalogue as listed: its entries in ID order (the kept
// unnumbered checks among them), then the unnumbered checks nothing keeps.
func catalogueList(pol *policy.Policy) CatalogueList {
	nodeChecks := map[policy.Slug]string{}
	for _, c := range nodescan.Checks() {
		nodeChecks[c.Slug] = c.Decides
	}
	cloudChecks := map[policy.Slug]string{}
	for _, c := range cloudscan.Checks() {
		cloudChecks[c.Slug] = c.Decides
	}
	list := CatalogueList{Benchmark: pol.Catalogue.Benchmark(), Items: []ListedItem{}}
	entries := pol.Catalogue.Entries()
	carried := len(entries)
	for i, e := range append(entries, pol.Catalogue.Unnumbered()...) {
		it := ListedItem{ID: e.ID, Slug: e.Slug, Title: e.Title, Numbered: e.Numbered(), Assessment: e.Assessment,
			DecidedBy: decidedBy[e.Section].key, Versions: map[policy.Benchmark]ListedVersion{}}
		// An unnumbered check among the policy's entries is one its config keeps.
		it.Kept = !it.Numbered && i < carried
		switch e.Section {
		case policy.SectionNode:
			it.Decides = nodeChecks[e.Slug]
		case policy.SectionObject:
			if c, ok := policy.DefaultRegistry().Check(e.Slug); ok {
				it.Decides = c.Decides
			}
		case policy.SectionCloud:
			it.Decides = cloudChecks[e.Slug] + " (cisgate cloudscan, serve --cloud-scan)"
		default:
			it.Decides = "cannot be decided from Kubernetes objects: reported as WARN"
		}
		for _, v := range policy.Benchmarks() {
			cat, _ := policy.CatalogueFor(v)
			if ve, ok := cat.Entry(e.Slug); ok {
				it.Versions[v] = ListedVersion{ID: ve.ID, Assessment: ve.Assessment}
			}
		}
		list.Items = append(list.Items, it)
	}
	return list
}

// versionIDs names an item's IDs in the versions that number it, a run of versions with one ID
// as a range: "4.2.6 (eks-1.0.1 to eks-1.2.0)".
func versionIDs(it ListedItem) string {
	var parts []string
	var first, last policy.Benchmark
	id := ""
	flush := func() {
		if id == "" {
			return
		}
		if first == last {
			parts = append(parts, fmt.Sprintf("%s (%s)", id, first))
		} else {
			parts = append(parts, fmt.Sprintf("%s (%s to %s)", id, first, last))
		}
	}
	for _, v := range policy.Benchmarks() {
		lv, ok := it.Versions[v]
		switch {
		case ok && lv.ID == id:
			last = v
		case ok:
			flush()
			id, first, last = lv.ID, v, v
		default:
			flush()
			id = ""
		}
	}
	flush()
	return strings.Join(parts, ", ")
}

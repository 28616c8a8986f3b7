package output

import (
	"encoding/json"
	"io"

	"github.com/cisgate/cisgate/policy"
)

// SARIF 2.1.0, the subset code-scanning tools read: one rule per check ID, one result per
// finding located at the manifest document.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string       `json:"id"`
	Name             string       `json:"name"`
	ShortDescription sarifMessage `json:"shortDescription"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

func writeSARIF(w io.Writer, r *Report) error {
	run := sarifRun{
		Tool:    sarifTool{Driver: sarifDriver{Name: "cisgate", InformationURI: "https://github.com/cisgate/cisgate", Rules: []sarifRule{}}},
		Results: []sarifResult{},
	}
	ruleIndex := map[string]int{}
	for _, f := range r.Findings {
		idx, ok := ruleIndex[f.ID]
		if !ok {
			idx = len(run.Tool.Driver.Rules)
			ruleIndex[f.ID] = idx
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules,
				sarifRule{ID: f.ID, Name: string(f.Slug), ShortDescription: sarifMessage{Text: f.Title}})
		}
		res := sarifResult{RuleID: f.ID, RuleIndex: idx, Level: sarifLevel(f), Message: sarifMessage{Text: f.Object.String() + ": " + f.Detail + " (" + f.Path + ")" + f.expiredNote()}}
		if f.Object.File != "" {
			res.Locations = []sarifLocation{{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: f.Object.File}}}}
		}
		run.Results = append(run.Results, res)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}

func sarifLevel(f Finding) string {
	switch {
	case f.Blocks():
		return "error"
	case f.Status == policy.StatusFail && f.ExemptReason == "":
		return "warning"
	}
	return "note"
}

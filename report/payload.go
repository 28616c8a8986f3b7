package report

import (
	"encoding/json"
	"errors"
	"fmt"
)

// SchemaVersion is the version of every report key's payload.
const SchemaVersion = 1

// ConfigMapBudget is what all keys of the report ConfigMap may hold together, in bytes: below the
// API server's 1 MiB ConfigMap limit with room for the key names.
const ConfigMapBudget = 900 * 1024

// Shares of ConfigMapBudget by writer kind. They add up to ConfigMapBudget, so writers that each
// stay within SplitBudget(their share, how many of them there are) keep the ConfigMap within it
// without talking to each other.
const (
	SummaryShare = 64 * 1024
	AuditShare   = 320 * 1024
	// CloudShare is the cloud scan's: a few items, one of which lists ECR repositories.
	CloudShare = 32 * 1024
	// AdmissionShare is split between the webhook replicas.
	AdmissionShare = 128 * 1024
	// NodeShare is split between the nodes.
	NodeShare = ConfigMapBudget - SummaryShare - AuditShare - CloudShare - AdmissionShare
)

// SplitBudget is one writer's byte budget when writers writers share share bytes.
func SplitBudget(share, writers int) int {
	return share / max(writers, 1)
}

// ErrOverBudget is wrapped by the error for a payload that does not fit its key's budget.
var ErrOverBudget = errors.New("report payload over its byte budget")

// Header starts every report payload. Embed it, starting from NewHeader:
//
//	type AuditReport struct {
//		report.Header
//		Checks map[string]CheckFailures `json:"checks"`
//	}
type Header struct {
	SchemaVersion int `json:"schemaVersion"`
	// Truncated says the payload was summarised to fit its budget: counts stay exact, lists are cut.
	Truncated bool `json:"truncated"`
}

// NewHeader is the header of a complete payload.
func NewHeader() Header { return Header{SchemaVersion: SchemaVersion} }

func (h Header) reportHeader() Header { return h }

// Payload is a report key's content: any type that embeds Header.
type Payload interface {
	reportHeader() Header
}

// Summariser is implemented by payloads that can shrink. When the full payload is over budget,
// Summarise is called with the budget and returns a smaller payload with Truncated set, e.g. the
// same counts with each list cut to its first few entries (keep the totals so readers know how
// many there were).
type Summariser interface {
	Summarise(budget int) Payload
}

// MarshalWithin returns v's JSON if it fits in budget bytes; otherwise, if v is a Summariser, the
// JSON of its summary, which must say it is truncated and must fit. Otherwise the error wraps
// ErrOverBudget, and the caller should cut the payload and try again.
func MarshalWithin(v Payload, budget int) ([]byte, error) {
	data, err := marshalPayload(v)
	if err != nil || len(data) <= budget {
		return data, err
	}
	summariser, ok := v.(Summariser)
	if !ok {
		return nil, fmt.Errorf("%w: %d bytes, budget %d, and %T has no Summarise", ErrOverBudget, len(data), budget, v)
	}
	summary := summariser.Summarise(budget)
	if summary == nil || !summary.reportHeader().Truncated {
		return nil, fmt.Errorf("report: %T.Summarise must return a payload with Truncated set", v)
	}
	data, err = marshalPayload(summary)
	if err != nil {
		return nil, err
	}
	if len(data) > budget {
		return nil, fmt.Errorf("%w: summary of %T is %d bytes, budget %d", ErrOverBudget, v, len(data), budget)
	}
	truncatedTotal.WithLabelValues(sinkConfigMap).Inc()
	return data, nil
}

// Fits reports whether a payload's JSON fits in budget bytes as it is, without summarising it:
// the one size check a Summarise uses to choose how much to cut (MarshalWithin would summarise the
// candidate again).
func Fits(v Payload, budget int) bool {
	data, err := json.Marshal(v)
	return err == nil && len(data) <= budget
}

func marshalPayload(v Payload) ([]byte, error) {
	if got := v.reportHeader().SchemaVersion; got != SchemaVersion {
		return nil, fmt.Errorf("report: %T has schemaVersion %d, want %d (start from report.NewHeader())", v, got, SchemaVersion)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("report: encoding %T: %w", v, err)
	}
	return data, nil
}

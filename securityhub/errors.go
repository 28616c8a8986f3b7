package securityhub

import (
	"errors"

	"github.com/aws/smithy-go"

	"github.com/cisgate/cisgate/cloudscan"
)

// Reason classifies a failure: the reason label of cisgate_securityhub_errors_total.
type Reason string

const (
	ReasonAccessDenied Reason = Reason(cloudscan.ReasonAccessDenied)
	ReasonThrottled    Reason = Reason(cloudscan.ReasonThrottled)
	ReasonUnreachable  Reason = Reason(cloudscan.ReasonUnreachable)
	// ReasonNotEnabled is Security Hub not enabled in the account and region
	// (InvalidAccessException), or cisgate's integration not accepted there.
	ReasonNotEnabled Reason = "not-enabled"
	// ReasonInvalidInput is a finding or request Security Hub refused as malformed.
	ReasonInvalidInput Reason = "invalid-input"
	ReasonOther        Reason = Reason(cloudscan.ReasonOther)
)

// Reasons lists every Reason (the metric's label values, initialised at zero).
func Reasons() []Reason {
	return []Reason{ReasonAccessDenied, ReasonThrottled, ReasonUnreachable, ReasonNotEnabled, ReasonInvalidInput, ReasonOther}
}

// CallError is a failed call of an IAM action, after the SDK's retries.
type CallError struct {
	Action string
	Err    error
}

func (e *CallError) Error() string {
	var apiErr smithy.APIError
	msg := e.Err.Error()
	if errors.As(e.Err, &apiErr) {
		msg = apiErr.ErrorCode() + ": " + apiErr.ErrorMessage()
	}
	switch ReasonOf(e) {
	case ReasonAccessDenied:
		return "access denied to " + e.Action + ": the IAM policy must allow " + e.Action + " (" + msg + ")"
	case ReasonThrottled:
		return e.Action + " throttled after the SDK's retries: " + msg
	case ReasonNotEnabled:
		return e.Action + ": Security Hub is not enabled in this account and region (" + msg + ")"
	}
	return e.Action + ": " + msg
}

func (e *CallError) Unwrap() error { return e.Err }

// RefusedError is one finding (or workflow update) a call refused, with Security Hub's code.
type RefusedError struct {
	Code    string
	Message string
}

func (e *RefusedError) Error() string { return e.Message }

// codeReasons are Security Hub's own error codes (the API reference's errors of
// BatchImportFindings, GetFindings and BatchUpdateFindings, and FailedFindings' ErrorCode).
var codeReasons = map[string]Reason{
	"InvalidAccessException": ReasonNotEnabled, "InvalidAccess": ReasonNotEnabled,
	"InvalidInputException": ReasonInvalidInput, "InvalidInput": ReasonInvalidInput,
}

// ReasonOf classifies err: Security Hub's own codes first, then as the cloud scan classifies
// AWS errors.
func ReasonOf(err error) Reason {
	var refused *RefusedError
	if errors.As(err, &refused) {
		if r, ok := codeReasons[refused.Code]; ok {
			return r
		}
		return ReasonOther
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		if r, ok := codeReasons[apiErr.ErrorCode()]; ok {
			return r
		}
	}
	return Reason(cloudscan.ReasonOf(err))
}

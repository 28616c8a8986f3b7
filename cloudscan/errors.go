package cloudscan

import (
	"context"
	"errors"
	"net"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Reason classifies why an AWS read failed: the label of cisgate_cloudscan_errors_total.
type Reason string

const (
	ReasonNoCredentials   Reason = "no-credentials"
	ReasonAccessDenied    Reason = "access-denied"
	ReasonThrottled       Reason = "throttled"
	ReasonClusterNotFound Reason = "cluster-not-found"
	ReasonUnreachable     Reason = "endpoint-unreachable"
	ReasonKubernetes      Reason = "kubernetes-api"
	ReasonOther           Reason = "error"
)

// Reasons lists every Reason (the metric's label values, initialised at zero).
func Reasons() []Reason {
	return []Reason{ReasonNoCredentials, ReasonAccessDenied, ReasonThrottled, ReasonClusterNotFound, ReasonUnreachable, ReasonKubernetes, ReasonOther}
}

// ReadError is a failed read of the evidence: the IAM action (or Kubernetes read) that failed,
// why, and the error.
type ReadError struct {
	// Action is the IAM action, e.g. "eks:DescribeCluster", or the Kubernetes read, e.g. "list nodes".
	Action string
	Reason Reason
	Err    error
	// Hint replaces what an access-denied error says to do ("the IAM policy must allow ..."),
	// e.g. for a registry of another account, whose own policy decides.
	Hint string
}

func (e *ReadError) Error() string {
	msg := briefly(e.Err)
	switch e.Reason {
	case ReasonNoCredentials:
		return "no AWS credentials (the SDK's default chain: environment, IRSA web identity, EKS Pod Identity, instance role): " + msg
	case ReasonAccessDenied:
		hint := e.Hint
		if hint == "" {
			hint = "the IAM policy must allow " + e.Action
		}
		return "access denied to " + e.Action + ": " + hint + " (" + msg + ")"
	case ReasonThrottled:
		return e.Action + " throttled after " + strconv.Itoa(maxAttempts) + " attempts: " + msg
	case ReasonUnreachable:
		return e.Action + ": AWS endpoint unreachable: " + msg
	case ReasonKubernetes:
		return "cannot " + e.Action + " through the Kubernetes API: " + msg
	}
	return e.Action + ": " + msg
}

// briefly is an AWS API error as its code and message (the SDK's text adds the operation, status
// and request ID around them); any other error as it is.
func briefly(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode() + ": " + apiErr.ErrorMessage()
	}
	return err.Error()
}

func (e *ReadError) Unwrap() error { return e.Err }

// classify wraps an SDK error of an action in a ReadError.
func classify(action string, err error) *ReadError {
	return &ReadError{Action: action, Reason: reasonOf(err), Err: err}
}

// accessDeniedCodes are the error codes AWS services answer a call the IAM policy does not allow
// (EKS, ECR and KMS: AccessDeniedException; STS-style query APIs: AccessDenied).
var accessDeniedCodes = map[string]bool{"AccessDeniedException": true, "AccessDenied": true, "UnauthorizedOperation": true}

// ReasonOf classifies an AWS SDK error by the table above (access denied, throttled after the
// retries, endpoint unreachable, or another error). Security Hub's publisher counts its own
// failed calls by it too.
func ReasonOf(err error) Reason { return reasonOf(err) }

func reasonOf(err error) Reason {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code := apiErr.ErrorCode()
		if accessDeniedCodes[code] {
			return ReasonAccessDenied
		}
		if _, ok := retry.DefaultThrottleErrorCodes[code]; ok {
			return ReasonThrottled
		}
	}
	var send *smithyhttp.RequestSendError
	var netErr net.Error
	if errors.As(err, &send) || errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) {
		return ReasonUnreachable
	}
	return ReasonOther
}

package webhook

import (
	"encoding/json"

	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// DecodeRequest lets the verdict corpus (verdicts_test.go, package webhook_test) turn an
// AdmissionReview's request into Decide's Request exactly as the handler does: the request goes
// through JSON into the handler's own review type. That test cannot live in this package: it also
// runs `cisgate check`, whose package imports this one.
func DecodeRequest(req admission.Request) (Request, error) {
	data, err := json.Marshal(req.AdmissionRequest)
	if err != nil {
		return Request{}, err
	}
	var r reviewRequest
	if err := json.Unmarshal(data, &r); err != nil {
		return Request{}, err
	}
	return decodeRequest(&r)
}

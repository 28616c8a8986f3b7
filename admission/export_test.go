package admission

import (
	"errors"

	gojson "github.com/goccy/go-json"
)

// DecodeReview lets the verdict corpus (verdicts_test.go, package webhook_test) turn an
// AdmissionReview's JSON into Decide's Request as ServeHTTP and Handle do. That test cannot live
// in this package: it also runs `cisgate check`, whose package imports this one.
func DecodeReview(body []byte) (Request, error) {
	var rv review
	if err := gojson.UnmarshalNoEscape(body, &rv); err != nil {
		return Request{}, err
	}
	if rv.Request == nil {
		return Request{}, errors.New("the review carries no request")
	}
	return decodeRequest(rv.Request)
}

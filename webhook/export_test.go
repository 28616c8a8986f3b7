package webhook

// DecodeRequest lets the verdict corpus (verdicts_test.go, package webhook_test) turn an
// AdmissionReview into Decide's Request exactly as the handler does. That test cannot live in
// this package: it also runs `cisgate check`, whose package imports this one.
var DecodeRequest = decodeRequest

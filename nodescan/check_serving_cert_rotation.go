package nodescan

import "github.com/cisgate/cisgate/evidence"

func init() {
	register(&Check{
		Slug:     "serving-cert-rotation",
		Decides:  "effective serverTLSBootstrap (--rotate-server-certificates) and feature gate RotateKubeletServerCertificate are both true",
		Evaluate: evaluateServingCertRotation,
	})
}

// evaluateServingCertRotation decides serving-cert-rotation (eks-2.0.0 3.2.8): the kubelet
// requests its serving certificate from the API server and rotates it, which takes both
// serverTLSBootstrap (off unless set) and the RotateKubeletServerCertificate gate (on by default
// since Kubernetes 1.12). The result names each setting with its value and source; it fails when
// either is false.
func evaluateServingCertRotation(ev *Evidence) Outcome {
	const expected = "serverTLSBootstrap=true, " + featureRotateKubeletServerCertificate + "=true"
	if o, ok := configUnavailable(ev, expected); ok {
		return o
	}
	bootstrap := serverTLSBootstrap.effective(ev.Config)
	gate := ev.Config.FeatureGates[featureRotateKubeletServerCertificate]
	actual := "serverTLSBootstrap=" + formatBool(bootstrap.Value) + ", " + featureRotateKubeletServerCertificate + "=" + formatBool(gate.Value)
	source := "serverTLSBootstrap: " + bootstrap.Source.String() + "; " + featureRotateKubeletServerCertificate + ": " + gate.Source.String()
	var detail string
	switch {
	case bootstrap.Value && gate.Value:
		detail = "the kubelet requests its serving certificate through the API server and rotates it"
	case !bootstrap.Value && !gate.Value:
		detail = "serverTLSBootstrap and the feature gate " + featureRotateKubeletServerCertificate + " are both false: the kubelet serves a self-signed certificate"
	case !bootstrap.Value:
		detail = "serverTLSBootstrap is false: the kubelet serves a self-signed certificate and requests none, so the gate has no effect"
	default:
		detail = "the feature gate " + featureRotateKubeletServerCertificate + " is false: the kubelet's serving certificate is not rotated"
	}
	for _, note := range []string{bootstrap.Note, gate.Note} {
		if note != "" {
			detail += " (" + note + ")"
		}
	}
	return Outcome{Status: evidence.PassOrFail(bootstrap.Value && gate.Value), Expected: expected, Actual: actual, Source: source, Detail: detail}
}

package nodescan

func init() {
	register(&Check{
		Slug:     "rotate-server-cert",
		Decides:  "effective feature gate RotateKubeletServerCertificate is true; serverTLSBootstrap is noted",
		Evaluate: evaluateRotateServerCert,
	})
}

// evaluateRotateServerCert decides rotate-server-cert: the RotateKubeletServerCertificate feature
// gate is effectively true (explicit, or its default true since Kubernetes 1.12). The detail says
// whether serverTLSBootstrap asks the kubelet to request its serving certificate at all.
func evaluateRotateServerCert(ev *Evidence) Outcome {
	const expected = "true"
	if o, ok := configUnavailable(ev, expected); ok {
		return o
	}
	s := ev.Config.FeatureGates[featureRotateKubeletServerCertificate]
	bootstrap := serverTLSBootstrap.effective(ev.Config)
	detail := "feature gate " + featureRotateKubeletServerCertificate + " is " + formatBool(s.Value)
	if s.Source.Kind == SourceDefault {
		detail += " (its default)"
	}
	if bootstrap.Value {
		detail += "; serverTLSBootstrap is true (" + bootstrap.Source.String() + "): the kubelet requests and rotates its serving certificate through the API server"
	} else {
		detail += "; serverTLSBootstrap is false (" + bootstrap.Source.String() + "): the kubelet serves a self-signed certificate and requests none, so the gate has no effect"
	}
	return settingOutcome(s, s.Value, expected, formatBool(s.Value), detail)
}

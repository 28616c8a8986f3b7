package policy

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// lb-tls: a load balancer terminates TLS with a certificate: a Service of type
// LoadBalancer carries service.beta.kubernetes.io/aws-load-balancer-ssl-cert, and an Ingress of
// class alb carries alb.ingress.kubernetes.io/certificate-arn.

const (
	annotationNLBCert      = "service.beta.kubernetes.io/aws-load-balancer-ssl-cert"
	annotationALBCert      = "alb.ingress.kubernetes.io/certificate-arn"
	annotationIngressClass = "kubernetes.io/ingress.class"
)

func init() {
	register(&Check{
		Slug:    "lb-tls",
		Decides: "LoadBalancer Services and alb Ingresses name a TLS certificate",
		Targets: []Target{TargetService, TargetIngress},
		Evaluate: func(in *Input) []Finding {
			switch o := in.Raw.(type) {
			case *corev1.Service:
				if o.Spec.Type == corev1.ServiceTypeLoadBalancer && o.Annotations[annotationNLBCert] == "" {
					return []Finding{fail("metadata.annotations", "Service of type LoadBalancer must set annotation "+annotationNLBCert+" to an ACM certificate ARN")}
				}
			case *networkingv1.Ingress:
				class := o.Annotations[annotationIngressClass]
				if o.Spec.IngressClassName != nil {
					class = *o.Spec.IngressClassName
				}
				if class == "alb" && o.Annotations[annotationALBCert] == "" {
					return []Finding{fail("metadata.annotations", "Ingress of class alb must set annotation "+annotationALBCert+" to an ACM certificate ARN")}
				}
			}
			return nil
		},
	})
}

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
	albController          = "ingress.k8s.aws/alb"
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
				// The class name "alb" is the AWS Load Balancer Controller's default; any IngressClass
				// whose spec.controller is ingress.k8s.aws/alb is an ALB too (AWS Load Balancer
				// Controller docs, IngressClass).
				isALB := class == "alb" || in.IngressClassController == albController
				if isALB && o.Annotations[annotationALBCert] == "" {
					what := "Ingress of class alb"
					if class != "alb" {
						what = "Ingress of class " + quote(class) + " (controller " + albController + ")"
					}
					return []Finding{fail("metadata.annotations", what+" must set annotation "+annotationALBCert+" to an ACM certificate ARN")}
				}
			}
			return nil
		},
	})
}

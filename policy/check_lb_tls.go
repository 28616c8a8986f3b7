package policy

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// lb-tls: a load balancer terminates TLS with a certificate: a Service of type
// LoadBalancer carries service.beta.kubernetes.io/aws-load-balancer-ssl-cert, and an Ingress an
// ALB serves carries alb.ingress.kubernetes.io/certificate-arn. An ALB serves an Ingress of class
// alb (the AWS Load Balancer Controller's default name) and one whose IngressClass, in the same
// manifests or in the cluster, names the controller ingress.k8s.aws/alb; an IngressClass that
// cannot be read is a WARN.

const (
	annotationNLBCert      = "service.beta.kubernetes.io/aws-load-balancer-ssl-cert"
	annotationALBCert      = "alb.ingress.kubernetes.io/certificate-arn"
	albController          = "ingress.k8s.aws/alb"
	annotationIngressClass = "kubernetes.io/ingress.class"
	annotationIsDefault    = networkingv1.AnnotationIsDefaultIngressClass
)

func init() {
	register(&Check{
		Slug:    "lb-tls",
		Decides: "LoadBalancer Services and Ingresses an ALB serves name a TLS certificate",
		Targets: []Target{TargetService, TargetIngress},
		Evaluate: func(in *Input) []Finding {
			switch o := in.Raw.(type) {
			case *corev1.Service:
				if o.Spec.Type == corev1.ServiceTypeLoadBalancer && o.Annotations[annotationNLBCert] == "" {
					return []Finding{fail("metadata.annotations", "Service of type LoadBalancer must set annotation "+annotationNLBCert+" to an ACM certificate ARN")}
				}
			case *networkingv1.Ingress:
				if o.Annotations[annotationALBCert] == "" {
					return ingressWithoutCertificate(in, o)
				}
			}
			return nil
		},
	})
}

// ingressWithoutCertificate decides an Ingress without a certificate: it fails when an ALB serves
// it.
func ingressWithoutCertificate(in *Input, ing *networkingv1.Ingress) []Finding {
	const path = "metadata.annotations"
	need := " must set annotation " + annotationALBCert + " to an ACM certificate ARN"
	name, named := ingressClassName(ing)
	if named && name == "alb" {
		return []Finding{fail(path, "Ingress of class alb"+need)}
	}
	class := in.IngressClass
	if class == nil && in.Lookup != nil {
		classes, err := in.Lookup.IngressClasses()
		if err != nil {
			which := "the default IngressClass"
			if named {
				which = "IngressClass " + quote(name)
			}
			return []Finding{warn(path, "cannot read "+which+": "+err.Error()+"; if the AWS Load Balancer Controller ("+albController+") serves the Ingress, it"+need)}
		}
		class, _ = ServingIngressClass(ing, classes)
	}
	if class == nil || class.Spec.Controller != albController {
		return nil
	}
	if named {
		return []Finding{fail(path, "Ingress of class "+quote(name)+" (controller "+albController+")"+need)}
	}
	return []Finding{fail(path, "Ingress without a class, served by the default IngressClass "+quote(class.Name)+" (controller "+albController+"),"+need)}
}

// ingressClassName is the class an Ingress names: spec.ingressClassName, else the deprecated
// kubernetes.io/ingress.class annotation, which controllers still honour (Kubernetes API
// reference, IngressSpec.ingressClassName). named is false when it names none.
func ingressClassName(ing *networkingv1.Ingress) (name string, named bool) {
	if ing.Spec.IngressClassName != nil {
		return *ing.Spec.IngressClassName, true
	}
	name, named = ing.Annotations[annotationIngressClass]
	return name, named
}

// ServingIngressClass is the IngressClass among classes that serves an Ingress: the one it names,
// or, when it names none, the default IngressClass: annotated
// ingressclass.kubernetes.io/is-default-class: "true", the newest when several are (ties by name),
// as kube-apiserver's DefaultIngressClass admission plugin picks it (Kubernetes API reference,
// IngressClass). found is false when there is none.
func ServingIngressClass(ing *networkingv1.Ingress, classes []networkingv1.IngressClass) (class *networkingv1.IngressClass, found bool) {
	if name, named := ingressClassName(ing); named {
		i := slices.IndexFunc(classes, func(c networkingv1.IngressClass) bool { return c.Name == name })
		if i < 0 {
			return nil, false
		}
		return &classes[i], true
	}
	var def *networkingv1.IngressClass
	for i := range classes {
		c := &classes[i]
		if c.Annotations[annotationIsDefault] != "true" {
			continue
		}
		if def == nil || c.CreationTimestamp.After(def.CreationTimestamp.Time) ||
			(c.CreationTimestamp.Equal(&def.CreationTimestamp) && c.Name < def.Name) {
			def = c
		}
	}
	return def, def != nil
}

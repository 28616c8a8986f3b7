package policy_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/internal/fakecluster"
	"github.com/cisgate/cisgate/policy"
)

func TestLBTLS(t *testing.T) {
	const certARN = "arn:aws:acm:us-east-1:123456789012:certificate/0f3a"
	svc := func(typ corev1.ServiceType, annotations map[string]string) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: testNamespace, Annotations: annotations}, Spec: corev1.ServiceSpec{Type: typ}}
	}
	ing := func(class *string, annotations map[string]string) *networkingv1.Ingress {
		return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: testNamespace, Annotations: annotations}, Spec: networkingv1.IngressSpec{IngressClassName: class}}
	}
	svcFail := []got{{"5.4.5", policy.StatusFail, "metadata.annotations",
		"Service of type LoadBalancer must set annotation service.beta.kubernetes.io/aws-load-balancer-ssl-cert to an ACM certificate ARN"}}
	ingFail := []got{{"5.4.5", policy.StatusFail, "metadata.annotations",
		"Ingress of class alb must set annotation alb.ingress.kubernetes.io/certificate-arn to an ACM certificate ARN"}}
	nlb := map[string]string{"service.beta.kubernetes.io/aws-load-balancer-type": "external"}
	for _, tc := range []struct {
		name string
		kind string
		obj  runtime.Object
		want []got
	}{
		{"ClusterIP Service", "Service", svc(corev1.ServiceTypeClusterIP, nil), []got{}},
		{"NodePort Service", "Service", svc(corev1.ServiceTypeNodePort, nil), []got{}},
		{"LoadBalancer with a certificate", "Service", svc(corev1.ServiceTypeLoadBalancer, map[string]string{"service.beta.kubernetes.io/aws-load-balancer-ssl-cert": certARN}), []got{}},
		{"LoadBalancer without annotations", "Service", svc(corev1.ServiceTypeLoadBalancer, nil), svcFail},
		{"LoadBalancer with other annotations", "Service", svc(corev1.ServiceTypeLoadBalancer, nlb), svcFail},
		{"LoadBalancer with an empty certificate", "Service", svc(corev1.ServiceTypeLoadBalancer, map[string]string{"service.beta.kubernetes.io/aws-load-balancer-ssl-cert": ""}), svcFail},
		{"alb by class name, with certificate", "Ingress", ing(ptr.To("alb"), map[string]string{"alb.ingress.kubernetes.io/certificate-arn": certARN}), []got{}},
		{"alb by class name, no certificate", "Ingress", ing(ptr.To("alb"), nil), ingFail},
		{"alb by legacy annotation, with certificate", "Ingress", ing(nil, map[string]string{"kubernetes.io/ingress.class": "alb", "alb.ingress.kubernetes.io/certificate-arn": certARN}), []got{}},
		{"alb by legacy annotation, no certificate", "Ingress", ing(nil, map[string]string{"kubernetes.io/ingress.class": "alb"}), ingFail},
		{"class name wins over the legacy annotation", "Ingress", ing(ptr.To("nginx"), map[string]string{"kubernetes.io/ingress.class": "alb"}), []got{}},
		{"nginx Ingress", "Ingress", ing(ptr.To("nginx"), nil), []got{}},
		{"no class", "Ingress", ing(nil, nil), []got{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, gotOf(evaluate(t, policy.EKS180, policy.DefaultSettings(), tc.kind, tc.obj, policy.OperationCreate, nil, "lb-tls")))
		})
	}
}

// #9 item 10: an IngressClass whose spec.controller is ingress.k8s.aws/alb (Kubernetes API
// reference IngressClassSpec.controller; AWS Load Balancer Controller docs) makes its Ingresses
// ALBs, whatever the class is named: known to the caller (`cisgate check`, from the same
// manifests) or looked up in the cluster. The class an Ingress names is spec.ingressClassName,
// else the deprecated kubernetes.io/ingress.class annotation; one that names none is served by the
// default IngressClass, the newest when several are marked (Kubernetes API reference,
// IngressSpec and IngressClass; kube-apiserver's DefaultIngressClass admission).
func TestLBTLSFollowsIngressClass(t *testing.T) {
	const need = " must set annotation alb.ingress.kubernetes.io/certificate-arn to an ACM certificate ARN"
	at := func(minute int) metav1.Time { return metav1.Date(2026, 1, 1, 0, minute, 0, 0, time.UTC) }
	class := func(name, controller string, isDefault bool, created metav1.Time) networkingv1.IngressClass {
		c := networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: created},
			Spec: networkingv1.IngressClassSpec{Controller: controller}}
		if isDefault {
			c.Annotations = map[string]string{"ingressclass.kubernetes.io/is-default-class": "true"}
		}
		return c
	}
	ing := func(className *string, annotations map[string]string) *networkingv1.Ingress {
		return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: testNamespace, Annotations: annotations},
			Spec: networkingv1.IngressSpec{IngressClassName: className}}
	}
	external := ing(ptr.To("external"), nil)
	albClass := class("external", "ingress.k8s.aws/alb", false, at(0))
	nginxClass := class("external", "k8s.io/ingress-nginx", false, at(0))
	externalFails := []got{{"5.4.5", policy.StatusFail, "metadata.annotations", `Ingress of class "external" (controller ingress.k8s.aws/alb)` + need}}
	defaultFails := func(name string) []got {
		return []got{{"5.4.5", policy.StatusFail, "metadata.annotations",
			`Ingress without a class, served by the default IngressClass "` + name + `" (controller ingress.k8s.aws/alb),` + need}}
	}
	errUnreadable := errors.New(`ingressclasses.networking.k8s.io is forbidden`)
	for _, tc := range []struct {
		name string
		ing  *networkingv1.Ingress
		// known is the class the caller knows; lookup the cluster (nil: none).
		known  *networkingv1.IngressClass
		lookup *fakecluster.State
		want   []got
	}{
		{"in the manifests: the AWS Load Balancer Controller's", external, &albClass, nil, externalFails},
		{"in the manifests: another controller's", external, &nginxClass, nil, []got{}},
		{"unknown without a cluster", external, nil, nil, []got{}},
		{"in the cluster: the AWS Load Balancer Controller's", external, nil, &fakecluster.State{Classes: []networkingv1.IngressClass{nginxClassNamed("internal"), albClass}}, externalFails},
		{"in the cluster: another controller's", external, nil, &fakecluster.State{Classes: []networkingv1.IngressClass{nginxClass}}, []got{}},
		{"in the cluster: no such class", external, nil, &fakecluster.State{Classes: []networkingv1.IngressClass{nginxClassNamed("internal")}}, []got{}},
		{"named by the legacy annotation", ing(nil, map[string]string{"kubernetes.io/ingress.class": "external"}), nil, &fakecluster.State{Classes: []networkingv1.IngressClass{albClass}}, externalFails},
		{"with a certificate, nothing is looked up", ing(ptr.To("external"), map[string]string{"alb.ingress.kubernetes.io/certificate-arn": "arn:aws:acm:us-east-1:123456789012:certificate/0f3a"}), nil, &fakecluster.State{IngressClassErr: errUnreadable}, []got{}},
		{"no class, the default is the AWS Load Balancer Controller's", ing(nil, nil), nil,
			&fakecluster.State{Classes: []networkingv1.IngressClass{class("public", "ingress.k8s.aws/alb", true, at(0)), nginxClassNamed("internal")}}, defaultFails("public")},
		{"no class, the default is another controller's", ing(nil, nil), nil,
			&fakecluster.State{Classes: []networkingv1.IngressClass{class("internal", "k8s.io/ingress-nginx", true, at(0)), class("public", "ingress.k8s.aws/alb", false, at(0))}}, []got{}},
		{"no class, no default", ing(nil, nil), nil, &fakecluster.State{Classes: []networkingv1.IngressClass{albClass}}, []got{}},
		{"no class, two defaults: the newest serves", ing(nil, nil), nil,
			&fakecluster.State{Classes: []networkingv1.IngressClass{class("public", "ingress.k8s.aws/alb", true, at(5)), class("internal", "k8s.io/ingress-nginx", true, at(1))}}, defaultFails("public")},
		{"no class, two defaults: the newest is another controller's", ing(nil, nil), nil,
			&fakecluster.State{Classes: []networkingv1.IngressClass{class("public", "ingress.k8s.aws/alb", true, at(1)), class("internal", "k8s.io/ingress-nginx", true, at(5))}}, []got{}},
		{"no class, two defaults created together: the first by name", ing(nil, nil), nil,
			&fakecluster.State{Classes: []networkingv1.IngressClass{class("b-internal", "k8s.io/ingress-nginx", true, at(1)), class("a-public", "ingress.k8s.aws/alb", true, at(1))}}, defaultFails("a-public")},
		{"an empty class name names no class", ing(ptr.To(""), nil), nil,
			&fakecluster.State{Classes: []networkingv1.IngressClass{class("public", "ingress.k8s.aws/alb", true, at(0))}}, []got{}},
		// A lookup that fails is a WARN, never a FAIL: the webhook must not deny on its own failure.
		{"the classes cannot be read", external, nil, &fakecluster.State{IngressClassErr: errUnreadable}, []got{{"5.4.5", policy.StatusWarn, "metadata.annotations",
			`cannot read IngressClass "external": ingressclasses.networking.k8s.io is forbidden; if the AWS Load Balancer Controller (ingress.k8s.aws/alb) serves the Ingress, it` + need}}},
		{"the default class cannot be read", ing(nil, nil), nil, &fakecluster.State{IngressClassErr: errUnreadable}, []got{{"5.4.5", policy.StatusWarn, "metadata.annotations",
			`cannot read the default IngressClass: ingressclasses.networking.k8s.io is forbidden; if the AWS Load Balancer Controller (ingress.k8s.aws/alb) serves the Ingress, it` + need}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := policy.NewObject("Ingress", tc.ing)
			o.IngressClass = tc.known
			var lookup policy.Lookup
			if tc.lookup != nil {
				lookup = tc.lookup
			}
			var out []policy.Finding
			for _, r := range evaluator(t, policy.EKS180, policy.DefaultSettings()).Evaluate(o, policy.OperationCreate, lookup) {
				if r.Slug == "lb-tls" {
					out = append(out, r)
				}
			}
			require.Equal(t, tc.want, gotOf(out))
		})
	}
}

func nginxClassNamed(name string) networkingv1.IngressClass {
	return networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}}
}

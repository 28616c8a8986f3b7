package policy_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

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
// ALBs, whatever the class is named.
func TestLBTLSFollowsIngressClass(t *testing.T) {
	class := "external"
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: testNamespace},
		Spec: networkingv1.IngressSpec{IngressClassName: &class}}
	for _, tc := range []struct {
		name       string
		controller string
		want       []got
	}{
		{"class served by the AWS Load Balancer Controller", "ingress.k8s.aws/alb", []got{{"5.4.5", policy.StatusFail, "metadata.annotations",
			`Ingress of class "external" (controller ingress.k8s.aws/alb) must set annotation alb.ingress.kubernetes.io/certificate-arn to an ACM certificate ARN`}}},
		{"class of another controller", "k8s.io/ingress-nginx", []got{}},
		{"class unknown", "", []got{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := policy.NewObject("Ingress", ing)
			o.IngressClassController = tc.controller
			var out []policy.Result
			for _, r := range evaluator(t, policy.EKS180, policy.DefaultSettings()).Evaluate(o, policy.OperationCreate, nil) {
				if r.Slug == "lb-tls" {
					out = append(out, r)
				}
			}
			require.Equal(t, tc.want, gotOf(out))
		})
	}
}

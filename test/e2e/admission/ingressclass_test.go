package admission

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cisgate/cisgate/test/e2e/framework"
)

const needCertificate = "must set annotation alb.ingress.kubernetes.io/certificate-arn to an ACM certificate ARN"

func ingress(ns, name string, class *string, annotations map[string]string) *networkingv1.Ingress {
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: annotations},
		Spec: networkingv1.IngressSpec{IngressClassName: class, DefaultBackend: &networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 443}},
		}},
	}
}

// createIngressClass creates a cluster-scoped IngressClass of the AWS Load Balancer Controller
// for the test, removed when it ends.
func createIngressClass(t *testing.T, name string, isDefault bool) {
	t.Helper()
	class := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: networkingv1.IngressClassSpec{Controller: "ingress.k8s.aws/alb"}}
	if isDefault {
		class.Annotations = map[string]string{networkingv1.AnnotationIsDefaultIngressClass: "true"}
	}
	_, err := env.Clientset.NetworkingV1().IngressClasses().Create(context.Background(), class, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = env.Clientset.NetworkingV1().IngressClasses().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

// waitUntilDenied waits until the webhook's IngressClass cache has seen the class: a dry-run
// create of ing is denied for 5.4.5.
func waitUntilDenied(t *testing.T, ing *networkingv1.Ingress) {
	t.Helper()
	framework.WaitFor(t, 20*time.Second, "the IngressClass to reach the webhook's cache", func() error {
		_, err := env.Clientset.NetworkingV1().Ingresses(ing.Namespace).Create(context.Background(), ing, metav1.CreateOptions{DryRun: dryRun})
		if err == nil || !strings.Contains(err.Error(), "[5.4.5]") {
			return errors.Join(errors.New("not denied for 5.4.5 yet"), err)
		}
		return nil
	})
}

// #9 item 10: an Ingress whose IngressClass in the cluster names the AWS Load Balancer Controller
// is an ALB Ingress, whatever the class is called, and is held to 5.4.5 at admission.
func TestIngressClassInTheClusterMakesAnALB(t *testing.T) {
	serve(t)
	ctx := context.Background()
	ns := prepareNamespace(t, "alb-class", "")
	cs, _ := userClient(t, "")
	class := ns + "-external"

	_, err := cs.NetworkingV1().Ingresses(ns).Create(ctx, ingress(ns, "before", &class, nil), metav1.CreateOptions{DryRun: dryRun})
	require.NoError(t, err, "a class that does not exist is no ALB")

	createIngressClass(t, class, false)
	waitUntilDenied(t, ingress(ns, "probe", &class, nil))
	_, err = cs.NetworkingV1().Ingresses(ns).Create(ctx, ingress(ns, "web", &class, nil), metav1.CreateOptions{})
	requireDenied(t, err, `Ingress "`+ns+`/web"`, `[5.4.5] Ingress of class "`+class+`" (controller ingress.k8s.aws/alb) `+needCertificate)

	// The deprecated annotation names the class as well.
	_, err = cs.NetworkingV1().Ingresses(ns).Create(ctx, ingress(ns, "legacy", nil, map[string]string{"kubernetes.io/ingress.class": class}), metav1.CreateOptions{})
	requireDenied(t, err, `[5.4.5] Ingress of class "`+class+`" (controller ingress.k8s.aws/alb) `+needCertificate)

	_, err = cs.NetworkingV1().Ingresses(ns).Create(ctx, ingress(ns, "web", &class, map[string]string{
		"alb.ingress.kubernetes.io/certificate-arn": "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000",
	}), metav1.CreateOptions{})
	require.NoError(t, err, "with a certificate it is admitted")
}

// An Ingress that names no class gets the default IngressClass from kube-apiserver's
// DefaultIngressClass admission before the webhook sees it; the default of the AWS Load Balancer
// Controller makes it an ALB.
func TestDefaultIngressClassMakesAnALB(t *testing.T) {
	serve(t)
	ctx := context.Background()
	ns := prepareNamespace(t, "alb-default", "")
	class := ns + "-default"
	createIngressClass(t, class, true)
	waitUntilDenied(t, ingress(ns, "probe", nil, nil))
	_, err := env.Clientset.NetworkingV1().Ingresses(ns).Create(ctx, ingress(ns, "web", nil, nil), metav1.CreateOptions{})
	requireDenied(t, err, `[5.4.5] Ingress of class "`+class+`" (controller ingress.k8s.aws/alb) `+needCertificate)
}

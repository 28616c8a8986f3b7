package cluster

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cisgate/cisgate/test/cluster/clustertest"
	"github.com/cisgate/cisgate/test/e2e/framework"
)

// certManagerImagesEnv overrides where the cert-manager images are read from.
const certManagerImagesEnv = "CISGATE_CERT_MANAGER_IMAGES"

// certManagerVersion is the release the images were built from; the chart comes from the
// cert-manager module in go.mod (its deploy/charts/cert-manager).
const certManagerVersion = "v1.21.1"

// certManagerImages is the directory of cert-manager's three image layouts (controller,
// cainjector, webhook): $CISGATE_CERT_MANAGER_IMAGES, else shared/cert-manager beside the
// repository's clone, as this repository's CI provides it. The test skips without them
// (docs/cluster.md says how to provide them).
func certManagerImages(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(certManagerImagesEnv)
	if dir == "" {
		dir = filepath.Join(clustertest.RepoRoot(), "..", "shared", "cert-manager")
	}
	for _, component := range []string{"controller", "cainjector", "webhook"} {
		if _, err := os.Stat(filepath.Join(dir, component, "index.json")); err != nil {
			t.Skipf("no cert-manager %s image layout in %s (%v): set %s to a directory holding controller/, cainjector/ and webhook/ (docs/cluster.md)",
				component, dir, err, certManagerImagesEnv)
		}
	}
	return dir
}

// installCertManager imports the images and installs cert-manager's own chart, as its README
// describes, and waits until its webhook admits an Issuer (what its startupapicheck waits for).
func installCertManager(t *testing.T, cl client.Client) {
	t.Helper()
	ctx := context.Background()
	images := certManagerImages(t)
	for _, component := range []string{"controller", "cainjector", "webhook"} {
		require.NoError(t, c.ImportImage(ctx, filepath.Join(images, component)))
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/cert-manager/cert-manager").Output()
	require.NoError(t, err, "the cert-manager module (go.mod)")
	chart := filepath.Join(strings.TrimSpace(string(out)), "deploy", "charts", "cert-manager")
	args := []string{"install", "cert-manager", chart, "--namespace", "cert-manager", "--create-namespace", "--wait", "--timeout", "4m",
		"--set", "crds.enabled=true", "--set", "startupapicheck.enabled=false",
		// The Secrets of a Certificate go with it (cert-manager's --enable-certificate-owner-ref),
		// as docs/install.md asks of a cert-manager that serves cisgate.
		"--set", "enableCertificateOwnerRef=true"}
	for _, v := range []string{"image", "webhook.image", "cainjector.image"} {
		args = append(args, "--set", v+".tag="+certManagerVersion, "--set", v+".pullPolicy=Never")
	}
	installCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	_, err = clustertest.Helm(installCtx, c, args...)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		if _, err := clustertest.Helm(ctx, c, "uninstall", "cert-manager", "--namespace", "cert-manager", "--wait"); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		_ = c.Clientset.CoreV1().Namespaces().Delete(ctx, "cert-manager", metav1.DeleteOptions{})
	})
	probe := &certmanagerv1.Issuer{ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: "default"},
		Spec: certmanagerv1.IssuerSpec{IssuerConfig: certmanagerv1.IssuerConfig{SelfSigned: &certmanagerv1.SelfSignedIssuer{}}}}
	require.NoError(t, clustertest.WaitFor(ctx, 2*time.Minute, "cert-manager's webhook to admit an Issuer", func() error {
		return cl.Create(ctx, probe.DeepCopy(), client.DryRunAll)
	}))
}

func certificateReady(crt *certmanagerv1.Certificate) bool {
	for _, cond := range crt.Status.Conditions {
		if cond.Type == certmanagerv1.CertificateConditionReady {
			return cond.Status == cmmeta.ConditionTrue && cond.ObservedGeneration == crt.Generation
		}
	}
	return false
}

func servingSerial(t *testing.T, secret *corev1.Secret) string {
	t.Helper()
	block, _ := pem.Decode(secret.Data["tls.crt"])
	require.NotNil(t, block, "tls.crt of %s", secret.Name)
	crt, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	return crt.SerialNumber.String()
}

// TestCertManagerDefaultInstall: the chart's default path (certManager.enabled=true), with real
// cert-manager v1.21.1, as EKS users install it: the Certificate is Ready, cainjector puts the CA
// into the webhook configuration, the API server is denied through the Service; cert-manager
// renews the serving certificate (the Issuing condition `cmctl renew` sets) under a steady
// stream of creates with failurePolicy Fail and none fails; helm uninstall leaves no
// Certificate, Secret or Lease of cisgate's.
func TestCertManagerDefaultInstall(t *testing.T) {
	clustertest.Require(t, c)
	certManagerImages(t) // skip before anything is installed
	ctx := context.Background()
	cl, err := client.New(c.Config, client.Options{Scheme: framework.NewScheme()})
	require.NoError(t, err)
	installCertManager(t, cl)

	r := clustertest.Install(t, c, "--set", "certManager.enabled=true", "--set", "mode=enforce", "--set", "nodeScan.enabled=false")
	waitWebhookReady(t, r)
	serving := &certmanagerv1.Certificate{}
	require.NoError(t, cl.Get(ctx, client.ObjectKey{Namespace: r.Namespace, Name: r.Name + "-serving"}, serving))
	assert.True(t, certificateReady(serving), "Certificate %s Ready: %+v", serving.Name, serving.Status.Conditions)
	secret, err := c.Clientset.CoreV1().Secrets(r.Namespace).Get(ctx, serving.Spec.SecretName, metav1.GetOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, secret.Data["ca.crt"])
	vwc, err := c.Clientset.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, r.Name, metav1.GetOptions{})
	require.NoError(t, err)
	for _, w := range vwc.Webhooks {
		assert.True(t, bytes.Equal(secret.Data["ca.crt"], w.ClientConfig.CABundle), "webhook %s: cainjector's caBundle is the Certificate's CA", w.Name)
		assert.Equal(t, "Fail", string(ptr.Deref(w.FailurePolicy, "")), "enforce mode fails closed")
	}

	// Denied through the Service, the CA cert-manager made trusted by the API server.
	namespace(t, "cm-shop", nil)
	_, denial := c.Clientset.CoreV1().Pods("cm-shop").Create(ctx, privilegedPod("cm-shop", "debug-shell"), metav1.CreateOptions{})
	require.Error(t, denial)
	assert.True(t, apierrors.IsForbidden(denial) || strings.Contains(denial.Error(), "denied the request"), "%v", denial)
	assert.Contains(t, denial.Error(), "4.2.1")

	// The leader holds the release's Lease.
	require.NoError(t, clustertest.WaitFor(ctx, time.Minute, "a leader in the release's Lease", func() error {
		lease, err := c.Clientset.CoordinationV1().Leases(r.Namespace).Get(ctx, "cisgate-leader", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if h := ptr.Deref(lease.Spec.HolderIdentity, ""); !strings.HasPrefix(h, r.Name+"-") {
			return fmt.Errorf("holder %q", h)
		}
		return nil
	}))

	// Renewal under load: cert-manager issues a new serving certificate (and key: rotationPolicy
	// Always) when a Certificate's Issuing condition is set, as `cmctl renew` does; the pods
	// reload it from the Secret's volume while the stream runs with failurePolicy Fail.
	compliantNamespace(t, "cm-renew")
	s := startStream(t, c.Clientset, "cm-renew")
	s.waitCreates(t, 50)
	before := servingSerial(t, secret)
	renewedAt := metav1.Now()
	require.NoError(t, cl.Get(ctx, client.ObjectKeyFromObject(serving), serving))
	serving.Status.Conditions = append(serving.Status.Conditions, certmanagerv1.CertificateCondition{
		Type: certmanagerv1.CertificateConditionIssuing, Status: cmmeta.ConditionTrue,
		Reason: "ManuallyTriggered", Message: "Certificate re-issuance manually triggered", LastTransitionTime: &renewedAt,
		ObservedGeneration: serving.Generation,
	})
	require.NoError(t, cl.Status().Update(ctx, serving))
	require.NoError(t, clustertest.WaitFor(ctx, 2*time.Minute, "cert-manager to renew the serving certificate", func() error {
		secret, err = c.Clientset.CoreV1().Secrets(r.Namespace).Get(ctx, serving.Spec.SecretName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if servingSerial(t, secret) == before {
			return fmt.Errorf("serial %s unchanged", before)
		}
		return nil
	}))
	// Every pod reloads it once the kubelet has updated the Secret's volume (up to its sync
	// period, a minute, and its cache's TTL).
	for _, p := range webhookPods(t, r) {
		require.NoError(t, clustertest.WaitFor(ctx, 3*time.Minute, p.Name+" to serve the renewed certificate", func() error {
			logs, err := c.Clientset.CoreV1().Pods(r.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{SinceTime: &renewedAt}).DoRaw(ctx)
			if err != nil {
				return err
			}
			if !bytes.Contains(logs, []byte("Updated current TLS certificate")) {
				return fmt.Errorf("no reload in its log since the renewal")
			}
			return nil
		}))
	}
	s.waitCreates(t, 50)
	s.finish(t)

	// helm uninstall: nothing of cisgate's is left in its namespace.
	uninstallCtx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	require.NoError(t, r.Uninstall(uninstallCtx))
	require.NoError(t, clustertest.WaitFor(ctx, 2*time.Minute, "cisgate's Certificates, Secrets and Lease to go", func() error {
		var left []string
		crts := &certmanagerv1.CertificateList{}
		if err := cl.List(ctx, crts, client.InNamespace(r.Namespace)); err != nil {
			return err
		}
		for _, crt := range crts.Items {
			left = append(left, "Certificate/"+crt.Name)
		}
		secrets, err := c.Clientset.CoreV1().Secrets(r.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, s := range secrets.Items {
			if strings.HasPrefix(s.Name, r.Name) {
				left = append(left, "Secret/"+s.Name)
			}
		}
		if _, err := c.Clientset.CoordinationV1().Leases(r.Namespace).Get(ctx, "cisgate-leader", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			left = append(left, fmt.Sprintf("Lease/cisgate-leader (%v)", err))
		}
		if len(left) > 0 {
			return fmt.Errorf("left behind: %v", left)
		}
		return nil
	}))
}

package faults

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/internal/testcerts"
	"github.com/cisgate/cisgate/test/e2e/fixtures"
	"github.com/cisgate/cisgate/test/e2e/framework"
	"github.com/cisgate/cisgate/webhook"
)

// TestAPIServerClientCertificate: with --client-ca-file, cisgate serves only clients with a
// certificate its CA signed. The API server presents one when its AdmissionConfiguration gives the
// webhook client a kubeconfig with a client certificate (kube-apiserver
// --admission-control-config-file, WebhookAdmissionConfiguration.kubeConfigFile; the user "*"
// matches every webhook): its calls are answered; a client without one is refused at the
// handshake, and so cannot forge an Event or a report entry.
func TestAPIServerClientCertificate(t *testing.T) {
	framework.Require(t, env)
	dir := t.TempDir()
	ca, err := testcerts.NewCA()
	require.NoError(t, err)
	certPEM, keyPEM, err := ca.ClientCert("kube-apiserver-webhook-client")
	require.NoError(t, err)
	kubeconfig := filepath.Join(dir, "webhook-client.kubeconfig")
	require.NoError(t, os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
users:
  - name: "*"
    user:
      client-certificate-data: `+b64(certPEM)+`
      client-key-data: `+b64(keyPEM)+`
`), 0o600))
	admissionConfig := filepath.Join(dir, "admission.yaml")
	require.NoError(t, os.WriteFile(admissionConfig, []byte(`apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
  - name: ValidatingAdmissionWebhook
    configuration:
      apiVersion: apiserver.config.k8s.io/v1
      kind: WebhookAdmissionConfiguration
      kubeConfigFile: `+kubeconfig+`
`), 0o600))
	// The file first holds only a CA that did not sign the API server's certificate, as before a
	// rotation reaches the pods; it is rotated below under the running replica.
	previousCA, err := testcerts.NewCA()
	require.NoError(t, err)
	caFile := filepath.Join(dir, "client-ca.crt")
	require.NoError(t, os.WriteFile(caFile, previousCA.PEM(), 0o600))

	path := webhook.Path
	cfg := webhook.Configuration("cisgate", []string{"kube-system", namespace}, admissionregistrationv1.Fail,
		admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{Namespace: namespace, Name: "cisgate", Path: &path}})
	e := framework.StartT(t, framework.Options{
		ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{cfg},
		APIServerArgs:      map[string][]string{"admission-control-config-file": {admissionConfig}},
	})
	startReplica(t, e, "client-cert", e.KubeConfig, "--leader-elect=false", "--client-ca-file", caFile,
		"--cert-dir", e.Webhook.CertDir, "--port", strconv.Itoa(e.Webhook.Port))

	ctx := context.Background()
	_, err = e.Clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	spec := fixtures.HardenedPodSpec()
	spec.Containers[0].SecurityContext.Privileged = ptr.To(true)
	spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "web"}, Spec: spec}
	_, err = e.Clientset.CoreV1().Pods("team-a").Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	require.ErrorContains(t, err, "failed calling webhook", "a certificate of a CA the file does not hold is refused")

	// The rotation: the file now holds the old and the new CA, as a Secret does while the API
	// server's certificate changes. The running replica reads it again (every 10 s) and serves the
	// API server without a restart.
	require.NoError(t, os.WriteFile(caFile+".new", append(previousCA.PEM(), ca.PEM()...), 0o600))
	require.NoError(t, os.Rename(caFile+".new", caFile)) // one swap, as the kubelet updates a Secret volume
	framework.WaitFor(t, time.Minute, "the rotated client CA to be served", func() error {
		_, err = e.Clientset.CoreV1().Pods("team-a").Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil && strings.Contains(err.Error(), "failed calling webhook") {
			return err
		}
		return nil
	})
	require.Error(t, err)
	assert.True(t, apierrors.IsForbidden(err), "the API server's call was answered: %v", err)
	assert.Contains(t, err.Error(), "cisgate denied Pod")

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(e.Webhook.CAData)
	anonymous := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	_, err = anonymous.Post("https://"+net.JoinHostPort(e.Webhook.Host, strconv.Itoa(e.Webhook.Port))+webhook.Path, "application/json", bytes.NewReader([]byte(roleReview)))
	require.Error(t, err, "a client without a certificate is refused")
}

func b64(data []byte) string { return base64.StdEncoding.EncodeToString(data) }

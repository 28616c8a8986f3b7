package webhook

import ctrlwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

// NewServer is the HTTPS server /validate is registered on. It serves tls.crt and tls.key from
// certDir through controller-runtime's certwatcher, which reloads them when cert-manager rotates
// the Secret behind the mount: a rotation needs no restart.
func NewServer(port int, certDir string) ctrlwebhook.Server {
	return ctrlwebhook.NewServer(ctrlwebhook.Options{Port: port, CertDir: certDir, CertName: "tls.crt", KeyName: "tls.key"})
}

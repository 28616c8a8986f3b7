package app

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Version is set at build time with -ldflags "-X github.com/cisgate/cisgate/cmd/cisgate/app.Version=v1.2.3".
var Version = "dev"

func init() { subcommands = append(subcommands, newVersionCommand) }

// VersionOptions configures `cisgate version`.
type VersionOptions struct {
	// VerifyCert names a PEM file whose chain is verified against the roots the binary trusts.
	VerifyCert string
}

// NewVersionOptions returns the defaults.
func NewVersionOptions() *VersionOptions { return &VersionOptions{} }

// AddFlags binds the options to flags.
func (o *VersionOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.VerifyCert, "verify-cert", o.VerifyCert, "PEM file: verify its first certificate (the others as intermediates) for a TLS server, against the roots the cloud scan's HTTPS calls trust, and print the chain")
}

// Validate reports every problem with the options; the file is read by Run.
func (o *VersionOptions) Validate() []error { return nil }

func newVersionCommand(streams IOStreams) *cobra.Command {
	o := NewVersionOptions()
	return withOptions(&cobra.Command{
		Use:   "version [--verify-cert FILE]",
		Short: "Print cisgate's version",
		Long: `version prints cisgate's version and the Go release it was built with.
--verify-cert checks that this binary, where it runs, trusts a certificate chain as its HTTPS
calls to AWS do: the system's roots ($SSL_CERT_FILE, $SSL_CERT_DIR, /etc/ssl/certs), else the
Mozilla roots built into the binary. Exit codes: 0 trusted, 1 not trusted, 2 an unreadable file.`,
	}, o, func(_ context.Context) error { return o.Run(streams) })
}

// Run prints the version and, with --verify-cert, the verified chain.
func (o *VersionOptions) Run(streams IOStreams) error {
	goVersion := "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		goVersion = info.GoVersion
	}
	if _, err := fmt.Fprintf(streams.Out, "cisgate %s (%s)\n", Version, goVersion); err != nil {
		return err
	}
	if o.VerifyCert == "" {
		return nil
	}
	certs, err := readCertificates(o.VerifyCert)
	if err != nil {
		return usageError(fmt.Errorf("--verify-cert: %w", err))
	}
	intermediates := x509.NewCertPool()
	for _, c := range certs[1:] {
		intermediates.AddCert(c)
	}
	// Roots nil: the pool crypto/tls uses for the AWS SDK's connections.
	chains, err := certs[0].Verify(x509.VerifyOptions{Intermediates: intermediates, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	if err != nil {
		return &ExitError{Code: ExitFindings, Err: fmt.Errorf("--verify-cert %s: not trusted: %w", o.VerifyCert, err)}
	}
	subjects := make([]string, len(chains[0]))
	for i, c := range chains[0] {
		subjects[i] = c.Subject.String()
	}
	_, err = fmt.Fprintf(streams.Out, "%s: trusted: %s\n", o.VerifyCert, strings.Join(subjects, " <- "))
	return err
}

// readCertificates reads every CERTIFICATE block of a PEM file, in order.
func readCertificates(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %w", path, len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New(path + ": no PEM CERTIFICATE block")
	}
	return certs, nil
}

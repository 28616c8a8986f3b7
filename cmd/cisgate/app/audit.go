package app

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"

	"github.com/cisgate/cisgate/controller"
	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/securityhub"
)

func init() { subcommands = append(subcommands, newAuditCommand) }

// auditFormats are the output formats of `cisgate audit`.
var auditFormats = []output.Format{output.FormatTable, output.FormatJSON, output.FormatJUnit}

// AuditOptions configures `cisgate audit`.
type AuditOptions struct {
	Kubeconfig string
	Benchmark  string
	ConfigFile string
	Output     string
	PageSize   int64
	// SecurityHub also publishes the findings into AWS Security Hub (scope audit, as serve's).
	SecurityHub *securityhub.Options
}

// NewAuditOptions returns the defaults.
func NewAuditOptions() *AuditOptions {
	return &AuditOptions{Output: string(output.FormatTable), PageSize: controller.DefaultPageSize, SecurityHub: securityhub.NewOptions()}
}

// AddFlags binds the options to flags.
func (o *AuditOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, kubeconfigHelp)
	fs.StringVar(&o.Benchmark, "benchmark", o.Benchmark, fmt.Sprintf("benchmark version, one of %v (default: the config's, else %s); the config's check IDs are carried to it by slug", policy.Benchmarks(), policy.DefaultBenchmark))
	fs.StringVar(&o.ConfigFile, "config", o.ConfigFile, "cisgate config file; without it every check runs in enforce mode with no exemptions")
	fs.StringVarP(&o.Output, "output", "o", o.Output, "output format: table, json or junit")
	fs.Int64Var(&o.PageSize, "page-size", o.PageSize, "objects per list request")
	o.SecurityHub.AddFlags(fs)
}

// Validate reports every problem with the options.
func (o *AuditOptions) Validate() []error {
	var errs []error
	if o.Benchmark != "" {
		if _, err := policy.CatalogueFor(policy.Benchmark(o.Benchmark)); err != nil {
			errs = append(errs, fmt.Errorf("--benchmark: %w", err))
		}
	}
	if _, err := output.ParseFormat(o.Output, auditFormats...); err != nil {
		errs = append(errs, err)
	}
	if o.PageSize < 1 {
		errs = append(errs, fmt.Errorf("--page-size must be at least 1, got %d", o.PageSize))
	}
	return append(errs, o.SecurityHub.Validate()...)
}

func newAuditCommand(streams IOStreams) *cobra.Command {
	o := NewAuditOptions()
	return withOptions(&cobra.Command{
		Use:   "audit [--kubeconfig PATH]",
		Short: "Audit the objects of a live cluster against the CIS Amazon EKS Benchmark section 4 policies",
		Long: `Audit lists every object of a checked kind page by page and judges it as the background
audit of 'cisgate serve' does: sa-token-automount and namespace-network-policy are decided from
the cluster's ServiceAccounts and NetworkPolicies, the latter once per Namespace, lb-tls follows an
Ingress to its IngressClass, Pods, ReplicaSets and Jobs controlled by a checked kind are left to
their owner, and the benchmark's manual items and those decided through the AWS API are listed as
WARN on kind Cluster. The JSON is the shape of 'cisgate check', each
object naming the live object. With --benchmark, the config's check IDs are carried to that
version by slug, as check does. Exit codes: 0 nothing blocks, 1 a FAIL in enforce mode, 2 bad
input or usage.

Checked kinds: ` + checkedKindsHelp() + `.`,
	}, o, func(ctx context.Context) error { return o.Run(ctx, streams) })
}

// Run audits the cluster once and writes the report.
func (o *AuditOptions) Run(ctx context.Context, streams IOStreams) error {
	pol, err := o.policy()
	if err != nil {
		return usageError(err)
	}
	warnExemptions(streams.ErrOut, pol, pol.Now())
	_, clientset, err := connect(o.Kubeconfig)
	if err != nil {
		return usageError(fmt.Errorf("--kubeconfig: %w", err))
	}
	return o.audit(ctx, clientset, pol, output.Format(o.Output), streams)
}

// policy builds the policy to audit with, as check builds it (loadPolicy): the config's, or every
// check in enforce mode, with the config's IDs carried to --benchmark by slug.
func (o *AuditOptions) policy() (*policy.Policy, error) { return loadPolicy(o.ConfigFile, o.Benchmark) }

// audit runs the audit with a client and writes the report.
func (o *AuditOptions) audit(ctx context.Context, client kubernetes.Interface, pol *policy.Policy, format output.Format, streams IOStreams) error {
	run, err := controller.Audit(ctx, client, pol, o.PageSize)
	if err != nil {
		return err
	}
	if err := output.Write(streams.Out, run.Report, format); err != nil {
		return err
	}
	publishSecurityHub(ctx, o.SecurityHub, securityhub.ScopeAudit, func() []securityhub.Row { return run.SecurityHubRows(pol.Catalogue) }, streams.ErrOut)
	if run.Report.Blocking() > 0 {
		return &ExitError{Code: ExitFindings}
	}
	return nil
}

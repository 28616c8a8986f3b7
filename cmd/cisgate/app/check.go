package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/utils/clock"

	"github.com/cisgate/cisgate/manifest"
	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
)

func init() { subcommands = append(subcommands, newCheckCommand) }

// CheckOptions configures `cisgate check`.
type CheckOptions struct {
	// List prints the catalogue of the benchmark instead of checking manifests.
	List       bool
	Files      []string
	Benchmark  string
	ConfigFile string
	Output     string
	// Namespace is where objects without a namespace go, as `kubectl apply -n` sends them; empty
	// leaves them to the client (4.5.2 then warns).
	Namespace string
	// Clock is the time exemptions expire by (not a flag: tests set it).
	Clock clock.PassiveClock
}

// NewCheckOptions returns the defaults.
func NewCheckOptions() *CheckOptions {
	return &CheckOptions{Output: string(output.FormatTable), Clock: clock.RealClock{}}
}

// AddFlags binds the options to flags.
func (o *CheckOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.List, "list", o.List, "list every item of the benchmark: its ID, slug, what decides it and how, and the checks it does not number (table or json)")
	fs.StringArrayVarP(&o.Files, "filename", "f", o.Files, "manifest file, directory (recursive), glob or URL to check, as kubectl apply -R -f reads it; - reads stdin; repeatable")
	fs.StringVar(&o.Benchmark, "benchmark", o.Benchmark, fmt.Sprintf("benchmark version, one of %v (default: the config's, else %s); the config's check IDs are carried to it by slug", policy.Benchmarks(), policy.DefaultBenchmark))
	fs.StringVar(&o.ConfigFile, "config", o.ConfigFile, "cisgate config file; without it every check runs in enforce mode with no exemptions")
	fs.StringVarP(&o.Output, "output", "o", o.Output, "output format: table, json, junit or sarif")
	fs.StringVarP(&o.Namespace, "namespace", "n", o.Namespace, "judge objects without a namespace as `kubectl apply -n NAMESPACE` would create them; an object in another namespace is an error, as in kubectl")
}

// Validate reports every problem with the options.
func (o *CheckOptions) Validate() []error {
	var errs []error
	if len(o.Files) == 0 && !o.List {
		errs = append(errs, errors.New("-f/--filename is required (a file, a directory or -)"))
	}
	if o.Benchmark != "" {
		if _, err := policy.CatalogueFor(policy.Benchmark(o.Benchmark)); err != nil {
			errs = append(errs, fmt.Errorf("--benchmark: %w", err))
		}
	}
	formats := output.Formats()
	if o.List {
		formats = listFormats
	}
	if _, err := output.ParseFormat(o.Output, formats...); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// policy builds the policy to check with (loadPolicy), on the options' clock.
func (o *CheckOptions) policy() (*policy.Policy, error) {
	p, err := loadPolicy(o.ConfigFile, o.Benchmark)
	if err != nil {
		return nil, err
	}
	return p.WithClock(o.Clock), nil
}

// loadPolicy builds the policy check and audit judge with: the config file's, or every check in
// enforce mode with no exemptions; with a benchmark, the config's check IDs carried to it by slug.
func loadPolicy(configFile, benchmark string) (*policy.Policy, error) {
	cfg := policy.DefaultConfig()
	if configFile != "" {
		p, err := policy.LoadConfig(configFile)
		if err != nil {
			return nil, err
		}
		cfg = p.Config
	} else {
		cfg.Mode = policy.ModeEnforce
		cfg.Exemptions = policy.Exemptions{}
	}
	if benchmark != "" {
		// The config's IDs are those of its own benchmark: resolved against another they could
		// name other checks (Config.Rebase).
		rebased, err := cfg.Rebase(policy.Benchmark(benchmark))
		if err != nil {
			return nil, err
		}
		cfg = rebased
	}
	return cfg.Compile()
}

func newCheckCommand(streams IOStreams) *cobra.Command {
	o := NewCheckOptions()
	return withOptions(&cobra.Command{
		Use:   "check -f PATH [-f PATH...]",
		Short: "Check manifests against the CIS Amazon EKS Benchmark section 4 policies",
		Long: `Check reads manifests as kubectl apply -R -f reads them, with kubectl's own reader (files,
directories, globs, URLs, or - for stdin; multi-document YAML, JSON, List objects, helm template
output, UTF-16), and evaluates every object of a checked kind, and every namespaced
object of any kind for 4.5.2. An Ingress's IngressClass in the same manifests says which
controller serves it (lb-tls). Exit codes: 0 nothing blocks, 1 a FAIL in enforce mode, 2 bad
input or usage. Checks that need cluster state (sa-token-automount, namespace-network-policy)
report WARN, which never fails.

Checked kinds: ` + checkedKindsHelp() + `.`,
	}, o, func(context.Context) error {
		if o.List {
			return o.RunList(streams)
		}
		return o.Run(streams)
	})
}

// Run checks the manifests and writes the report.
func (o *CheckOptions) Run(streams IOStreams) error {
	pol, err := o.policy()
	if err != nil {
		return usageError(err)
	}
	warnExemptions(streams.ErrOut, pol, pol.Now())
	loaded := manifest.Load(o.Files, streams.In)
	loaded.Objects = withBundleScopes(loaded.Objects)
	if o.Namespace != "" {
		var errs []error
		loaded.Objects, errs = inNamespace(loaded.Objects, o.Namespace)
		loaded.Errors = append(loaded.Errors, errs...)
	}
	report := CheckManifests(pol, loaded.Objects)
	if err := output.Write(streams.Out, report, output.Format(o.Output)); err != nil {
		return err
	}
	if len(loaded.Errors) > 0 {
		return usageError(errors.Join(loaded.Errors...))
	}
	if report.Blocking() > 0 {
		return &ExitError{Code: ExitFindings}
	}
	return nil
}

// inNamespace puts objects without a namespace into ns, as kubectl apply -n does
// (k8s.io/cli-runtime resource.RequireNamespace); a namespaced object that names another
// namespace is kubectl's error: it is returned as one and not judged, as kubectl never sends it.
// Cluster-scoped kinds keep none.
func inNamespace(objects []manifest.Object, ns string) ([]manifest.Object, []error) {
	var errs []error
	kept := objects[:0:0]
	for _, obj := range objects {
		switch o := &obj.Object; {
		case !o.Namespaced:
		case o.Namespace == "":
			o.Namespace = ns
		case o.Namespace != ns:
			errs = append(errs, fmt.Errorf("%s: %s %q: the namespace from the provided object %q does not match the namespace %q (kubectl apply -n refuses it too)",
				obj.File, o.Kind, o.Name, o.Namespace, ns))
			continue
		}
		kept = append(kept, obj)
	}
	return kept, errs
}

// CheckManifests judges every object. A Namespace among them that carries the cisgate.io/mode
// label sets the mode of the objects in it, as it would in the cluster.
func CheckManifests(pol *policy.Policy, objects []manifest.Object) *output.Report {
	namespaceModes := map[string]string{}
	for _, o := range objects {
		if o.Kind == "Namespace" {
			if ns, ok := o.Raw.(interface{ GetLabels() map[string]string }); ok {
				namespaceModes[o.Name] = ns.GetLabels()[policy.NamespaceModeLabel]
			}
		}
	}
	// An Ingress's IngressClass in the same manifests says which controller serves it (5.4.5).
	var classes []networkingv1.IngressClass
	for _, o := range objects {
		if ic, ok := o.Raw.(*networkingv1.IngressClass); ok {
			classes = append(classes, *ic)
		}
	}
	report := &output.Report{Benchmark: pol.Catalogue.Benchmark()}
	now := pol.Now() // one instant for every object, as the audit judges a run
	for _, o := range objects {
		if ing, ok := o.Raw.(*networkingv1.Ingress); ok {
			o.IngressClass, _ = policy.ServingIngressClass(ing, classes)
		}
		ref := output.ObjectRef{Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, File: o.File}
		report.Checked = append(report.Checked, ref)
		for _, j := range pol.JudgeAt(o.Object, policy.OperationNone, nil, namespaceModes[o.Namespace], now) {
			report.Findings = append(report.Findings, output.NewFinding(j, ref))
		}
	}
	report.Sort()
	return report
}

// warnExemptions tells, on stderr, of the config's exemptions that have expired at now (their
// findings are decided as if they had never existed) and of those that expire within its
// exemptions.expiryWarning. Nothing is written when there are none.
func warnExemptions(w io.Writer, pol *policy.Policy, now time.Time) {
	expiring, expired := pol.ExpiringExemptions(now)
	for _, e := range expired {
		fmt.Fprintf(w, "warning: %s expired at %s and no longer applies\n", e, e.Expires.UTC().Format(time.RFC3339))
	}
	for _, e := range expiring {
		fmt.Fprintf(w, "warning: %s expires at %s, within the expiry warning of %s\n", e, e.Expires.UTC().Format(time.RFC3339), pol.ExpiryWarning())
	}
}

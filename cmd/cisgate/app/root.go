// Package app holds cisgate's subcommands. Each has an options struct with defaults, AddFlags
// and Validate; none exits the process: Run maps errors to exit codes for main.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/client/config"

	"github.com/cisgate/cisgate/nodescan"
	"github.com/cisgate/cisgate/policy"
)

// Exit codes shared by every subcommand.
const (
	ExitOK = 0
	// ExitFindings: a FAIL that must fail the caller (an enforce-mode FAIL in check, a FAIL in
	// nodescan). The node-scan Job's pod failure policy reads the same constant.
	ExitFindings = nodescan.ExitFindings
	// ExitNotScanned: nodescan could not read the kubelet's configuration (nodescan.NotScanned).
	ExitNotScanned = nodescan.ExitNotScanned
	// ExitUsage: bad input or usage.
	ExitUsage = 2
)

// IOStreams are the command's standard streams, swapped in tests.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// ExitError ends a command with a specific exit code. Err may be nil when the command already
// printed what the user needs (e.g. FAIL results).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit code %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// usageError marks bad flags or input: exit code 2.
func usageError(err error) error { return &ExitError{Code: ExitUsage, Err: err} }

// NewRootCommand builds the cisgate command tree.
func NewRootCommand(streams IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:           "cisgate",
		Short:         "Hold an Amazon EKS cluster to the CIS Amazon EKS Benchmark",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	for _, sub := range subcommands {
		root.AddCommand(sub(streams))
	}
	return root
}

// subcommands are added by each subcommand's file, so a new one touches nothing else.
var subcommands []func(IOStreams) *cobra.Command

// Run executes the command line and returns the process exit code.
func Run(ctx context.Context, args []string, streams IOStreams) int {
	root := NewRootCommand(streams)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		if exit.Err != nil {
			fmt.Fprintln(streams.ErrOut, "error:", exit.Err)
		}
		return exit.Code
	}
	fmt.Fprintln(streams.ErrOut, "error:", err)
	// Cobra's own errors (unknown command, bad args) are usage errors.
	return ExitUsage
}

// options is what every subcommand's options struct has.
type options interface {
	AddFlags(fs *pflag.FlagSet)
	Validate() []error
}

// withOptions binds o to cmd's flags and runs run once o validates: every problem with the flags
// is a usage error (exit 2), reported before anything runs. The command takes no arguments.
func withOptions(cmd *cobra.Command, o options, run func(ctx context.Context) error) *cobra.Command {
	cmd.Args = cobra.NoArgs
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := validationError(o.Validate()); err != nil {
			return err
		}
		return run(cmd.Context())
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// validationError joins an options struct's Validate errors into one usage error.
func validationError(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return usageError(errors.Join(errs...))
}

// checkedKindsHelp names the kinds the checks decide on (policy.CheckedKinds) in help texts.
func checkedKindsHelp() string { return strings.Join(policy.CheckedKindNames(), ", ") }

// kubeconfigHelp is the one rule every subcommand follows to reach the cluster.
const kubeconfigHelp = "kubeconfig file; empty: $KUBECONFIG, else the in-cluster config, else ~/.kube/config (controller-runtime's order)"

// loadRESTConfig follows kubeconfigHelp: controller-runtime's config.GetConfig precedence, with
// --kubeconfig in place of its global flag. Client-side rate limiting is off, as GetConfig leaves
// it (the API server's priority and fairness applies); a client that needs a limit sets its own.
func loadRESTConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" {
		return ctrlconfig.GetConfig()
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	if cfg.QPS == 0 {
		cfg.QPS = -1
	}
	return cfg, nil
}

// connect is the one way a subcommand reaches the cluster: kubeconfig's config, by
// loadRESTConfig's rule, and its clientset.
func connect(kubeconfig string) (*rest.Config, *kubernetes.Clientset, error) {
	cfg, err := loadRESTConfig(kubeconfig)
	if err != nil {
		return nil, nil, err
	}
	clientset, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	return cfg, clientset, nil
}

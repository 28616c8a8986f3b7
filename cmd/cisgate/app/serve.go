package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/cisgate/cisgate/controller"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
	"github.com/cisgate/cisgate/webhook"
)

func init() { subcommands = append(subcommands, newServeCommand) }

// maxWebhookReplicas is how many replicas the admission report's share is split between; the
// chart runs 2.
const maxWebhookReplicas = 4

// ServeOptions configures `cisgate serve`, the webhook and the leader-elected controllers.
type ServeOptions struct {
	ConfigFile string
	// ConfigMap, when set, is the ConfigMap (in Namespace) whose key config.yaml is the config
	// file's source: after start the config follows it through the API.
	ConfigMap              string
	CertDir                string
	Port                   int
	Kubeconfig             string
	Namespace              string
	Replica                string
	MetricsBindAddress     string
	HealthProbeBindAddress string
	LeaderElection         bool
	ConfigPollInterval     time.Duration
	ReportInterval         time.Duration
	DenyOnError            bool
	// Audit and NodeScan configure the leader's background audit and node-scan Jobs.
	Audit    controller.AuditOptions
	NodeScan *controller.NodeScanOptions
}

// NewServeOptions returns the defaults (docs/architecture.md, "Fixed interfaces").
func NewServeOptions() *ServeOptions {
	ns := os.Getenv("POD_NAMESPACE")
	if ns == "" {
		ns = "cisgate-system"
	}
	replica := os.Getenv("POD_NAME")
	if replica == "" {
		replica, _ = os.Hostname()
	}
	return &ServeOptions{
		CertDir:                filepath.Join(os.TempDir(), "k8s-webhook-server", "serving-certs"),
		Port:                   9443,
		Namespace:              ns,
		Replica:                replica,
		MetricsBindAddress:     ":8080",
		HealthProbeBindAddress: ":8081",
		LeaderElection:         true,
		ConfigPollInterval:     5 * time.Second,
		ReportInterval:         5 * time.Second,
		Audit:                  controller.NewAuditOptions(),
		NodeScan:               controller.NewNodeScanOptions(),
	}
}

// AddFlags binds the options to flags.
func (o *ServeOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.ConfigFile, "config", o.ConfigFile, "cisgate config file (reloaded when it changes); empty: the defaults, audit mode")
	fs.StringVar(&o.ConfigMap, "config-map", o.ConfigMap, "ConfigMap in --namespace whose key "+configMapKey+" is the --config file's source: after start the config follows it through the API (in force within a second of a change) instead of polling the file")
	fs.StringVar(&o.CertDir, "cert-dir", o.CertDir, "directory holding tls.crt and tls.key, reloaded when they change")
	fs.IntVar(&o.Port, "port", o.Port, "webhook HTTPS port")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "kubeconfig file; empty: in-cluster config")
	fs.StringVar(&o.Namespace, "namespace", o.Namespace, "cisgate's namespace: the report ConfigMap and leader election live there (default $POD_NAMESPACE)")
	fs.StringVar(&o.Replica, "replica", o.Replica, "this replica's name in the report key admission.<replica>.json (default $POD_NAME, else the hostname)")
	fs.StringVar(&o.MetricsBindAddress, "metrics-bind-address", o.MetricsBindAddress, "address of the plain HTTP /metrics endpoint; 0 disables it")
	fs.StringVar(&o.HealthProbeBindAddress, "health-probe-bind-address", o.HealthProbeBindAddress, "address of the plain HTTP /healthz and /readyz endpoints")
	fs.BoolVar(&o.LeaderElection, "leader-elect", o.LeaderElection, "elect a leader for the background controllers (the webhook serves on every replica)")
	fs.DurationVar(&o.ConfigPollInterval, "config-poll-interval", o.ConfigPollInterval, "how often the config file is checked for changes")
	fs.DurationVar(&o.ReportInterval, "report-interval", o.ReportInterval, "at most one write of this replica's report key per interval")
	fs.BoolVar(&o.DenyOnError, "deny-on-error", o.DenyOnError, "deny requests cisgate cannot evaluate (default: admit them with a warning)")
	o.Audit.AddFlags(fs)
	o.NodeScan.AddFlags(fs)
}

// Validate reports every problem with the options.
func (o *ServeOptions) Validate() []error {
	var errs []error
	if o.Port < 1 || o.Port > 65535 {
		errs = append(errs, fmt.Errorf("--port must be 1-65535, got %d", o.Port))
	}
	for _, f := range []string{"tls.crt", "tls.key"} {
		if _, err := os.Stat(filepath.Join(o.CertDir, f)); err != nil {
			errs = append(errs, fmt.Errorf("--cert-dir: %w", err))
		}
	}
	if o.Namespace == "" {
		errs = append(errs, errors.New("--namespace must not be empty"))
	}
	if o.Replica == "" {
		errs = append(errs, errors.New("--replica must not be empty"))
	}
	if o.ConfigMap != "" && o.ConfigFile == "" {
		errs = append(errs, errors.New("--config-map needs --config (the config at start)"))
	}
	if o.ConfigPollInterval <= 0 || o.ReportInterval <= 0 {
		errs = append(errs, errors.New("--config-poll-interval and --report-interval must be positive"))
	}
	errs = append(errs, o.Audit.Validate()...)
	return append(errs, o.NodeScan.Validate()...)
}

func newServeCommand(streams IOStreams) *cobra.Command {
	o := NewServeOptions()
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the validating admission webhook and run the background controllers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := validationError(o.Validate()); err != nil {
				return err
			}
			return o.Run(cmd.Context(), streams)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// restConfig loads --kubeconfig, or the in-cluster config when it is empty.
func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" {
		return rest.InClusterConfig()
	}
	return clientcmd.BuildConfigFromFlags("", kubeconfig)
}

// Run serves until ctx ends.
func (o *ServeOptions) Run(ctx context.Context, streams IOStreams) error {
	ctrl.SetLogger(zap.New(zap.WriteTo(streams.ErrOut)))
	pol, err := o.policySource()
	if err != nil {
		return usageError(err)
	}
	cfg, err := restConfig(o.Kubeconfig)
	if err != nil {
		return usageError(fmt.Errorf("--kubeconfig: %w", err))
	}
	clientset, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	if w, ok := pol.(*webhook.ConfigWatcher); ok && o.ConfigMap != "" {
		w.FollowConfigMap(clientset, o.Namespace, o.ConfigMap, configMapKey)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  clientgoscheme.Scheme,
		Metrics:                 metricsserver.Options{BindAddress: o.MetricsBindAddress},
		HealthProbeBindAddress:  o.HealthProbeBindAddress,
		LeaderElection:          o.LeaderElection,
		LeaderElectionID:        "cisgate-leader",
		LeaderElectionNamespace: o.Namespace,
		WebhookServer:           webhook.NewServer(o.Port, o.CertDir),
		// Every informer is started up front (WarmCaches): a request never starts one.
		Cache: cache.Options{ReaderFailOnMissingInformer: true},
	})
	if err != nil {
		return err
	}
	if err := webhook.WarmCaches(ctx, mgr.GetCache()); err != nil {
		return err
	}
	events, err := report.NewEventSink(clientset, "cisgate")
	if err != nil {
		return err
	}
	writer, err := report.NewWriter(clientset, o.Namespace, report.AdmissionKey(o.Replica),
		report.SplitBudget(report.AdmissionShare, maxWebhookReplicas), report.WithWriteInterval(o.ReportInterval))
	if err != nil {
		return err
	}
	recorder := webhook.NewReportRecorder(o.Replica, events, writer)
	recorder.Interval = o.ReportInterval
	handler := &webhook.Handler{
		Policy:      pol.Policy,
		State:       &webhook.CachedState{Reader: mgr.GetCache(), Live: mgr.GetAPIReader(), Timeout: time.Second},
		Recorder:    recorder,
		DenyOnError: o.DenyOnError,
	}
	mgr.GetWebhookServer().Register(webhook.Path, webhook.NewWebhook(handler))
	for _, r := range []interface {
		Start(context.Context) error
	}{events, recorder, pol} { // the recorder runs its writer
		if err := mgr.Add(runnable{r}); err != nil {
			return err
		}
	}
	// The leader audits what exists and schedules the node scans.
	if err := mgr.Add(controller.NewAuditor(clientset, o.Namespace, pol.Policy, events, o.Audit)); err != nil {
		return err
	}
	benchmark := func() policy.Benchmark { return pol.Policy().Catalogue.Benchmark() }
	if err := controller.SetupNodeScanScheduler(mgr, o.Namespace, *o.NodeScan, benchmark); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("webhook", mgr.GetWebhookServer().StartedChecker()); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("caches", func(req *http.Request) error {
		if !mgr.GetCache().WaitForCacheSync(req.Context()) {
			return errors.New("informer caches not synced")
		}
		return nil
	}); err != nil {
		return err
	}
	return mgr.Start(ctx)
}

// configMapKey is the key of --config-map that holds the config (the chart's config.yaml).
const configMapKey = "config.yaml"

// policySource is the config watcher, or a fixed default policy without --config.
func (o *ServeOptions) policySource() (interface {
	Policy() *policy.Policy
	Start(context.Context) error
}, error) {
	if o.ConfigFile != "" {
		return webhook.NewConfigWatcher(o.ConfigFile, o.ConfigPollInterval)
	}
	p, err := policy.DefaultConfig().Compile()
	if err != nil {
		return nil, err
	}
	return fixedPolicy{p}, nil
}

type fixedPolicy struct{ p *policy.Policy }

func (f fixedPolicy) Policy() *policy.Policy { return f.p }

func (fixedPolicy) Start(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// runnable runs on every replica, not only the leader.
type runnable struct {
	r interface{ Start(context.Context) error }
}

func (r runnable) Start(ctx context.Context) error { return r.r.Start(ctx) }
func (runnable) NeedLeaderElection() bool          { return false }

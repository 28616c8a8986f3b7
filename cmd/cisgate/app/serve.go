package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/cisgate/cisgate/admission"
	"github.com/cisgate/cisgate/clusterstate"
	"github.com/cisgate/cisgate/controller"
	"github.com/cisgate/cisgate/openreports"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
	"github.com/cisgate/cisgate/securityhub"
	"github.com/cisgate/cisgate/webhook"
)

func init() { subcommands = append(subcommands, newServeCommand) }

// maxWebhookReplicas is how many replicas the admission report's share is split between; the
// chart runs 2.
const maxWebhookReplicas = 4

// leaseName is the Lease the leader holds (the name controller-runtime's manager used, so a
// rolling upgrade hands leadership over).
const leaseName = "cisgate-leader"

// ServeOptions configures `cisgate serve`, the webhook and the leader-elected controllers.
type ServeOptions struct {
	ConfigFile string
	// ConfigMap, when set, is the ConfigMap (in Namespace) whose key config.yaml is the config
	// file's source: after start the config follows it through the API.
	ConfigMap              string
	CertDir                string
	Port                   int
	ClientCAFile           string
	Kubeconfig             string
	Namespace              string
	Replica                string
	MetricsBindAddress     string
	HealthProbeBindAddress string
	LeaderElection         bool
	LeaseDuration          time.Duration
	RenewDeadline          time.Duration
	RetryPeriod            time.Duration
	ShutdownDelay          time.Duration
	DrainTimeout           time.Duration
	ConfigPollInterval     time.Duration
	ReportInterval         time.Duration
	CacheSyncTimeout       time.Duration
	DenyOnError            bool
	// Audit, NodeScan and CloudScan configure the leader's background audit, node-scan Jobs and
	// cloud scan.
	Audit     controller.AuditOptions
	NodeScan  *controller.NodeScanOptions
	CloudScan *controller.CloudScanOptions
	// OpenReports configures the audit's and the cloud scan's OpenReports.
	OpenReports *openreports.Options
	// SecurityHub publishes the audit, the cloud scan and the node scans into AWS Security Hub;
	// its cluster and region default to the cloud scan's.
	SecurityHub *securityhub.Options

	// openReports is the leader's writer of the audit's OpenReports, cloudReports that of the
	// cloud scan's, and nodeReports its reader of the node scans' ones, built by Run when enabled.
	openReports  *openreports.Writer
	cloudReports *openreports.Writer
	nodeReports  *openreports.NodeReports
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
		// client-go's and controller-runtime's defaults.
		LeaseDuration:      15 * time.Second,
		RenewDeadline:      10 * time.Second,
		RetryPeriod:        2 * time.Second,
		ShutdownDelay:      5 * time.Second,
		DrainTimeout:       15 * time.Second,
		ConfigPollInterval: 5 * time.Second,
		ReportInterval:     5 * time.Second,
		// controller-runtime's controllers wait as long for their caches.
		CacheSyncTimeout: 2 * time.Minute,
		Audit:            controller.NewAuditOptions(),
		NodeScan:         controller.NewNodeScanOptions(),
		CloudScan:        controller.NewCloudScanOptions(),
		OpenReports:      openreports.NewOptions(),
		SecurityHub:      securityhub.NewOptions(),
	}
}

// AddFlags binds the options to flags.
func (o *ServeOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.ConfigFile, "config", o.ConfigFile, "cisgate config file (reloaded when it changes); unset: the defaults, audit mode; a file with no YAML document (empty, only comments) is refused")
	fs.StringVar(&o.ConfigMap, "config-map", o.ConfigMap, "ConfigMap in --namespace whose key "+configMapKey+" is the --config file's source: after start the config follows it through the API (in force within a second of a change) instead of polling the file")
	fs.StringVar(&o.CertDir, "cert-dir", o.CertDir, "directory holding tls.crt and tls.key, reloaded when they change")
	fs.IntVar(&o.Port, "port", o.Port, "webhook HTTPS port")
	fs.StringVar(&o.ClientCAFile, "client-ca-file", o.ClientCAFile, "PEM CA bundle: every webhook client must present a certificate it signed "+
		"(set when the API server's AdmissionConfiguration gives it a client certificate; EKS's does not)")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, kubeconfigHelp)
	fs.StringVar(&o.Namespace, "namespace", o.Namespace, "cisgate's namespace: the report ConfigMap and leader election live there (default $POD_NAMESPACE)")
	fs.StringVar(&o.Replica, "replica", o.Replica, "this replica's name in the report key admission.<replica>.json (default $POD_NAME, else the hostname)")
	fs.StringVar(&o.MetricsBindAddress, "metrics-bind-address", o.MetricsBindAddress, "address of the plain HTTP /metrics endpoint; 0 disables it")
	fs.StringVar(&o.HealthProbeBindAddress, "health-probe-bind-address", o.HealthProbeBindAddress, "address of the plain HTTP /healthz and /readyz endpoints")
	fs.BoolVar(&o.LeaderElection, "leader-elect", o.LeaderElection, "elect a leader for the background audit and node scans (the webhook serves on every replica, leader or not)")
	fs.DurationVar(&o.LeaseDuration, "leader-elect-lease-duration", o.LeaseDuration, "how long a lost leader's lease keeps the others waiting")
	fs.DurationVar(&o.RenewDeadline, "leader-elect-renew-deadline", o.RenewDeadline, "how long the leader tries to renew before it stops its leader-only loops")
	fs.DurationVar(&o.RetryPeriod, "leader-elect-retry-period", o.RetryPeriod, "how often candidates try to acquire or renew the lease")
	fs.DurationVar(&o.ShutdownDelay, "shutdown-delay", o.ShutdownDelay, "after SIGTERM, keep serving this long with readiness failing, so the Endpoints drop the replica before it stops accepting")
	fs.DurationVar(&o.DrainTimeout, "drain-timeout", o.DrainTimeout, "after the shutdown delay, how long requests in flight may take to finish")
	fs.DurationVar(&o.ConfigPollInterval, "config-poll-interval", o.ConfigPollInterval, "how often the config file is checked for changes")
	fs.DurationVar(&o.ReportInterval, "report-interval", o.ReportInterval, "at most one write of this replica's report key per interval")
	fs.DurationVar(&o.CacheSyncTimeout, "cache-sync-timeout", o.CacheSyncTimeout, "how long the informer caches may take to sync at start before serve ends with an error (RBAC forbidding a list, a missing API group)")
	fs.BoolVar(&o.DenyOnError, "deny-on-error", o.DenyOnError, "deny requests cisgate cannot evaluate (default: admit them with a warning)")
	o.Audit.AddFlags(fs)
	o.NodeScan.AddFlags(fs)
	o.CloudScan.AddFlags(fs)
	o.OpenReports.AddFlags(fs)
	o.SecurityHub.AddFlags(fs)
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
	if o.ClientCAFile != "" {
		if _, err := os.Stat(o.ClientCAFile); err != nil {
			errs = append(errs, fmt.Errorf("--client-ca-file: %w", err))
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
	if o.ConfigPollInterval <= 0 || o.ReportInterval <= 0 || o.CacheSyncTimeout <= 0 {
		errs = append(errs, errors.New("--config-poll-interval, --report-interval and --cache-sync-timeout must be positive"))
	}
	if o.ShutdownDelay < 0 || o.DrainTimeout <= 0 {
		errs = append(errs, errors.New("--shutdown-delay must not be negative and --drain-timeout must be positive"))
	}
	if o.LeaderElection && !(o.LeaseDuration > o.RenewDeadline && o.RenewDeadline > o.RetryPeriod && o.RetryPeriod > 0) {
		errs = append(errs, errors.New("leader election needs --leader-elect-lease-duration > --leader-elect-renew-deadline > --leader-elect-retry-period > 0"))
	}
	errs = append(errs, o.Audit.Validate()...)
	errs = append(errs, o.OpenReports.Validate()...)
	errs = append(errs, o.NodeScan.Validate()...)
	if o.SecurityHub.Cluster == "" {
		o.SecurityHub.Cluster = o.CloudScan.Cluster
	}
	if o.SecurityHub.Region == "" {
		o.SecurityHub.Region = o.CloudScan.Region
	}
	errs = append(errs, o.SecurityHub.Validate()...)
	return append(errs, o.CloudScan.Validate()...)
}

func newServeCommand(streams IOStreams) *cobra.Command {
	o := NewServeOptions()
	return withOptions(&cobra.Command{
		Use:   "serve",
		Short: "Serve the validating admission webhook and run the background controllers",
		Long: `Serve the validating admission webhook on every replica, and the background audit and node
scans on the elected leader. Losing the lease stops only the leader's loops; the webhook keeps
serving and the replica stands for election again.

On SIGTERM readiness fails at once, the webhook keeps serving for --shutdown-delay while the
Endpoints drop the replica, then stops accepting, lets requests in flight finish
(--drain-timeout) and writes its last counts to the report.`,
	}, o, func(ctx context.Context) error { return o.Run(ctx, streams) })
}

var (
	isLeader = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "cisgate_leader",
		Help: "1 while this replica holds the lease and runs the audit and node scans.",
	})
	leaderTermsLost = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cisgate_leader_terms_lost_total",
		Help: "Leases lost while serving (the API server unreachable past the renew deadline); the webhook kept serving.",
	})
)

func init() { metrics.Registry.MustRegister(isLeader, leaderTermsLost) }

// Run serves until ctx ends, then shuts down in order: the leader's loops; the webhook (readiness
// fails, it serves through the shutdown delay, then drains); the recorder's last hand-over to the
// report; the caches, metrics and probes last.
func (o *ServeOptions) Run(ctx context.Context, streams IOStreams) error {
	ctrl.SetLogger(zap.New(zap.WriteTo(streams.ErrOut)))
	logger := log.Log.WithName("serve")
	pol, err := o.policySource()
	if err != nil {
		return usageError(err)
	}
	controller.ReportExemptions(pol.Policy)
	cfg, clientset, err := connect(o.Kubeconfig)
	if err != nil {
		return usageError(fmt.Errorf("--kubeconfig: %w", err))
	}
	live, err := client.New(clusterstate.LiveConfig(cfg), client.Options{Scheme: clientgoscheme.Scheme})
	if err != nil {
		return err
	}
	// Each scan Job publishes its own node into Security Hub.
	o.NodeScan.SecurityHubArgs = o.SecurityHub.Args()
	if o.OpenReports.Enabled {
		o.NodeScan.OpenReports = true
		if o.openReports, o.nodeReports, err = newOpenReportsWriter(cfg, openreports.WriterAudit, *o.OpenReports); err != nil {
			return err
		}
		if o.cloudReports, _, err = newOpenReportsWriter(cfg, openreports.WriterCloudScan, *o.OpenReports); err != nil {
			return err
		}
	}
	// This manager has no leader election: everything in it runs on every replica, and losing a
	// lease cannot stop it.
	if w, ok := pol.(*webhook.ConfigWatcher); ok && o.ConfigMap != "" {
		w.FollowConfigMap(clientset, o.Namespace, o.ConfigMap, configMapKey)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 clientgoscheme.Scheme,
		Metrics:                metricsserver.Options{BindAddress: o.MetricsBindAddress},
		HealthProbeBindAddress: o.HealthProbeBindAddress,
	})
	if err != nil {
		return err
	}
	// The informers the webhook reads are serve's own cache, not the manager's: the manager waits
	// for its cache to sync before it starts anything else and, when it never does, cannot be
	// stopped (controller-runtime v0.25's runnableGroup.Start keeps looping on a done context).
	// serve bounds the sync itself (--cache-sync-timeout). Every informer is started up front
	// (WarmCaches): a request never starts one.
	informers, err := cache.New(cfg, cache.Options{Scheme: clientgoscheme.Scheme, HTTPClient: mgr.GetHTTPClient(),
		Mapper: mgr.GetRESTMapper(), ReaderFailOnMissingInformer: true})
	if err != nil {
		return err
	}
	if err := clusterstate.WarmCaches(ctx, informers); err != nil {
		return err
	}
	events, err := report.NewEventSink(clientset, report.ReportingController)
	if err != nil {
		return err
	}
	writer, err := report.NewWriter(clientset, o.Namespace, report.AdmissionKey(o.Replica),
		report.SplitBudget(report.AdmissionShare, maxWebhookReplicas), report.WithWriteInterval(o.ReportInterval))
	if err != nil {
		return err
	}
	recorder := admission.NewReportRecorder(o.Replica, events, writer)
	recorder.Interval = o.ReportInterval
	server := webhook.NewServer(webhook.ServerOptions{
		Port: o.Port, CertDir: o.CertDir, ClientCAFile: o.ClientCAFile,
		ShutdownDelay: o.ShutdownDelay, DrainTimeout: o.DrainTimeout,
	})
	server.Register(webhook.Path, &admission.Handler{
		Policy:      pol.Policy,
		State:       &clusterstate.Cached{Reader: informers, Live: live},
		Recorder:    recorder,
		DenyOnError: o.DenyOnError,
		Bodies:      admission.NewBodyBudget(admission.DefaultBodyBudget),
	})
	for _, r := range []manager.Runnable{informers, events, pol} {
		if err := mgr.Add(r); err != nil {
			return err
		}
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("webhook", server.Ready); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("caches", func(req *http.Request) error {
		if !informers.WaitForCacheSync(req.Context()) {
			return errors.New("informer caches not synced")
		}
		return nil
	}); err != nil {
		return err
	}

	// Each part gets its own context, cancelled in the order of the shutdown. running ends on
	// SIGTERM or when any part fails; the leader's loops and the webhook follow it, the recorder
	// and the manager stop after them.
	running, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	var failures partFailures
	failed := func(part string, err error) {
		if err == nil {
			err = errors.New("stopped before shutdown")
		}
		err = fmt.Errorf("%s: %w", part, err)
		logger.Error(err, "a part of serve failed; shutting down")
		failures.add(err)
		fail(err)
	}
	background := context.WithoutCancel(ctx)
	mgrCtx, stopMgr := context.WithCancel(background)
	defer stopMgr()
	mgrDone := make(chan struct{})
	go func() {
		defer close(mgrDone)
		if err := mgr.Start(mgrCtx); err != nil || mgrCtx.Err() == nil {
			failed("manager", err)
		}
	}()
	go func() {
		// A cache that never syncs (RBAC forbids a list, an API group is missing) leaves every
		// lookup a WARN: the replica is not working, and says so by ending.
		syncCtx, cancel := context.WithTimeout(running, o.CacheSyncTimeout)
		defer cancel()
		if !informers.WaitForCacheSync(syncCtx) && running.Err() == nil {
			failed("caches", fmt.Errorf("informer caches not synced within --cache-sync-timeout %s", o.CacheSyncTimeout))
		}
	}()
	recorderCtx, stopRecorder := context.WithCancel(background)
	defer stopRecorder()
	recorderDone := make(chan struct{})
	go func() {
		defer close(recorderDone)
		if err := recorder.Start(recorderCtx); err != nil || recorderCtx.Err() == nil {
			failed("report recorder", err)
		}
	}()
	var leaders sync.WaitGroup
	leaders.Go(func() {
		if err := o.runLeaderLoops(running, clientset, pol.Policy, events); err != nil {
			failed("leader election", err)
		}
	})

	// The webhook serves until SIGTERM or a part fails, then shuts down within
	// --shutdown-delay + --drain-timeout.
	if err := server.Start(running); err != nil || running.Err() == nil {
		failed("webhook server", err)
	}
	leaders.Wait()
	stopRecorder()
	<-recorderDone
	logger.Info("last counts handed to the report")
	stopMgr()
	<-mgrDone
	return failures.err()
}

// partFailures collects the errors of the parts that failed, for serve's exit.
type partFailures struct {
	mu   sync.Mutex
	errs []error
}

func (f *partFailures) add(err error) {
	f.mu.Lock()
	f.errs = append(f.errs, err)
	f.mu.Unlock()
}

func (f *partFailures) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return errors.Join(f.errs...)
}

// runLeaderLoops runs the loops that need the lease (the audit and the node-scan scheduler; each
// says so through NeedLeaderElection) while this replica holds it, term after term, until ctx
// ends. They run under their own elector, not the manager's: controller-runtime's manager exits
// when it loses the lease, and with it the webhook. It returns an error when the loops or the
// elector cannot be built: serve then ends, as for any part that fails.
func (o *ServeOptions) runLeaderLoops(ctx context.Context, clientset kubernetes.Interface, pol func() *policy.Policy, events *report.EventSink) error {
	logger := log.Log.WithName("leader")
	loops := func() ([]manager.Runnable, error) {
		auditor := controller.NewAuditor(clientset, o.Namespace, pol, events, o.Audit)
		if o.openReports != nil {
			auditor.WriteOpenReports(o.openReports)
			auditor.ReadNodeReports(o.nodeReports)
		}
		securityHub := o.SecurityHub.NewPublisher(ctx, log.Log.WithName("securityhub"))
		if securityHub != nil {
			auditor.PublishSecurityHub(securityHub)
		}
		all := []manager.Runnable{auditor}
		if o.NodeScan.Enabled {
			benchmark := func() policy.Benchmark { return pol().Catalogue.Benchmark() }
			s, err := controller.NewNodeScanScheduler(clientset, o.Namespace, *o.NodeScan, benchmark)
			if err != nil {
				return nil, err
			}
			if securityHub != nil {
				s.RetireSecurityHubFindings(securityHub)
			}
			if o.nodeReports != nil {
				s.ResumeFromReports(o.nodeReports)
			}
			all = append(all, s)
		}
		if o.CloudScan.Enabled {
			sinks := []report.Sink{report.KeySink{Client: clientset, Namespace: o.Namespace}}
			if o.cloudReports != nil {
				sinks = append(sinks, openreports.ScanSink{Writer: o.cloudReports})
			}
			sinks = append(sinks, report.ScanEvents{Events: events})
			if securityHub != nil {
				sinks = append(sinks, securityhub.Sink{Publisher: securityHub})
			}
			publisher := report.NewPublisher(clientset, o.Namespace, sinks...)
			all = append(all, controller.NewCloudScanner(clientset, *o.CloudScan, pol, publisher))
		}
		var leaderOnly []manager.Runnable
		for _, r := range all {
			if le, ok := r.(manager.LeaderElectionRunnable); !ok || le.NeedLeaderElection() {
				leaderOnly = append(leaderOnly, r)
			}
		}
		return leaderOnly, nil
	}
	run := func(ctx context.Context) error {
		term, err := loops()
		if err != nil {
			return fmt.Errorf("cannot start the leader's loops: %w", err)
		}
		isLeader.Set(1)
		defer isLeader.Set(0)
		var wg sync.WaitGroup
		for _, r := range term {
			wg.Go(func() {
				if err := r.Start(ctx); err != nil {
					logger.Error(err, "leader loop stopped")
				}
			})
		}
		wg.Wait()
		return nil
	}
	if !o.LeaderElection {
		return run(ctx)
	}
	identity := o.Replica + "_" + string(uuid.NewUUID())
	for ctx.Err() == nil {
		// The term's loops run here, not in the elector's callback goroutine, so that a term ends
		// before the next election and before serve returns.
		leading := make(chan context.Context, 1)
		elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock: &resourcelock.LeaseLock{
				LeaseMeta:  metav1.ObjectMeta{Namespace: o.Namespace, Name: leaseName},
				Client:     clientset.CoordinationV1(),
				LockConfig: resourcelock.ResourceLockConfig{Identity: identity},
			},
			LeaseDuration:   o.LeaseDuration,
			RenewDeadline:   o.RenewDeadline,
			RetryPeriod:     o.RetryPeriod,
			ReleaseOnCancel: true,
			Name:            leaseName,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(term context.Context) { leading <- term },
				OnStoppedLeading: func() {},
			},
		})
		if err != nil {
			return fmt.Errorf("cannot start leader election: %w", err)
		}
		electing := make(chan struct{})
		go func() {
			defer close(electing)
			elector.Run(ctx)
		}()
		select {
		case term := <-leading:
			logger.Info("became leader", "identity", identity)
			// until the lease is lost or ctx ends: the elector cancels term either way
			termErr := run(term)
			<-electing
			if termErr != nil {
				return termErr
			}
		case <-electing:
		}
		if ctx.Err() == nil {
			leaderTermsLost.Inc()
			logger.Info("leader election lost; the webhook keeps serving, standing for election again")
		}
	}
	return nil
}

// configMapKey is the key of --config-map that holds the config (the chart's config.yaml).
const configMapKey = "config.yaml"

// policySource is the config watcher, or a fixed default policy without --config.
func (o *ServeOptions) policySource() (interface {
	Policy() *policy.Policy
	manager.Runnable
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

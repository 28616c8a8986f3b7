package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"golang.org/x/time/rate"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
	"github.com/cisgate/cisgate/securityhub"
)

// NodeScanOptions configures the node-scan scheduler of `cisgate serve` (flags --nodescan-*).
type NodeScanOptions struct {
	// Enabled turns the scheduler on; off, serve creates no Jobs.
	Enabled bool
	// Image runs `cisgate nodescan`; it must have cisgate on its PATH.
	Image string
	// Interval is the time from one scan of a node to the next.
	Interval time.Duration
	// TTL is how long a finished Job (and its Pod, with the logs) stays.
	TTL time.Duration
	// Parallelism is the most scan Jobs running at once across the cluster.
	Parallelism int
	// JobQPS is the most scan Jobs created a second, with bursts of up to Parallelism: the
	// scheduler's writes to the API server follow this rate, never the node count, even when
	// every node is due at once (a first install, a changed image or benchmark).
	JobQPS float64
	// ActiveDeadline bounds one scan Job, including a Pod that never starts; at most half the
	// Interval (jobActiveDeadline), so that a short interval needs no second setting.
	ActiveDeadline time.Duration
	// ServiceAccount runs the scan Pods; it needs to get and list Nodes, create Events and
	// apply the report ConfigMap.
	ServiceAccount string
	// PriorityClassName is the scan Pods' priority class; empty: the cluster's default.
	PriorityClassName string
	// ExtraHostPaths are mounted read-only besides the known layouts' paths.
	ExtraHostPaths []HostPath
	// OpenReports makes each scan also write its node's OpenReports ClusterReport (nodescan
	// --openreports); serve sets it from its own --openreports.
	OpenReports bool
	// SecurityHubArgs are the --securityhub flags each scan gets to publish its node's findings
	// into AWS Security Hub (securityhub.Options.Args); serve sets them from its own.
	SecurityHubArgs []string
}

// NewNodeScanOptions returns the defaults: off, a scan a day per node, 10 at a time.
func NewNodeScanOptions() *NodeScanOptions {
	return &NodeScanOptions{
		Interval:       24 * time.Hour,
		TTL:            time.Hour,
		Parallelism:    10,
		JobQPS:         1,
		ActiveDeadline: 5 * time.Minute,
		ServiceAccount: "cisgate-nodescan",
	}
}

// jobActiveDeadline is ActiveDeadline, capped at half the Interval: a scan must end before the
// node's next one is due.
func (o *NodeScanOptions) jobActiveDeadline() time.Duration {
	return min(o.ActiveDeadline, o.Interval/2)
}

// minNodeScanInterval keeps a misconfigured interval from turning the trickle into a flood.
const minNodeScanInterval = time.Minute

// AddFlags binds the options to flags.
func (o *NodeScanOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.Enabled, "nodescan-enabled", o.Enabled, "schedule a node-scan Job per node when it joins and every --nodescan-interval (leader only)")
	fs.StringVar(&o.Image, "nodescan-image", o.Image, "image of the node-scan Jobs, with cisgate on its PATH (required with --nodescan-enabled)")
	fs.DurationVar(&o.Interval, "nodescan-interval", o.Interval, "time from one scan of a node to the next")
	fs.DurationVar(&o.TTL, "nodescan-ttl", o.TTL, "how long a finished node-scan Job and its Pod stay (ttlSecondsAfterFinished)")
	fs.IntVar(&o.Parallelism, "nodescan-parallelism", o.Parallelism, "most node-scan Jobs running at once across the cluster")
	fs.Float64Var(&o.JobQPS, "nodescan-job-qps", o.JobQPS, "most node-scan Jobs created a second, in bursts of up to --nodescan-parallelism (at 1, 86,400 Jobs a day: 100,000 nodes at a 24h interval need 1.16)")
	fs.DurationVar(&o.ActiveDeadline, "nodescan-active-deadline", o.ActiveDeadline, "most time one node-scan Job may take (activeDeadlineSeconds); at most half of --nodescan-interval")
	fs.StringVar(&o.ServiceAccount, "nodescan-service-account", o.ServiceAccount, "ServiceAccount of the node-scan Pods, in cisgate's namespace")
	fs.StringVar(&o.PriorityClassName, "nodescan-priority-class", o.PriorityClassName, "priorityClassName of the node-scan Pods (empty: the cluster's default)")
	fs.Var(hostPathFlag{&o.ExtraHostPaths}, "nodescan-extra-host-path", "a node path the node-scan Pods mount read-only under their host root, besides the known kubelet layouts (repeatable; type: Directory, File, Socket or empty)")
}

// Validate reports every problem with the options; disabled options are not checked.
func (o *NodeScanOptions) Validate() []error {
	if !o.Enabled {
		return nil
	}
	var errs []error
	if o.Image == "" {
		errs = append(errs, errors.New("--nodescan-image is required with --nodescan-enabled"))
	}
	if o.Interval < minNodeScanInterval {
		errs = append(errs, fmt.Errorf("--nodescan-interval must be at least %v, got %v", minNodeScanInterval, o.Interval))
	}
	if o.TTL < 0 {
		errs = append(errs, fmt.Errorf("--nodescan-ttl must not be negative, got %v", o.TTL))
	}
	if o.Parallelism < 1 {
		errs = append(errs, fmt.Errorf("--nodescan-parallelism must be at least 1, got %d", o.Parallelism))
	}
	if !(o.JobQPS > 0) {
		errs = append(errs, fmt.Errorf("--nodescan-job-qps must be positive, got %v", o.JobQPS))
	}
	if o.ActiveDeadline < time.Second {
		errs = append(errs, fmt.Errorf("--nodescan-active-deadline must be at least 1s, got %v", o.ActiveDeadline))
	}
	for _, msg := range validation.IsDNS1123Subdomain(o.ServiceAccount) {
		errs = append(errs, fmt.Errorf("--nodescan-service-account %q: %s", o.ServiceAccount, msg))
	}
	if o.PriorityClassName != "" {
		for _, msg := range validation.IsDNS1123Subdomain(o.PriorityClassName) {
			errs = append(errs, fmt.Errorf("--nodescan-priority-class %q: %s", o.PriorityClassName, msg))
		}
	}
	names := map[string]bool{}
	for _, hp := range o.ExtraHostPaths {
		if err := hp.validate(); err != nil {
			errs = append(errs, fmt.Errorf("--nodescan-extra-host-path: %w", err))
		}
		if names[hp.volumeName()] {
			errs = append(errs, fmt.Errorf("--nodescan-extra-host-path: volume name %q is used twice", hp.volumeName()))
		}
		names[hp.volumeName()] = true
	}
	return errs
}

// nodeScanPendingTimeout is how long a Job this process created counts as running while the
// informer has not shown it yet; past it, the informer would have, unless the Job is gone.
const nodeScanPendingTimeout = time.Minute

// NodeScanScheduler runs one scan Job per node when the node joins and every Interval, never two
// for a node at once, at most Parallelism across the cluster and at most JobQPS created a second.
// Nodes that are due while every slot is taken wait in arrival order, so a large cluster is
// scanned as a steady trickle. It
// deletes the Jobs and releases the report key of a deleted node.
//
// Nodes are scanned when Ready, on Linux and not on Fargate (which runs no host-level Pods).
// One worker does all the work, so the scheduling state needs no lock.
type NodeScanScheduler struct {
	client    kubernetes.Interface
	namespace string
	opts      NodeScanOptions
	benchmark func() policy.Benchmark
	clock     clock.WithTicker

	queue      workqueue.TypedRateLimitingInterface[string]
	nodeLister corelisters.NodeLister
	jobLister  batchlisters.JobLister
	jobIndexer cache.Indexer
	// saLister holds the scan ServiceAccount alone, the Jobs' owner (see jobOwner).
	saLister corelisters.ServiceAccountLister
	synced   []cache.InformerSynced
	start    func(stop <-chan struct{})

	// lastScan is when the latest scan of each node started (its Job's creation), or ran (the
	// time in its report key or ClusterReport, which outlive the Job).
	lastScan map[string]time.Time
	// pending are the Jobs created by this process that the informer has not shown yet, by node,
	// with their creation time: they count as running.
	pending map[string]pendingJob
	// jobLimiter paces the Job creates at JobQPS, bursts of Parallelism.
	jobLimiter *rate.Limiter
	// due are the nodes waiting for a free slot, oldest first; dueSet is the same as a set.
	due    []string
	dueSet map[string]bool

	// securityHub archives a deleted node's Security Hub findings; nil: none.
	securityHub *securityhub.Publisher
	// reports tells each node's last scan from its OpenReports ClusterReport; nil: the report
	// ConfigMap's node keys alone.
	reports LastScanSource
}

// LastScanSource tells when each node was last scanned, by node name (openreports.NodeReports
// reads it from the ClusterReports' metadata).
type LastScanSource interface {
	LastScans(ctx context.Context) (map[string]time.Time, error)
}

// ResumeFromReports makes a new leader read each node's last scan from src too, where the scans
// write OpenReports instead of node keys: without it a new leader (every helm upgrade brings one)
// would rescan the whole fleet. Call it before Start.
func (s *NodeScanScheduler) ResumeFromReports(src LastScanSource) { s.reports = src }

// RetireSecurityHubFindings makes the scheduler archive a deleted node's findings in AWS Security
// Hub through p, when it cleans up after the node: the node's own scans can no longer do it.
// Call it before Start.
func (s *NodeScanScheduler) RetireSecurityHubFindings(p *securityhub.Publisher) { s.securityHub = p }

type pendingJob struct {
	name    string
	created time.Time
}

// NewNodeScanScheduler returns a scheduler of Jobs in namespace; Start runs it.
func NewNodeScanScheduler(client kubernetes.Interface, namespace string, opts NodeScanOptions, benchmark func() policy.Benchmark) (*NodeScanScheduler, error) {
	return newNodeScanScheduler(client, namespace, opts, benchmark, clock.RealClock{})
}

func newNodeScanScheduler(client kubernetes.Interface, namespace string, opts NodeScanOptions, benchmark func() policy.Benchmark, clk clock.WithTicker) (*NodeScanScheduler, error) {
	// A scheduler is the enabled case, whatever the flag said: validate it as such.
	opts.Enabled = true
	if err := errors.Join(opts.Validate()...); err != nil {
		return nil, err
	}
	if namespace == "" || benchmark == nil {
		return nil, errors.New("node-scan scheduler: a namespace and a benchmark source are required")
	}
	s := &NodeScanScheduler{
		client:    client,
		namespace: namespace,
		opts:      opts,
		benchmark: benchmark,
		clock:     clk,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "nodescan-scheduler", Clock: clk}),
		lastScan:   map[string]time.Time{},
		pending:    map[string]pendingJob{},
		jobLimiter: rate.NewLimiter(rate.Limit(opts.JobQPS), opts.Parallelism),
		dueSet:     map[string]bool{},
	}

	nodeFactory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTransform(trimNode))
	nodeInformer := nodeFactory.Core().V1().Nodes()
	jobFactory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.LabelSelector = labels.SelectorFromSet(nodeScanJobLabels).String()
		}))
	jobInformer := jobFactory.Batch().V1().Jobs()
	// One object, through a metadata.name field selector: the owner of every Job is read from
	// this cache, not with a GET per Job, and its watch brings a new UID when it is recreated.
	saFactory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", opts.ServiceAccount).String()
		}))
	saInformer := saFactory.Core().V1().ServiceAccounts()
	if err := jobInformer.Informer().AddIndexers(cache.Indexers{jobsByNodeIndex: jobNodeLabelIndex}); err != nil {
		return nil, err
	}
	enqueueNode := func(obj any) {
		if node, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			s.queue.Add(node)
		}
	}
	enqueueJobNode := func(obj any) {
		if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tombstone.Obj
		}
		if job, ok := obj.(*batchv1.Job); ok && job.Spec.Template.Spec.NodeName != "" {
			s.queue.Add(job.Spec.Template.Spec.NodeName)
		}
	}
	if _, err := nodeInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueueNode,
		UpdateFunc: func(_, obj any) { enqueueNode(obj) },
		DeleteFunc: enqueueNode,
	}); err != nil {
		return nil, err
	}
	if _, err := jobInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueueJobNode,
		UpdateFunc: func(old, obj any) { countFinished(old, obj); enqueueJobNode(obj) },
		DeleteFunc: enqueueJobNode,
	}); err != nil {
		return nil, err
	}
	s.nodeLister = nodeInformer.Lister()
	s.jobLister = jobInformer.Lister()
	s.jobIndexer = jobInformer.Informer().GetIndexer()
	s.saLister = saInformer.Lister()
	s.synced = []cache.InformerSynced{nodeInformer.Informer().HasSynced, jobInformer.Informer().HasSynced, saInformer.Informer().HasSynced}
	s.start = func(stop <-chan struct{}) {
		nodeFactory.Start(stop)
		jobFactory.Start(stop)
		saFactory.Start(stop)
	}
	return s, nil
}

// NeedLeaderElection makes the manager run the scheduler on the leader only.
func (s *NodeScanScheduler) NeedLeaderElection() bool { return true }

// Start schedules scans until ctx ends.
func (s *NodeScanScheduler) Start(ctx context.Context) error {
	logger := log.FromContext(ctx).WithName("nodescan-scheduler").WithValues("namespace", s.namespace)
	ctx = log.IntoContext(ctx, logger)
	defer s.queue.ShutDown()
	s.start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), s.synced...) {
		if ctx.Err() != nil {
			return nil // stopped before it began
		}
		return errors.New("node-scan scheduler: informer caches did not sync")
	}
	// A new leader must not rescan every node at once: the report keys and the ClusterReports say
	// when each was last scanned. Without them every node counts as never scanned, which the
	// parallelism and --nodescan-job-qps still pace.
	if err := s.loadLastScans(ctx); err != nil {
		logger.Error(err, "Reading the last scan times from the report failed; nodes without a Job count as never scanned")
	}
	if err := s.loadReportScans(ctx); err != nil {
		logger.Error(err, "Reading the last scan times from the node ClusterReports failed; nodes without a Job count as never scanned")
	}
	go func() {
		<-ctx.Done()
		s.queue.ShutDown()
	}()
	for s.processNext(ctx, logger) {
	}
	return nil
}

// loadLastScans reads each node key of the report ConfigMap and queues its node, so that the keys
// of nodes deleted while no leader ran are released too.
func (s *NodeScanScheduler) loadLastScans(ctx context.Context) error {
	cm, err := s.client.CoreV1().ConfigMaps(s.namespace).Get(ctx, report.ConfigMapName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for key, data := range cm.Data {
		var scan struct {
			Node       string          `json:"node"`
			Time       time.Time       `json:"time"`
			NotScanned json.RawMessage `json:"notScanned"`
		}
		// Other writers' keys and foreign data do not decode into a node report of this key.
		if json.Unmarshal([]byte(data), &scan) != nil || scan.Node == "" || report.NodeKey(scan.Node).Name != key {
			continue
		}
		s.queue.Add(scan.Node)
		if scan.NotScanned != nil {
			// A node the last scan could not read counts as never scanned: a new leader (what a
			// helm upgrade brings) scans it again unless its Job, still within its TTL, ran with
			// the Pod spec of now (sync reads the Jobs).
			continue
		}
		if scan.Time.After(s.lastScan[scan.Node]) {
			s.lastScan[scan.Node] = scan.Time
		}
	}
	return nil
}

// loadReportScans reads each node's last scan from its ClusterReport (one paged metadata list),
// when the scans write them. The nodes are not queued: the node informer's initial list does,
// and a deleted node's report goes with it (the Node owns it).
func (s *NodeScanScheduler) loadReportScans(ctx context.Context) error {
	if s.reports == nil {
		return nil
	}
	scans, err := s.reports.LastScans(ctx)
	if err != nil {
		return err
	}
	for node, at := range scans {
		if at.After(s.lastScan[node]) {
			s.lastScan[node] = at
		}
	}
	return nil
}

func (s *NodeScanScheduler) processNext(ctx context.Context, logger logr.Logger) bool {
	node, shutdown := s.queue.Get()
	if shutdown {
		return false
	}
	defer s.queue.Done(node)
	if err := survive(func() error { return s.sync(ctx, node) }); err != nil {
		logger.Error(err, "Scheduling the node scan failed; retrying", "node", node)
		s.queue.AddRateLimited(node)
		return true
	}
	s.queue.Forget(node)
	s.startDue(ctx, logger)
	return true
}

// sync brings one node's scheduling up to date: cleans up after a deleted node, queues a node
// whose scan is due, or wakes it up when the next one will be.
func (s *NodeScanScheduler) sync(ctx context.Context, nodeName string) error {
	node, err := s.nodeLister.Get(nodeName)
	if apierrors.IsNotFound(err) {
		return s.cleanUp(ctx, nodeName)
	}
	if err != nil {
		return err
	}
	if !scannable(node) {
		s.dropDue(nodeName)
		return nil
	}
	jobs, err := s.jobsOf(nodeName)
	if err != nil {
		return err
	}
	podSpec := renderNodeScanJob(node, s.namespace, s.opts, s.benchmark(), nil).Annotations[nodeScanPodSpecAnnotation]
	otherSettings := false
	for _, job := range jobs {
		if !jobFinished(job) {
			// Its end is a Job event, which queues the node again.
			s.dropDue(nodeName)
			return nil
		}
		if job.Annotations[nodeScanPodSpecAnnotation] != podSpec {
			otherSettings = true
			continue
		}
		if job.CreationTimestamp.After(s.lastScan[nodeName]) {
			s.lastScan[nodeName] = job.CreationTimestamp.Time
		}
	}
	if s.awaitingInformer(nodeName, jobs) {
		// The informer's Add of the Job queues the node again; the timeout covers a Job
		// deleted before the informer saw it.
		s.queue.AddAfter(nodeName, nodeScanPendingTimeout)
		return nil
	}
	if otherSettings {
		// The node's last scan ran with other settings (the upgrade that mounted the kubelet's
		// files, another benchmark or image): scan it with these now, not an interval later.
		delete(s.lastScan, nodeName)
	}
	last, scanned := s.lastScan[nodeName]
	if wait := last.Add(s.opts.Interval).Sub(s.clock.Now()); scanned && wait > 0 {
		s.queue.AddAfter(nodeName, wait)
		return nil
	}
	if !s.dueSet[nodeName] {
		s.dueSet[nodeName] = true
		s.due = append(s.due, nodeName)
	}
	return nil
}

// startDue starts the Jobs of the nodes that wait longest, as many as there are free slots.
func (s *NodeScanScheduler) startDue(ctx context.Context, logger logr.Logger) {
	for len(s.due) > 0 {
		running, err := s.runningScans()
		if err != nil {
			logger.Error(err, "Counting the running node scans failed")
			return
		}
		if running >= s.opts.Parallelism {
			return
		}
		nodeName := s.due[0]
		// Past the burst, the next create waits for its token: the node is queued again for
		// then, keeping its place at the head.
		now := s.clock.Now()
		if r := s.jobLimiter.ReserveN(now, 1); r.DelayFrom(now) > 0 {
			s.queue.AddAfter(nodeName, r.DelayFrom(now))
			r.CancelAt(now)
			return
		}
		if err := s.startScan(ctx, nodeName); err != nil {
			// The node keeps its place; its retry comes back here.
			logger.Error(err, "Starting the node scan failed; retrying", "node", nodeName)
			s.queue.AddRateLimited(nodeName)
			return
		}
		s.dropDue(nodeName)
	}
}

// runningScans counts the unfinished scan Jobs, and those just created that the informer has not
// shown yet.
func (s *NodeScanScheduler) runningScans() (int, error) {
	jobs, err := s.jobLister.Jobs(s.namespace).List(labels.Everything())
	if err != nil {
		return 0, err
	}
	seen := make(map[string]bool, len(jobs))
	running := 0
	for _, job := range jobs {
		seen[job.Name] = true
		if !jobFinished(job) {
			running++
		}
	}
	now := s.clock.Now()
	for nodeName, p := range s.pending {
		if seen[p.name] || now.Sub(p.created) > nodeScanPendingTimeout {
			delete(s.pending, nodeName)
			continue
		}
		running++
	}
	return running, nil
}

// awaitingInformer reports whether this process created the node's Job and the informer has not
// shown it yet (among jobs, the node's Jobs it has), forgetting the Job once it has, or once
// nodeScanPendingTimeout says it never will.
func (s *NodeScanScheduler) awaitingInformer(nodeName string, jobs []*batchv1.Job) bool {
	p, ok := s.pending[nodeName]
	if !ok {
		return false
	}
	for _, job := range jobs {
		if job.Name == p.name {
			delete(s.pending, nodeName)
			return false
		}
	}
	if s.clock.Now().Sub(p.created) > nodeScanPendingTimeout {
		delete(s.pending, nodeName)
		return false
	}
	return true
}

// startScan creates the node's Job. A finished Job of the same name (the previous scan, still
// within its TTL) is deleted first. AlreadyExists means another Job of that name runs (say, made
// by a previous leader): it is the scan, and its events drive the node from here.
func (s *NodeScanScheduler) startScan(ctx context.Context, nodeName string) error {
	node, err := s.nodeLister.Get(nodeName)
	if apierrors.IsNotFound(err) {
		return nil // its sync cleans up
	}
	if err != nil {
		return err
	}
	owner, err := s.jobOwner()
	if err != nil {
		return err
	}
	job := renderNodeScanJob(node, s.namespace, s.opts, s.benchmark(), owner)
	previous, err := s.jobLister.Jobs(s.namespace).Get(job.Name)
	switch {
	case err == nil && jobFinished(previous):
		if err := s.deleteJob(ctx, previous); err != nil {
			return err
		}
	case err == nil:
		return nil // running: its events drive the node
	case !apierrors.IsNotFound(err):
		return err
	}
	created, err := s.client.BatchV1().Jobs(s.namespace).Create(ctx, job, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating Job %s/%s: %w", s.namespace, job.Name, err)
	}
	nodeScanJobsCreated.Inc()
	s.pending[nodeName] = pendingJob{name: created.Name, created: s.clock.Now()}
	s.lastScan[nodeName] = s.clock.Now()
	log.FromContext(ctx).V(1).Info("Started a node scan", "node", nodeName, "job", created.Name)
	return nil
}

// jobOwner is the owner reference of every scan Job: the scan Pods' ServiceAccount. The chart
// installs it and `helm uninstall` deletes it, and the garbage collector then deletes the Jobs it
// owns and their Pods, which Helm never knew about. It is no controller reference (the Job
// controller manages the Pods) and does not block the owner's deletion. It is read from the
// informer of that one ServiceAccount, not with a GET per Job: a ServiceAccount deleted and created
// again has a new UID, which its watch brings, and a Job owned by the old one would be collected at
// once. Within the watch's latency a Job may still get the old UID; the collector then deletes it,
// its Job event queues the node, and the retry reads the new owner.
func (s *NodeScanScheduler) jobOwner() (*metav1.OwnerReference, error) {
	sa, err := s.saLister.ServiceAccounts(s.namespace).Get(s.opts.ServiceAccount)
	if err != nil {
		return nil, fmt.Errorf("looking up the scan ServiceAccount %s/%s, the Jobs' owner: %w", s.namespace, s.opts.ServiceAccount, err)
	}
	return &metav1.OwnerReference{APIVersion: "v1", Kind: "ServiceAccount", Name: sa.Name, UID: sa.UID}, nil
}

// cleanUp deletes a deleted node's Jobs, archives its Security Hub findings and releases its
// report key.
func (s *NodeScanScheduler) cleanUp(ctx context.Context, nodeName string) error {
	s.dropDue(nodeName)
	delete(s.pending, nodeName)
	delete(s.lastScan, nodeName)
	jobs, err := s.jobsOf(nodeName)
	if err != nil {
		return err
	}
	for _, job := range jobs {
		if err := s.deleteJob(ctx, job); err != nil {
			return err
		}
	}
	if s.securityHub != nil {
		// Its failures are logged and counted by the publisher; a retry would read again.
		s.securityHub.Retire(ctx, securityhub.NodeScope(nodeName))
	}
	cm, err := s.client.CoreV1().ConfigMaps(s.namespace).Get(ctx, report.ConfigMapName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	key := report.NodeKey(nodeName)
	if _, ok := cm.Data[key.Name]; !ok {
		return nil
	}
	return report.ReleaseKey(ctx, s.client, s.namespace, key)
}

// deleteJob deletes a Job and, in the background, its Pod; a Job already gone is fine.
func (s *NodeScanScheduler) deleteJob(ctx context.Context, job *batchv1.Job) error {
	err := s.client.BatchV1().Jobs(job.Namespace).Delete(ctx, job.Name, metav1.DeleteOptions{
		PropagationPolicy: ptr.To(metav1.DeletePropagationBackground),
		Preconditions:     &metav1.Preconditions{UID: &job.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("deleting Job %s/%s: %w", job.Namespace, job.Name, err)
	}
	return nil
}

func (s *NodeScanScheduler) jobsOf(nodeName string) ([]*batchv1.Job, error) {
	objs, err := s.jobIndexer.ByIndex(jobsByNodeIndex, nodeIndexKey(nodeName))
	if err != nil {
		return nil, err
	}
	jobs := make([]*batchv1.Job, 0, len(objs))
	for _, obj := range objs {
		if job, ok := obj.(*batchv1.Job); ok {
			jobs = append(jobs, job)
		}
	}
	return jobs, nil
}

func (s *NodeScanScheduler) dropDue(nodeName string) {
	if !s.dueSet[nodeName] {
		return
	}
	delete(s.dueSet, nodeName)
	for i, n := range s.due {
		if n == nodeName {
			s.due = append(s.due[:i], s.due[i+1:]...)
			return
		}
	}
}

var (
	nodeScanJobsCreated = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cisgate_nodescan_jobs_created_total",
		Help: "Node scan Jobs the leader created.",
	})
	nodeScanJobsFinished = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cisgate_nodescan_jobs_finished_total",
		Help: "Node scan Jobs the leader saw finish, by condition: Complete (every check passed or warned), Failed (a FAIL, a node not scanned, or the scan could not run).",
	}, []string{"condition"})
)

func init() {
	metrics.Registry.MustRegister(nodeScanJobsCreated, nodeScanJobsFinished)
	// Both series exist from the start, at 0, for dashboards' rates.
	nodeScanJobsFinished.WithLabelValues(string(batchv1.JobComplete))
	nodeScanJobsFinished.WithLabelValues(string(batchv1.JobFailed))
}

// countFinished counts a Job's move to Complete or Failed, seen by the leader's informer.
func countFinished(old, obj any) {
	before, ok1 := old.(*batchv1.Job)
	after, ok2 := obj.(*batchv1.Job)
	if !ok1 || !ok2 || jobFinished(before) || !jobFinished(after) {
		return
	}
	for _, c := range after.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			nodeScanJobsFinished.WithLabelValues(string(c.Type)).Inc()
			return
		}
	}
}

// jobFinished reports whether the Job controller has marked the Job Complete or Failed.
func jobFinished(job *batchv1.Job) bool {
	for _, c := range job.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// fargateComputeType is the eks.amazonaws.com/compute-type of Fargate nodes: one Pod per
// micro-VM, no hostPID, no hostPath, no kubelet of the customer's to scan. autoModeComputeType is
// that of EKS Auto Mode nodes (EKS User Guide, "Control if a workload is deployed on EKS Auto
// Mode nodes": nodeSelector eks.amazonaws.com/compute-type: auto), which allow no host access:
// AWS manages their kubelet, and the cloud scan reports section 3 as theirs.
const (
	eksComputeTypeLabel = "eks.amazonaws.com/compute-type"
	fargateComputeType  = "fargate"
	autoModeComputeType = "auto"
)

// scannable reports whether a node can run a scan Job: Ready (a joining node is scanned once it
// is; its Pod could not start before), Linux, not Fargate, not EKS Auto Mode.
func scannable(node *corev1.Node) bool {
	if osName, ok := node.Labels[corev1.LabelOSStable]; ok && osName != string(corev1.Linux) {
		return false
	}
	if ct := node.Labels[eksComputeTypeLabel]; ct == fargateComputeType || ct == autoModeComputeType {
		return false
	}
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// trimNode keeps what the scheduler reads of a Node (name, labels, readiness, OS image): the
// informer holds every node of the cluster, and a node's status (its image list above all) is
// most of its size.
func trimNode(obj any) (any, error) {
	node, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil // not a Node: nothing to trim
	}
	trimmed := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:            node.Name,
			UID:             node.UID,
			ResourceVersion: node.ResourceVersion,
			Labels:          node.Labels,
		},
		// The provider ID tells an EC2 node, whose kubelet layout is known (hostMounts).
		Spec: corev1.NodeSpec{ProviderID: node.Spec.ProviderID},
	}
	trimmed.Status.NodeInfo.OSImage = node.Status.NodeInfo.OSImage
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			trimmed.Status.Conditions = []corev1.NodeCondition{{Type: c.Type, Status: c.Status}}
		}
	}
	return trimmed, nil
}

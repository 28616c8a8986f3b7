// Command loadgen measures what cisgate costs a Pod create through the API server, on the local
// cluster (test/cluster) with the chart installed in enforce mode: N creates of a compliant Pod
// at concurrency C, in interleaved rounds of three setups that differ only in admission:
//
// The order rotates from round to round.
//
//	none     a namespace cisgate's webhook does not match (exempt), no Pod Security label
//	cisgate  a namespace cisgate judges in enforce mode (the Pods pass every check)
//	psa      a namespace cisgate does not match, labelled pod-security.kubernetes.io/enforce=restricted
//
// The Pods name a node that does not exist, so nothing schedules or runs them: the create is the
// API server's work (admission, validation, etcd) and nothing else. It prints p50/p99 per setup,
// the ratios, the API server's own apiserver_admission_webhook_admission_duration_seconds for
// cisgate, and the cluster's memory at rest. `make bench-cluster` runs it.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/test/cluster"
	"github.com/cisgate/cisgate/test/cluster/clustertest"
)

type options struct {
	creates     int
	concurrency int
	rounds      int
}

func (o *options) addFlags(fs *flag.FlagSet) {
	fs.IntVar(&o.creates, "n", 1000, "Pod creates per setup, split over the rounds")
	fs.IntVar(&o.concurrency, "c", 16, "concurrent clients")
	fs.IntVar(&o.rounds, "rounds", 5, "interleaved rounds (none, cisgate, psa, none, ...)")
}

func (o *options) validate() []error {
	var errs []error
	if o.creates < 1 || o.concurrency < 1 || o.rounds < 1 || o.creates%o.rounds != 0 {
		errs = append(errs, fmt.Errorf("want -n, -c, -rounds at least 1 and -n a multiple of -rounds; got %d, %d, %d", o.creates, o.concurrency, o.rounds))
	}
	return errs
}

var setups = []struct {
	name, namespace string
	labels          map[string]string
}{
	{"none", "bench-none", nil},
	{"cisgate", "bench-cisgate", nil},
	{"psa", "bench-psa", map[string]string{"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest"}},
}

func main() {
	o := &options{}
	fs := flag.NewFlagSet("loadgen", flag.ExitOnError)
	o.addFlags(fs)
	_ = fs.Parse(os.Args[1:])
	if errs := o.validate(); len(errs) > 0 {
		fmt.Fprintln(os.Stderr, errors.Join(errs...))
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(o *options) error {
	ctx := context.Background()
	t0 := time.Now()
	c, err := cluster.Start(ctx, cluster.Options{ToolsDir: os.Getenv(clustertest.ToolsEnv), Images: []string{"bin/pause-image", "bin/image"}})
	if err != nil {
		return err
	}
	defer c.Stop()
	fmt.Printf("warm cluster start (node Ready, default ServiceAccount): %s\n", time.Since(t0).Round(100*time.Millisecond))

	args := append([]string{"install", "cisgate", clustertest.ChartDir(), "--namespace", "cisgate-system", "--create-namespace", "--wait", "--timeout", "4m"}, clustertest.TestValues(c)...)
	args = append(args, "--set", "mode=enforce", "--set", "nodeScan.enabled=false",
		"--set", "exemptions.namespaces={kube-system,bench-none,bench-psa}")
	t1 := time.Now()
	if _, err := clustertest.Helm(ctx, c, args...); err != nil {
		return err
	}
	fmt.Printf("helm install --wait: %s\n", time.Since(t1).Round(100*time.Millisecond))

	for _, s := range setups {
		if err := prepareNamespace(ctx, c.Clientset, s.namespace, s.labels); err != nil {
			return err
		}
	}
	if rss, err := memoryAtRest(c); err == nil {
		fmt.Printf("memory at rest (RSS of every process of the cluster, cisgate's pods included): %d MiB\n", rss>>20)
	}
	// One warm-up round per setup (connections, caches), not measured.
	for _, s := range setups {
		if _, err := creates(ctx, c.Clientset, s.namespace, "warm", 100, o.concurrency); err != nil {
			return err
		}
	}
	before, err := webhookHistogram(ctx, c)
	if err != nil {
		return err
	}
	lat := map[string][]time.Duration{}
	per := o.creates / o.rounds
	for r := range o.rounds {
		// Each round starts with another setup: no setup always follows the same one.
		for k := range setups {
			s := setups[(r+k)%len(setups)]
			d, err := creates(ctx, c.Clientset, s.namespace, fmt.Sprintf("r%d", r), per, o.concurrency)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			lat[s.name] = append(lat[s.name], d...)
		}
	}
	after, err := webhookHistogram(ctx, c)
	if err != nil {
		return err
	}

	fmt.Printf("\n%d Pod creates per setup at concurrency %d, %d interleaved rounds\n", o.creates, o.concurrency, o.rounds)
	fmt.Printf("%-8s %10s %10s %10s\n", "setup", "p50", "p99", "mean")
	p := map[string][2]time.Duration{}
	for _, s := range setups {
		d := lat[s.name]
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		var sum time.Duration
		for _, x := range d {
			sum += x
		}
		p[s.name] = [2]time.Duration{d[len(d)/2], d[len(d)*99/100]}
		fmt.Printf("%-8s %10s %10s %10s\n", s.name, round(d[len(d)/2]), round(d[len(d)*99/100]), round(sum/time.Duration(len(d))))
	}
	ratio := func(a, b string, i int) string { return fmt.Sprintf("%.2f", float64(p[a][i])/float64(p[b][i])) }
	fmt.Printf("cisgate/none: p50 %s, p99 %s\n", ratio("cisgate", "none", 0), ratio("cisgate", "none", 1))
	fmt.Printf("cisgate/psa:  p50 %s, p99 %s\n", ratio("cisgate", "psa", 0), ratio("cisgate", "psa", 1))
	fmt.Printf("\napiserver_admission_webhook_admission_duration_seconds for cisgate (the measured rounds):\n")
	printHistogram(before, after)
	return nil
}

func round(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }

func prepareNamespace(ctx context.Context, cs kubernetes.Interface, name string, labels map[string]string) error {
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	if _, err := cs.NetworkingV1().NetworkPolicies(name).Create(ctx, &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "default-deny"},
		Spec:       networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}},
	}, metav1.CreateOptions{}); err != nil {
		return err
	}
	_, err := cs.CoreV1().ServiceAccounts(name).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "web"}, AutomountServiceAccountToken: ptr.To(false)}, metav1.CreateOptions{})
	return err
}

// pod passes cisgate's section 4 checks and Pod Security "restricted"; it names a node that
// does not exist, so it is stored and never runs.
func pod(ns, name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PodSpec{
			NodeName:                     "bench-nowhere",
			ServiceAccountName:           "web",
			AutomountServiceAccountToken: ptr.To(false),
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](65532),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name: "app", Image: cluster.PauseImage,
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
					Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
		},
	}
}

// creates makes n Pods from c workers and returns each create's latency.
func creates(ctx context.Context, cs kubernetes.Interface, ns, prefix string, n, c int) ([]time.Duration, error) {
	work := make(chan int)
	var mu sync.Mutex
	var out []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				start := time.Now()
				_, err := cs.CoreV1().Pods(ns).Create(ctx, pod(ns, fmt.Sprintf("%s-%d", prefix, i)), metav1.CreateOptions{})
				d := time.Since(start)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				out = append(out, d)
				mu.Unlock()
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	return out, firstErr
}

// webhookHistogram is the API server's histogram for cisgate's webhook: bucket bound -> count.
func webhookHistogram(ctx context.Context, c *cluster.Cluster) (map[string]float64, error) {
	raw, err := c.Clientset.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	h := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_admission_webhook_admission_duration_seconds") || !strings.Contains(line, `name="validate.cisgate.io"`) {
			continue
		}
		if !strings.Contains(line, `operation="CREATE"`) || !strings.Contains(line, `type="validating"`) {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		switch {
		case strings.Contains(line, "_bucket{"):
			le := line[strings.Index(line, `le="`)+4:]
			le = le[:strings.IndexByte(le, '"')]
			h[le] += v
		case strings.Contains(line, "_sum{"):
			h["sum"] += v
		case strings.Contains(line, "_count{"):
			h["count"] += v
		}
	}
	return h, nil
}

func printHistogram(before, after map[string]float64) {
	count := after["count"] - before["count"]
	if count == 0 {
		fmt.Println("  (no samples)")
		return
	}
	fmt.Printf("  calls %.0f, mean %s\n", count, round(time.Duration((after["sum"]-before["sum"])/count*float64(time.Second))))
	var bounds []float64
	for k := range after {
		if b, err := strconv.ParseFloat(k, 64); err == nil {
			bounds = append(bounds, b)
		}
	}
	sort.Float64s(bounds)
	for _, b := range bounds {
		k := strconv.FormatFloat(b, 'g', -1, 64)
		fmt.Printf("  le %-6s %5.1f%%\n", k, 100*(after[k]-before[k])/count)
	}
}

// memoryAtRest sums the RSS of every process in the cluster's cgroup tree.
func memoryAtRest(c *cluster.Cluster) (int64, error) {
	var total int64
	for _, pid := range c.PIDs() {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				total += kb << 10
			}
		}
	}
	return total, nil
}

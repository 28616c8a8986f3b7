package admission

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenchmarkCreateThroughAPIServer: what cisgate adds to a create as a user meets it. A hardened
// Deployment is created (dry run: decided and admitted, not stored) through the real API server at
// concurrency 16, in a namespace cisgate checks and in one its webhook configuration excludes
// (cisgate-system: the API server calls no webhook), alternating, in one run.
func BenchmarkCreateThroughAPIServer(b *testing.B) {
	serve(b)
	checked := prepareNamespace(b, "bench", "")
	for _, tc := range []struct{ name, ns string }{{"no-webhook", cisgateNamespace}, {"cisgate", checked}} {
		b.Run(tc.name, func(b *testing.B) {
			const workers = 16
			var mu sync.Mutex
			var latencies []time.Duration
			var next int64
			b.SetParallelism(workers / 2)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var local []time.Duration
				for pb.Next() {
					mu.Lock()
					next++
					name := "bench-" + strconv.FormatInt(next, 10)
					mu.Unlock()
					start := time.Now()
					_, err := env.Clientset.AppsV1().Deployments(tc.ns).Create(context.Background(), deployment(tc.ns, name, nil), metav1.CreateOptions{DryRun: dryRun})
					if err != nil {
						b.Error(err)
						return
					}
					local = append(local, time.Since(start))
				}
				mu.Lock()
				latencies = append(latencies, local...)
				mu.Unlock()
			})
			b.StopTimer()
			slices.Sort(latencies)
			if len(latencies) > 0 {
				b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(len(latencies))/b.Elapsed().Seconds(), "creates/s")
			}
		})
	}
}

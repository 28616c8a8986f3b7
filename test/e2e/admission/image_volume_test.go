package admission

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cisgate/cisgate/test/e2e/framework"
)

// TestImageVolumeFromUnapprovedRegistry: an image volume is pulled like a container image
// (Kubernetes API reference, ImageVolumeSource), so with registries configured 5.1.4 denies a
// Deployment whose volume names an image of another registry, at the volume's field path, and
// admits one from an approved registry.
func TestImageVolumeFromUnapprovedRegistry(t *testing.T) {
	serve(t)
	ctx := context.Background()
	ns := prepareNamespace(t, "imagevol", "")
	withVolume := func(name, reference string) func(*corev1.PodSpec) {
		return func(s *corev1.PodSpec) {
			s.Volumes = append(s.Volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: reference}}})
		}
	}
	image := deployment(ns, "probe", nil).Spec.Template.Spec.Containers[0].Image
	registry, _, _ := strings.Cut(image, "/")
	writeConfig(t, baseConfig+"registries: ["+registry+"]\n")
	t.Cleanup(func() { writeConfig(t, baseConfig) })

	var err error
	framework.WaitFor(t, 20*time.Second, "the registries config to be loaded", func() error {
		_, err = env.Clientset.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "model", withVolume("model", "quay.io/evil/model:v1")), metav1.CreateOptions{DryRun: dryRun})
		if err == nil {
			return fmt.Errorf("still admitted")
		}
		return nil
	})
	requireDenied(t, err, `[5.1.4] image volume "model": spec.template.spec.volumes[0].image.reference "quay.io/evil/model:v1" ("quay.io/evil/model") must come from an approved registry`)

	_, err = env.Clientset.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "model", withVolume("model", registry+"/models/llm:v2")), metav1.CreateOptions{DryRun: dryRun})
	require.NoError(t, err, "an image volume from the approved registry is admitted")
}

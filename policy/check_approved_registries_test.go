package policy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/cisgate/cisgate/policy"
)

func TestApprovedRegistries(t *testing.T) {
	image := func(name, img string) corev1.Container { c := ctr(name); c.Image = img; return c }
	const ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com/"
	settings := policy.DefaultSettings()
	settings.Registries = []string{ecr, "public.ecr.aws/eks-distro/"}
	const approved = ` must come from an approved registry ("123456789012.dkr.ecr.us-east-1.amazonaws.com/", "public.ecr.aws/eks-distro/")`

	t.Run("with registries", func(t *testing.T) {
		podCheck(t, policy.EKS180, settings, "approved-registries", "5.1.4", []podCase{
			{name: "every image approved", spec: corev1.PodSpec{
				InitContainers: []corev1.Container{image("setup", ecr+"tools:1.2")},
				Containers:     []corev1.Container{image("app", ecr+"app@sha256:0123"), image("proxy", "public.ecr.aws/eks-distro/envoy:v1")},
			}},
			{
				name: "docker hub short name",
				spec: corev1.PodSpec{Containers: []corev1.Container{image("app", "nginx:1.27")}},
				want: []want{fails("containers[0].image", `container "app" image "nginx:1.27"`+approved)},
			},
			{
				// A prefix is a string prefix: the registry host must be followed by its "/".
				name: "look-alike host",
				spec: corev1.PodSpec{Containers: []corev1.Container{image("app", "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.io/app:1")}},
				want: []want{fails("containers[0].image", `container "app" image "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.io/app:1"`+approved)},
			},
			{
				name: "init, regular and ephemeral containers",
				spec: corev1.PodSpec{
					InitContainers:      []corev1.Container{image("setup", "busybox")},
					Containers:          []corev1.Container{image("app", ecr+"app:1")},
					EphemeralContainers: []corev1.EphemeralContainer{ephemeral(image("debugger", "docker.io/nicolaka/netshoot"))},
				},
				want: []want{
					fails("initContainers[0].image", `init container "setup" image "busybox"`+approved),
					fails("ephemeralContainers[0].image", `ephemeral container "debugger" image "docker.io/nicolaka/netshoot"`+approved),
				},
			},
		})
	})
	t.Run("without registries the check finds nothing", func(t *testing.T) {
		podCheck(t, policy.EKS180, policy.DefaultSettings(), "approved-registries", "5.1.4", []podCase{
			{name: "any image", spec: corev1.PodSpec{Containers: []corev1.Container{image("app", "nginx")}}},
		})
	})
	t.Run("without registries the config turns it off and says so", func(t *testing.T) {
		p, err := policy.ParseConfig([]byte("mode: enforce\n"))
		require.NoError(t, err)
		assert.Equal(t, policy.ModeOff, p.ModeFor("approved-registries", ""))
		p, err = policy.ParseConfig([]byte("mode: enforce\nregistries: [\"" + ecr + "\"]\n"))
		require.NoError(t, err)
		assert.Equal(t, policy.ModeEnforce, p.ModeFor("approved-registries", ""))
	})
}

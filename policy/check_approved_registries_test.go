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
	const list = `("123456789012.dkr.ecr.us-east-1.amazonaws.com/", "public.ecr.aws/eks-distro/")`
	const approved = ` must come from an approved registry ` + list
	const digest = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

	t.Run("with registries", func(t *testing.T) {
		podCheck(t, policy.EKS180, settings, "approved-registries", "5.1.4", []podCase{
			{name: "every image approved", spec: corev1.PodSpec{
				InitContainers: []corev1.Container{image("setup", ecr+"tools:1.2")},
				Containers:     []corev1.Container{image("app", ecr+"app@"+digest), image("proxy", "public.ecr.aws/eks-distro/envoy:v1")},
			}},
			{
				name: "docker hub short name",
				spec: corev1.PodSpec{Containers: []corev1.Container{image("app", "nginx:1.27")}},
				want: []want{fails("containers[0].image", `container "app" image "nginx:1.27" ("docker.io/library/nginx")`+approved)},
			},
			{
				// The host matches as a whole: a look-alike host that starts with it is another host.
				name: "look-alike host",
				spec: corev1.PodSpec{Containers: []corev1.Container{image("app", "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.io/app:1")}},
				want: []want{fails("containers[0].image", `container "app" image "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.io/app:1" ("123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.io/app")`+approved)},
			},
			{
				// The path matches whole components: eks-distro-evil is not under eks-distro.
				name: "look-alike path",
				spec: corev1.PodSpec{Containers: []corev1.Container{image("app", "public.ecr.aws/eks-distro-evil/app:1")}},
				want: []want{fails("containers[0].image", `container "app" image "public.ecr.aws/eks-distro-evil/app:1" ("public.ecr.aws/eks-distro-evil/app")`+approved)},
			},
			{
				// A port makes another host (distribution/reference: the domain includes the port).
				name: "same host on another port",
				spec: corev1.PodSpec{Containers: []corev1.Container{image("app", "123456789012.dkr.ecr.us-east-1.amazonaws.com:5000/app:1")}},
				want: []want{fails("containers[0].image", `container "app" image "123456789012.dkr.ecr.us-east-1.amazonaws.com:5000/app:1" ("123456789012.dkr.ecr.us-east-1.amazonaws.com:5000/app")`+approved)},
			},
			{name: "image volume from an approved registry", spec: corev1.PodSpec{Containers: []corev1.Container{image("app", ecr+"app:1")}, Volumes: []corev1.Volume{
				{Name: "model", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: ecr + "models/llm@" + digest}}},
			}}},
			{name: "tag and digest together", spec: corev1.PodSpec{Containers: []corev1.Container{image("app", ecr+"app:1.2@"+digest)}}},
			{
				// The kubelet cannot pull what distribution/reference cannot parse: fail, never pass.
				name: "unparsable image",
				spec: corev1.PodSpec{Containers: []corev1.Container{image("app", ecr+"App:1")}},
				want: []want{fails("containers[0].image", `container "app" image "123456789012.dkr.ecr.us-east-1.amazonaws.com/App:1" cannot be read as an image reference (invalid reference format: repository name (App) must be lowercase); it must name an image of an approved registry `+list)},
			},
			{
				name: "short digest",
				spec: corev1.PodSpec{Containers: []corev1.Container{image("app", ecr+"app@sha256:0123")}},
				want: []want{fails("containers[0].image", `container "app" image "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:0123" cannot be read as an image reference (invalid reference format); it must name an image of an approved registry `+list)},
			},
			{
				name: "init, regular and ephemeral containers",
				spec: corev1.PodSpec{
					InitContainers:      []corev1.Container{image("setup", "busybox")},
					Containers:          []corev1.Container{image("app", ecr+"app:1")},
					EphemeralContainers: []corev1.EphemeralContainer{ephemeral(image("debugger", "docker.io/nicolaka/netshoot"))},
				},
				want: []want{
					fails("initContainers[0].image", `init container "setup" image "busybox" ("docker.io/library/busybox")`+approved),
					fails("ephemeralContainers[0].image", `ephemeral container "debugger" image "docker.io/nicolaka/netshoot" ("docker.io/nicolaka/netshoot")`+approved),
				},
			},
		})
	})
	t.Run("docker hub entries are normalised like images", func(t *testing.T) {
		hub := policy.DefaultSettings()
		hub.Registries = []string{"docker.io/library"}
		podCheck(t, policy.EKS180, hub, "approved-registries", "5.1.4", []podCase{
			{name: "nginx is docker.io/library/nginx", spec: corev1.PodSpec{Containers: []corev1.Container{image("app", "nginx")}}},
			{name: "index.docker.io spelling", spec: corev1.PodSpec{Containers: []corev1.Container{image("app", "index.docker.io/library/nginx:1")}}},
			{
				name: "another docker hub user",
				spec: corev1.PodSpec{Containers: []corev1.Container{image("app", "evil/nginx")}},
				want: []want{fails("containers[0].image", `container "app" image "evil/nginx" ("docker.io/evil/nginx") must come from an approved registry ("docker.io/library")`)},
			},
		})
	})
	t.Run("config entries are checked", func(t *testing.T) {
		for _, bad := range []string{"", "/", "https://registry.example.com", "registry.example.com/app:1", "Registry.Example.com/App"} {
			_, err := policy.ParseConfig([]byte("registries: [\"" + bad + "\"]\n"))
			assert.Error(t, err, bad)
		}
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

// TestApprovedRegistriesImageVolume: image volumes are pulled like container images (Kubernetes
// API reference, ImageVolumeSource), so their references are held to the same registries, and
// the message names the volume's field path in every kind with a pod spec.
func TestApprovedRegistriesImageVolume(t *testing.T) {
	settings := policy.DefaultSettings()
	settings.Registries = []string{"registry.example.com"}
	spec := corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/app:1"}}, Volumes: []corev1.Volume{
		{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}},
		{Name: "model", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "quay.io/evil/model:v1"}}},
	}}
	for _, w := range workloads(testNamespace, spec) {
		t.Run(w.Kind, func(t *testing.T) {
			path := w.Prefix + ".volumes[1].image.reference"
			assert.Equal(t, []got{{ID: "5.1.4", Status: policy.StatusFail, Path: path,
				Detail: `image volume "model": ` + path + ` "quay.io/evil/model:v1" ("quay.io/evil/model") must come from an approved registry ("registry.example.com")`}},
				gotOf(evaluate(t, policy.EKS180, settings, w.Kind, w.Obj, policy.OperationCreate, nil, "approved-registries")))
		})
	}
}

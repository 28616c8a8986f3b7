package policy_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/cisgate/cisgate/policy"
)

func TestSecretsInEnv(t *testing.T) {
	secretEnv := func(c corev1.Container, env, secret string) corev1.Container {
		c.Env = append(c.Env, corev1.EnvVar{Name: env, ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: "password"}}})
		return c
	}
	secretEnvFrom := func(c corev1.Container, secret string) corev1.Container {
		c.EnvFrom = append(c.EnvFrom, corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: secret}}})
		return c
	}
	plain := ctr("app")
	plain.Env = []corev1.EnvVar{
		{Name: "LOG_LEVEL", Value: "info"},
		{Name: "CONFIG", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "k"}}},
		{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
	}
	plain.EnvFrom = []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}}
	withVolume := ctr("app")
	withVolume.VolumeMounts = []corev1.VolumeMount{{Name: "creds", MountPath: "/var/run/secrets/db", ReadOnly: true}}

	podCheck(t, policy.EKS180, policy.DefaultSettings(), "secrets-in-env", "4.4.1", []podCase{
		{name: "plain env and ConfigMaps", spec: corev1.PodSpec{Containers: []corev1.Container{plain}}},
		{name: "secret mounted as a volume", spec: corev1.PodSpec{Containers: []corev1.Container{withVolume},
			Volumes: []corev1.Volume{{Name: "creds", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "db"}}}}}},
		{
			name: "secretKeyRef after a plain variable",
			spec: corev1.PodSpec{Containers: []corev1.Container{secretEnv(plain, "DB_PASSWORD", "db")}},
			want: []want{fails("containers[0].env[3].valueFrom.secretKeyRef",
				`container "app" must not read Secret "db" into env "DB_PASSWORD"; mount it as a volume`)},
		},
		{
			name: "envFrom secretRef",
			spec: corev1.PodSpec{Containers: []corev1.Container{secretEnvFrom(plain, "api-keys")}},
			want: []want{fails("containers[0].envFrom[1].secretRef",
				`container "app" must not read Secret "api-keys" through envFrom; mount it as a volume`)},
		},
		{
			name: "init, regular and ephemeral containers, env before envFrom",
			spec: corev1.PodSpec{
				InitContainers:      []corev1.Container{secretEnv(ctr("migrate"), "DB_PASSWORD", "db")},
				Containers:          []corev1.Container{secretEnvFrom(secretEnv(ctr("app"), "TOKEN", "tok"), "api-keys")},
				EphemeralContainers: []corev1.EphemeralContainer{ephemeral(secretEnv(ctr("debugger"), "TOKEN", "tok"))},
			},
			want: []want{
				fails("initContainers[0].env[0].valueFrom.secretKeyRef", `init container "migrate" must not read Secret "db" into env "DB_PASSWORD"; mount it as a volume`),
				fails("containers[0].env[0].valueFrom.secretKeyRef", `container "app" must not read Secret "tok" into env "TOKEN"; mount it as a volume`),
				fails("containers[0].envFrom[0].secretRef", `container "app" must not read Secret "api-keys" through envFrom; mount it as a volume`),
				fails("ephemeralContainers[0].env[0].valueFrom.secretKeyRef", `ephemeral container "debugger" must not read Secret "tok" into env "TOKEN"; mount it as a volume`),
			},
		},
		{
			name: "windows pod still checked",
			spec: windows(corev1.PodSpec{Containers: []corev1.Container{secretEnvFrom(ctr("app"), "api-keys")}}),
			want: []want{fails("containers[0].envFrom[0].secretRef", `container "app" must not read Secret "api-keys" through envFrom; mount it as a volume`)},
		},
	})
}

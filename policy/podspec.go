package policy

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// PodSpec is the pod spec an object carries, with the field path that leads to it.
type PodSpec struct {
	// Path is the path of the spec from the object's root, e.g. "spec.template.spec".
	Path string
	Spec *corev1.PodSpec
	// containerPaths caches each container's path by list (init, regular, ephemeral), built once
	// by ExtractPodSpec rather than by every check that visits the containers.
	containerPaths [3][]string
}

func newPodSpec(path string, spec *corev1.PodSpec) *PodSpec {
	p := &PodSpec{Path: path, Spec: spec}
	lens := [3]int{len(spec.InitContainers), len(spec.Containers), len(spec.EphemeralContainers)}
	all := make([]string, 0, lens[0]+lens[1]+lens[2])
	for k, list := range containerLists {
		start := len(all)
		if lens[k] > 0 {
			prefix := p.Field(list)
			for i := range lens[k] {
				all = append(all, indexed(prefix, i))
			}
		}
		p.containerPaths[k] = all[start:len(all):len(all)]
	}
	return p
}

// containerLists are the pod spec fields of each ContainerKind, in ContainerKind order.
var containerLists = [3]string{"initContainers", "containers", "ephemeralContainers"}

// containerPath is the path of container i of a list, from the cache when it covers it.
func (p *PodSpec) containerPath(kind ContainerKind, i int) string {
	if cached := p.containerPaths[kind-1]; i < len(cached) {
		return cached[i]
	}
	return indexed(p.Field(containerLists[kind-1]), i)
}

// ExtractPodSpec yields the pod spec of every kind that carries one, decoded through the kind's
// Go type, at the path the table of checked kinds gives (CheckedKind.PodSpec; a test holds the
// two together).
func ExtractPodSpec(obj runtime.Object) (*PodSpec, bool) {
	switch o := obj.(type) {
	case *corev1.Pod:
		return newPodSpec("spec", &o.Spec), true
	case *corev1.PodTemplate:
		return newPodSpec("template.spec", &o.Template.Spec), true
	case *corev1.ReplicationController:
		if o.Spec.Template == nil {
			return nil, false
		}
		return newPodSpec("spec.template.spec", &o.Spec.Template.Spec), true
	case *appsv1.Deployment:
		return newPodSpec("spec.template.spec", &o.Spec.Template.Spec), true
	case *appsv1.ReplicaSet:
		return newPodSpec("spec.template.spec", &o.Spec.Template.Spec), true
	case *appsv1.StatefulSet:
		return newPodSpec("spec.template.spec", &o.Spec.Template.Spec), true
	case *appsv1.DaemonSet:
		return newPodSpec("spec.template.spec", &o.Spec.Template.Spec), true
	case *batchv1.Job:
		return newPodSpec("spec.template.spec", &o.Spec.Template.Spec), true
	case *batchv1.CronJob:
		t := &o.Spec.JobTemplate.Spec.Template
		return newPodSpec("spec.jobTemplate.spec.template.spec", &t.Spec), true
	}
	return nil, false
}

// Field is the path of a field of the pod spec, e.g. p.Field("hostPID").
func (p *PodSpec) Field(name string) string { return p.Path + "." + name }

// IsWindows reports a pod that declares spec.os.name=windows: Linux-only fields do not apply.
func (p *PodSpec) IsWindows() bool { return p.Spec.OS != nil && p.Spec.OS.Name == corev1.Windows }

// ContainerKind tells the three lists of containers apart in messages.
type ContainerKind int

const (
	InitContainer ContainerKind = iota + 1
	RegularContainer
	EphemeralContainer
)

// Container is one container of a pod spec, visited by VisitContainers.
type Container struct {
	Kind ContainerKind
	// Path is the container's path from the object's root, e.g. spec.containers[1].
	Path string
	*corev1.Container
}

// Field is the path of a field of the container, e.g. c.Field("securityContext.privileged").
func (c Container) Field(name string) string { return c.Path + "." + name }

// Describe names the container for messages: `container "app"`, `init container "setup"`.
func (c Container) Describe() string {
	switch c.Kind {
	case InitContainer:
		return "init container " + strconv.Quote(c.Name)
	case EphemeralContainer:
		return "ephemeral container " + strconv.Quote(c.Name)
	}
	return "container " + strconv.Quote(c.Name)
}

// VisitContainers calls visit for every init, regular and ephemeral container, in that order.
func VisitContainers(p *PodSpec, visit func(Container)) {
	for i := range p.Spec.InitContainers {
		visit(Container{Kind: InitContainer, Path: p.containerPath(InitContainer, i), Container: &p.Spec.InitContainers[i]})
	}
	for i := range p.Spec.Containers {
		visit(Container{Kind: RegularContainer, Path: p.containerPath(RegularContainer, i), Container: &p.Spec.Containers[i]})
	}
	for i := range p.Spec.EphemeralContainers {
		// EphemeralContainerCommon has exactly Container's fields, so the conversion is exact.
		c := (*corev1.Container)(&p.Spec.EphemeralContainers[i].EphemeralContainerCommon)
		visit(Container{Kind: EphemeralContainer, Path: p.containerPath(EphemeralContainer, i), Container: c})
	}
}

func indexed(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"path"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/nodescan"
	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
)

// Labels and annotations of the scan Jobs and their Pods.
const (
	nodeScanNodeLabel = "cisgate.io/node"
	// nodeScanNodeHashLabel replaces nodeScanNodeLabel for a node name too long for a label
	// value; the nodeScanNodeLabel annotation then names the node.
	nodeScanNodeHashLabel = "cisgate.io/node-hash"
	// nodeScanPodSpecAnnotation is a hash of the Job's Pod spec (image, mounts, arguments): a
	// scan made with other settings (a fixed nodeScan.extraHostPaths, another benchmark or image)
	// does not count as the node's last scan.
	nodeScanPodSpecAnnotation = "cisgate.io/pod-spec-hash"
	nodeScanJobPrefix         = "cisgate-nodescan-"
	nodeScanContainer         = "nodescan"
	// hostRoot is where the node's files are mounted in the scan container.
	hostRoot = "/host"
)

// nodeScanJobLabels select every scan Job; the scheduler watches only those.
var nodeScanJobLabels = map[string]string{
	"app.kubernetes.io/name":      "cisgate",
	"app.kubernetes.io/component": "nodescan",
}

// nodeScanFinalExitCodes are `cisgate nodescan`'s exit codes for a scan that ran and wrote its
// report (a FAIL, or a node it could not read): the Job fails at once instead of scanning again,
// which would only say the same thing.
var nodeScanFinalExitCodes = []int32{nodescan.ExitFindings, nodescan.ExitNotScanned}

// nodeScanResources are small: the scan reads a few files and writes one Event and one key.
var nodeScanResources = corev1.ResourceRequirements{
	Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("20m"), corev1.ResourceMemory: resource.MustParse("32Mi")},
	Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")},
}

// hostMount is a node path mounted read-only at the same path under hostRoot.
type hostMount struct {
	volume   string
	nodePath string
	pathType corev1.HostPathType
}

// The node paths the scanner reads. /proc is not among them: with hostPID the container's own
// /proc lists the node's processes (--proc-root /proc).
var (
	kubernetesConfigMount = hostMount{volume: "etc-kubernetes", nodePath: "/etc/kubernetes", pathType: corev1.HostPathDirectory}
	systemdEtcMount       = hostMount{volume: "etc-systemd-system", nodePath: "/etc/systemd/system", pathType: corev1.HostPathDirectory}
	systemdLibMount       = hostMount{volume: "usr-lib-systemd-system", nodePath: "/usr/lib/systemd/system", pathType: corev1.HostPathDirectory}
	// Only the kubeconfig of /var/lib/kubelet: the rest holds every Pod's volumes, Secrets
	// included, which a scanner has no business seeing.
	kubeletKubeconfigMount = hostMount{volume: "var-lib-kubelet-kubeconfig", nodePath: "/var/lib/kubelet/kubeconfig", pathType: corev1.HostPathFile}
)

// OS image prefixes (status.nodeInfo.osImage) whose layouts differ.
const (
	amazonLinuxImage  = "Amazon Linux"
	bottlerocketImage = "Bottlerocket"
)

// awsProviderIDPrefix starts spec.providerID of every EC2 node (aws:///<zone>/<instance-id>).
const awsProviderIDPrefix = "aws://"

// hostMounts are the mounts for a node's OS. A hostPath that does not exist fails the Pod (typed
// mounts) or is created on the node (untyped ones), so a path is mounted only where the node has
// it. The kubelet's files live in /etc/kubernetes on every supported image (config file, drop-ins,
// client CA; Bottlerocket's kubeconfig too); the kubeconfig is /var/lib/kubelet/kubeconfig on
// every EKS image that is not Bottlerocket (Amazon Linux 2 and 2023, Ubuntu EKS: the EKS bootstrap
// writes it there), and kubeadm keeps it in /etc/kubernetes. Bottlerocket's units are on a
// read-only image the scanner does not need, as hostPID shows the kubelet's command line. Anything
// else is the cluster operator's to add (NodeScanOptions.ExtraHostPaths); a scan that cannot reach
// the kubelet's files says so (nodescan.NotScanned), never PASS.
func hostMounts(node *corev1.Node) []hostMount {
	osImage := node.Status.NodeInfo.OSImage
	switch {
	case strings.HasPrefix(osImage, bottlerocketImage):
		return []hostMount{kubernetesConfigMount}
	case strings.HasPrefix(osImage, amazonLinuxImage), strings.HasPrefix(node.Spec.ProviderID, awsProviderIDPrefix):
		return []hostMount{kubernetesConfigMount, systemdEtcMount, systemdLibMount, kubeletKubeconfigMount}
	default:
		return []hostMount{kubernetesConfigMount, systemdEtcMount, systemdLibMount}
	}
}

// nodeScanJobName is cisgate-nodescan-<node>, a DNS label (the Job's Pods carry it in a label and
// their hostname). A node name with dots or too long for that gets them replaced and is cut,
// with a hash of the whole name so that distinct nodes keep distinct Jobs.
func nodeScanJobName(nodeName string) string {
	if name := nodeScanJobPrefix + nodeName; len(validation.IsDNS1123Label(name)) == 0 {
		return name
	}
	hash := nameHash(nodeName)
	stem := strings.ReplaceAll(nodeName, ".", "-")
	if room := validation.DNS1123LabelMaxLength - len(nodeScanJobPrefix) - len(hash) - 1; len(stem) > room {
		stem = stem[:room]
	}
	return nodeScanJobPrefix + strings.TrimRight(stem, "-") + "-" + hash
}

// nodeScanNodeSelector is the label that ties a Job to its node: the node name, or its hash when
// the name is no valid label value.
func nodeScanNodeSelector(nodeName string) (key, value string) {
	if len(validation.IsValidLabelValue(nodeName)) == 0 {
		return nodeScanNodeLabel, nodeName
	}
	return nodeScanNodeHashLabel, nameHash(nodeName)
}

func nameHash(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:6])
}

// jobsByNodeIndex indexes the scan Jobs by their node label (see nodeIndexKey).
const jobsByNodeIndex = "node"

// nodeIndexKey is the index key of a node's Jobs: the label key and value that select them.
func nodeIndexKey(nodeName string) string {
	key, value := nodeScanNodeSelector(nodeName)
	return key + "=" + value
}

func jobNodeLabelIndex(obj any) ([]string, error) {
	job, ok := obj.(*batchv1.Job)
	if !ok {
		return nil, nil
	}
	for _, key := range []string{nodeScanNodeLabel, nodeScanNodeHashLabel} {
		if value, ok := job.Labels[key]; ok {
			return []string{key + "=" + value}, nil
		}
	}
	return nil, nil
}

// renderNodeScanJob is the scan Job of a node: `cisgate nodescan --report` pinned to the node,
// reading the node's files through read-only hostPath mounts and its processes through hostPID.
// owner, when set, is the Job's owner: deleting it (uninstalling the chart) deletes the Job and its
// Pod.
func renderNodeScanJob(node *corev1.Node, namespace string, opts NodeScanOptions, benchmark policy.Benchmark, owner *metav1.OwnerReference) *batchv1.Job {
	labels := maps.Clone(nodeScanJobLabels)
	key, value := nodeScanNodeSelector(node.Name)
	labels[key] = value
	var annotations map[string]string
	if key == nodeScanNodeHashLabel {
		annotations = map[string]string{nodeScanNodeLabel: node.Name}
	}

	var volumes []corev1.Volume
	var mounts []corev1.VolumeMount
	for _, m := range append(hostMounts(node), opts.extraMounts()...) {
		volumes = append(volumes, corev1.Volume{
			Name:         m.volume,
			VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: m.nodePath, Type: ptr.To(m.pathType)}},
		})
		mounts = append(mounts, corev1.VolumeMount{Name: m.volume, MountPath: path.Join(hostRoot, m.nodePath), ReadOnly: true})
	}

	var owners []metav1.OwnerReference
	if owner != nil {
		owners = []metav1.OwnerReference{*owner}
	}
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			OwnerReferences: owners,
			Name:            nodeScanJobName(node.Name),
			Namespace:       namespace,
			Labels:          labels,
			Annotations:     maps.Clone(annotations),
		},
		Spec: batchv1.JobSpec{
			// One retry for a Pod that failed to scan (exit 2, OOM, eviction); none for a scan
			// that reported (see nodeScanFinalExitCodes).
			BackoffLimit: ptr.To[int32](1),
			PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
				Action: batchv1.PodFailurePolicyActionFailJob,
				OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
					ContainerName: ptr.To(nodeScanContainer),
					Operator:      batchv1.PodFailurePolicyOnExitCodesOpIn,
					Values:        nodeScanFinalExitCodes,
				},
			}}},
			ActiveDeadlineSeconds:   ptr.To(int64(opts.jobActiveDeadline().Seconds())),
			TTLSecondsAfterFinished: ptr.To(int32(opts.TTL.Seconds())),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations},
				Spec: corev1.PodSpec{
					NodeName: node.Name,
					// The kubelet's command line is /proc/<pid>/cmdline of the node's PID namespace.
					HostPID:       true,
					RestartPolicy: corev1.RestartPolicyNever,
					// Scan every node, tainted or not: a taint says nothing about its kubelet.
					Tolerations:        []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
					ServiceAccountName: opts.ServiceAccount,
					// --report writes the Event and the report key with the Pod's token.
					AutomountServiceAccountToken: ptr.To(true),
					EnableServiceLinks:           ptr.To(false),
					PriorityClassName:            opts.PriorityClassName,
					// uid 0: the kubelet's config files are root's and may be 0600, which 3.1.3
					// passes, so a non-root scan could not read a hardened node's config and would
					// WARN where it should PASS. With every capability dropped uid 0 overrides no
					// file mode (no CAP_DAC_OVERRIDE or CAP_DAC_READ_SEARCH) and inspects no process
					// beyond its world-readable cmdline (no CAP_SYS_PTRACE); the mounts are
					// read-only and the root filesystem too.
					SecurityContext: &corev1.PodSecurityContext{
						RunAsUser:      ptr.To[int64](0),
						RunAsGroup:     ptr.To[int64](0),
						RunAsNonRoot:   ptr.To(false),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Containers: []corev1.Container{{
						Name:    nodeScanContainer,
						Image:   opts.Image,
						Command: []string{"cisgate"},
						Args: []string{"nodescan",
							"--host-root", hostRoot,
							"--proc-root", "/proc",
							"--node-name", node.Name,
							"--benchmark", string(benchmark),
							"--report",
							"--namespace", namespace,
							"--output", string(output.FormatJSON),
						},
						Resources:    nodeScanResources,
						VolumeMounts: mounts,
						SecurityContext: &corev1.SecurityContext{
							Privileged:               ptr.To(false),
							AllowPrivilegeEscalation: ptr.To(false),
							ReadOnlyRootFilesystem:   ptr.To(true),
							Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
						},
						TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
					}},
					Volumes: volumes,
				},
			},
		},
	}
	if opts.OpenReports {
		c := &job.Spec.Template.Spec.Containers[0]
		c.Args = append(c.Args, "--openreports")
	}
	if len(opts.SecurityHubArgs) > 0 {
		c := &job.Spec.Template.Spec.Containers[0]
		c.Args = append(c.Args, opts.SecurityHubArgs...)
	}
	if job.Annotations == nil {
		job.Annotations = map[string]string{}
	}
	job.Annotations[nodeScanPodSpecAnnotation] = podSpecHash(&job.Spec.Template.Spec)
	return job
}

// podSpecHash is a short hash of a Pod spec's JSON (encoding/json sorts map keys, so equal specs
// hash equally).
func podSpecHash(spec *corev1.PodSpec) string {
	data, err := json.Marshal(spec)
	if err != nil {
		return "" // a PodSpec always marshals; an empty hash only makes the next scan due
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

package policy

// apiFields classifies every field of the pod API a workload can set to gain privilege: each
// field of k8s.io/api core/v1 PodSpec, Container (and EphemeralContainer, whose common part has
// Container's fields), Volume and VolumeSource, SecurityContext and PodSecurityContext, and of
// the structs below them that carry a privilege (Capabilities, SELinuxOptions, SeccompProfile,
// AppArmorProfile, WindowsSecurityContextOptions, ImageVolumeSource). A row says which checks
// judge the field, or why it is harmless, or why it is risky yet no item of the benchmark decides
// it (what Pod Security Admission's baseline or restricted profile is for). TestAPIFields walks
// those types by reflection: a k8s.io/api bump that adds a field fails it until the field has a
// row here, and a row whose field is gone fails it too.
var apiFields = map[string]fieldClass{
	// PodSpec.
	"PodSpec.Volumes":                       judged("approved-registries"),
	"PodSpec.InitContainers":                judged(containerChecks...),
	"PodSpec.Containers":                    judged(containerChecks...),
	"PodSpec.EphemeralContainers":           judged(containerChecks...),
	"PodSpec.RestartPolicy":                 harmless("lifecycle only"),
	"PodSpec.TerminationGracePeriodSeconds": harmless("timing only"),
	"PodSpec.ActiveDeadlineSeconds":         harmless("timing only"),
	"PodSpec.DNSPolicy":                     harmless("which resolver the pod asks; no access beyond the pod's network"),
	"PodSpec.NodeSelector":                  harmless(scheduling),
	"PodSpec.ServiceAccountName":            judged("default-service-account", "sa-token-automount"),
	"PodSpec.DeprecatedServiceAccount":      judged("default-service-account", "sa-token-automount"),
	"PodSpec.AutomountServiceAccountToken":  judged("sa-token-automount"),
	"PodSpec.NodeName":                      harmless("places the pod on a node it could be scheduled to; no host access by itself"),
	"PodSpec.HostNetwork":                   judged("host-network"),
	"PodSpec.HostPID":                       judged("host-pid"),
	"PodSpec.HostIPC":                       judged("host-ipc"),
	"PodSpec.ShareProcessNamespace":         harmless("shares processes among the pod's own containers, each judged"),
	"PodSpec.SecurityContext":               judged("root-containers", "security-context"),
	"PodSpec.ImagePullSecrets":              harmless("credentials to pull; where images come from is judged on the image"),
	"PodSpec.Hostname":                      harmless("the pod's own hostname"),
	"PodSpec.Subdomain":                     harmless("the pod's own DNS name"),
	"PodSpec.Affinity":                      harmless(scheduling),
	"PodSpec.SchedulerName":                 harmless(scheduling),
	"PodSpec.Tolerations":                   harmless(scheduling),
	"PodSpec.HostAliases":                   harmless("entries in the pod's own /etc/hosts"),
	"PodSpec.PriorityClassName":             harmless(scheduling),
	"PodSpec.Priority":                      harmless(scheduling),
	"PodSpec.DNSConfig":                     harmless("the pod's own resolver configuration"),
	"PodSpec.ReadinessGates":                harmless("readiness only"),
	"PodSpec.RuntimeClassName":              harmless("chooses among RuntimeClasses the cluster's administrators created"),
	"PodSpec.EnableServiceLinks":            harmless("environment variables naming Services"),
	"PodSpec.PreemptionPolicy":              harmless(scheduling),
	"PodSpec.Overhead":                      harmless(resources),
	"PodSpec.TopologySpreadConstraints":     harmless(scheduling),
	"PodSpec.SetHostnameAsFQDN":             harmless("the pod's own hostname"),
	"PodSpec.OS":                            judged(linuxOnlyChecks...),
	"PodSpec.HostUsers":                     harmless("true is the default; false only narrows (a user namespace)"),
	"PodSpec.SchedulingGates":               harmless(scheduling),
	"PodSpec.ResourceClaims":                outside("devices through dynamic resource allocation, granted by the cluster's DeviceClasses"),
	"PodSpec.Resources":                     harmless(resources),
	"PodSpec.HostnameOverride":              harmless("the pod's own hostname"),
	"PodSpec.SchedulingGroup":               harmless(scheduling),
	"PodSpec.EvictionResponders":            harmless("eviction handling only"),

	// Container; EphemeralContainerCommon has the same fields and the same rows.
	"Container.Name":                     harmless("names the container in messages"),
	"Container.Image":                    judged("approved-registries"),
	"Container.Command":                  harmless(insideContainer),
	"Container.Args":                     harmless(insideContainer),
	"Container.WorkingDir":               harmless(insideContainer),
	"Container.Ports":                    outside("hostPort opens a port on the node (Pod Security baseline limits it)"),
	"Container.EnvFrom":                  judged("secrets-in-env"),
	"Container.Env":                      judged("secrets-in-env"),
	"Container.Resources":                harmless(resources),
	"Container.ResizePolicy":             harmless(resources),
	"Container.RestartPolicy":            harmless("lifecycle only"),
	"Container.RestartPolicyRules":       harmless("lifecycle only"),
	"Container.VolumeMounts":             harmless("mounts the pod's own volumes, each classified under VolumeSource; Bidirectional propagation needs privileged, which is judged"),
	"Container.VolumeDevices":            harmless("block devices of the pod's own claims"),
	"Container.LivenessProbe":            outside(probeHost),
	"Container.ReadinessProbe":           outside(probeHost),
	"Container.StartupProbe":             outside(probeHost),
	"Container.Lifecycle":                outside(probeHost),
	"Container.TerminationMessagePath":   harmless(insideContainer),
	"Container.TerminationMessagePolicy": harmless("where the kubelet reads the termination message"),
	"Container.ImagePullPolicy":          harmless("when to pull; where from is judged on the image"),
	"Container.SecurityContext":          judged("privileged", "privilege-escalation", "root-containers", "added-capabilities", "capabilities-not-dropped", "net-raw", "security-context"),
	"Container.Stdin":                    harmless("attach only"),
	"Container.StdinOnce":                harmless("attach only"),
	"Container.TTY":                      harmless("attach only"),

	"EphemeralContainer.EphemeralContainerCommon": judged(containerChecks...),
	"EphemeralContainer.TargetContainerName":      harmless("shares the target container's processes; both containers are judged"),

	"Volume.Name":         harmless("names the volume for mounts"),
	"Volume.VolumeSource": judged("approved-registries"),

	// VolumeSource: one field per volume type.
	"VolumeSource.HostPath":              outside("mounts a path of the node (Pod Security baseline forbids it)"),
	"VolumeSource.EmptyDir":              harmless("scratch space of the pod"),
	"VolumeSource.GCEPersistentDisk":     outside(inlineStorage),
	"VolumeSource.AWSElasticBlockStore":  outside(inlineStorage),
	"VolumeSource.GitRepo":               outside("the kubelet runs git on the node to fill it (deprecated; Pod Security restricted forbids it)"),
	"VolumeSource.Secret":                harmless("a Secret as files, which 4.4.1 prefers; reading the Secret is authorized by RBAC"),
	"VolumeSource.NFS":                   outside(inlineStorage),
	"VolumeSource.ISCSI":                 outside(inlineStorage),
	"VolumeSource.Glusterfs":             outside(inlineStorage),
	"VolumeSource.PersistentVolumeClaim": harmless("a claim in the pod's namespace, authorized on its own"),
	"VolumeSource.RBD":                   outside(inlineStorage),
	"VolumeSource.FlexVolume":            outside("runs a driver binary on the node"),
	"VolumeSource.Cinder":                outside(inlineStorage),
	"VolumeSource.CephFS":                outside(inlineStorage),
	"VolumeSource.Flocker":               outside(inlineStorage),
	"VolumeSource.DownwardAPI":           harmless("the pod's own metadata as files"),
	"VolumeSource.FC":                    outside(inlineStorage),
	"VolumeSource.AzureFile":             outside(inlineStorage),
	"VolumeSource.ConfigMap":             harmless("a ConfigMap of the pod's namespace as files"),
	"VolumeSource.VsphereVolume":         outside(inlineStorage),
	"VolumeSource.Quobyte":               outside(inlineStorage),
	"VolumeSource.AzureDisk":             outside(inlineStorage),
	"VolumeSource.PhotonPersistentDisk":  outside(inlineStorage),
	"VolumeSource.Projected":             harmless("Secrets, ConfigMaps, the pod's metadata, its own ServiceAccount token and trust bundles as files"),
	"VolumeSource.PortworxVolume":        outside(inlineStorage),
	"VolumeSource.ScaleIO":               outside(inlineStorage),
	"VolumeSource.StorageOS":             outside(inlineStorage),
	"VolumeSource.CSI":                   outside("an inline volume whose driver decides what it mounts"),
	"VolumeSource.Ephemeral":             harmless("a claim template: the claim is created and authorized like any other"),
	"VolumeSource.Image":                 judged("approved-registries"),

	"ImageVolumeSource.Reference":  judged("approved-registries"),
	"ImageVolumeSource.PullPolicy": harmless("when to pull; where from is judged on the reference"),

	// SecurityContext (a container's).
	"SecurityContext.Capabilities":             judged("added-capabilities", "capabilities-not-dropped", "net-raw", "privilege-escalation"),
	"SecurityContext.Privileged":               judged("privileged", "privilege-escalation"),
	"SecurityContext.SELinuxOptions":           outside(selinux),
	"SecurityContext.WindowsOptions":           outside(windows),
	"SecurityContext.RunAsUser":                judged("root-containers"),
	"SecurityContext.RunAsGroup":               harmless(group),
	"SecurityContext.RunAsNonRoot":             judged("root-containers"),
	"SecurityContext.ReadOnlyRootFilesystem":   harmless("only narrows"),
	"SecurityContext.AllowPrivilegeEscalation": judged("privilege-escalation"),
	"SecurityContext.ProcMount":                outside("Unmasked exposes the host's /proc paths (Pod Security baseline forbids it)"),
	"SecurityContext.SeccompProfile":           judged("security-context"),
	"SecurityContext.AppArmorProfile":          outside(apparmor),

	// PodSecurityContext.
	"PodSecurityContext.SELinuxOptions":           outside(selinux),
	"PodSecurityContext.WindowsOptions":           outside(windows),
	"PodSecurityContext.RunAsUser":                judged("root-containers"),
	"PodSecurityContext.RunAsGroup":               harmless(group),
	"PodSecurityContext.RunAsNonRoot":             judged("root-containers"),
	"PodSecurityContext.SupplementalGroups":       harmless(group),
	"PodSecurityContext.SupplementalGroupsPolicy": harmless(group),
	"PodSecurityContext.FSGroup":                  harmless("group ownership of the pod's own volumes"),
	"PodSecurityContext.Sysctls":                  outside("unsafe sysctls reach the node's kernel where the kubelet allows them (Pod Security baseline limits them)"),
	"PodSecurityContext.FSGroupChangePolicy":      harmless("when volume ownership changes"),
	"PodSecurityContext.SeccompProfile":           judged("security-context"),
	"PodSecurityContext.AppArmorProfile":          outside(apparmor),
	"PodSecurityContext.SELinuxChangePolicy":      harmless("how volumes are relabelled"),

	"Capabilities.Add":  judged("added-capabilities", "net-raw", "privilege-escalation"),
	"Capabilities.Drop": judged("capabilities-not-dropped", "net-raw"),

	"SELinuxOptions.User":  outside(selinux),
	"SELinuxOptions.Role":  outside(selinux),
	"SELinuxOptions.Type":  outside(selinux),
	"SELinuxOptions.Level": outside(selinux),

	"SeccompProfile.Type":             judged("security-context"),
	"SeccompProfile.LocalhostProfile": harmless("a profile file the node's administrators installed"),

	"AppArmorProfile.Type":             outside(apparmor),
	"AppArmorProfile.LocalhostProfile": outside(apparmor),

	"WindowsSecurityContextOptions.GMSACredentialSpecName": outside(windows),
	"WindowsSecurityContextOptions.GMSACredentialSpec":     outside(windows),
	"WindowsSecurityContextOptions.RunAsUserName":          outside(windows),
	"WindowsSecurityContextOptions.HostProcess":            outside(windows),
}

// fieldClass is one row of apiFields: exactly one of its fields is set.
type fieldClass struct {
	// checks judge the field.
	checks []Slug
	// harmless says why no check needs to.
	harmless string
	// outside says why the field is risky though no item of the benchmark decides it.
	outside string
}

func judged(checks ...Slug) fieldClass { return fieldClass{checks: checks} }
func harmless(why string) fieldClass   { return fieldClass{harmless: why} }
func outside(why string) fieldClass    { return fieldClass{outside: why} }

// containerChecks visit every container, init and ephemeral ones included (containerCheck).
var containerChecks = []Slug{"privileged", "privilege-escalation", "root-containers", "added-capabilities",
	"capabilities-not-dropped", "net-raw", "security-context", "secrets-in-env", "approved-registries"}

// linuxOnlyChecks skip a pod whose spec.os.name is windows (linuxPodOnly).
var linuxOnlyChecks = []Slug{"privilege-escalation", "root-containers", "added-capabilities",
	"capabilities-not-dropped", "net-raw", "security-context"}

// Reasons shared by several rows.
const (
	scheduling      = "scheduling only"
	resources       = "resource accounting only"
	insideContainer = "acts inside the container's own bounds"
	group           = "a group id grants what files grant that group; the user is judged (root-containers)"
	probeHost       = "the kubelet may probe or call another host than the pod (httpGet.host, tcpSocket.host), from the node"
	inlineStorage   = "reaches storage inline, without a PersistentVolumeClaim (Pod Security restricted forbids it)"
	selinux         = "an SELinux type such as spc_t lifts confinement (Pod Security baseline limits it)"
	apparmor        = "Unconfined lifts AppArmor confinement (Pod Security baseline forbids it)"
	windows         = "a Windows identity or HostProcess, a node-level privilege on Windows (Pod Security baseline forbids HostProcess)"
)

{{/*
Every object is named after the release (fullnameOverride replaces it): the config ConfigMap is
<release>-config, the webhook's objects <release>, the node scan's <release>-nodescan.
*/}}
{{- define "cisgate.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{- define "cisgate.nodescanName" -}}
{{- include "cisgate.fullname" . }}-nodescan
{{- end -}}

{{/* The node-scan Jobs' names, fixed in cisgate's code (controller: nodeScanJobPrefix). */}}
{{- define "cisgate.nodescanJobPrefix" -}}cisgate-nodescan-{{- end -}}

{{- define "cisgate.configMapName" -}}
{{- include "cisgate.fullname" . }}-config
{{- end -}}

{{- define "cisgate.tlsSecretName" -}}
{{- include "cisgate.fullname" . }}-tls
{{- end -}}

{{/* The report ConfigMap and the leader election Lease: fixed names in cisgate's code. */}}
{{- define "cisgate.reportConfigMap" -}}cisgate-report{{- end -}}
{{- define "cisgate.leaderElectionID" -}}cisgate-leader{{- end -}}

{{- define "cisgate.labels" -}}
app.kubernetes.io/name: cisgate
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "cisgate.selectorLabels" -}}
app.kubernetes.io/name: cisgate
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: webhook
{{- end -}}

{{- define "cisgate.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "cisgate.nodescanImage" -}}
{{- printf "%s:%s" (default .Values.image.repository .Values.nodeScan.image.repository) (default (default .Chart.AppVersion .Values.image.tag) .Values.nodeScan.image.tag) -}}
{{- end -}}

{{/*
The node-scan settings as `cisgate serve` flags (controller.NodeScanOptions.AddFlags), one list
item a line; nothing when the node scan is off.
*/}}
{{- define "cisgate.nodescanArgs" -}}
{{- if .Values.nodeScan.enabled -}}
- --nodescan-enabled=true
- --nodescan-image={{ include "cisgate.nodescanImage" . }}
- --nodescan-interval={{ .Values.nodeScan.interval }}
- --nodescan-parallelism={{ .Values.nodeScan.parallelism }}
- --nodescan-job-qps={{ .Values.nodeScan.jobQPS }}
- --nodescan-ttl={{ .Values.nodeScan.ttl }}
- --nodescan-active-deadline={{ .Values.nodeScan.activeDeadline }}
- --nodescan-service-account={{ include "cisgate.nodescanName" . }}
{{- with .Values.nodeScan.priorityClassName }}
- --nodescan-priority-class={{ . }}
{{- end }}
{{- range .Values.nodeScan.extraHostPaths }}
{{- if kindIs "string" . }}
- --nodescan-extra-host-path=path={{ . }}
{{- else }}
- --nodescan-extra-host-path=path={{ .path }}{{ with .type }},type={{ . }}{{ end }}{{ with .name }},name={{ . }}{{ end }}
{{- end }}
{{- end }}
{{- end -}}
{{- end -}}

{{/* serve's --securityhub flags (serve passes them on to the node scan Jobs). */}}
{{- define "cisgate.securityHubArgs" -}}
{{- with .Values.securityHub -}}
{{- if .enabled -}}
- --securityhub
- --securityhub-cluster={{ required "securityHub.clusterName (or cloud.clusterName) is required with securityHub.enabled" (.clusterName | default $.Values.cloud.clusterName) }}
{{- with (.region | default $.Values.cloud.region) }}
- --securityhub-region={{ . }}
{{- end }}
- --securityhub-qps={{ .qps }}
- --securityhub-burst={{ .burst }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Ignore in audit mode, Fail in enforce mode, unless webhook.failurePolicy says. */}}
{{- define "cisgate.failurePolicy" -}}
{{- if .Values.webhook.failurePolicy -}}
{{- .Values.webhook.failurePolicy -}}
{{- else if eq .Values.mode "enforce" -}}
Fail
{{- else -}}
Ignore
{{- end -}}
{{- end -}}

{{/*
The config's exempt namespaces, as JSON: the values' entries (a name, or {name, expires, reason,
owner}) and the release namespace, unless an entry names it; with exemptions.requireReason the
release namespace carries the chart's reason.
*/}}
{{- define "cisgate.exemptNamespaces" -}}
{{- $named := false -}}
{{- range .Values.exemptions.namespaces -}}
{{- if or (eq (toString .) $.Release.Namespace) (and (kindIs "map" .) (eq (toString .name) $.Release.Namespace)) }}{{ $named = true }}{{ end -}}
{{- end -}}
{{- $own := .Release.Namespace -}}
{{- if .Values.exemptions.requireReason }}{{ $own = dict "name" .Release.Namespace "reason" "cisgate's own namespace (chart): its webhook and node scan Jobs" }}{{ end -}}
{{- if $named }}{{ .Values.exemptions.namespaces | uniq | toJson }}{{ else }}{{ concat .Values.exemptions.namespaces (list $own) | uniq | toJson }}{{ end -}}
{{- end -}}

{{/*
The namespaces the webhook is never called for, as JSON: kube-system and the release namespace
always (a webhook that fails closed must not block the pods that run it or the cluster's own),
and every exempt namespace without an expiry (exempt there anyway). A namespace exempt until a
date stays under the webhook, which decides it again from that date on.
*/}}
{{- define "cisgate.excludedNamespaces" -}}
{{- $names := list "kube-system" -}}
{{- range include "cisgate.exemptNamespaces" . | fromJsonArray -}}
{{- if not (kindIs "map" .) }}{{ $names = append $names . }}{{ else if not .expires }}{{ $names = append $names .name }}{{ end -}}
{{- end -}}
{{- append $names .Release.Namespace | uniq | toJson -}}
{{- end -}}

{{/*
The chart's own exemption rules: what cisgate's own workloads need and why. Checks are named by
slug, which is the same in every benchmark version (the IDs are not). The first matching rule
gives the reason, so the node scan's rule comes before the webhook's broader name globs.
*/}}
{{- define "cisgate.chartExemptionRules" -}}
{{- $ns := .Release.Namespace -}}
{{- $name := include "cisgate.fullname" . -}}
{{- if .Values.nodeScan.enabled }}
- checks: [host-pid, sa-token-automount{{ if has .Values.benchmark (list "eks-1.0.1" "eks-1.1.0" "eks-1.2.0") }}, root-containers{{ end }}]
  namespace: {{ $ns }}
  name: {{ include "cisgate.nodescanJobPrefix" . }}*
  reason: >-
    cisgate node scan (chart): the scan Job and its Pod share the host PID namespace to read
    the kubelet's command line, run as uid 0 with every capability dropped to read root's 0600
    kubelet files through read-only hostPath mounts, and use the API to write the CISNodeScan
    Event and the report
{{- end }}
- checks: [sa-token-automount]
  namespace: {{ $ns }}
  kind: Deployment
  name: {{ $name }}
  reason: &webhookToken >-
    cisgate webhook (chart): it reads Namespaces, NetworkPolicies and ServiceAccounts, lists the
    audited objects and writes Events, the report ConfigMap and its leader Lease through the API
- checks: [sa-token-automount]
  namespace: {{ $ns }}
  kind: ReplicaSet
  name: {{ $name }}-*
  reason: *webhookToken
- checks: [sa-token-automount]
  namespace: {{ $ns }}
  kind: Pod
  name: {{ $name }}-*
  reason: *webhookToken
{{- end -}}

{{/*
With exemptions.requireReason, an entry without a reason fails the install here, naming it, rather
than the pods at start (cisgate refuses that config).
*/}}
{{- define "cisgate.requireReasons" -}}
{{- range $key := list "namespaces" "groups" "usernames" -}}
{{- range $i, $e := index $.Values.exemptions $key -}}
{{- $name := $e -}}
{{- if kindIs "map" $e }}{{ $name = $e.name }}{{ if $e.reason }}{{ continue }}{{ end }}{{ end -}}
{{- fail (printf "exemptions.%s[%d] (%q): exemptions.requireReason is set: write it as {name, reason}" $key $i (toString $name)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* config.yaml: the values' config and the chart's own exemption rules. */}}
{{- define "cisgate.config" -}}
{{- $rules := concat .Values.exemptions.rules (include "cisgate.chartExemptionRules" . | fromYamlArray) -}}
{{- $exemptions := dict "namespaces" (include "cisgate.exemptNamespaces" . | fromJsonArray) "groups" .Values.exemptions.groups "usernames" .Values.exemptions.usernames "rules" $rules -}}
{{- if .Values.exemptions.requireReason }}{{ $_ := set $exemptions "requireReason" true }}{{ include "cisgate.requireReasons" . }}{{ end -}}
{{- with .Values.exemptions.expiryWarning }}{{ $_ := set $exemptions "expiryWarning" . }}{{ end -}}
{{- $cfg := dict "benchmark" .Values.benchmark "mode" .Values.mode "exemptions" $exemptions "rbac" (dict "clusterAdminSubjects" .Values.rbac.clusterAdminSubjects) -}}
{{- if .Values.checks }}{{ $_ := set $cfg "checks" .Values.checks }}{{ end -}}
{{- if .Values.registries }}{{ $_ := set $cfg "registries" .Values.registries }}{{ end -}}
{{- with .Values.namespaceModeEditors }}{{ if or .users .groups }}{{ $_ := set $cfg "namespaceModeEditors" . }}{{ end }}{{ end -}}
{{- toYaml $cfg -}}
{{- end -}}

#!/usr/bin/env bash
# Time and peak memory of `cisgate check` on 10,000 objects, in one file and in 1,000 files of 10,
# for two builds: the hand-written reader (main at 3a3ff9c) and the current tree (cli-runtime's
# resource builder). Usage, from the repository root:
#
#   test/bench/check-reader.sh [OLD_REF] [RUNS]      # defaults: 3a3ff9c, 3
#
# It builds both binaries (`make build`'s flags) from `git archive` of OLD_REF and from the
# tracked files of the working tree into a temporary directory, writes the inputs there, and
# runs each case RUNS times under /usr/bin/time -v, printing wall-clock time and maximum resident
# set size per run. Exit code 1 from check is expected (the inputs hold FAILs); any other code is
# an error. OLD_BIN and NEW_BIN use binaries already built; FILES (1000) and PER_FILE (10) size
# the inputs (FILES*PER_FILE objects in one file, and in FILES files).
set -euo pipefail

old_ref=${1:-3a3ff9c}
runs=${2:-3}
files=${FILES:-1000}
per_file=${PER_FILE:-10}
root=$(git rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

build() { # build NAME REF|worktree
	local src=$work/src-$1
	mkdir -p "$src"
	if [[ $2 == worktree ]]; then
		(cd "$root" && git ls-files -z | xargs -0 tar -cf - | tar -xf - -C "$src")
	else
		(cd "$root" && git archive "$2" | tar -xf - -C "$src")
	fi
	(cd "$src" && CGO_ENABLED=0 go build -trimpath -o "$work/cisgate-$1" ./cmd/cisgate)
}

# object N: five kinds in turn, each as a chart would render it.
object() {
	local n=$1
	case $((n % 5)) in
	0) printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-%d\n  namespace: team-%d\n  labels: {app: web-%d}\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web-%d}\n  template:\n    metadata:\n      labels: {app: web-%d}\n    spec:\n      serviceAccountName: web\n      automountServiceAccountToken: false\n      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n      containers:\n      - name: app\n        image: registry.example.com/team/web:1.%d\n        ports: [{containerPort: 8080}]\n        securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n        resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 256Mi}}\n' "$n" $((n % 50)) "$n" "$n" "$n" "$n" ;;
	1) printf 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web-%d\n  namespace: team-%d\nspec:\n  selector: {app: web-%d}\n  ports: [{port: 80, targetPort: 8080}]\n' "$n" $((n % 50)) "$n" ;;
	2) printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-%d\n  namespace: team-%d\ndata:\n  LOG_LEVEL: info\n  FEATURE_X: "true"\n' "$n" $((n % 50)) ;;
	3) printf 'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: reader-%d\n  namespace: team-%d\nrules:\n- apiGroups: [""]\n  resources: [configmaps]\n  verbs: [get, list, watch]\n' "$n" $((n % 50)) ;;
	4) printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: debug-%d\n  namespace: team-%d\nspec:\n  containers:\n  - name: tools\n    image: busybox:1.36\n    securityContext: {privileged: true}\n' "$n" $((n % 50)) ;;
	esac
}

echo "generating inputs in $work"
one=$work/one.yaml
for ((n = 0; n < files * per_file; n++)); do object "$n"; echo '---'; done >"$one"
mkdir -p "$work/many"
for ((f = 0; f < files; f++)); do
	for ((i = 0; i < per_file; i++)); do object $((f * per_file + i)); echo '---'; done >"$work/many/$(printf 'file-%04d.yaml' "$f")"
done

if [[ -n ${OLD_BIN:-} ]]; then cp "$OLD_BIN" "$work/cisgate-old"; else echo "building $old_ref (old reader)"; build old "$old_ref"; fi
if [[ -n ${NEW_BIN:-} ]]; then cp "$NEW_BIN" "$work/cisgate-new"; else echo "building the working tree (new reader)"; build new worktree; fi

measure() { # measure NAME BINARY ARGS...
	local name=$1 bin=$2
	shift 2
	for ((r = 1; r <= runs; r++)); do
		local code=0
		/usr/bin/time -v "$bin" check -o json "$@" >/dev/null 2>"$work/time" || code=$?
		if [[ $code != 1 ]]; then
			echo "$name: check exited $code, want 1" >&2
			tail -n 30 "$work/time" >&2
			exit 1
		fi
		printf '%-22s run %d  wall %s  max RSS %s KiB\n' "$name" "$r" \
			"$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time")" \
			"$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time")"
	done
}

for build in old new; do
	measure "$build one file" "$work/cisgate-$build" -f "$one"
	measure "$build $files files" "$work/cisgate-$build" -f "$work/many"
done

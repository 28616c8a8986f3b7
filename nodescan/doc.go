// Package nodescan decides section 3 of the CIS Amazon EKS Benchmark (worker node kubelet) on a
// host seen through a root directory: the Job's read-only hostPath mount in a cluster, a fixture
// folder in tests.
//
// A scan finds the kubelet (its process in proc/*/cmdline, else the known OS layouts and the
// systemd unit), resolves its effective configuration the way the kubelet does (flag > --config-dir
// drop-ins > --config file > the kubelet's default for the mode), stats its files, and evaluates
// every section 3 check of the selected benchmark. Every value carries its source. Nothing is PASS
// for lack of evidence: a missing or unreadable file is WARN with the reason.
//
// No shelling out: everything is read from files under the root.
package nodescan

// Package fakecluster is the cluster state that tests and harnesses decide with in place of the
// informer caches: one in-memory implementation of policy.Lookup and clusterstate.State.
package fakecluster

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// State is in-memory cluster state. The zero value is a cluster with no NetworkPolicy, no
// ServiceAccount and no namespace mode label. Fill it before it is used: it is read concurrently
// and never locked.
type State struct {
	// NetworkPolicies counts the NetworkPolicies of each namespace.
	NetworkPolicies map[string]int
	// ServiceAccounts are the ServiceAccounts by "namespace/name" (see Key).
	ServiceAccounts map[string]*corev1.ServiceAccount
	// Modes are the namespaces' cisgate.io/mode labels.
	Modes map[string]string
	// Classes are the cluster's IngressClasses.
	Classes []networkingv1.IngressClass

	// NetworkPolicyErr, ServiceAccountErr, ModeErr and IngressClassErr, when set, are what the
	// lookup of that kind answers, as an unsynced or forbidden cache would.
	NetworkPolicyErr, ServiceAccountErr, ModeErr, IngressClassErr error
}

// Key is the key of State.ServiceAccounts.
func Key(namespace, name string) string { return namespace + "/" + name }

// NetworkPolicyCount implements policy.Lookup.
func (s *State) NetworkPolicyCount(namespace string) (int, error) {
	if s.NetworkPolicyErr != nil {
		return 0, s.NetworkPolicyErr
	}
	return s.NetworkPolicies[namespace], nil
}

// ServiceAccount implements policy.Lookup.
func (s *State) ServiceAccount(namespace, name string) (*corev1.ServiceAccount, bool, error) {
	if s.ServiceAccountErr != nil {
		return nil, false, s.ServiceAccountErr
	}
	sa, ok := s.ServiceAccounts[Key(namespace, name)]
	return sa, ok, nil
}

// IngressClasses implements policy.Lookup.
func (s *State) IngressClasses() ([]networkingv1.IngressClass, error) {
	if s.IngressClassErr != nil {
		return nil, s.IngressClassErr
	}
	return s.Classes, nil
}

// NamespaceMode implements clusterstate.State.
func (s *State) NamespaceMode(namespace string) (string, error) {
	if s.ModeErr != nil {
		return "", s.ModeErr
	}
	return s.Modes[namespace], nil
}

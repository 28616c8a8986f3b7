// Package webhook is cisgate's validating admission webhook: a plain http.Handler (decode once,
// evaluate, decide, respond) around Decide, which holds every admission rule and which tests call
// without HTTP, served by its own HTTPS server (client CA, body budget, linger on shutdown;
// docs/architecture.md says why not controller-runtime's). The cluster state it decides with
// comes from package clusterstate.
package webhook

// Package webhook serves cisgate's validating admission webhook: its own hardened HTTPS server
// (HTTP/1.1 only, timeouts, the API server's client CA reloaded as it rotates, connections that
// linger after a close; docs/architecture.md says why not controller-runtime's), the webhook
// configuration's rules (which the chart's generator writes), and the watch of the config file.
// What a request is decided on lives in package admission.
package webhook

// Package admission decides admission requests: a plain http.Handler (Handler: decode the review
// once within a body budget, decide, respond) around Decide, which holds every admission rule and
// which tests call without HTTP, and the recorder that turns decisions into Events, the replica's
// report key and metrics. The cluster state it decides with comes from package clusterstate.
package admission

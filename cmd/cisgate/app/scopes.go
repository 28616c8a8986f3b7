package app

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/cisgate/cisgate/manifest"
	"github.com/cisgate/cisgate/policy"
)

// CustomResourceDefinitions decode to their Go type wherever cisgate decodes objects through
// client-go's scheme (the manifest reader, the webhook), so `check` can read a bundle's
// definitions' scopes (policy.CustomResourceScopes).
func init() { utilruntime.Must(apiextensionsv1.AddToScheme(scheme.Scheme)) }

// withBundleScopes gives the custom resources among objects the scope their definition among
// the same objects declares, as the API server will once the definition is applied: a
// cluster-scoped one keeps no namespace (and `--namespace` leaves it alone, as kubectl does).
func withBundleScopes(objects []manifest.Object) []manifest.Object {
	all := make([]policy.Object, len(objects))
	for i := range objects {
		all[i] = objects[i].Object
	}
	scopes := policy.CustomResourceScopes(all)
	if len(scopes) == 0 {
		return objects
	}
	for i := range objects {
		objects[i].LearnScope(scopes)
	}
	return objects
}

package policy

import (
	"reflect"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
)

// apiFieldTypes are the types whose every field apiFields classifies.
var apiFieldTypes = []any{
	corev1.PodSpec{}, corev1.Container{}, corev1.EphemeralContainer{}, corev1.EphemeralContainerCommon{},
	corev1.Volume{}, corev1.VolumeSource{}, corev1.ImageVolumeSource{},
	corev1.SecurityContext{}, corev1.PodSecurityContext{},
	corev1.Capabilities{}, corev1.SELinuxOptions{}, corev1.SeccompProfile{}, corev1.AppArmorProfile{}, corev1.WindowsSecurityContextOptions{},
}

// TestAPIFields walks the pinned k8s.io/api types by reflection: every field has a row in
// apiFields (EphemeralContainerCommon's are Container's rows), every row names a field that
// exists, and each row is judged by registered checks, or says why not.
func TestAPIFields(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range apiFieldTypes {
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			f := typ.Field(i)
			key := typ.Name() + "." + f.Name
			if typ.Name() == "EphemeralContainerCommon" {
				// The same fields as Container's, judged by the same checks (VisitContainers).
				if _, ok := reflect.TypeFor[corev1.Container]().FieldByName(f.Name); ok {
					key = "Container." + f.Name
				}
			}
			seen[key] = true
			if _, ok := apiFields[key]; !ok {
				t.Errorf("k8s.io/api field %s (%s) is not classified in policy/api_fields.go: name the checks that judge it, or say why it is harmless or outside the benchmark", key, f.Type)
			}
		}
	}
	registered := DefaultRegistry()
	for key, c := range apiFields {
		assert.True(t, seen[key], "apiFields row %s names no field of the walked types (stale)", key)
		set := 0
		for _, s := range []bool{len(c.checks) > 0, c.harmless != "", c.outside != ""} {
			if s {
				set++
			}
		}
		assert.Equal(t, 1, set, "row %s must be judged, harmless or outside, exactly one", key)
		for _, s := range c.checks {
			_, ok := registered.Check(s)
			assert.True(t, ok, "row %s: %q is no registered check", key, s)
		}
	}
}

// TestContainerChecksTable: the rows of container fields name exactly the checks built with
// containerCheck, and linuxOnlyChecks the ones that skip Windows pods.
func TestContainerChecksTable(t *testing.T) {
	var all, linux []Slug
	for _, c := range builtin {
		if c.container != nil {
			all = append(all, c.Slug)
			if *c.container == linuxPodOnly {
				linux = append(linux, c.Slug)
			}
		}
	}
	slices.Sort(all)
	slices.Sort(linux)
	assert.Equal(t, all, slices.Sorted(slices.Values(containerChecks)))
	assert.Equal(t, linux, slices.Sorted(slices.Values(linuxOnlyChecks)))
}

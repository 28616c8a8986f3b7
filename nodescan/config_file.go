package nodescan

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"
)

// The only config file type the kubelet reads (cmd/kubelet/app: --config and --config-dir).
const (
	kubeletConfigAPIVersion = "kubelet.config.k8s.io/v1beta1"
	kubeletConfigKind       = "KubeletConfiguration"
)

// featureGatesKey is the KubeletConfiguration key of the feature gates, a map merged by gate.
const featureGatesKey = "featureGates"

// kubeletConfigFile is what section 3 reads from one KubeletConfiguration file or drop-in.
type kubeletConfigFile struct {
	// values holds the value of each table setting the file sets; read one with its entry's
	// fileValue. A key the file leaves out is not there, so absent is told from zero, on which
	// the kubelet's defaulting depends.
	values map[anySetting]any
	// nulled are the table settings whose key (or an object above it) the file sets to null.
	// In a drop-in that removes the key from what the layers before it set: the kubelet merges a
	// drop-in as a JSON merge patch (RFC 7386), then applies its defaults to what is left
	// (cmd/kubelet/app/server.go, mergeKubeletConfigurations).
	nulled map[anySetting]bool
	// featureGates are the gates the file sets; a nil value is a gate set to null.
	featureGates map[string]*bool
	// featureGatesNulled is a featureGates key set to null, which removes every gate set before.
	featureGatesNulled bool
}

// configDocument is a KubeletConfiguration's top-level object, its values still JSON.
type configDocument map[string]json.RawMessage

// keyPresence is whether a document sets a key.
type keyPresence int

const (
	keyAbsent keyPresence = iota
	// keyNull: the key, or an object above it, is null.
	keyNull
	keySet
)

// lookup returns the JSON value at a key of the settings table (names joined by dots) and whether
// the document sets it, to a value or to null. Names match case-sensitively, as in the kubelet's
// decoder (k8s.io/apimachinery's JSON serializer).
func (doc configDocument) lookup(key string) (value json.RawMessage, presence keyPresence, err error) {
	object := doc
	names := strings.Split(key, ".")
	for i, name := range names {
		value, ok := object[name]
		switch {
		case !ok:
			return nil, keyAbsent, nil
		case string(value) == "null":
			return nil, keyNull, nil
		case i == len(names)-1:
			return value, keySet, nil
		}
		object = nil
		if json.Unmarshal(value, &object) != nil {
			return nil, keyAbsent, fmt.Errorf("%s: not an object", strings.Join(names[:i+1], "."))
		}
	}
	return nil, keyAbsent, nil
}

// parseKubeletConfigFile decodes a KubeletConfiguration in JSON or YAML as the kubelet's decoder
// does (YAML converted to JSON, then decoded), reading every key of the settings table. Like the
// kubelet, it rejects a document that is not kubelet.config.k8s.io/v1beta1 KubeletConfiguration,
// and a value it cannot decode.
func parseKubeletConfigFile(data []byte) (*kubeletConfigFile, error) {
	jsonData, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	var doc configDocument
	if json.Unmarshal(jsonData, &doc) != nil {
		return nil, errors.New("the document is not an object")
	}
	var typeMeta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := json.Unmarshal(jsonData, &typeMeta); err != nil {
		return nil, err
	}
	if typeMeta.APIVersion == "" || typeMeta.Kind == "" {
		return nil, fmt.Errorf("no apiVersion/kind (want %s %s)", kubeletConfigAPIVersion, kubeletConfigKind)
	}
	if typeMeta.APIVersion != kubeletConfigAPIVersion || typeMeta.Kind != kubeletConfigKind {
		return nil, fmt.Errorf("unsupported apiVersion/kind %s %s (want %s %s)",
			typeMeta.APIVersion, typeMeta.Kind, kubeletConfigAPIVersion, kubeletConfigKind)
	}
	cfg := &kubeletConfigFile{values: map[anySetting]any{}, nulled: map[anySetting]bool{}}
	for _, s := range kubeletSettings {
		value, presence, err := s.decodeFile(doc)
		if err != nil {
			return nil, err
		}
		switch presence {
		case keySet:
			cfg.values[s] = value
		case keyNull:
			cfg.nulled[s] = true
		}
	}
	raw, presence, err := doc.lookup(featureGatesKey)
	if err == nil && presence == keySet {
		err = json.Unmarshal(raw, &cfg.featureGates)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", featureGatesKey, err)
	}
	cfg.featureGatesNulled = presence == keyNull
	return cfg, nil
}

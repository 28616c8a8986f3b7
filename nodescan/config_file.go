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
	// fileValue. A key the file leaves out (or sets to null) is not there, so absent is told
	// from zero, on which the kubelet's defaulting depends.
	values       map[anySetting]any
	featureGates map[string]bool
}

// configDocument is a KubeletConfiguration's top-level object, its values still JSON.
type configDocument map[string]json.RawMessage

// lookup returns the JSON value at a key of the settings table (names joined by dots); ok is
// false when the document does not set it (absent or null). Names match case-sensitively, as in
// the kubelet's decoder (k8s.io/apimachinery's JSON serializer).
func (doc configDocument) lookup(key string) (value json.RawMessage, ok bool, err error) {
	object := doc
	names := strings.Split(key, ".")
	for i, name := range names {
		value, ok = object[name]
		if !ok || string(value) == "null" {
			return nil, false, nil
		}
		if i == len(names)-1 {
			break
		}
		object = nil
		if json.Unmarshal(value, &object) != nil {
			return nil, false, fmt.Errorf("%s: not an object", strings.Join(names[:i+1], "."))
		}
	}
	return value, true, nil
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
	cfg := &kubeletConfigFile{values: map[anySetting]any{}}
	for _, s := range kubeletSettings {
		value, ok, err := s.decodeFile(doc)
		if err != nil {
			return nil, err
		}
		if ok {
			cfg.values[s] = value
		}
	}
	raw, ok, err := doc.lookup(featureGatesKey)
	if err == nil && ok {
		err = json.Unmarshal(raw, &cfg.featureGates)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", featureGatesKey, err)
	}
	return cfg, nil
}

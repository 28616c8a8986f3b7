package nodescan

import (
	"encoding/json"
	"fmt"
	"time"

	"sigs.k8s.io/yaml"
)

// The only config file type the kubelet reads (cmd/kubelet/app: --config and --config-dir).
const (
	kubeletConfigAPIVersion = "kubelet.config.k8s.io/v1beta1"
	kubeletConfigKind       = "KubeletConfiguration"
)

// kubeletConfigFile holds the KubeletConfiguration fields section 3 reads. Pointers tell an
// absent key from a zero value; the kubelet's defaulting depends on that difference.
type kubeletConfigFile struct {
	APIVersion     string `json:"apiVersion"`
	Kind           string `json:"kind"`
	Authentication *struct {
		Anonymous *struct {
			Enabled *bool `json:"enabled"`
		} `json:"anonymous"`
		X509 *struct {
			ClientCAFile *string `json:"clientCAFile"`
		} `json:"x509"`
	} `json:"authentication"`
	Authorization *struct {
		Mode *string `json:"mode"`
	} `json:"authorization"`
	ReadOnlyPort                   *int32          `json:"readOnlyPort"`
	StreamingConnectionIdleTimeout *configDuration `json:"streamingConnectionIdleTimeout"`
	ProtectKernelDefaults          *bool           `json:"protectKernelDefaults"`
	MakeIPTablesUtilChains         *bool           `json:"makeIPTablesUtilChains"`
	EventRecordQPS                 *int32          `json:"eventRecordQPS"`
	RotateCertificates             *bool           `json:"rotateCertificates"`
	ServerTLSBootstrap             *bool           `json:"serverTLSBootstrap"`
	FeatureGates                   map[string]bool `json:"featureGates"`
}

// configDuration is a metav1.Duration in a config file: a Go duration string such as "4h0m0s".
type configDuration time.Duration

func (d *configDuration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"4h0m0s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = configDuration(v)
	return nil
}

// parseKubeletConfigFile decodes a KubeletConfiguration in JSON or YAML. Like the kubelet, it
// rejects a document that is not kubelet.config.k8s.io/v1beta1 KubeletConfiguration.
func parseKubeletConfigFile(data []byte) (*kubeletConfigFile, error) {
	var cfg kubeletConfigFile
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return nil, err
	}
	if cfg.APIVersion == "" || cfg.Kind == "" {
		return nil, fmt.Errorf("no apiVersion/kind (want %s %s)", kubeletConfigAPIVersion, kubeletConfigKind)
	}
	if cfg.APIVersion != kubeletConfigAPIVersion || cfg.Kind != kubeletConfigKind {
		return nil, fmt.Errorf("unsupported apiVersion/kind %s %s (want %s %s)",
			cfg.APIVersion, cfg.Kind, kubeletConfigAPIVersion, kubeletConfigKind)
	}
	return &cfg, nil
}

// Accessors for nested fields: nil when the file does not set them.

func (c *kubeletConfigFile) anonymousEnabled() *bool {
	if c.Authentication == nil || c.Authentication.Anonymous == nil {
		return nil
	}
	return c.Authentication.Anonymous.Enabled
}

func (c *kubeletConfigFile) clientCAFile() *string {
	if c.Authentication == nil || c.Authentication.X509 == nil {
		return nil
	}
	return c.Authentication.X509.ClientCAFile
}

func (c *kubeletConfigFile) authorizationMode() *string {
	if c.Authorization == nil {
		return nil
	}
	return c.Authorization.Mode
}

func (c *kubeletConfigFile) streamingIdleTimeout() *time.Duration {
	if c.StreamingConnectionIdleTimeout == nil {
		return nil
	}
	d := time.Duration(*c.StreamingConnectionIdleTimeout)
	return &d
}

// Package image holds the image `make image` builds (an OCI image layout, build/imagebuild) to
// the Dockerfile that Docker users build: the same files, user, entrypoint, arguments and labels,
// for each platform, tagged with the chart's appVersion; and it runs the image's own binary in
// the image's own root filesystem to show that it trusts the public roots AWS's endpoints chain
// to. It reads the layout as the OCI image spec defines it (github.com/opencontainers/image-spec:
// image-layout.md, image-index.md, manifest.md, config.md, layer.md).
//
// CISGATE_IMAGE names the layout (make test sets it to bin/image after building it); without it
// the tests skip.
package image

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Annotations map[string]string `json:"annotations"`
	Platform    *struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
	} `json:"platform"`
}

type index struct {
	Manifests []descriptor `json:"manifests"`
}

type manifest struct {
	Config descriptor   `json:"config"`
	Layers []descriptor `json:"layers"`
}

type imageConfig struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Config       struct {
		User       string            `json:"User"`
		Entrypoint []string          `json:"Entrypoint"`
		Cmd        []string          `json:"Cmd"`
		Labels     map[string]string `json:"Labels"`
	} `json:"config"`
}

func readBlob(t *testing.T, dir, digest string, v any) {
	t.Helper()
	algo, hex, ok := strings.Cut(digest, ":")
	require.True(t, ok, digest)
	data, err := os.ReadFile(filepath.Join(dir, "blobs", algo, hex))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, v))
}

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case
	args string
}

// stage is one FROM and the instructions up to the next.
type stage struct {
	from, name string
	instrs     []instruction
}

// parseStages reads the Dockerfile's stages (Dockerfile reference: Format, FROM).
func parseStages(t *testing.T, path string) []stage {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	cont := ""
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || line == "" && cont == "" {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cont += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		lines = append(lines, cont+line)
		cont = ""
	}
	require.NoError(t, sc.Err())
	var stages []stage
	for _, line := range lines {
		cmd, args, _ := strings.Cut(line, " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			fields := strings.Fields(in.args)
			var st stage
			for i := 0; i < len(fields); i++ {
				switch {
				case strings.HasPrefix(fields[i], "--"):
				case strings.EqualFold(fields[i], "AS") && i+1 < len(fields):
					st.name = fields[i+1]
					i++
				default:
					st.from = fields[i]
				}
			}
			stages = append(stages, st)
			continue
		}
		if in.cmd == "ARG" && len(stages) == 0 {
			continue // a global ARG, before the first FROM
		}
		require.NotEmpty(t, stages, "%s: %q before the first FROM", path, line)
		stages[len(stages)-1].instrs = append(stages[len(stages)-1].instrs, in)
	}
	require.NotEmpty(t, stages, "%s: no FROM", path)
	return stages
}

// dockerfile is what the Dockerfile's final stage says about the image.
type dockerfile struct {
	user       string
	entrypoint []string
	cmd        []string
	labels     map[string]string
}

var labelPair = regexp.MustCompile(`([a-z0-9.]+)="([^"]*)"`)

func parseDockerfile(t *testing.T, path string) dockerfile {
	t.Helper()
	stages := parseStages(t, path)
	d := dockerfile{labels: map[string]string{}}
	for _, in := range stages[len(stages)-1].instrs {
		switch in.cmd {
		case "USER":
			d.user = in.args
		case "ENTRYPOINT":
			require.NoError(t, json.Unmarshal([]byte(in.args), &d.entrypoint), in.args)
		case "CMD":
			require.NoError(t, json.Unmarshal([]byte(in.args), &d.cmd), in.args)
		case "LABEL":
			for _, m := range labelPair.FindAllStringSubmatch(in.args, -1) {
				d.labels[m[1]] = m[2]
			}
		}
	}
	return d
}

func TestImageMatchesDockerfile(t *testing.T) {
	dir := os.Getenv("CISGATE_IMAGE")
	if dir == "" {
		t.Skip("CISGATE_IMAGE is not set: run `make image` and set it to bin/image (make test does)")
	}
	root := filepath.Join("..", "..")
	df := parseDockerfile(t, filepath.Join(root, "Dockerfile"))
	var chart struct {
		AppVersion string `json:"appVersion"`
	}
	data, err := os.ReadFile(filepath.Join(root, "charts", "cisgate", "Chart.yaml"))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(data, &chart))

	var top index
	data, err = os.ReadFile(filepath.Join(dir, "index.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &top))
	require.Len(t, top.Manifests, 1)
	assert.Equal(t, chart.AppVersion, top.Manifests[0].Annotations["org.opencontainers.image.ref.name"], "tagged with the chart's appVersion")
	assert.Equal(t, "ghcr.io/cisgate/cisgate:"+chart.AppVersion, top.Manifests[0].Annotations["io.containerd.image.name"])

	var idx index
	readBlob(t, dir, top.Manifests[0].Digest, &idx)
	var platforms []string
	for _, m := range idx.Manifests {
		require.NotNil(t, m.Platform)
		platform := m.Platform.OS + "/" + m.Platform.Architecture
		platforms = append(platforms, platform)
		t.Run(platform, func(t *testing.T) {
			var man manifest
			readBlob(t, dir, m.Digest, &man)
			var cfg imageConfig
			readBlob(t, dir, man.Config.Digest, &cfg)
			assert.Equal(t, m.Platform.OS, cfg.OS)
			assert.Equal(t, m.Platform.Architecture, cfg.Architecture)
			assert.Equal(t, df.user, cfg.Config.User)
			assert.Equal(t, "65532:65532", cfg.Config.User, "non-root")
			assert.Equal(t, df.entrypoint, cfg.Config.Entrypoint)
			assert.Equal(t, df.cmd, cfg.Config.Cmd)
			assert.Equal(t, "cisgate", filepath.Base(cfg.Config.Entrypoint[0]))
			keys := func(m map[string]string) []string {
				var ks []string
				for k := range m {
					ks = append(ks, k)
				}
				sort.Strings(ks)
				return ks
			}
			assert.Equal(t, keys(df.labels), keys(cfg.Config.Labels), "the same labels")
			assert.Equal(t, df.labels["org.opencontainers.image.source"], cfg.Config.Labels["org.opencontainers.image.source"])
			assert.Equal(t, chart.AppVersion, cfg.Config.Labels["org.opencontainers.image.version"])
			assert.Regexp(t, `^[0-9a-f]{40}$|^unknown$`, cfg.Config.Labels["org.opencontainers.image.revision"])
			assert.Len(t, man.Layers, 1, "one layer: the binary and /etc/passwd, no shell")
		})
	}
	sort.Strings(platforms)
	assert.Equal(t, []string{"linux/amd64", "linux/arm64"}, platforms)
}

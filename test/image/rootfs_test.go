package image

import (
	"archive/tar"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// platformImage is one platform's image in the layout.
type platformImage struct {
	os, arch string
	layers   []descriptor
	config   imageConfig
}

// platformImages reads the layout's image index: one image per platform.
func platformImages(t *testing.T, dir string) []platformImage {
	t.Helper()
	var top index
	data, err := os.ReadFile(filepath.Join(dir, "index.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &top))
	require.Len(t, top.Manifests, 1)
	var idx index
	readBlob(t, dir, top.Manifests[0].Digest, &idx)
	var images []platformImage
	for _, m := range idx.Manifests {
		require.NotNil(t, m.Platform)
		var man manifest
		readBlob(t, dir, m.Digest, &man)
		img := platformImage{os: m.Platform.OS, arch: m.Platform.Architecture, layers: man.Layers}
		readBlob(t, dir, man.Config.Digest, &img.config)
		images = append(images, img)
	}
	return images
}

// file is one entry of an image's file system as a test compares it.
type file struct {
	Mode     fs.FileMode // type, permissions, sticky/setuid/setgid
	UID, GID int
	SHA256   string // regular files
}

// listing is one line per file, sorted, for a readable diff.
func listing(files map[string]file) []string {
	var lines []string
	for name, f := range files {
		lines = append(lines, fmt.Sprintf("%s %v %d:%d %s", name, f.Mode, f.UID, f.GID, f.SHA256))
	}
	sort.Strings(lines)
	return lines
}

const modeBits = fs.ModeType | fs.ModePerm | fs.ModeSticky | fs.ModeSetuid | fs.ModeSetgid

// readLayers applies the image's layers in order (layer.md: gzip or uncompressed tar; whiteouts
// are not expected in a single-layer image and fail the test), calling each for every regular
// file's content.
func readLayers(t *testing.T, dir string, layers []descriptor, each func(name string, h *tar.Header, r io.Reader)) map[string]file {
	t.Helper()
	files := map[string]file{}
	for _, l := range layers {
		algo, sum, ok := strings.Cut(l.Digest, ":")
		require.True(t, ok, l.Digest)
		f, err := os.Open(filepath.Join(dir, "blobs", algo, sum))
		require.NoError(t, err)
		var r io.Reader = f
		switch l.MediaType {
		case "application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.docker.image.rootfs.diff.tar.gzip":
			gz, err := gzip.NewReader(f)
			require.NoError(t, err)
			r = gz
		case "application/vnd.oci.image.layer.v1.tar":
		default:
			t.Fatalf("layer %s: media type %q is not read here", l.Digest, l.MediaType)
		}
		tr := tar.NewReader(r)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			name := path.Clean(strings.TrimPrefix(h.Name, "./"))
			require.False(t, name == ".." || strings.HasPrefix(name, "../") || path.IsAbs(name), "layer entry %q leaves the root", h.Name)
			require.False(t, strings.HasPrefix(path.Base(name), ".wh."), "whiteout %q", h.Name)
			e := file{Mode: h.FileInfo().Mode() & modeBits, UID: h.Uid, GID: h.Gid}
			switch h.Typeflag {
			case tar.TypeDir:
			case tar.TypeReg:
				hash := sha256.New()
				var body io.Reader = io.TeeReader(tr, hash)
				if each != nil {
					each(name, h, body)
				}
				_, err := io.Copy(io.Discard, body)
				require.NoError(t, err)
				e.SHA256 = hex.EncodeToString(hash.Sum(nil))
			default:
				t.Fatalf("layer entry %q: type %q is not expected in the image", h.Name, h.Typeflag)
			}
			files[name] = e
		}
		require.NoError(t, f.Close())
	}
	return files
}

// unpack writes the image's layers under root as a container runtime would, owners included.
func unpack(t *testing.T, dir string, layers []descriptor, root string) {
	t.Helper()
	files := readLayers(t, dir, layers, func(name string, h *tar.Header, r io.Reader) {
		p := filepath.Join(root, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		data, err := io.ReadAll(r)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(p, data, 0o600))
	})
	for name, f := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if f.Mode.IsDir() {
			require.NoError(t, os.MkdirAll(p, 0o755))
		}
	}
	for name, f := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		require.NoError(t, os.Chmod(p, f.Mode&^fs.ModeType))
		require.NoError(t, os.Lchown(p, f.UID, f.GID))
	}
}

// walk lists a directory tree as readLayers lists a layer.
func walk(t *testing.T, root string) map[string]file {
	t.Helper()
	files := map[string]file{}
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := info.Sys().(*syscall.Stat_t)
		e := file{Mode: info.Mode() & modeBits, UID: int(st.Uid), GID: int(st.Gid)}
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			e.SHA256 = hex.EncodeToString(sum[:])
		}
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = e
		return nil
	}))
	return files
}

// needs skips a test that needs the layout, root (chroot, file owners) or Linux.
func needs(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CISGATE_IMAGE")
	if dir == "" {
		t.Skip("CISGATE_IMAGE is not set: run `make image` and set it to bin/image (make test does)")
	}
	if runtime.GOOS != "linux" {
		t.Skipf("the image is Linux's; this is %s", runtime.GOOS)
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: it unpacks the image with its files' owners and runs its binary under chroot (CI runs as root)")
	}
	return dir
}

func hostImage(t *testing.T, dir string) platformImage {
	t.Helper()
	for _, img := range platformImages(t, dir) {
		if img.os == runtime.GOOS && img.arch == runtime.GOARCH {
			return img
		}
	}
	t.Fatalf("%s has no image for this machine's %s/%s", dir, runtime.GOOS, runtime.GOARCH)
	return platformImage{}
}

// TestImageTrustsPublicRoots runs the image's own binary in the image's own root filesystem, as
// its user and with an empty environment (no SSL_CERT_FILE or SSL_CERT_DIR), and has it verify
// the roots AWS's endpoints chain to (Amazon Trust Services' repository: Amazon Root CA 1-4 and
// Starfield Services Root Certificate Authority - G2). testdata holds them as Debian ships them
// (ca-certificates 20230311+deb12u1, /usr/share/ca-certificates/mozilla/). Without trusted roots
// the cloud scan's calls to EKS, ECR, KMS and STS fail with "certificate signed by unknown
// authority", and so does this.
func TestImageTrustsPublicRoots(t *testing.T) {
	dir := needs(t)
	img := hostImage(t, dir)
	root := t.TempDir()
	unpack(t, dir, img.layers, root)
	require.NoError(t, os.Chmod(root, 0o755)) // t.TempDir's 0700 would keep the image's user out
	require.NotEmpty(t, img.config.Config.Entrypoint)
	uid, gid := imageUser(t, img.config.Config.User)

	run := func(t *testing.T, pemFile string) (stdout, stderr string, code int) {
		t.Helper()
		cmd := exec.Command(img.config.Config.Entrypoint[0], "version", "--verify-cert", pemFile)
		cmd.Env = []string{}
		cmd.Dir = "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: uid, Gid: gid}}
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("running the image's binary under chroot: %v", err)
		}
		return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
	}

	pems, err := filepath.Glob(filepath.Join("testdata", "*.pem"))
	require.NoError(t, err)
	require.Len(t, pems, 5)
	for _, p := range pems {
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			block, _ := pem.Decode(data)
			require.NotNil(t, block, p)
			cert, err := x509.ParseCertificate(block.Bytes)
			require.NoError(t, err)
			inImage := "/tmp/" + filepath.Base(p)
			require.NoError(t, os.WriteFile(filepath.Join(root, inImage), data, 0o644))

			stdout, stderr, code := run(t, inImage)
			assert.Equal(t, 0, code, "stderr: %s", stderr)
			assert.Contains(t, stdout, inImage+": trusted: "+cert.Subject.String())
		})
	}

	// The check can fail: a certificate with Amazon Root CA 1's name but another key is no root
	// the binary trusts.
	t.Run("impostor", func(t *testing.T) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(1),
			Subject:               pkix.Name{Country: []string{"US"}, Organization: []string{"Amazon"}, CommonName: "Amazon Root CA 1"},
			NotBefore:             time.Now().Add(-time.Hour),
			NotAfter:              time.Now().Add(time.Hour),
			IsCA:                  true,
			BasicConstraintsValid: true,
			KeyUsage:              x509.KeyUsageCertSign,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(root, "tmp", "impostor.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))

		stdout, stderr, code := run(t, "/tmp/impostor.pem")
		assert.Equal(t, 1, code, "stdout: %s", stdout)
		assert.Contains(t, stderr, "x509: certificate signed by unknown authority")
	})
}

func imageUser(t *testing.T, user string) (uint32, uint32) {
	t.Helper()
	u, g, ok := strings.Cut(user, ":")
	if !ok {
		g = u
	}
	uid, err := strconv.ParseUint(u, 10, 32)
	require.NoError(t, err, "image user %q", user)
	gid, err := strconv.ParseUint(g, 10, 32)
	require.NoError(t, err, "image user %q", user)
	return uint32(uid), uint32(gid)
}

// TestDockerfileHoldsTheSameFiles: the Dockerfile's final stage is FROM scratch plus one COPY of
// the directory its build stage has build/imagebuild write (-rootfs); running that command here,
// with the Dockerfile's own arguments and each platform's binary from bin/image, gives exactly
// the files of bin/image's layers: names, types, modes, owners and contents.
func TestDockerfileHoldsTheSameFiles(t *testing.T) {
	dir := needs(t)
	repo := filepath.Join("..", "..")
	stages := parseStages(t, filepath.Join(repo, "Dockerfile"))
	final := stages[len(stages)-1]
	require.Equal(t, "scratch", final.from, "the final stage starts empty, so its files are only those it copies")
	var copies []instruction
	for _, in := range final.instrs {
		switch in.cmd {
		case "COPY":
			copies = append(copies, in)
		case "ADD", "RUN", "WORKDIR", "VOLUME", "ONBUILD":
			t.Fatalf("the final stage's %s %s would make files make image does not", in.cmd, in.args)
		}
	}
	require.Len(t, copies, 1, "one COPY: the build stage's root filesystem")
	copyArgs := strings.Fields(copies[0].args)
	require.Len(t, copyArgs, 3, "COPY --from=STAGE DIR/ / (no --chown or --chmod: the owners and modes are imagebuild's)")
	stageName, ok := strings.CutPrefix(copyArgs[0], "--from=")
	require.True(t, ok, copies[0].args)
	require.Equal(t, "/", copyArgs[2], copies[0].args)
	rootfsDir := strings.TrimSuffix(copyArgs[1], "/")

	// The build stage's imagebuild command: `go -C build/imagebuild run . ARGS`.
	var args []string
	for _, st := range stages {
		if st.name != stageName {
			continue
		}
		for _, in := range st.instrs {
			fields := strings.Fields(in.args)
			for i := 0; i+3 < len(fields); i++ {
				if fields[i] == "build/imagebuild" && fields[i+1] == "run" && fields[i+2] == "." {
					args = fields[i+3:]
				}
			}
		}
	}
	require.NotEmpty(t, args, "stage %q runs no `go -C build/imagebuild run . ...`", stageName)
	require.Contains(t, args, "-rootfs")

	imagebuild := filepath.Join(t.TempDir(), "imagebuild")
	build := exec.Command("go", "build", "-o", imagebuild, ".")
	build.Dir = filepath.Join(repo, "build", "imagebuild")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "building build/imagebuild: %s", out)

	images := platformImages(t, dir)
	require.NotEmpty(t, images)
	for _, img := range images {
		t.Run(img.os+"/"+img.arch, func(t *testing.T) {
			want := readLayers(t, dir, img.layers, nil)
			binary := filepath.Join(t.TempDir(), "cisgate")
			entry := strings.TrimPrefix(img.config.Config.Entrypoint[0], "/")
			readLayers(t, dir, img.layers, func(name string, _ *tar.Header, r io.Reader) {
				if name == entry {
					data, err := io.ReadAll(r)
					require.NoError(t, err)
					require.NoError(t, os.WriteFile(binary, data, 0o755))
				}
			})
			rootfs := filepath.Join(t.TempDir(), "rootfs")
			var run []string
			for i := 0; i < len(args); i++ {
				a := strings.NewReplacer("${TARGETOS}", img.os, "$TARGETOS", img.os, "${TARGETARCH}", img.arch, "$TARGETARCH", img.arch).Replace(args[i])
				switch {
				case i > 0 && args[i-1] == "-rootfs":
					require.Equal(t, rootfsDir, a, "-rootfs is the directory the final stage copies")
					a = rootfs
				case i > 0 && args[i-1] == "-binary":
					plat, _, ok := strings.Cut(a, "=")
					require.True(t, ok, a)
					require.Equal(t, img.os+"/"+img.arch, plat)
					a = plat + "=" + binary
				}
				run = append(run, a)
			}
			cmd := exec.Command(imagebuild, run...)
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "imagebuild %s: %s", strings.Join(run, " "), out)

			got := walk(t, rootfs)
			assert.Equal(t, listing(want), listing(got), "the Dockerfile's files (expected: make image's layer)")
			assert.Contains(t, want, entry)
			assert.Contains(t, want, "etc/passwd")
		})
	}
}

// Command imagebuild builds cisgate's release image: one FROM-scratch image per platform, each
// a single layer holding the static binary, /etc/passwd and /etc/group naming the user, its home
// and a world-writable /tmp. `make image` writes it as an OCI image layout:
//
//	imagebuild -o bin/image -name ghcr.io/cisgate/cisgate:0.1.0 -path /usr/local/bin/cisgate \
//	  -binary linux/amd64=bin/linux_amd64/cisgate -binary linux/arm64=bin/linux_arm64/cisgate \
//	  -user 65532:65532 -cmd serve -label org.opencontainers.image.version=0.1.0
//
// The layout's index.json holds one entry, an image index with a manifest per platform,
// annotated with the image's name (io.containerd.image.name, which `ctr images import` reads)
// and its tag (org.opencontainers.image.ref.name, the OCI layout's own convention).
//
// The Dockerfile writes the same files as a directory (-rootfs, one platform's binary) and copies
// that directory into a FROM-scratch image, so both images hold the same files by construction:
//
//	imagebuild -rootfs /out/rootfs -path /usr/local/bin/cisgate -user 65532:65532 -binary linux/arm64=/out/cisgate
//
// The image holds no CA certificates: cisgate carries Mozilla's roots in the binary
// (golang.org/x/crypto/x509roots/fallback), used when the system has none.
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// options of one build; see addFlags.
type options struct {
	out     string
	rootfs  string
	name    string
	path    string
	user    string
	cmd     listFlag
	binary  listFlag
	label   listFlag
	created string
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func (o *options) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.out, "o", "", "output directory of the OCI image layout (replaced)")
	fs.StringVar(&o.rootfs, "rootfs", "", "instead of -o: write the image's files into this new or empty directory (one -binary; owners need root)")
	fs.StringVar(&o.name, "name", "", "image name with tag, e.g. ghcr.io/cisgate/cisgate:0.1.0")
	fs.StringVar(&o.path, "path", "", "absolute path of the binary in the image; also the entrypoint")
	fs.StringVar(&o.user, "user", "65532:65532", "user:group the image runs as")
	fs.Var(&o.cmd, "cmd", "default argument (repeatable)")
	fs.Var(&o.binary, "binary", "OS/ARCH=FILE, one per platform (repeatable)")
	fs.Var(&o.label, "label", "KEY=VALUE image label (repeatable)")
	fs.StringVar(&o.created, "created", "1970-01-01T00:00:00Z", "creation time (RFC 3339); fixed by default so a build is reproducible")
}

func (o *options) validate() []error {
	var errs []error
	switch {
	case o.out == "" && o.rootfs == "":
		errs = append(errs, errors.New("-o or -rootfs is required"))
	case o.out != "" && o.rootfs != "":
		errs = append(errs, errors.New("-o and -rootfs exclude each other"))
	case o.out != "":
		if _, err := name.NewTag(o.name); err != nil {
			errs = append(errs, fmt.Errorf("-name: %w", err))
		}
	case o.rootfs != "":
		if len(o.binary) > 1 {
			errs = append(errs, fmt.Errorf("-rootfs takes one -binary, got %d", len(o.binary)))
		}
		if o.name != "" || len(o.cmd) > 0 || len(o.label) > 0 {
			errs = append(errs, errors.New("-name, -cmd and -label are the image's configuration: with -rootfs the Dockerfile sets them"))
		}
	}
	if !strings.HasPrefix(o.path, "/") {
		errs = append(errs, fmt.Errorf("-path must be absolute, got %q", o.path))
	}
	if _, _, err := parseUser(o.user); err != nil {
		errs = append(errs, err)
	}
	if len(o.binary) == 0 {
		errs = append(errs, errors.New("at least one -binary is required"))
	}
	for _, b := range o.binary {
		if _, _, err := parseBinary(b); err != nil {
			errs = append(errs, err)
		}
	}
	for _, l := range o.label {
		if k, _, ok := strings.Cut(l, "="); !ok || k == "" {
			errs = append(errs, fmt.Errorf("-label %q: want KEY=VALUE", l))
		}
	}
	if _, err := time.Parse(time.RFC3339, o.created); err != nil {
		errs = append(errs, fmt.Errorf("-created: %w", err))
	}
	return errs
}

// parseUser reads -user: numeric UID[:GID], the GID defaulting to the UID.
func parseUser(s string) (uid, gid int, err error) {
	u, g, ok := strings.Cut(s, ":")
	if !ok {
		g = u
	}
	uid, errU := strconv.Atoi(u)
	gid, errG := strconv.Atoi(g)
	if errU != nil || errG != nil || uid < 0 || gid < 0 {
		return 0, 0, fmt.Errorf("-user %q: want numeric UID[:GID]", s)
	}
	return uid, gid, nil
}

func parseBinary(s string) (v1.Platform, string, error) {
	plat, file, ok := strings.Cut(s, "=")
	osName, arch, ok2 := strings.Cut(plat, "/")
	if !ok || !ok2 || file == "" {
		return v1.Platform{}, "", fmt.Errorf("-binary %q: want OS/ARCH=FILE", s)
	}
	return v1.Platform{OS: osName, Architecture: arch}, file, nil
}

func main() {
	o := &options{}
	fs := flag.NewFlagSet("imagebuild", flag.ExitOnError)
	o.addFlags(fs)
	_ = fs.Parse(os.Args[1:])
	if errs := o.validate(); len(errs) > 0 {
		for _, err := range errs {
			fmt.Fprintln(os.Stderr, "imagebuild:", err)
		}
		os.Exit(2)
	}
	build := buildLayout
	if o.rootfs != "" {
		build = writeRootfs
	}
	if err := build(o); err != nil {
		fmt.Fprintln(os.Stderr, "imagebuild:", err)
		os.Exit(1)
	}
}

func buildLayout(o *options) error {
	created, _ := time.Parse(time.RFC3339, o.created)
	labels := map[string]string{}
	for _, l := range o.label {
		k, v, _ := strings.Cut(l, "=")
		labels[k] = v
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, b := range o.binary {
		plat, file, _ := parseBinary(b)
		img, err := image(o, plat, file, labels, created)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &plat},
		})
	}
	tag, _ := name.NewTag(o.name)
	if err := os.RemoveAll(o.out); err != nil {
		return err
	}
	p, err := layout.Write(o.out, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendIndex(idx, layout.WithAnnotations(map[string]string{
		"io.containerd.image.name":          tag.Name(),
		"org.opencontainers.image.ref.name": tag.TagStr(),
	}))
}

// image is one platform's image: a single layer holding files(o, bin).
func image(o *options, plat v1.Platform, file string, labels map[string]string, created time.Time) (v1.Image, error) {
	bin, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	layerTar, err := layerTar(created, files(o, bin))
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(mutate.MediaType(mutate.ConfigMediaType(empty.Image, types.OCIConfigJSON), types.OCIManifestSchema1), layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = plat.OS, plat.Architecture, plat.Variant
	cf.Created = v1.Time{Time: created}
	cf.Config = v1.Config{
		User:       o.user,
		Entrypoint: []string{o.path},
		Cmd:        o.cmd,
		Env:        []string{"PATH=/usr/local/bin:/usr/bin:/bin"},
		WorkingDir: "/",
		Labels:     labels,
	}
	return mutate.ConfigFile(img, cf)
}

// entry is one file or directory of the image, its name relative to / (directories end in /).
type entry struct {
	name     string
	mode     int64
	dir      bool
	data     []byte
	uid, gid int
}

// files are the image's files, sorted by name: the binary at -path with its parent directories,
// /etc/passwd and /etc/group naming the user nonroot (as distroless does) with its home, and a
// world-writable /tmp. Every entry is root's but the home.
func files(o *options, bin []byte) []entry {
	uid, gid, _ := parseUser(o.user)
	u, g := strconv.Itoa(uid), strconv.Itoa(gid)
	entries := []entry{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/passwd", mode: 0o644, data: []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:" + u + ":" + g + ":nonroot:/home/nonroot:/sbin/nologin\n")},
		{name: "etc/group", mode: 0o644, data: []byte("root:x:0:\nnonroot:x:" + g + ":\n")},
		{name: "home/", mode: 0o755, dir: true},
		{name: "home/nonroot/", mode: 0o700, dir: true, uid: uid, gid: gid},
		{name: "tmp/", mode: 0o1777, dir: true},
		{name: strings.TrimPrefix(o.path, "/"), mode: 0o755, data: bin},
	}
	have := map[string]bool{}
	for _, e := range entries {
		have[e.name] = true
	}
	for dir := path.Dir(strings.TrimPrefix(o.path, "/")); dir != "."; dir = path.Dir(dir) {
		if !have[dir+"/"] {
			entries = append(entries, entry{name: dir + "/", mode: 0o755, dir: true})
			have[dir+"/"] = true
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	return entries
}

func layerTar(mtime time.Time, entries []entry) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, ModTime: mtime, Typeflag: tar.TypeReg, Size: int64(len(e.data)), Uid: e.uid, Gid: e.gid, Format: tar.FormatPAX}
		if e.dir {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeRootfs writes files(o, bin) under o.rootfs with their modes, owners and the creation time,
// for the Dockerfile to copy into its FROM-scratch image (COPY --from keeps owners and modes).
// The directory must be new or empty: nothing already there would be in `make image`'s image.
func writeRootfs(o *options) error {
	_, file, _ := parseBinary(o.binary[0])
	bin, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	created, _ := time.Parse(time.RFC3339, o.created)
	if err := os.MkdirAll(o.rootfs, 0o755); err != nil {
		return err
	}
	if there, err := os.ReadDir(o.rootfs); err != nil {
		return err
	} else if len(there) > 0 {
		return fmt.Errorf("-rootfs %s is not empty", o.rootfs)
	}
	entries := files(o, bin)
	for _, e := range entries {
		p := filepath.Join(o.rootfs, filepath.FromSlash(e.name))
		mode := (&tar.Header{Mode: e.mode}).FileInfo().Mode() // the tar mode as Go's, sticky bit included
		if e.dir {
			err = os.Mkdir(p, 0o700)
		} else {
			err = os.WriteFile(p, e.data, 0o600)
		}
		if err == nil {
			err = os.Chmod(p, mode)
		}
		if err == nil {
			err = os.Lchown(p, e.uid, e.gid)
		}
		if err != nil {
			return err
		}
	}
	// Times last: writing a directory's children changes its modification time.
	for _, e := range entries {
		if err := os.Chtimes(filepath.Join(o.rootfs, filepath.FromSlash(e.name)), created, created); err != nil {
			return err
		}
	}
	return nil
}

// Command image assembles meetarchive's container image without a container
// daemon or a registry (`make image` runs it): an OCI image layout, written
// as one tar archive (an "oci-archive" to skopeo and podman), from the
// static binary, the machine's CA certificates and the files under rootfs/
// (passwd and group with the non-root user). The same inputs give the same
// bytes, and so the same digest: every time in the image is --created,
// entries are sorted, owners are numeric, and nothing of the build machine
// (user names, file times, paths) is recorded.
//
// Layers, bottom up:
//  1. base: /etc/passwd, /etc/group (root, nobody, nonroot = 65532),
//     /etc/ssl/certs/ca-certificates.crt, /home/nonroot (65532, 0700),
//     /tmp (1777);
//  2. the binary alone: /usr/local/bin/meetarchive.
//
// The config runs the binary as the entrypoint, as user 65532:65532, and
// carries the OCI labels (version, revision, source, licenses, created).
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// rootfs holds the files the base layer takes from the repository (the
// Dockerfile copies the same ones).
//
//go:embed rootfs
var rootfs embed.FS

// Where things are in the image.
const (
	BinaryPath = "/usr/local/bin/meetarchive"
	CertsPath  = "/etc/ssl/certs/ca-certificates.crt"
	Home       = "/home/nonroot"
	UID        = 65532
	User       = "65532:65532" // numeric, so that Kubernetes' runAsNonRoot can check it
)

// Options are the inputs of an image.
type Options struct {
	Binary   string    // the static binary
	Certs    string    // a PEM bundle of CA certificates
	Arch     string    // GOARCH of the binary
	Created  time.Time // every time in the image
	Version  string    // org.opencontainers.image.version, and the tag in the archive
	Revision string    // the commit
	Source   string    // the repository (user information is dropped)
	Licenses string    // an SPDX expression
}

func main() {
	var o Options
	var created int64
	var out string
	flag.StringVar(&o.Binary, "binary", "", "the static meetarchive binary (CGO_ENABLED=0)")
	flag.StringVar(&o.Certs, "certs", "/etc/ssl/certs/ca-certificates.crt", "PEM bundle of CA certificates (Debian's ca-certificates)")
	flag.StringVar(&o.Arch, "arch", runtime.GOARCH, "GOARCH the binary was built for")
	flag.Int64Var(&created, "created", 0, "creation time, Unix seconds (SOURCE_DATE_EPOCH, the commit time): every time in the image")
	flag.StringVar(&o.Version, "version", "dev", "version label and tag")
	flag.StringVar(&o.Revision, "revision", "", "revision label (the commit)")
	flag.StringVar(&o.Source, "source", "", "source label (the repository URL; user information is dropped)")
	flag.StringVar(&o.Licenses, "licenses", "NOASSERTION", "licenses label (an SPDX expression)")
	flag.StringVar(&out, "out", "dist/meetarchive-image.tar", "the OCI archive to write")
	flag.Parse()
	o.Created = time.Unix(created, 0).UTC()
	digest, size, err := Build(out, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %s, %.1f MiB\n", out, digest, float64(size)/(1<<20))
}

// Build writes the image as an OCI archive at out (whole or not at all) and
// returns its manifest digest and the archive's size.
func Build(out string, o Options) (digest string, size int64, err error) {
	img, err := Image(o)
	if err != nil {
		return "", 0, err
	}
	d, err := img.Digest()
	if err != nil {
		return "", 0, fmt.Errorf("digest: %w", err)
	}
	tmp, err := os.MkdirTemp("", "meetarchive-image-")
	if err != nil {
		return "", 0, err
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return "", 0, fmt.Errorf("write the layout: %w", err)
	}
	ref := map[string]string{"org.opencontainers.image.ref.name": o.Version}
	if err := p.AppendImage(img, layout.WithAnnotations(ref)); err != nil {
		return "", 0, fmt.Errorf("write the layout: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o777); err != nil {
		return "", 0, err
	}
	part := out + ".part"
	f, err := os.Create(part)
	if err != nil {
		return "", 0, err
	}
	defer os.Remove(part)
	err = tarDir(f, dir, o.Created)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, fmt.Errorf("write %s: %w", out, err)
	}
	st, err := os.Stat(part)
	if err != nil {
		return "", 0, err
	}
	return d.String(), st.Size(), os.Rename(part, out)
}

// Image is the image of o.
func Image(o Options) (v1.Image, error) {
	if o.Binary == "" {
		return nil, errors.New("no --binary")
	}
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return nil, fmt.Errorf("the binary: %w", err)
	}
	if !isStaticELF(bin) {
		return nil, fmt.Errorf("the binary %s is not a static ELF executable (build it with CGO_ENABLED=0)", o.Binary)
	}
	certs, err := os.ReadFile(o.Certs)
	if err != nil {
		return nil, fmt.Errorf("the CA certificates: %w", err)
	}
	if !bytes.Contains(certs, []byte("-----BEGIN CERTIFICATE-----")) {
		return nil, fmt.Errorf("%s holds no PEM certificate", o.Certs)
	}
	baseFiles, err := baseEntries(certs)
	if err != nil {
		return nil, err
	}
	base, err := layer(baseFiles, o.Created)
	if err != nil {
		return nil, err
	}
	binLayer, err := layer([]entry{{path: BinaryPath, mode: 0o755, data: bin}}, o.Created)
	if err != nil {
		return nil, err
	}
	created := v1.Time{Time: o.Created}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: base, MediaType: types.OCILayer, History: v1.History{Created: created, CreatedBy: "scripts/image: passwd, group, CA certificates, /home/nonroot, /tmp"}},
		mutate.Addendum{Layer: binLayer, MediaType: types.OCILayer, History: v1.History{Created: created, CreatedBy: "scripts/image: " + BinaryPath}},
	)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Created = created
	cf.OS = "linux"
	cf.Architecture = o.Arch
	labels := Labels(o)
	cf.Config = v1.Config{
		Entrypoint: []string{BinaryPath},
		User:       User,
		WorkingDir: Home,
		Env:        []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + Home},
		Labels:     labels,
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	return mutate.Annotations(img, labels).(v1.Image), nil
}

// Labels are the image's OCI labels (also its manifest's annotations).
func Labels(o Options) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":       "meetarchive",
		"org.opencontainers.image.description": "archives Huawei Cloud Meeting recordings into S3-compatible storage with an audit manifest",
		"org.opencontainers.image.version":     o.Version,
		"org.opencontainers.image.revision":    o.Revision,
		"org.opencontainers.image.licenses":    o.Licenses,
		"org.opencontainers.image.created":     o.Created.UTC().Format(time.RFC3339),
	}
	if s := StripUserInfo(o.Source); s != "" {
		l["org.opencontainers.image.source"] = s
	}
	for k, v := range l {
		if v == "" {
			delete(l, k)
		}
	}
	return l
}

var scpLike = regexp.MustCompile(`^[^/@:]+@([^/:]+):(.*)$`)

// StripUserInfo drops the user and password from a repository URL (a git
// remote may carry a token): https://user:token@host/x is https://host/x,
// git@host:org/x is host:org/x.
func StripUserInfo(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		slash := strings.IndexByte(rest, '/')
		if slash < 0 {
			slash = len(rest)
		}
		if at := strings.LastIndexByte(rest[:slash], '@'); at >= 0 {
			return s[:i+3] + rest[at+1:]
		}
		return s
	}
	if m := scpLike.FindStringSubmatch(s); m != nil {
		return m[1] + ":" + m[2]
	}
	return s
}

// entry is one file or directory of a layer.
type entry struct {
	path     string // absolute, in the image
	mode     int64  // permissions, with the sticky bit where set
	dir      bool
	uid, gid int
	data     []byte
}

// baseEntries are the base layer's files and directories.
func baseEntries(certs []byte) ([]entry, error) {
	es := []entry{
		{path: "/etc", mode: 0o755, dir: true},
		{path: "/etc/ssl", mode: 0o755, dir: true},
		{path: "/etc/ssl/certs", mode: 0o755, dir: true},
		{path: CertsPath, mode: 0o644, data: certs},
		{path: "/home", mode: 0o755, dir: true},
		{path: Home, mode: 0o700, dir: true, uid: UID, gid: UID},
		{path: "/tmp", mode: 0o1777, dir: true},
		{path: "/usr", mode: 0o755, dir: true},
		{path: "/usr/local", mode: 0o755, dir: true},
		{path: "/usr/local/bin", mode: 0o755, dir: true},
	}
	err := fs.WalkDir(rootfs, "rootfs", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := rootfs.ReadFile(p)
		if err != nil {
			return err
		}
		es = append(es, entry{path: strings.TrimPrefix(p, "rootfs"), mode: 0o644, data: b})
		return nil
	})
	return es, err
}

// layer is a gzipped tar of es: sorted by path, owners numeric, every time
// created.
func layer(es []entry, created time.Time) (v1.Layer, error) {
	es = slices.Clone(es)
	slices.SortFunc(es, func(a, b entry) int { return strings.Compare(a.path, b.path) })
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, e := range es {
		h := &tar.Header{
			Name: strings.TrimPrefix(e.path, "/"), Mode: e.mode, Uid: e.uid, Gid: e.gid,
			ModTime: created, Format: tar.FormatPAX, Typeflag: tar.TypeReg, Size: int64(len(e.data)),
		}
		if e.dir {
			h.Name += "/"
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
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	b := gz.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// tarDir writes the layout directory dir as a tar: entries sorted, owned by
// 0:0, files 0644 and directories 0755, every time mtime.
func tarDir(w io.Writer, dir string, mtime time.Time) error {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.Sort(paths)
	tw := tar.NewWriter(w)
	for _, p := range paths {
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		h := &tar.Header{Name: path.Clean(filepath.ToSlash(rel)), ModTime: mtime, Format: tar.FormatPAX}
		switch {
		case st.IsDir():
			h.Name += "/"
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		case st.Mode().IsRegular():
			h.Typeflag, h.Mode, h.Size = tar.TypeReg, 0o644, st.Size()
		default:
			return fmt.Errorf("%s: not a file or directory", p)
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if h.Typeflag == tar.TypeReg {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			if err != nil {
				return err
			}
		}
	}
	return tw.Close()
}

// isStaticELF reports whether b is an ELF executable without a program
// interpreter (PT_INTERP): one that needs no libc in the image.
func isStaticELF(b []byte) bool {
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return false
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return false
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}

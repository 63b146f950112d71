package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The image as `make image` builds it, looked at by skopeo (Debian's
// package; scripts/test.sh installs it), an independent reader of OCI
// archives; its root file system unpacked and the binary run inside it.

// imageBuild is one `make image` into dir.
type imageBuild struct {
	archive string
	digest  string // the manifest's, as skopeo reads it
}

const imageSourceWithToken = "https://ci-bot:tok3n-0123456789@git.example.com/meetarchive.git"

func makeImage(t *testing.T, dir string) imageBuild {
	t.Helper()
	archive := filepath.Join(dir, "meetarchive-image.tar")
	cmd := exec.Command("make", "--no-print-directory", "image", "IMAGE="+archive, "IMAGE_BIN="+filepath.Join(dir, "bin", "meetarchive"),
		"IMAGE_SOURCE="+imageSourceWithToken)
	cmd.Env = cleanEnv(nil)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make image: %v\n%s", err, out)
	}
	t.Logf("make image:\n%s", out)
	if strings.Contains(string(out), "tok3n") {
		t.Errorf("make image printed the token of the source URL")
	}
	var inspect struct{ Digest string }
	skopeoJSON(t, &inspect, "inspect", "oci-archive:"+archive)
	return imageBuild{archive: archive, digest: inspect.Digest}
}

// skopeoJSON runs skopeo and decodes its JSON output into v.
func skopeoJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	cmd := exec.Command("skopeo", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("skopeo %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("skopeo %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestImage(t *testing.T) {
	for _, tool := range []string{"make", "skopeo", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (scripts/test.sh installs skopeo with apt-get): the image test is skipped", tool)
		}
	}
	if err := exec.Command("git", "rev-parse", "HEAD").Run(); err != nil {
		t.Skip("not a git checkout: make image labels the image with the commit; the image test is skipped")
	}
	if _, err := os.Stat("/etc/ssl/certs/ca-certificates.crt"); err != nil {
		t.Skip("Debian's ca-certificates is not installed: the image test is skipped")
	}
	dir := t.TempDir()
	a := makeImage(t, filepath.Join(dir, "a"))
	st, err := os.Stat(a.archive)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("image %s: %s, archive %.1f MiB", a.archive, a.digest, float64(st.Size())/(1<<20))
	if st.Size() > 40<<20 {
		t.Errorf("the image archive is %d bytes, want a few tens of MB at most", st.Size())
	}

	t.Run("reproducible", func(t *testing.T) {
		b := makeImage(t, filepath.Join(dir, "b"))
		if a.digest == "" || b.digest != a.digest {
			t.Errorf("two builds of one commit: digests %q and %q, want equal", a.digest, b.digest)
		}
		if fileSHA256(t, a.archive) != fileSHA256(t, b.archive) {
			t.Errorf("two builds of one commit: the archives differ")
		}
	})

	var cfg struct {
		Created string `json:"created"`
		OS      string `json:"os"`
		Config  struct {
			User       string
			Entrypoint []string
			WorkingDir string
			Labels     map[string]string
		} `json:"config"`
	}
	skopeoJSON(t, &cfg, "inspect", "--config", "oci-archive:"+a.archive)
	var manifest struct {
		Layers []struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
		} `json:"layers"`
	}
	skopeoJSON(t, &manifest, "inspect", "--raw", "oci-archive:"+a.archive)

	commit := gitOutput(t, "rev-parse", "HEAD")
	epoch, err := strconv.ParseInt(gitOutput(t, "log", "-1", "--format=%ct"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	created := time.Unix(epoch, 0).UTC().Format(time.RFC3339)
	t.Run("config", func(t *testing.T) {
		c := cfg.Config
		if len(c.Entrypoint) != 1 || c.Entrypoint[0] != "/usr/local/bin/meetarchive" {
			t.Errorf("entrypoint %q, want [/usr/local/bin/meetarchive]", c.Entrypoint)
		}
		uid, gid, ok := strings.Cut(c.User, ":")
		if n, err := strconv.Atoi(uid); err != nil || n == 0 || !ok || gid == "0" {
			t.Errorf("user %q, want a numeric non-root uid:gid (Kubernetes' runAsNonRoot checks a number)", c.User)
		}
		if cfg.Created != created || cfg.OS != "linux" {
			t.Errorf("created %q os %q, want the commit's time %s and linux", cfg.Created, cfg.OS, created)
		}
		for label, want := range map[string]string{
			"org.opencontainers.image.revision": commit,
			"org.opencontainers.image.source":   "https://git.example.com/meetarchive.git",
			"org.opencontainers.image.licenses": "NOASSERTION",
			"org.opencontainers.image.created":  created,
		} {
			if got := c.Labels[label]; got != want {
				t.Errorf("label %s = %q, want %q", label, got, want)
			}
		}
		if c.Labels["org.opencontainers.image.version"] == "" {
			t.Error("no version label")
		}
	})

	// The layers, read from a copy skopeo makes (dir: keeps each blob as a
	// file named by its digest).
	copyDir := filepath.Join(dir, "copy")
	if out, err := exec.Command("skopeo", "copy", "--quiet", "oci-archive:"+a.archive, "dir:"+copyDir).CombinedOutput(); err != nil {
		t.Fatalf("skopeo copy: %v\n%s", err, out)
	}
	if len(manifest.Layers) != 2 {
		t.Fatalf("%d layers, want 2 (base files, then the binary)", len(manifest.Layers))
	}
	layers := make([][]layerEntry, len(manifest.Layers))
	for i, l := range manifest.Layers {
		if l.MediaType != "application/vnd.oci.image.layer.v1.tar+gzip" {
			t.Errorf("layer %d media type %s", i, l.MediaType)
		}
		layers[i] = readLayer(t, filepath.Join(copyDir, strings.TrimPrefix(l.Digest, "sha256:")))
	}
	t.Run("layers", func(t *testing.T) {
		bin := layers[1]
		if len(bin) != 1 || bin[0].Name != "usr/local/bin/meetarchive" || bin[0].Mode != 0o755 || bin[0].Uid != 0 {
			t.Errorf("the binary layer holds %v, want usr/local/bin/meetarchive alone, 0755, owned by root", names(bin))
		}
		base := map[string]layerEntry{}
		for _, e := range layers[0] {
			base[e.Name] = e
			if !e.ModTime.Equal(time.Unix(epoch, 0)) {
				t.Errorf("%s has time %s, want the commit's", e.Name, e.ModTime)
			}
		}
		certs, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
		if err != nil {
			t.Fatal(err)
		}
		checks := []struct {
			name      string
			typ       byte
			mode      int64
			uid       int
			content   []byte
			substring string
		}{
			{name: "tmp/", typ: tar.TypeDir, mode: 0o1777},
			{name: "home/nonroot/", typ: tar.TypeDir, mode: 0o700, uid: 65532},
			{name: "etc/ssl/certs/ca-certificates.crt", typ: tar.TypeReg, mode: 0o644, content: certs},
			{name: "etc/passwd", typ: tar.TypeReg, mode: 0o644, substring: "nonroot:x:65532:65532:"},
			{name: "etc/group", typ: tar.TypeReg, mode: 0o644, substring: "nonroot:x:65532:"},
		}
		for _, c := range checks {
			e, ok := base[c.name]
			switch {
			case !ok:
				t.Errorf("the base layer has no %s: %v", c.name, names(layers[0]))
			case e.Typeflag != c.typ || e.Mode != c.mode || e.Uid != c.uid:
				t.Errorf("%s: type %c mode %o uid %d, want %c %o %d", c.name, e.Typeflag, e.Mode, e.Uid, c.typ, c.mode, c.uid)
			case c.content != nil && !bytes.Equal(e.data, c.content):
				t.Errorf("%s differs from the machine's", c.name)
			case c.substring != "" && !strings.Contains(string(e.data), c.substring):
				t.Errorf("%s lacks %q", c.name, c.substring)
			}
		}
	})

	t.Run("runs", func(t *testing.T) {
		root := filepath.Join(dir, "rootfs")
		for _, l := range layers {
			unpack(t, root, l)
		}
		// As root (CI, this machine) the binary runs chrooted into the
		// image's file system as the image's user: it sees only the image's
		// certificates, passwd and /tmp. Otherwise it runs from the
		// unpacked tree as the current user.
		chroot := os.Geteuid() == 0
		run := func(args ...string) (string, int) {
			t.Helper()
			var cmd *exec.Cmd
			if chroot {
				cmd = exec.Command("/usr/local/bin/meetarchive", args...)
				cmd.Dir = "/home/nonroot"
				cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: 65532, Gid: 65532}}
				cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/home/nonroot"}
			} else {
				cmd = exec.Command(filepath.Join(root, "usr/local/bin/meetarchive"), args...)
				cmd.Env = cleanEnv(nil)
			}
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				t.Fatalf("%v: %v", args, err)
			}
			return string(out), cmd.ProcessState.ExitCode()
		}
		if !chroot {
			t.Log("not root: the binary runs from the unpacked tree, not chrooted into it")
		}
		out, code := run("version")
		version := cfg.Config.Labels["org.opencontainers.image.version"]
		if code != 0 || !strings.Contains(out, "meetarchive "+version+" ") || !strings.Contains(out, commit) {
			t.Errorf("version: exit %d, %q; want 0 and the labels' version %s and revision %s", code, out, version, commit)
		}
		demo := "/tmp/demo"
		if !chroot {
			demo = filepath.Join(root, "tmp", "demo")
		}
		out, code = run("demo", "--dir", demo, "--quiet")
		if code != 0 {
			t.Fatalf("demo: exit %d\n%s", code, out)
		}
		sum := readSummary(t, filepath.Join(root, "tmp", "demo", "report"))
		counts, _ := sum["counts"].(map[string]any)
		if sum["exitCode"] != float64(0) || counts["archived"] == float64(0) {
			t.Errorf("demo summary: exitCode %v, archived %v; want 0 and some archived", sum["exitCode"], counts["archived"])
		}
	})
}

func gitOutput(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", args...).Output()
	if err != nil {
		t.Fatalf("git %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

// layerEntry is a tar header of a layer with the file's bytes.
type layerEntry struct {
	tar.Header
	data []byte
}

func names(es []layerEntry) []string {
	var n []string
	for _, e := range es {
		n = append(n, e.Name)
	}
	return n
}

// readLayer reads a gzipped layer tar.
func readLayer(t *testing.T, path string) []layerEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	tr := tar.NewReader(zr)
	var es []layerEntry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return es
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, layerEntry{Header: *h, data: b})
	}
}

// unpack writes a layer's entries under root with their modes, and with
// their owners when running as root.
func unpack(t *testing.T, root string, es []layerEntry) {
	t.Helper()
	for _, e := range es {
		p := filepath.Join(root, filepath.FromSlash(e.Name))
		if !strings.HasPrefix(p, root+string(filepath.Separator)) {
			t.Fatalf("layer entry %q escapes the root", e.Name)
		}
		perm := os.FileMode(e.Mode & 0o777)
		if e.Mode&0o1000 != 0 {
			perm |= os.ModeSticky
		}
		switch e.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, e.data, 0o600); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("layer entry %s: type %c not expected", e.Name, e.Typeflag)
		}
		if err := os.Chmod(p, perm); err != nil {
			t.Fatal(err)
		}
		if os.Geteuid() == 0 {
			if err := os.Lchown(p, e.Uid, e.Gid); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestProductBinaryDependencies: the image builder's and the examples'
// tests' modules stay out of the product binary, and notify needs only
// report and redact.
func TestProductBinaryDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/google/go-containerregistry", "k8s.io/", "sigs.k8s.io/", "github.com/prometheus-operator/", "github.com/prometheus/prometheus/"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("the meetarchive binary depends on %s", dep)
			}
		}
	}
	out, err = exec.Command("go", "list", "-deps", "./notify").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "meetarchive/") && dep != "meetarchive/notify" && dep != "meetarchive/report" && dep != "meetarchive/redact" {
			t.Errorf("notify imports %s: it may import only report and redact (ARCHITECTURE.md)", dep)
		}
	}
}

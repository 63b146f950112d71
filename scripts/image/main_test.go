package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// staticBinary builds a tiny static program to put in test images.
func staticBinary(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() { println(\"hello\") }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "hello")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, src)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func testCerts(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(p, []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBuildIsReproducible: the same inputs give the same archive, whatever
// the inputs' file times; another created time gives another digest.
func TestBuildIsReproducible(t *testing.T) {
	bin, certs := staticBinary(t), testCerts(t)
	o := Options{Binary: bin, Certs: certs, Arch: "amd64", Created: time.Unix(1_700_000_000, 0).UTC(), Version: "v1", Revision: "abc", Licenses: "NOASSERTION"}
	dir := t.TempDir()
	build := func(name string, o Options) (string, []byte) {
		t.Helper()
		out := filepath.Join(dir, name)
		d, _, err := Build(out, o)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return d, b
	}
	d1, b1 := build("a.tar", o)
	later := time.Now().Add(time.Hour)
	for _, p := range []string{bin, certs} {
		if err := os.Chtimes(p, later, later); err != nil {
			t.Fatal(err)
		}
	}
	d2, b2 := build("b.tar", o)
	if d1 != d2 || string(b1) != string(b2) {
		t.Errorf("same inputs: digests %s and %s, archives equal %v; want the same image", d1, d2, string(b1) == string(b2))
	}
	o.Created = o.Created.Add(time.Second)
	if d3, _ := build("c.tar", o); d3 == d1 {
		t.Errorf("another created time gave the same digest %s", d3)
	}
}

func TestImageRefusesADynamicBinary(t *testing.T) {
	dyn := "/bin/sh"
	if _, err := os.Stat(dyn); err != nil {
		t.Skip("no /bin/sh")
	}
	_, err := Image(Options{Binary: dyn, Certs: testCerts(t)})
	if err == nil {
		t.Fatalf("Image with the dynamic %s: no error", dyn)
	}
}

func TestStripUserInfo(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://git.example.com/org/meetarchive.git", "https://git.example.com/org/meetarchive.git"},
		{"https://user:tok3n@git.example.com/org/x.git", "https://git.example.com/org/x.git"},
		{"https://tok3n@git.example.com/x", "https://git.example.com/x"},
		{"ssh://git@git.example.com:22/org/x.git", "ssh://git.example.com:22/org/x.git"},
		{"git@github.com:org/x.git", "github.com:org/x.git"},
		{"/srv/git/meetarchive", "/srv/git/meetarchive"},
		{"https://git.example.com/a@b", "https://git.example.com/a@b"},
		{"", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := StripUserInfo(tc.in); got != tc.want {
				t.Errorf("StripUserInfo(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestDockerfileMatches: the Dockerfile (not built here: no daemon) sets
// the entrypoint, user, working directory, environment and labels of the
// image this program builds, and copies the same rootfs files.
func TestDockerfileMatches(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	// Join continued lines, then read the final stage's instructions.
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	stage := text[strings.LastIndex(text, "\nFROM "):]
	got := map[string][]string{}
	for _, line := range strings.Split(stage, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, rest, _ := strings.Cut(line, " ")
		got[instr] = append(got[instr], strings.TrimSpace(rest))
	}
	img, err := Image(Options{Binary: staticBinary(t), Certs: testCerts(t), Created: time.Unix(0, 0), Version: "v", Revision: "r", Source: "s", Licenses: "l"})
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	entry, _ := json.Marshal(c.Entrypoint)
	checks := []struct{ instr, want string }{
		{"ENTRYPOINT", string(entry)},
		{"USER", c.User},
		{"WORKDIR", c.WorkingDir},
		{"ENV", strings.Join(c.Env, " ")},
		{"COPY", "--from=build /out/meetarchive " + BinaryPath},
		{"COPY", "--from=build --chown=" + User + " /home-nonroot/ " + Home + "/"},
	}
	for _, ch := range checks {
		if !slices.Contains(got[ch.instr], ch.want) {
			t.Errorf("Dockerfile %s %v, want %s %s", ch.instr, got[ch.instr], ch.instr, ch.want)
		}
	}
	labels := strings.Join(got["LABEL"], " ")
	for k := range c.Labels {
		if !strings.Contains(labels, k+"=") {
			t.Errorf("the Dockerfile does not set the label %s", k)
		}
	}
	if n := strings.Count(labels, "org.opencontainers.image."); n != len(c.Labels) {
		t.Errorf("the Dockerfile sets %d labels, the image %d", n, len(c.Labels))
	}
	// The files the build stage copies from the repository exist.
	for _, f := range []string{"etc/passwd", "etc/group"} {
		if !strings.Contains(text, "scripts/image/rootfs/"+f) {
			t.Errorf("the Dockerfile does not copy rootfs/%s", f)
		}
		if _, err := os.Stat(filepath.Join("rootfs", f)); err != nil {
			t.Error(err)
		}
	}
}

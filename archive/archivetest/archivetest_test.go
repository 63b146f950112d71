package archivetest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestBucketName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	seen := map[string]bool{}
	for _, name := range []string{"TestX", "TestS3Put/multipart,_all_known", strings.Repeat("Long/", 40), "Test__--//", "Ünïcode/名前"} {
		got := bucketName(name)
		if !valid.MatchString(got) || strings.Contains(got, "--") {
			t.Errorf("bucketName(%q) = %q, not a valid bucket name", name, got)
		}
		if seen[got] {
			t.Errorf("bucketName(%q) = %q repeats", name, got)
		}
		seen[got] = true
	}
	if a, b := bucketName("TestX"), bucketName("TestX"); a == b {
		t.Errorf("bucketName gives %q twice for one test name, want unique names", a)
	}
}

func TestReadExportsAndString(t *testing.T) {
	p := filepath.Join(t.TempDir(), "env")
	data := "export MEETARCHIVE_TEST_S3_ENDPOINT=http://127.0.0.1:7070\nexport MEETARCHIVE_TEST_S3_SECRET_KEY='s3cr3t'\n\n# comment\n"
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := readExports(p)
	if err != nil {
		t.Fatal(err)
	}
	if got[EnvEndpoint] != "http://127.0.0.1:7070" || got[EnvSecretKey] != "s3cr3t" {
		t.Errorf("readExports = %v", got)
	}
	env := S3Env{Endpoint: "http://127.0.0.1:7070", Region: "us-east-1", AccessKey: "ak", SecretKey: "s3cr3t"}
	for _, s := range []string{env.String(), env.GoString()} {
		if strings.Contains(s, "s3cr3t") {
			t.Errorf("S3Env printed its secret: %q", s)
		}
	}
}

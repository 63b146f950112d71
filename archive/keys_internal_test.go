package archive

import (
	"strings"
	"testing"
)

// FuzzSanitizeKey: whatever comes in, the result is a key both stores accept,
// and sanitising it again changes nothing.
func FuzzSanitizeKey(f *testing.F) {
	for _, s := range []string{"", "../../x", "/etc/passwd", `a\..\b`, "a\x00b", "\xff\xfe", ".", "..", " / ",
		"_meetarchive/x", strings.Repeat("s", 2000), strings.Repeat("会/", 600), strings.Repeat("a/", 700) + "f.mp4",
		strings.Repeat("é", 1100), "x\u202Ey", strings.Repeat(" ", 300) + "x", strings.Repeat("x ", 150) + ".mp4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := SanitizeKey(in)
		if err := checkPutKey(got); err != nil {
			t.Fatalf("SanitizeKey(%q) = %q, refused by the stores: %v", in, got, err)
		}
		if again := SanitizeKey(got); again != got {
			t.Fatalf("SanitizeKey not idempotent for %q:\n%q\n%q", in, got, again)
		}
	})
}

func TestCheckingReaderEarlyFailure(t *testing.T) {
	// A stream longer than announced fails as soon as it passes the size,
	// without reading the rest.
	src := &countingReader{r: strings.NewReader(strings.Repeat("x", 1<<20))}
	cr := newCheckingReader(t.Context(), src, Expect{Size: 10, PlatformSize: -1})
	buf := make([]byte, 4096)
	var err error
	for err == nil {
		_, err = cr.Read(buf)
	}
	if src.n > 4096 {
		t.Errorf("read %d bytes before failing, want at most one buffer", src.n)
	}
	if cr.complete() {
		t.Errorf("complete() = true after an integrity failure")
	}
}

type countingReader struct {
	r interface{ Read([]byte) (int, error) }
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestObjectMetadata(t *testing.T) {
	got := objectMetadata(Expect{PlatformSHA256: strings.Repeat("AB", 32), Metadata: map[string]string{
		"ConfUUID": "c0ffee00-0000-4000-8000-000000000001", "fileType": "Hd", "sub ject": "Réunion\nhebdo", "": "dropped"}})
	want := map[string]string{
		"confuuid":    "c0ffee00-0000-4000-8000-000000000001",
		"filetype":    "Hd",
		"sub-ject":    "=?utf-8?q?R=C3=A9union=0Ahebdo?=",
		"sha256":      strings.Repeat("ab", 32),
		"archived-by": "meetarchive",
	}
	if len(got) != len(want) {
		t.Errorf("objectMetadata = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("metadata %q = %q, want %q", k, got[k], v)
		}
	}
}

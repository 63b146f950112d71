package archive_test

import (
	"math/rand/v2"
	"path"
	"strings"
	"testing"
	"unicode/utf8"

	"meetarchive/archive"
	"meetarchive/archive/archivetest"
)

// keyTemplates are the templates the key properties are checked with: the
// default and others that put every field in a folder or a file name.
var keyTemplates = []string{
	archive.DefaultKeyTemplate,
	"{{.Subject}}/{{.ScheduserName}}/{{.ConfUUID}}/{{.FileType}}_{{.FileName}}",
	"{{.StartTime}}{{.ConfID}}/{{.ConfUUID}}/{{.Index}}-{{.FileName}}",
	"{{.ConfUUID}}/{{trunc 3 .Subject}}{{.FileType}}/{{.FileName}}",
	"{{.Year}}/{{.Month}}/{{.Day}}/{{upper .ConfUUID}}/{{.FileType}}/{{.FileName}}",
}

// checkKeyStaysInside fails t unless key is safe (archivetest.AssertSafeKey)
// and stays under a prefix once joined to it, and unless no key and no
// sidecar key can be taken for one another.
func checkKeyStaysInside(t *testing.T, key string) {
	t.Helper()
	archivetest.AssertSafeKey(t, key)
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] == 0x7f {
			t.Fatalf("key %q has control byte %#x", key, key[i])
		}
	}
	const prefix = "tenant/prefix"
	if joined := path.Join(prefix, key); !strings.HasPrefix(joined, prefix+"/") || joined == prefix+"/"+archive.SidecarDir {
		t.Fatalf("key %q joined to %q gives %q, outside it", key, prefix, joined)
	}
	sidecar, err := archive.SidecarKey("c0ffee00-0000-4000-8000-000000000001")
	if err != nil {
		t.Fatal(err)
	}
	if i, j, ok := archive.KeyCollision([]string{key, sidecar}); ok {
		t.Fatalf("KeyCollision(%q, sidecar %q) = %d, %d: an object key takes the sidecar's place", key, sidecar, i, j)
	}
}

// FuzzKeyTemplate: whatever a conference's fields hold, every template's key
// stays under its prefix, is at most MaxKeyBytes, has no "." or ".."
// segment and no control byte, is not in the sidecar area, and comes out
// the same every time.
func FuzzKeyTemplate(f *testing.F) {
	f.Add("c0ffee00-0000-4000-8000-000000000001", "Weekly", "2024-05-06 07:08", "Hd", "0_1.mp4")
	f.Add("../..", "../../etc/passwd", "/", `..\..`, "..")
	f.Add("", "", "", "", "")
	f.Add("_MEETARCHIVE", "_meetarchive", "_meetArchive/x", "_MeetArchive", ".json")
	f.Add("a\x00b", "\x1b[31m\r\n", "\u202E", "\xff\xfe", "\uFEFF.mp4")
	f.Add(strings.Repeat("u", 300), strings.Repeat("会", 700), strings.Repeat("9", 40), strings.Repeat("T", 300), strings.Repeat("n", 2000))
	f.Add("  ", " . ", "..", " .. ", "0_0.mp4 ")
	parsed := make([]*archive.KeyTemplate, len(keyTemplates))
	for i, text := range keyTemplates {
		parsed[i] = archive.MustParseKeyTemplate(text)
	}
	f.Fuzz(func(t *testing.T, confUUID, subject, startTime, fileType, fileName string) {
		fields := archive.KeyFields{ConfUUID: confUUID, ConfID: subject, Subject: subject, ScheduserName: fileType,
			StartTime: startTime, FileType: fileType, FileName: fileName, Index: len(fileName)}
		for i, kt := range parsed {
			key, err := kt.Key(fields)
			if err != nil {
				t.Fatalf("template %q: Key: %v", keyTemplates[i], err)
			}
			checkKeyStaysInside(t, key)
			if again, _ := kt.Key(fields); again != key {
				t.Fatalf("template %q: Key not deterministic: %q then %q", keyTemplates[i], key, again)
			}
		}
	})
}

// hostileRunes are what random keys are made of: path syntax, controls,
// bidi and case-folding oddities, and plain text.
var hostileRunes = []rune("aZ09_-. /\\\x00\x01\x1b\n\r\t\x7f\u0085\u202E\u2066\uFEFFéÉ会K\u212Aſſ~")

func randomKey(r *rand.Rand) string {
	var sb strings.Builder
	n := r.IntN(40)
	if r.IntN(10) == 0 {
		n = 1000 + r.IntN(1500)
	}
	for range n {
		switch r.IntN(20) {
		case 0:
			sb.WriteString("..")
		case 1:
			sb.WriteString(archive.SidecarDir)
		case 2:
			sb.WriteByte(byte(0x80 + r.IntN(0x80))) // a byte that is not UTF-8 on its own
		default:
			sb.WriteRune(hostileRunes[r.IntN(len(hostileRunes))])
		}
	}
	return sb.String()
}

// TestSanitizeKeyProperties: for random hostile input, SanitizeKey gives the
// same key every time, again when applied to its own result, and a key that
// stays under its prefix.
func TestSanitizeKeyProperties(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		in := randomKey(r)
		got := archive.SanitizeKey(in)
		if again := archive.SanitizeKey(in); again != got {
			t.Fatalf("SanitizeKey(%q) not deterministic: %q then %q", in, got, again)
		}
		if twice := archive.SanitizeKey(got); twice != got {
			t.Fatalf("SanitizeKey(%q) = %q, but sanitising that gives %q", in, got, twice)
		}
		checkKeyStaysInside(t, got)
	}
}

func TestKeyCollision(t *testing.T) {
	t.Parallel()
	sidecar, err := archive.SidecarKey("c0ffee00-0000-4000-8000-000000000001")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		keys   []string
		i, j   int
		wantOK bool
	}{
		{"none", nil, 0, 0, false},
		{"one", []string{"a/b.mp4"}, 0, 0, false},
		{"distinct", []string{"c/Hd_0_0.mp4", "c/Sd_0_0.mp4", "c/Aux_0_0.mp4"}, 0, 0, false},
		{"equal", []string{"c/Hd_0_0.mp4", "c/Sd_0_0.mp4", "c/Hd_0_0.mp4"}, 0, 2, true},
		{"equal after sanitising a trailing space", []string{archive.SanitizeKey("c/0_0.mp4"), archive.SanitizeKey("c/0_0.mp4 ")}, 0, 1, true},
		{"letter case", []string{"c/x.mp4", "c/HD.mp4", "c/hd.MP4"}, 1, 2, true},
		{"letter case in a folder", []string{"C/a.mp4", "c/a.mp4"}, 0, 1, true},
		{"unicode case folding", []string{"c/\u212A.mp4", "c/k.mp4"}, 0, 1, true},
		{"long s folds to s", []string{"c/\u017F.mp4", "c/S.mp4"}, 0, 1, true},
		{"normalisation forms differ", []string{"c/\u00e9.mp4", "c/e\u0301.mp4"}, 0, 0, false},
		{"file is a folder of a later key", []string{"c/a", "c/b", "c/a/x.mp4"}, 0, 2, true},
		{"folder of an earlier key is a file", []string{"c/a/x.mp4", "c/b", "c/A"}, 0, 2, true},
		{"folder deep down", []string{"c/a/b/c/d.mp4", "c/a/b"}, 0, 1, true},
		{"shared folders are fine", []string{"c/a/x.mp4", "c/a/y.mp4", "c/b/x.mp4"}, 0, 0, false},
		{"a longer name is not a folder", []string{"c/ab", "c/a", "c/a.mp4"}, 0, 0, false},
		{"sidecar and the objects of its conference", []string{"2024/05/c/Hd_0_1.mp4", sidecar, archive.SanitizeKey(sidecar)}, 0, 0, false},
		{"sidecar twice", []string{sidecar, "x", sidecar}, 0, 2, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			i, j, ok := archive.KeyCollision(tc.keys)
			if ok != tc.wantOK || ok && (i != tc.i || j != tc.j) {
				t.Errorf("KeyCollision(%q) = %d, %d, %v; want %d, %d, %v", tc.keys, i, j, ok, tc.i, tc.j, tc.wantOK)
			}
		})
	}
}

// FuzzKeyCollision: for two keys, KeyCollision agrees with its definition:
// equal but for case, or one a folder of the other.
func FuzzKeyCollision(f *testing.F) {
	f.Add("a/b", "A/B")
	f.Add("a/b", "a/b/c")
	f.Add("a/bc", "a/b")
	f.Add("\u212A", "k")
	f.Add("x", "y")
	f.Add("K/x", "k")
	f.Fuzz(func(t *testing.T, a, b string) {
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			return
		}
		folderOf := func(dir, key string) bool { // dir's segments begin key's, and key has more
			d, k := strings.Split(dir, "/"), strings.Split(key, "/")
			if len(k) <= len(d) {
				return false
			}
			for i := range d {
				if !strings.EqualFold(d[i], k[i]) {
					return false
				}
			}
			return true
		}
		want := strings.EqualFold(a, b) || folderOf(a, b) || folderOf(b, a)
		i, j, ok := archive.KeyCollision([]string{a, b})
		if ok != want || ok && (i != 0 || j != 1) {
			t.Fatalf("KeyCollision(%q, %q) = %d, %d, %v; want %v", a, b, i, j, ok, want)
		}
	})
}

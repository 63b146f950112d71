package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// storeFile writes content at root/key and returns its SHA-256 in hex.
func storeFile(t *testing.T, root, key, content string) string {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])
}

// sha256sumCheck runs the real `sha256sum -c sums` from root.
func sha256sumCheck(t *testing.T, root, sums string) (string, error) {
	t.Helper()
	cmd := exec.Command("sha256sum", "-c", sums)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func needSHA256Sum(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("sha256sum not installed")
	}
}

func TestSHA256SumsWithSha256sum(t *testing.T) {
	root, out := t.TempDir(), t.TempDir()
	k := func(i int, name string) string { return "meetings/2026/03/" + uuid(i) + "/" + name }
	h0 := storeFile(t, root, k(0, "Hd_0_0.mp4"), "recording zero")
	h1 := storeFile(t, root, k(0, "Hd_0_1.mp4"), "recording zero, second file")
	h2 := storeFile(t, root, k(1, "Aux_0_0.m4a"), "audio one")
	h3 := storeFile(t, root, "meetings/with space/ leading and  double.mp4", "spaces")
	rows := []Row{
		{Seq: 0, ConfUUID: uuid(0), Status: Archived, FileIndex: 0, ObjectKey: k(0, "Hd_0_0.mp4"), SHA256: h0, FinishedAt: t0},
		{Seq: 0, ConfUUID: uuid(0), Status: Archived, FileIndex: 1, ObjectKey: k(0, "Hd_0_1.mp4"), SHA256: h1, FinishedAt: t0},
		{Seq: 1, ConfUUID: uuid(1), Status: AlreadyArchived, ObjectKey: k(1, "Aux_0_0.m4a"), SHA256: h2},
		{Seq: 2, ConfUUID: uuid(1), Status: DuplicateInput, ObjectKey: k(1, "Aux_0_0.m4a"), SHA256: h2},
		// The same object again (a rerun listed twice): one line.
		{Seq: 3, ConfUUID: uuid(3), Status: AlreadyArchived, ObjectKey: k(0, "Hd_0_0.mp4"), SHA256: h0},
		{Seq: 4, ConfUUID: uuid(4), Status: Archived, ObjectKey: "meetings/with space/ leading and  double.mp4", SHA256: h3, FinishedAt: t0},
		// Not stored, or nothing to check: no line.
		{Seq: 5, ConfUUID: uuid(5), Status: Failed, ObjectKey: k(5, "Hd_0_0.mp4"), SHA256: strings.Repeat("1", 64)},
		{Seq: 6, ConfUUID: uuid(6), Status: Archived, SHA256: strings.Repeat("2", 64)},
		{Seq: 7, ConfUUID: uuid(7), Status: Planned, ObjectKey: k(7, "Hd_0_0.mp4")},
		// Paths sha256sum must not be given: left out.
		{Seq: 8, ConfUUID: uuid(8), Status: Archived, ObjectKey: "../outside.mp4", SHA256: strings.Repeat("3", 64)},
		{Seq: 9, ConfUUID: uuid(9), Status: Archived, ObjectKey: "/etc/passwd", SHA256: strings.Repeat("4", 64)},
		{Seq: 10, ConfUUID: uuid(10), Status: Archived, ObjectKey: `back\slash.mp4`, SHA256: strings.Repeat("5", 64)},
	}
	writeRun(t, out, testInfo(), shuffled(rows), ExitFailures)
	sumsPath := filepath.Join(out, SHA256Sums)
	b, err := os.ReadFile(sumsPath)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("content", func(t *testing.T) {
		want := strings.Join([]string{
			h2 + "  " + k(1, "Aux_0_0.m4a"),
			h0 + "  " + k(0, "Hd_0_0.mp4"),
			h1 + "  " + k(0, "Hd_0_1.mp4"),
			h3 + "  " + "meetings/with space/ leading and  double.mp4",
		}, "\n") + "\n"
		// Sorted by path: uuid(0) < uuid(1), so check the order properly.
		lines := strings.Split(strings.TrimSuffix(want, "\n"), "\n")
		sortByPath(lines)
		want = strings.Join(lines, "\n") + "\n"
		if string(b) != want {
			t.Errorf("%s =\n%s\nwant\n%s", SHA256Sums, b, want)
		}
	})
	t.Run("read back", func(t *testing.T) {
		got, err := ReadSHA256Sums(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 4 {
			t.Fatalf("read %d lines, want 4: %v", len(got), got)
		}
		seen := map[string]string{}
		for _, s := range got {
			seen[s.Path] = s.SHA256
		}
		for key, h := range map[string]string{k(0, "Hd_0_0.mp4"): h0, k(0, "Hd_0_1.mp4"): h1, k(1, "Aux_0_0.m4a"): h2} {
			if seen[key] != h {
				t.Errorf("%s: hash %q, want %q", key, seen[key], h)
			}
		}
	})
	t.Run("summary sheet counts", func(t *testing.T) {
		f := openXLSX(t, out)
		rows, err := f.GetRows(SheetSummary)
		if err != nil {
			t.Fatal(err)
		}
		vals := map[string]string{}
		for _, r := range rows {
			if len(r) >= 2 {
				vals[r[0]] = r[1]
			}
		}
		if got := vals[SHA256Sums+" lines"]; got != "4" {
			t.Errorf("lines = %q, want 4", got)
		}
		if got := vals[SHA256Sums+": stored objects left out (unusable path)"]; got != "3" {
			t.Errorf("left out = %q, want 3", got)
		}
		if got := vals[SHA256Sums+": stored objects without objectKey or SHA-256"]; got != "1" {
			t.Errorf("without objectKey = %q, want 1", got)
		}
	})

	needSHA256Sum(t)
	t.Run("sha256sum -c passes", func(t *testing.T) {
		if out, err := sha256sumCheck(t, root, sumsPath); err != nil {
			t.Fatalf("sha256sum -c: %v\n%s", err, out)
		}
	})
	t.Run("sha256sum -c fails after one byte changes", func(t *testing.T) {
		p := filepath.Join(root, filepath.FromSlash(k(0, "Hd_0_1.mp4")))
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		data[3] ^= 1
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := sha256sumCheck(t, root, sumsPath)
		if err == nil {
			t.Fatalf("sha256sum -c passed after a byte changed:\n%s", out)
		}
		if !strings.Contains(out, k(0, "Hd_0_1.mp4")+": FAILED") {
			t.Errorf("sha256sum -c output does not name the changed file:\n%s", out)
		}
	})
}

// sortByPath sorts "<hash>  <path>" lines by path.
func sortByPath(lines []string) {
	for i := range lines {
		for j := i + 1; j < len(lines); j++ {
			if lines[j][66:] < lines[i][66:] {
				lines[i], lines[j] = lines[j], lines[i]
			}
		}
	}
}

// TestFixityEscapes: a newline in a key is written in sha256sum's escaped
// form, which sha256sum -c reads back to the right file. (A row's objectKey
// never reaches the fixity file with a raw newline, since CleanText
// escapes it: this drives the fixity writer directly.)
func TestFixityEscapes(t *testing.T) {
	root := t.TempDir()
	keys := []string{"new\nline.mp4", "plain.mp4", "dir/tab\there.mp4", "ünïcödé 会议.mp4"}
	fx := newFixity(t.TempDir())
	want := map[string]string{}
	for i, k := range keys {
		h := storeFile(t, root, k, "content "+k)
		want[k] = h
		if err := fx.add(&Row{Status: Archived, ObjectKey: k, SHA256: h, FinishedAt: t0.Add(time.Duration(i))}); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := fx.write(&buf); err != nil {
		t.Fatal(err)
	}
	fx.close()
	if !strings.Contains(buf.String(), `\`+want["new\nline.mp4"]+`  new\nline.mp4`+"\n") {
		t.Errorf("no escaped line for the newline key in\n%s", buf.String())
	}
	got, err := ReadSHA256Sums(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	gotMap := map[string]string{}
	for _, s := range got {
		gotMap[s.Path] = s.SHA256
	}
	if !reflect.DeepEqual(gotMap, want) {
		t.Errorf("read back %v, want %v", gotMap, want)
	}
	needSHA256Sum(t)
	sums := filepath.Join(t.TempDir(), SHA256Sums)
	if err := os.WriteFile(sums, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := sha256sumCheck(t, root, sums); err != nil {
		t.Fatalf("sha256sum -c: %v\n%s", err, out)
	}
}

// TestFixitySpills: with tiny runs the external sort gives the same file as
// the in-memory sort, a conflict keeps the hash of the row that finished
// last, and no run file is left behind.
func TestFixitySpills(t *testing.T) {
	build := func(t *testing.T, runBytes, maxRuns int) (string, *fixity, string) {
		t.Helper()
		old, oldMax := fixityRunBytes, maxFixityRuns
		fixityRunBytes, maxFixityRuns = runBytes, maxRuns
		defer func() { fixityRunBytes, maxFixityRuns = old, oldMax }()
		dir := t.TempDir()
		fx := newFixity(dir)
		for i := range 500 {
			k := fmt.Sprintf("m/%03d/%d.mp4", (i*37)%250, i%2) // every key twice
			h := fmt.Sprintf("%064x", i%250)
			if i == 7 {
				h = strings.Repeat("f", 64) // a conflict: this row finished first
			}
			fin := t0.Add(time.Duration(i) * time.Second)
			if err := fx.add(&Row{Status: Archived, ObjectKey: k, SHA256: h, FinishedAt: fin}); err != nil {
				t.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if err := fx.write(&buf); err != nil {
			t.Fatal(err)
		}
		fx.close()
		return buf.String(), fx, dir
	}
	mem, fxMem, _ := build(t, 1<<30, 128)
	for _, tt := range []struct {
		name     string
		runBytes int
		maxRuns  int
	}{{"spilled", 300, 1000}, {"spilled and compacted", 300, 4}} {
		t.Run(tt.name, func(t *testing.T) {
			spilled, fxSpill, dir := build(t, tt.runBytes, tt.maxRuns)
			if mem != spilled {
				t.Errorf("spilled sort differs from the in-memory sort")
			}
			if len(fxSpill.runs) != 0 {
				t.Errorf("runs left open: %d", len(fxSpill.runs))
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("files left in the directory: %v", ents)
			}
			if fxSpill.conflicts != 1 {
				t.Errorf("conflicts = %d, want 1", fxSpill.conflicts)
			}
		})
	}
	lines := strings.Split(strings.TrimSuffix(mem, "\n"), "\n")
	if len(lines) != fxMem.lines || fxMem.lines == 0 {
		t.Errorf("%d lines, counted %d", len(lines), fxMem.lines)
	}
	prev := ""
	for _, l := range lines {
		if p := l[66:]; p <= prev {
			t.Errorf("path %q after %q: not sorted or not unique", p, prev)
		} else {
			prev = p
		}
		if strings.HasPrefix(l, strings.Repeat("f", 64)) {
			t.Errorf("line %q keeps the hash of the row that finished first", l)
		}
	}
	if fxMem.conflicts != 1 {
		t.Errorf("conflicts = %d, want 1", fxMem.conflicts)
	}
}

func TestReadSHA256SumsErrors(t *testing.T) {
	h := strings.Repeat("ab", 32)
	tests := []struct {
		name, in string
		want     []FileSum
		wantErr  string
	}{
		{"text mode", h + "  a/b.mp4\n", []FileSum{{h, "a/b.mp4"}}, ""},
		{"binary mode", h + " *a/b.mp4\n", []FileSum{{h, "a/b.mp4"}}, ""},
		{"upper-case hash", strings.ToUpper(h) + "  x\n", []FileSum{{h, "x"}}, ""},
		{"no final newline, empty lines", "\n" + h + "  x", []FileSum{{h, "x"}}, ""},
		{"escaped", `\` + h + `  a\\b\nc` + "\n", []FileSum{{h, "a\\b\nc"}}, ""},
		{"short hash", "abc  x\n", nil, "line 1"},
		{"one space", h + " x\n", nil, "line 1"},
		{"bad escape", `\` + h + `  a\qb` + "\n", nil, "line 1"},
		{"second line bad", h + "  x\nnonsense\n", nil, "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadSHA256Sums(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// ReadSHA256Sums reads a whole sha256sums.txt with ScanSHA256Sums.
func ReadSHA256Sums(r io.Reader) ([]FileSum, error) {
	var sums []FileSum
	err := ScanSHA256Sums(r, func(s FileSum) error {
		sums = append(sums, s)
		return nil
	})
	return sums, err
}

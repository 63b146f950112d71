package main

// Tests of `meetarchive bag`: the bags it writes are checked by a BagIt
// validator written here from RFC 8493 (BagIt 1.0), not with the writer's
// code, and, where it is installed, by the Library of Congress's bagit.py.

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"meetarchive/archive"
	"meetarchive/archive/archivetest"
	"meetarchive/console"
	"meetarchive/export/meetingtest"
	"meetarchive/pipeline"
	"meetarchive/report"
)

// ---- An RFC 8493 validator, independent of the writer ----

// rfcHashes are the algorithms a manifest's file name may name (§2.4).
var rfcHashes = map[string]func() hash.Hash{"md5": md5.New, "sha1": sha1.New, "sha256": sha256.New, "sha512": sha512.New}

// rfcLines splits a tag file into lines: each ends with LF, CR or CRLF (§2.1.3, §2.2.2).
func rfcLines(data []byte) []string {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// rfcDecodePath undoes §2.1.3's encoding: %0A, %0D and %25 (either case),
// and nothing else.
func rfcDecodePath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) {
			switch strings.ToUpper(p[i+1 : i+3]) {
			case "0A":
				b.WriteByte('\n')
				i += 2
				continue
			case "0D":
				b.WriteByte('\r')
				i += 2
				continue
			case "25":
				b.WriteByte('%')
				i += 2
				continue
			}
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// rfcManifest reads one manifest: decoded path -> checksum.
func rfcManifest(data []byte, name string, problems *[]string) map[string]string {
	out := map[string]string{}
	for i, line := range rfcLines(data) {
		t := strings.IndexAny(line, " \t")
		if t <= 0 {
			*problems = append(*problems, fmt.Sprintf("%s line %d: not \"checksum filepath\": %q", name, i+1, line))
			continue
		}
		sum, p := line[:t], strings.TrimLeft(line[t:], " \t")
		if p == "" {
			*problems = append(*problems, fmt.Sprintf("%s line %d: not \"checksum filepath\": %q", name, i+1, line))
			continue
		}
		p = rfcDecodePath(p)
		if _, dup := out[p]; dup {
			*problems = append(*problems, fmt.Sprintf("%s line %d: %q listed twice", name, i+1, p))
		}
		out[p] = strings.ToLower(sum)
	}
	return out
}

// rfcSum hashes a file of the bag.
func rfcSum(path string, newHash func() hash.Hash) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := newHash()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// rfcSafe: a manifest path that stays inside the bag (§2.1.3, §7.2).
func rfcSafe(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// validateBag checks that dir is a valid BagIt 1.0 bag (RFC 8493 §3):
// complete (declaration, payload directory, every payload file in every
// payload manifest and every listed file present, Payload-Oxum right) and
// every checksum of every manifest and tag manifest right; and, as this
// export promises, that a SHA-256 tag manifest covers bagit.txt,
// bag-info.txt and manifest-sha256.txt. It returns what is wrong (nil:
// valid) and bag-info.txt's elements.
func validateBag(dir string) (problems []string, info map[string][]string) {
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	info = map[string][]string{}

	// §2.1.1 the bag declaration: exactly two lines, in order, UTF-8, no BOM.
	decl, err := os.ReadFile(filepath.Join(dir, "bagit.txt"))
	if err != nil {
		bad("bagit.txt: %v", err)
		return problems, info
	}
	if bytes.HasPrefix(decl, []byte("\xef\xbb\xbf")) {
		bad("bagit.txt starts with a byte-order mark")
	}
	lines := rfcLines(decl)
	if len(lines) != 2 || !regexp.MustCompile(`^BagIt-Version: [0-9]+\.[0-9]+$`).MatchString(lines[0]) ||
		!strings.HasPrefix(lines[1], "Tag-File-Character-Encoding: ") {
		bad("bagit.txt: not the two declaration lines: %q", lines)
	} else {
		if lines[0] != "BagIt-Version: 1.0" {
			bad("bagit.txt: %s, want 1.0", lines[0])
		}
		if enc := strings.TrimPrefix(lines[1], "Tag-File-Character-Encoding: "); !strings.EqualFold(enc, "UTF-8") {
			bad("bagit.txt: encoding %q, want UTF-8", enc)
		}
	}

	// §2.1.2 the payload directory, and its files.
	payload := map[string]int64{}
	if fi, err := os.Stat(filepath.Join(dir, "data")); err != nil || !fi.IsDir() {
		bad("no data/ directory")
	}
	tagFiles := map[string]bool{}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			bad("walk: %v", err)
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			return nil
		case !d.Type().IsRegular():
			bad("%q is not a regular file", rel)
		case strings.HasPrefix(rel, "data/"):
			fi, _ := d.Info()
			payload[rel] = fi.Size()
		default:
			tagFiles[rel] = true
		}
		return nil
	})

	// §2.1.3 payload manifests: at least one; every payload file in each;
	// every listed file present, inside data/, with its checksum.
	manifests, tagManifests := 0, map[string]map[string]string{}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range tagFiles {
			if !yield(n) {
				return
			}
		}
	})
	for _, name := range names {
		var alg string
		var tag bool
		switch {
		case strings.HasPrefix(name, "manifest-") && strings.HasSuffix(name, ".txt"):
			alg = strings.TrimSuffix(strings.TrimPrefix(name, "manifest-"), ".txt")
		case strings.HasPrefix(name, "tagmanifest-") && strings.HasSuffix(name, ".txt"):
			alg, tag = strings.TrimSuffix(strings.TrimPrefix(name, "tagmanifest-"), ".txt"), true
		default:
			continue
		}
		newHash := rfcHashes[alg]
		if newHash == nil {
			bad("%s: unknown algorithm %q", name, alg)
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			bad("%s: %v", name, err)
			continue
		}
		listed := rfcManifest(data, name, &problems)
		if tag {
			tagManifests[alg] = listed
		} else {
			manifests++
			for p := range payload {
				if _, ok := listed[p]; !ok {
					bad("%s does not list payload file %q", name, p)
				}
			}
		}
		for p, want := range listed {
			switch {
			case !rfcSafe(p):
				bad("%s lists an unsafe path %q", name, p)
				continue
			case !tag && !strings.HasPrefix(p, "data/"):
				bad("%s lists %q, outside the payload", name, p)
				continue
			case tag && (strings.HasPrefix(p, "data/") || strings.HasPrefix(p, "tagmanifest-")):
				bad("%s lists %q, which is not a tag file it may list", name, p)
				continue
			}
			got, err := rfcSum(filepath.Join(dir, filepath.FromSlash(p)), newHash)
			switch {
			case err != nil:
				bad("%s lists %q: %v", name, p, err)
			case got != want:
				bad("%s: %q has %s %s, the manifest says %s", name, p, alg, got, want)
			}
		}
	}
	if manifests == 0 {
		bad("no payload manifest")
	}

	// §2.2.2 bag-info.txt: "Label: value" lines, continued by indented ones.
	if data, err := os.ReadFile(filepath.Join(dir, "bag-info.txt")); err == nil {
		var label string
		for i, line := range rfcLines(data) {
			if line != "" && (line[0] == ' ' || line[0] == '\t') && label != "" {
				vs := info[label]
				vs[len(vs)-1] += " " + strings.TrimSpace(line)
				continue
			}
			l, v, ok := strings.Cut(line, ":")
			if !ok || l == "" || strings.TrimSpace(l) != l {
				bad("bag-info.txt line %d: not \"label: value\": %q", i+1, line)
				continue
			}
			label = l
			info[l] = append(info[l], strings.TrimSpace(v))
		}
		for _, l := range []string{"Payload-Oxum", "Bagging-Date", "Bag-Size", "Bag-Group-Identifier", "Bag-Count"} {
			if len(info[l]) > 1 {
				bad("bag-info.txt repeats %s", l)
			}
		}
		if d := info["Bagging-Date"]; len(d) == 1 && !regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`).MatchString(d[0]) {
			bad("Bagging-Date %q is not YYYY-MM-DD", d[0])
		}
		// §2.2.2, §3: Payload-Oxum is the payload's octet and stream count.
		if ox := info["Payload-Oxum"]; len(ox) == 1 {
			var octets int64
			for _, n := range payload {
				octets += n
			}
			if want := fmt.Sprintf("%d.%d", octets, len(payload)); ox[0] != want {
				bad("Payload-Oxum %s, the payload is %s", ox[0], want)
			}
		}
	} else if !os.IsNotExist(err) {
		bad("bag-info.txt: %v", err)
	}

	// This export's promise: a SHA-256 tag manifest covers every tag file.
	tm := tagManifests["sha256"]
	if tm == nil {
		bad("no tagmanifest-sha256.txt")
	}
	for _, name := range []string{"bagit.txt", "bag-info.txt", "manifest-sha256.txt"} {
		if _, ok := tm[name]; tm != nil && !ok {
			bad("tagmanifest-sha256.txt does not list %s", name)
		}
	}
	slices.Sort(problems)
	return problems, info
}

// ---- helpers ----

// rfcBag writes a bag by hand, from the RFC: the payload files given
// (relative to data/), manifest-sha256.txt with their paths encoded, a
// bag-info.txt with the right Payload-Oxum and a tag manifest.
func rfcBag(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	var man strings.Builder
	var octets int64
	enc := strings.NewReplacer("%", "%25", "\n", "%0A", "\r", "%0D")
	for name, content := range files {
		p := filepath.Join(dir, "data", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o666); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(content))
		fmt.Fprintf(&man, "%x  %s\n", sum, enc.Replace("data/"+name))
		octets += int64(len(content))
	}
	tags := map[string]string{
		"bagit.txt":           "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
		"bag-info.txt":        fmt.Sprintf("Bagging-Date: 2024-05-01\nPayload-Oxum: %d.%d\nExternal-Description: a description\n  continued\n", octets, len(files)),
		"manifest-sha256.txt": man.String(),
	}
	var tm strings.Builder
	for name, content := range tags {
		bagWriteFile(t, filepath.Join(dir, name), content)
		sum := sha256.Sum256([]byte(content))
		fmt.Fprintf(&tm, "%x  %s\n", sum, name)
	}
	bagWriteFile(t, filepath.Join(dir, "tagmanifest-sha256.txt"), tm.String())
	return dir
}

func bagWriteFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o666); err != nil {
		t.Fatal(err)
	}
}

// mustValidBag fails the test unless dir validates.
func mustValidBag(t *testing.T, dir string) map[string][]string {
	t.Helper()
	problems, info := validateBag(dir)
	if len(problems) > 0 {
		t.Fatalf("bag %s is not valid:\n%s", dir, strings.Join(problems, "\n"))
	}
	return info
}

// bagDemo runs `meetarchive demo` once per test into a new directory.
func bagDemo(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "demo")
	if res := runBin(t, nil, "demo", "--dir", dir, "--quiet"); res.code != 0 {
		t.Fatalf("demo: exit %d\n%s", res.code, res.stderr)
	}
	return dir
}

// bagPayload lists a bag's payload files under data/ (slash-separated) and their SHA-256.
func bagPayload(t *testing.T, bag string) map[string]string {
	t.Helper()
	out := map[string]string{}
	root := filepath.Join(bag, "data")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = fileSHA256(t, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// archivedRows are a manifest's archived and already-archived rows.
func archivedRows(rows []map[string]string) []map[string]string {
	var out []map[string]string
	for _, r := range rows {
		if r["status"] == "archived" || r["status"] == "already-archived" {
			out = append(out, r)
		}
	}
	return out
}

// wantPayload is what a bag of these conferences must hold: each archived
// object at its objectKey with its sha256, a sidecar per conference with
// an archived object, and the manifest rows.
func checkPayload(t *testing.T, bag string, rows []map[string]string, confs map[string]bool) {
	t.Helper()
	got := bagPayload(t, bag)
	want := map[string]bool{"_meetarchive/manifest.csv": true}
	for _, r := range archivedRows(rows) {
		if !confs[r["confUUID"]] {
			continue
		}
		want[r["objectKey"]] = true
		want["_meetarchive/"+r["confUUID"]+".json"] = true
		if got[r["objectKey"]] != r["sha256"] {
			t.Errorf("data/%s: sha256 %q, the manifest says %s", r["objectKey"], got[r["objectKey"]], r["sha256"])
		}
	}
	for p := range got {
		if !want[p] && !strings.HasPrefix(p, pipeline.LedgerDir+"/") { // checkBagLedgers
			t.Errorf("data/%s is in the bag, not chosen", p)
		}
	}
	for p := range want {
		if _, ok := got[p]; !ok {
			t.Errorf("data/%s is missing from the bag", p)
		}
	}
	checkBagLedgers(t, bag)
	// The manifest rows: every row of the chosen conferences, no other.
	sub := readCSV(t, filepath.Join(bag, "data", "_meetarchive", "manifest.csv"))
	var wantRows []map[string]string
	for _, r := range rows {
		if confs[r["confUUID"]] {
			wantRows = append(wantRows, r)
		}
	}
	if len(sub) != len(wantRows) {
		t.Fatalf("data/_meetarchive/manifest.csv has %d rows, want %d", len(sub), len(wantRows))
	}
	for i := range sub {
		if fmt.Sprint(sub[i]) != fmt.Sprint(wantRows[i]) {
			t.Errorf("manifest row %d:\n got %v\nwant %v", i, sub[i], wantRows[i])
		}
	}
}

// checkBagLedgers checks the custody ledgers a bag carries, from the bag
// alone: for each Ledger-Head of bag-info.txt, one ledger at
// data/_meetarchive/ledger/<run id>.jsonl of a run External-Identifier
// names, whose chain verifies and ends at that head; a signature beside a
// ledger names its run, head and line count; nothing else is there. It
// returns the ledgers by run id.
func checkBagLedgers(t *testing.T, bag string) map[string]report.LedgerCheck {
	t.Helper()
	_, info := validateBag(bag)
	ids := info["External-Identifier"]
	dir := filepath.Join(bag, "data", filepath.FromSlash(pipeline.LedgerDir))
	ledgers := map[string]report.LedgerCheck{}
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if run, ok := strings.CutSuffix(name, ".sig.json"); ok {
			if _, err := os.Stat(filepath.Join(dir, run+".jsonl")); err != nil {
				t.Errorf("data/%s/%s: a signature without its ledger", pipeline.LedgerDir, name)
			}
			continue
		}
		run, ok := strings.CutSuffix(name, ".jsonl")
		if !ok {
			t.Errorf("data/%s/%s: neither a ledger nor a signature", pipeline.LedgerDir, name)
			continue
		}
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		c, err := report.VerifyLedger(f)
		f.Close()
		switch {
		case err != nil:
			t.Errorf("data/%s/%s: %v", pipeline.LedgerDir, name, err)
		case c.RunID != run || !slices.Contains(ids, run):
			t.Errorf("data/%s/%s: the ledger of run %q; bag-info's External-Identifier: %q", pipeline.LedgerDir, name, c.RunID, ids)
		case !slices.Contains(info["Ledger-Head"], c.Head):
			t.Errorf("data/%s/%s: head %s, not a Ledger-Head of bag-info (%q)", pipeline.LedgerDir, name, c.Head, info["Ledger-Head"])
		}
		ledgers[run] = c
		if b, err := os.ReadFile(filepath.Join(dir, run+".sig.json")); err == nil {
			var sig report.LedgerSignature
			if err := json.Unmarshal(b, &sig); err != nil || sig.RunID != run || sig.Head != c.Head || sig.Lines != c.Lines ||
				sig.Message != report.LedgerSignedMessage(run, c.Head, c.Lines) {
				t.Errorf("data/%s/%s.sig.json does not sign run %s's head %s of %d lines (%v): %s", pipeline.LedgerDir, run, run, c.Head, c.Lines, err, b)
			}
		}
	}
	for _, h := range info["Ledger-Head"] {
		found := false
		for _, c := range ledgers {
			found = found || c.Head == h
		}
		if !found {
			t.Errorf("bag-info's Ledger-Head %s: no ledger in data/%s ends at it", h, pipeline.LedgerDir)
		}
	}
	return ledgers
}

func bagConfs(rows []map[string]string, keep func(map[string]string) bool) map[string]bool {
	out := map[string]bool{}
	for _, r := range rows {
		if keep(r) {
			out[r["confUUID"]] = true
		}
	}
	return out
}

// noBagLeft checks that nothing at out, nor a temporary directory beside
// it, looks like a bag.
func noBagLeft(t *testing.T, out string) {
	t.Helper()
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s exists after a failed bag (%v)", out, err)
	}
	if tmps, _ := filepath.Glob(out + ".tmp-*"); len(tmps) > 0 {
		t.Errorf("temporary bag directories left: %v", tmps)
	}
}

// ---- tests ----

// TestBagValidatorFromRFC: the validator accepts a bag written by hand
// from the RFC (names with a line feed, a carriage return and a percent
// sign, encoded in the manifest) and catches each way a bag can be wrong.
func TestBagValidatorFromRFC(t *testing.T) {
	files := map[string]string{
		"a.mp4":                "recording",
		"dir/line\nbreak.txt":  "lf",
		"dir/carriage\rr.txt":  "cr",
		"dir/100%.txt":         "percent",
		"dir/100%25 known.txt": "a name with %25 in it",
	}
	if problems, info := validateBag(rfcBag(t, files)); len(problems) > 0 {
		t.Fatalf("a valid bag: %v", problems)
	} else if got := info["External-Description"]; len(got) != 1 || got[0] != "a description continued" {
		t.Errorf("continued bag-info value: %q", got)
	}
	tests := []struct {
		name  string
		spoil func(t *testing.T, dir string)
		want  string // in one of the problems
	}{
		{"one payload byte changed", func(t *testing.T, dir string) { flipByte(t, filepath.Join(dir, "data", "a.mp4"), 0) }, `"data/a.mp4" has sha256`},
		{"payload file not listed", func(t *testing.T, dir string) { bagWriteFile(t, filepath.Join(dir, "data", "extra"), "") }, `does not list payload file "data/extra"`},
		{"listed file missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "data", "dir", "line\nbreak.txt")) }, `"data/dir/line\nbreak.txt": open`},
		{"percent not encoded", func(t *testing.T, dir string) {
			bagRewrite(t, filepath.Join(dir, "manifest-sha256.txt"), "data/dir/100%2525 known.txt", "data/dir/100%25 known.txt")
		}, `does not list payload file "data/dir/100%25 known.txt"`},
		{"line feed not encoded", func(t *testing.T, dir string) {
			bagRewrite(t, filepath.Join(dir, "manifest-sha256.txt"), "line%0Abreak", "line\nbreak")
		}, `not "checksum filepath"`},
		{"wrong Payload-Oxum", func(t *testing.T, dir string) {
			bagRewrite(t, filepath.Join(dir, "bag-info.txt"), "Payload-Oxum: ", "Payload-Oxum: 1")
		}, "Payload-Oxum 1"},
		{"bag-info edited after the tag manifest", func(t *testing.T, dir string) {
			bagRewrite(t, filepath.Join(dir, "bag-info.txt"), "2024-05-01", "2024-05-02")
		}, `"bag-info.txt" has sha256`},
		{"tag manifest without bag-info", func(t *testing.T, dir string) {
			bagDropLine(t, filepath.Join(dir, "tagmanifest-sha256.txt"), "bag-info.txt")
		}, "does not list bag-info.txt"},
		{"version 0.97", func(t *testing.T, dir string) {
			bagRewrite(t, filepath.Join(dir, "bagit.txt"), "1.0", "0.97")
		}, "want 1.0"},
		{"no declaration", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "bagit.txt")) }, "bagit.txt: open"},
		{"no payload manifest", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "manifest-sha256.txt")) }, "no payload manifest"},
		{"path out of the bag", func(t *testing.T, dir string) {
			bagAppendLine(t, filepath.Join(dir, "manifest-sha256.txt"), strings.Repeat("0", 64)+"  data/../bagit.txt")
		}, "unsafe path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := rfcBag(t, files)
			tt.spoil(t, dir)
			problems, _ := validateBag(dir)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tt.want) }) {
				t.Errorf("problems %q, want one containing %q", problems, tt.want)
			}
		})
	}
}

func bagRewrite(t *testing.T, p, old, new string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s has no %q", p, old)
	}
	bagWriteFile(t, p, strings.Replace(string(b), old, new, 1))
}

func bagDropLine(t *testing.T, p, substr string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if !strings.Contains(l, substr) {
			keep = append(keep, l)
		}
	}
	bagWriteFile(t, p, strings.Join(keep, ""))
}

func bagAppendLine(t *testing.T, p, line string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	bagWriteFile(t, p, string(b)+line+"\n")
}

// TestBagOfDemoArchive: a bag of the demo's archive passes the validator,
// holds every archived object at its key with the manifest's SHA-256, each
// conference's sidecar and the manifest rows, says where it came from in
// bag-info.txt, and fails the validator after one byte of one recording
// changes.
func TestBagOfDemoArchive(t *testing.T) {
	demo := bagDemo(t)
	manifest := filepath.Join(demo, "report", "manifest.csv")
	rows := readCSV(t, manifest)
	sum, err := report.ReadSummary(filepath.Join(demo, "report", "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "bag")
	res := runBin(t, nil, "bag", "--manifest", manifest, "--dest", filepath.Join(demo, "archive"), "--out", out,
		"--organization", "Example Corp\nLegal")
	if res.code != 0 {
		t.Fatalf("bag: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if got := strings.TrimSpace(res.stdout); got != console.AbsPath(out) {
		t.Errorf("stdout %q, want the bag's path %s", got, console.AbsPath(out))
	}
	quiet := filepath.Join(t.TempDir(), "bag")
	if res := runBin(t, nil, "bag", "--manifest", manifest, "--dest", filepath.Join(demo, "archive"), "--out", quiet, "--quiet"); res.code != 0 || res.stdout != "" {
		t.Errorf("bag --quiet: exit %d, stdout %q; want 0 and nothing", res.code, res.stdout)
	}
	info := mustValidBag(t, out)
	for label, want := range map[string]string{
		"External-Identifier": sum.RunID,
		"Source-Organization": "Example Corp Legal",
	} {
		if got := info[label]; len(got) != 1 || got[0] != want {
			t.Errorf("bag-info %s: %q, want %q", label, got, want)
		}
	}
	if got := info["Bag-Software-Agent"]; len(got) != 1 || !strings.HasPrefix(got[0], "meetarchive ") {
		t.Errorf("bag-info Bag-Software-Agent: %q", got)
	}
	if sum.Ledger == nil {
		t.Fatal("the demo's summary.json names no custody ledger")
	}
	if got := info["Ledger-Head"]; len(got) != 1 || got[0] != sum.Ledger.Head {
		t.Errorf("bag-info Ledger-Head: %q, want the run's ledger head %q", got, sum.Ledger.Head)
	}
	all := bagConfs(rows, func(map[string]string) bool { return true })
	checkPayload(t, out, rows, all)
	// The run's custody ledger, from the bag alone: its chain verifies and
	// ends at bag-info's Ledger-Head; the manifest lists it (validated).
	ledger := filepath.Join(out, "data", filepath.FromSlash(pipeline.LedgerKey(sum.RunID)))
	f, err := os.Open(ledger)
	if err != nil {
		t.Fatalf("the bag holds no custody ledger: %v", err)
	}
	c, err := report.VerifyLedger(f)
	f.Close()
	if err != nil || c.Head != sum.Ledger.Head || c.RunID != sum.RunID {
		t.Errorf("data/%s: run %q head %s (%v), want run %s head %s", pipeline.LedgerKey(sum.RunID), c.RunID, c.Head, err, sum.RunID, sum.Ledger.Head)
	}
	if man := string(fileBytes(t, filepath.Join(out, "manifest-sha256.txt"))); !strings.Contains(man, "  data/"+pipeline.LedgerKey(sum.RunID)+"\n") {
		t.Errorf("manifest-sha256.txt does not list the ledger:\n%s", man)
	}
	if _, err := os.Stat(filepath.Join(out, "data", filepath.FromSlash(pipeline.LedgerSignatureKey(sum.RunID)))); !os.IsNotExist(err) {
		t.Errorf("an unsigned run's bag holds a signature (%v)", err)
	}

	// One byte of one recording changes: the bag no longer validates, and
	// the validator names that file.
	victim := archivedRows(rows)[2]["objectKey"]
	flipByte(t, filepath.Join(out, "data", filepath.FromSlash(victim)), 100)
	problems, _ := validateBag(out)
	if len(problems) != 1 || !strings.Contains(problems[0], `"data/`+victim+`" has sha256`) {
		t.Errorf("after one byte changed: problems %q, want one naming data/%s", problems, victim)
	}
}

// TestBagChoosesConferences: --uuids, --from/--to and the manifest's own
// objectURIs (no --dest) each give a valid bag of exactly what they choose;
// what cannot be given is refused without a bag.
func TestBagChoosesConferences(t *testing.T) {
	demo := bagDemo(t)
	manifest := filepath.Join(demo, "report", "manifest.csv")
	rows := readCSV(t, manifest)
	archived := archivedRows(rows)
	first, second := archived[0]["confUUID"], archived[len(archived)-1]["confUUID"]
	pending := ""
	for _, r := range rows {
		if r["status"] == "pending-transcode" {
			pending = r["confUUID"]
		}
	}
	dashed := func(u string) string { // the same UUID as a person may write it
		return strings.ToUpper(u[:8] + "-" + u[8:12] + "-" + u[12:16] + "-" + u[16:20] + "-" + u[20:])
	}
	list := func(t *testing.T, lines ...string) string {
		p := filepath.Join(t.TempDir(), "uuids.csv")
		bagWriteFile(t, p, strings.Join(lines, "\n")+"\n")
		return p
	}
	inDays := func(from, to string) func(map[string]string) bool {
		return func(r map[string]string) bool {
			d, _, _ := strings.Cut(r["startTime"], " ")
			return d >= from && d <= to
		}
	}
	tests := []struct {
		name  string
		args  func(t *testing.T) []string
		confs map[string]bool
	}{
		{"uuids", func(t *testing.T) []string {
			return []string{"--uuids", list(t, "confUUID", dashed(first), second, second)}
		}, map[string]bool{first: true, second: true}},
		{"date range", func(t *testing.T) []string { return []string{"--from", "2024-03-05", "--to", "2024-03-07"} },
			bagConfs(rows, inDays("2024-03-05", "2024-03-07"))},
		{"date range with pending conference", func(t *testing.T) []string { return []string{"--from", "2024-03-08"} },
			bagConfs(rows, inDays("2024-03-08", "9999"))},
		{"uuids and date range", func(t *testing.T) []string {
			return []string{"--uuids", list(t, first, second), "--to", "2024-03-05"}
		}, bagConfs(rows, func(r map[string]string) bool { return r["confUUID"] == first })},
		{"whole manifest from objectURIs", func(t *testing.T) []string { return nil },
			bagConfs(rows, func(map[string]string) bool { return true })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.confs) == 0 {
				t.Fatal("the test chooses nothing")
			}
			out := filepath.Join(t.TempDir(), "bag")
			args := append([]string{"bag", "--manifest", manifest, "--out", out, "--quiet"}, tt.args(t)...)
			if res := runBin(t, nil, args...); res.code != 0 {
				t.Fatalf("%v: exit %d\n%s%s", args, res.code, res.stdout, res.stderr)
			}
			mustValidBag(t, out)
			checkPayload(t, out, rows, tt.confs)
		})
	}

	refused := []struct {
		name string
		args func(t *testing.T, out string) []string
		code int
		want string // on stdout (exit 1) or stderr (exit 2)
	}{
		{"unknown conference", func(t *testing.T, out string) []string {
			return []string{"--uuids", list(t, first, "00000000000000000000000000000000")}
		}, 1, "conference 00000000000000000000000000000000: not in the manifest"},
		{"conference with nothing archived", func(t *testing.T, out string) []string {
			return []string{"--uuids", list(t, pending)}
		}, 1, "conference " + pending + ": nothing archived"},
		{"invalid uuid line", func(t *testing.T, out string) []string {
			return []string{"--uuids", list(t, first, "not-a-uuid")}
		}, 2, `"not-a-uuid" is not a conference UUID`},
		{"empty date range", func(t *testing.T, out string) []string { return []string{"--from", "2030-01-01"} }, 2, "no conference"},
		{"to before from", func(t *testing.T, out string) []string {
			return []string{"--from", "2024-03-05", "--to", "2024-03-04"}
		}, 2, "is before --from"},
		{"non-empty out", func(t *testing.T, out string) []string {
			if err := os.MkdirAll(out, 0o777); err != nil {
				t.Fatal(err)
			}
			bagWriteFile(t, filepath.Join(out, "keep.txt"), "mine")
			return nil
		}, 2, "is not empty"},
	}
	for _, tt := range refused {
		t.Run("refused/"+tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "bag")
			args := append([]string{"bag", "--manifest", manifest, "--out", out, "--quiet"}, tt.args(t, out)...)
			res := runBin(t, nil, args...)
			msg := res.stdout
			if tt.code == 2 {
				msg = res.stderr
			}
			if res.code != tt.code || !strings.Contains(msg, tt.want) {
				t.Fatalf("exit %d, want %d with %q\nstdout: %s\nstderr: %s", res.code, tt.code, tt.want, res.stdout, res.stderr)
			}
			if tt.name == "non-empty out" {
				if b, err := os.ReadFile(filepath.Join(out, "keep.txt")); err != nil || string(b) != "mine" {
					t.Errorf("the existing --out was touched: %q, %v", b, err)
				}
				if names, _ := os.ReadDir(out); len(names) != 1 {
					t.Errorf("--out holds %d entries, want its 1", len(names))
				}
				return
			}
			noBagLeft(t, out)
		})
	}
	t.Run("empty out directory", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "bag")
		if err := os.Mkdir(out, 0o777); err != nil {
			t.Fatal(err)
		}
		if res := runBin(t, nil, "bag", "--manifest", manifest, "--out", out, "--quiet", "--uuids", list(t, first)); res.code != 0 {
			t.Fatalf("exit %d\n%s", res.code, res.stderr)
		}
		mustValidBag(t, out)
	})
}

// bagCopyReport copies a report directory's manifest.csv (with edit applied
// to its rows) and summary.json into a new directory.
func bagCopyReport(t *testing.T, from string, edit func(header []string, rec []string)) string {
	t.Helper()
	dir := t.TempDir()
	f, err := os.Open(filepath.Join(from, "manifest.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs[1:] {
		edit(recs[0], rec)
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.WriteAll(recs)
	bagWriteFile(t, filepath.Join(dir, "manifest.csv"), b.String())
	sum, err := os.ReadFile(filepath.Join(from, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	bagWriteFile(t, filepath.Join(dir, "summary.json"), string(sum))
	return filepath.Join(dir, "manifest.csv")
}

func bagCol(header []string, name string) int { return slices.Index(header, name) }

// TestBagFailsWhenTheArchiveDisagrees: an object whose bytes differ from
// the manifest's SHA-256 (either side changed), a missing object or a
// sidecar that contradicts the manifest fails the bag with exit 1, naming
// the object, and leaves no bag; the other objects are still checked, so
// that every bad one is named.
func TestBagFailsWhenTheArchiveDisagrees(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(t *testing.T, demo string, rows []map[string]string) (manifest string, named []string)
	}{
		{"manifest sha256 differs", func(t *testing.T, demo string, rows []map[string]string) (string, []string) {
			victim := archivedRows(rows)[1]
			m := bagCopyReport(t, filepath.Join(demo, "report"), func(h, rec []string) {
				if rec[bagCol(h, "objectKey")] == victim["objectKey"] {
					rec[bagCol(h, "sha256")] = strings.Repeat("ab", 32)
				}
			})
			// The sidecar, which lists the object's real SHA-256, disagrees too.
			sc := filepath.Join(demo, "archive", "_meetarchive", victim["confUUID"]+".json")
			return m, []string{"mismatch\t" + victim["objectURI"], "mismatch\t" + sc}
		}},
		{"stored objects changed and deleted", func(t *testing.T, demo string, rows []map[string]string) (string, []string) {
			a, b := archivedRows(rows)[0], archivedRows(rows)[4]
			flipByte(t, a["objectURI"], 7)
			if err := os.Remove(b["objectURI"]); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(demo, "report", "manifest.csv"), []string{"mismatch\t" + a["objectURI"], "missing\t" + b["objectURI"]}
		}},
		{"sidecar contradicts the manifest", func(t *testing.T, demo string, rows []map[string]string) (string, []string) {
			victim := archivedRows(rows)[3]
			sc := filepath.Join(demo, "archive", "_meetarchive", victim["confUUID"]+".json")
			bagRewrite(t, sc, `"Bytes": `+victim["bytes"], `"Bytes": 1`+victim["bytes"])
			return filepath.Join(demo, "report", "manifest.csv"), []string{"mismatch\t" + sc}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			demo := bagDemo(t)
			rows := readCSV(t, filepath.Join(demo, "report", "manifest.csv"))
			manifest, named := tt.spoil(t, demo, rows)
			wantBagRefused(t, manifest, filepath.Join(demo, "archive"), named)
		})
	}
}

// memOpener is a store in memory, for names no store would accept.
type memOpener map[string]string

func (m memOpener) URI(key string) string { return "mem:" + key }

func (m memOpener) Open(_ context.Context, key string) (io.ReadCloser, error) {
	s, ok := m[key]
	if !ok {
		return nil, archive.ErrNotExist
	}
	return io.NopCloser(strings.NewReader(s)), nil
}

// TestBagEncodesAwkwardNames: payload names with a line feed, a carriage
// return and percent signs are percent-encoded as RFC 8493 §2.1.3 says,
// and the bag validates.
func TestBagEncodesAwkwardNames(t *testing.T) {
	objs := memOpener{
		"a/line\nfeed.mp4":      "one",
		"a/carriage\rret.mp4":   "two",
		"a/100%.mp4":            "three",
		"a/already%25coded.mp4": "four",
		"b/plain.mp4":           "",
	}
	var b pipeline.Bag
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range objs {
			if !yield(k) {
				return
			}
		}
	}) {
		sum := sha256.Sum256([]byte(objs[k]))
		b.Objects = append(b.Objects, pipeline.BagObject{Path: k, Store: objs, Key: k, URI: "mem:" + k,
			SHA256: hex.EncodeToString(sum[:]), Bytes: int64(len(objs[k]))})
	}
	b.Files = []pipeline.BagFile{{Path: "rows.csv", Fill: func(w io.Writer) error { _, err := io.WriteString(w, "x\n"); return err }}}
	out := filepath.Join(t.TempDir(), "bag")
	res, err := pipeline.WriteBag(context.Background(), out, b)
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 6 || res.Bytes != int64(len("onetwothreefourx\n")) {
		t.Errorf("result %d files %d bytes, want 6 and %d", res.Files, res.Bytes, len("onetwothreefourx\n"))
	}
	mustValidBag(t, out)
	man, err := os.ReadFile(filepath.Join(out, "manifest-sha256.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"data/a/line%0Afeed.mp4\n", "data/a/carriage%0Dret.mp4\n", "data/a/100%25.mp4\n", "data/a/already%2525coded.mp4\n"} {
		if !strings.Contains(string(man), "  "+want) {
			t.Errorf("manifest-sha256.txt has no line ending %q:\n%s", want, man)
		}
	}
}

// TestBagFromS3: a bag of an archive in a real S3 server (by --dest, and
// by the manifest's s3:// objectURIs) validates and fails after one byte
// changes; an object overwritten in the bucket fails the bag.
func TestBagFromS3(t *testing.T) {
	b := archivetest.NewBucket(t, archivetest.BucketOptions{})
	ds := meetingtest.GenerateFiles(3, 2, 3<<20, 41)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 41, RecordInfo: true})
	dir := t.TempDir()
	report := filepath.Join(dir, "report")
	env := s3Env(sim, b)
	if res := runBin(t, env, "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", b.URI("arch"), "--out", report); res.code != 0 {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	manifest := filepath.Join(report, "manifest.csv")
	rows := readCSV(t, manifest)
	if len(archivedRows(rows)) != 6 {
		t.Fatalf("%d archived rows, want 6", len(archivedRows(rows)))
	}
	all := bagConfs(rows, func(map[string]string) bool { return true })
	for _, tt := range []struct {
		name string
		args []string
	}{{"dest", []string{"--dest", b.URI("arch")}}, {"objectURIs", nil}} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "bag")
			res := runBin(t, env, append([]string{"bag", "--manifest", manifest, "--out", out, "--quiet"}, tt.args...)...)
			if res.code != 0 {
				t.Fatalf("bag: exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
			mustValidBag(t, out)
			checkPayload(t, out, rows, all)
			victim := archivedRows(rows)[5]["objectKey"]
			flipByte(t, filepath.Join(out, "data", filepath.FromSlash(victim)), 3<<20-1)
			if problems, _ := validateBag(out); len(problems) != 1 || !strings.Contains(problems[0], victim) {
				t.Errorf("after one byte changed: %q", problems)
			}
		})
	}
	t.Run("object overwritten", func(t *testing.T) {
		victim := archivedRows(rows)[2]
		if _, err := b.Client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(b.Name),
			Key: aws.String(keyOf(b, victim["objectURI"])), Body: strings.NewReader("not the recording")}); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "bag")
		res := runBin(t, env, "bag", "--manifest", manifest, "--dest", b.URI("arch"), "--out", out, "--quiet")
		if res.code != 1 || !strings.Contains(res.stdout, "mismatch\t"+victim["objectURI"]) {
			t.Fatalf("exit %d, want 1 naming %s\n%s%s", res.code, victim["objectURI"], res.stdout, res.stderr)
		}
		noBagLeft(t, out)
	})
	t.Run("ledger deleted", func(t *testing.T) {
		var sum struct { // report is the report directory here
			RunID  string                `json:"runId"`
			Ledger *struct{ URI string } `json:"ledger"`
		}
		if err := json.Unmarshal(fileBytes(t, filepath.Join(report, "summary.json")), &sum); err != nil || sum.Ledger == nil {
			t.Fatalf("summary.json states no ledger (%v)", err)
		}
		if _, err := b.Client.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(b.Name),
			Key: aws.String("arch/" + pipeline.LedgerKey(sum.RunID))}); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "bag")
		res := runBin(t, env, "bag", "--manifest", manifest, "--out", out, "--quiet")
		if res.code != 1 || !strings.Contains(res.stdout, "missing\t"+sum.Ledger.URI) {
			t.Fatalf("exit %d, want 1 naming %s\n%s%s", res.code, sum.Ledger.URI, res.stdout, res.stderr)
		}
		noBagLeft(t, out)
	})
}

// TestBagValidatesWithBagitPy: the Library of Congress's bagit.py, where it
// is installed, finds a bag of the demo valid, and not after one byte of a
// recording changes.
func TestBagValidatesWithBagitPy(t *testing.T) {
	bagit, err := exec.LookPath("bagit.py")
	if err != nil {
		t.Skip("bagit.py is not installed (Debian's python3-bagit, where the release ships it): the validator written from the RFC still ran")
	}
	demo := bagDemo(t)
	out := filepath.Join(t.TempDir(), "bag")
	if res := runBin(t, nil, "bag", "--manifest", filepath.Join(demo, "report", "manifest.csv"), "--out", out, "--quiet"); res.code != 0 {
		t.Fatalf("bag: exit %d\n%s", res.code, res.stderr)
	}
	if b, err := exec.Command(bagit, "--validate", out).CombinedOutput(); err != nil {
		t.Fatalf("bagit.py --validate: %v\n%s", err, b)
	}
	rows := archivedRows(readCSV(t, filepath.Join(demo, "report", "manifest.csv")))
	flipByte(t, filepath.Join(out, "data", filepath.FromSlash(rows[0]["objectKey"])), 0)
	if b, err := exec.Command(bagit, "--validate", out).CombinedOutput(); err == nil {
		t.Fatalf("bagit.py --validate accepted a changed recording:\n%s", b)
	}
}

// TestBagFromAReplicaNamesTheReplica: bag --dest REPLICA reads every
// object from the replica, and a changed or missing one there is named at
// its place in the replica, not at the manifest's objectURI in the archive
// it was copied from (a tester was sent to an intact original).
func TestBagFromAReplicaNamesTheReplica(t *testing.T) {
	demo, manifest, rows, replica := demoReplica(t)
	changed, gone := rows[0], rows[4]
	flipByte(t, filepath.Join(replica, filepath.FromSlash(changed["objectKey"])), 7)
	if err := os.Remove(filepath.Join(replica, filepath.FromSlash(gone["objectKey"]))); err != nil {
		t.Fatal(err)
	}
	res := wantBagRefused(t, manifest, replica, []string{
		"mismatch\t" + filepath.Join(replica, filepath.FromSlash(changed["objectKey"])),
		"missing\t" + filepath.Join(replica, filepath.FromSlash(gone["objectKey"])),
	})
	if strings.Contains(res.stdout, filepath.Join(demo, "archive")) {
		t.Errorf("stdout names the intact original archive:\n%s", res.stdout)
	}
}

// TestVerifyAReplica: verify --manifest M --dest REPLICA checks each row's
// object by its objectKey in the replica, as bag --dest does (it refused
// with exit 2, "not under --dest"): an intact replica exits 0, and a byte
// changed there is named at its place in the replica.
func TestVerifyAReplica(t *testing.T) {
	_, manifest, rows, replica := demoReplica(t)
	if res := runBin(t, nil, "verify", "--manifest", manifest, "--dest", replica); res.code != 0 {
		t.Fatalf("an intact replica: exit %d, want 0\n%s%s", res.code, res.stdout, res.stderr)
	}
	changed := filepath.Join(replica, filepath.FromSlash(rows[2]["objectKey"]))
	flipByte(t, changed, 3)
	res := runBin(t, nil, "verify", "--manifest", manifest, "--dest", replica)
	if res.code != 1 || !strings.Contains(res.stdout+res.stderr, changed) {
		t.Errorf("a changed byte in the replica: exit %d, want 1 naming %s\n%s%s", res.code, changed, res.stdout, res.stderr)
	}
}

// demoReplica is the demo's run (its directory, manifest and archived
// rows) and a copy of its archive elsewhere (the replica).
func demoReplica(t *testing.T) (demo, manifest string, rows []map[string]string, replica string) {
	t.Helper()
	demo = bagDemo(t)
	manifest = filepath.Join(demo, "report", "manifest.csv")
	rows = archivedRows(readCSV(t, manifest))
	replica = filepath.Join(t.TempDir(), "replica")
	copyTree(t, filepath.Join(demo, "archive"), replica)
	return demo, manifest, rows, replica
}

// TestBagCarriesLedgers: a bag of a merged report of two signed shards
// (by --dest, and by the ledger URIs the shards' summaries give) carries
// each shard's custody ledger and signature, which verify from the bag
// alone (the signature with the public key, which the bag does not hold);
// a ledger or signature changed, replaced or deleted in the destination
// fails the bag with exit 1, named, and leaves no bag.
func TestBagCarriesLedgers(t *testing.T) {
	ds := meetingtest.GenerateFiles(4, 1, 8<<10, 83)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 83})
	dir := t.TempDir()
	priv, pub := keyPair(t, dir, "signer")
	in, dest := writeInput(t, dir, ds.UUIDs()...), filepath.Join(dir, "archive")
	var shards, runs []string
	var heads []string
	for k := range 2 {
		out := filepath.Join(dir, "shard", fmt.Sprint(k))
		env := simEnv(sim)
		env["JOB_COMPLETION_INDEX"] = fmt.Sprint(k)
		if res := runBin(t, env, "run", "--input", in, "--dest", dest, "--out", out, "--shard", "/2", "--sign-key", priv); res.code != 0 {
			t.Fatalf("shard %d: exit %d\n%s", k, res.code, res.stderr)
		}
		sum, err := report.ReadSummary(filepath.Join(out, report.SummaryJSON))
		if err != nil || sum.Ledger == nil || sum.Ledger.SignatureURI == "" {
			t.Fatalf("shard %d: summary.json states no signed ledger (%v)", k, err)
		}
		shards, runs, heads = append(shards, out), append(runs, sum.RunID), append(heads, sum.Ledger.Head)
	}
	merged := filepath.Join(dir, "merged")
	if res := runBin(t, nil, append([]string{"merge", "--out", merged}, shards...)...); res.code != 0 {
		t.Fatalf("merge: exit %d\n%s", res.code, res.stderr)
	}
	manifest := filepath.Join(merged, report.ManifestCSV)
	rows := readCSV(t, manifest)
	pubKey, err := report.ParsePublicKey(fileBytes(t, pub))
	if err != nil {
		t.Fatal(err)
	}

	// A merge given the shards relative to its working directory, bagged
	// from another one: the shards are recorded absolute, so the bag
	// finds their ledgers (a tester's bag left them out, exit 0).
	t.Run("merged from relative paths, bagged from elsewhere", func(t *testing.T) {
		rel := filepath.Join(t.TempDir(), "merged")
		cmd, _, stderr := binCommand(nil, "merge", "--out", rel, "0", "1")
		cmd.Dir = filepath.Join(dir, "shard")
		if err := cmd.Run(); err != nil {
			t.Fatalf("merge: %v\n%s", err, stderr)
		}
		sum, err := report.ReadSummary(filepath.Join(rel, report.SummaryJSON))
		if err != nil || !slices.Equal(sum.MergedFrom, shards) || len(sum.ShardLedgers) != 2 {
			t.Fatalf("merged summary: from %q, %d shard ledgers (%v); want %q and 2", sum.MergedFrom, len(sum.ShardLedgers), err, shards)
		}
		out := filepath.Join(t.TempDir(), "bag")
		cmd, stdout, stderr := binCommand(nil, "bag", "--manifest", filepath.Join(rel, report.ManifestCSV), "--out", out, "--quiet")
		cmd.Dir = "/"
		if err := cmd.Run(); err != nil {
			t.Fatalf("bag: %v\n%s%s", err, stdout, stderr)
		}
		if got := mustValidBag(t, out)["Ledger-Head"]; !slices.Equal(got, heads) {
			t.Errorf("bag-info Ledger-Head %q, want the shards' %q", got, heads)
		}
		if got := checkBagLedgers(t, out); len(got) != 2 {
			t.Errorf("%d ledgers in the bag, want the 2 shards'", len(got))
		}
	})

	for _, tt := range []struct {
		name string
		args []string
	}{{"dest", []string{"--dest", dest}}, {"ledger URIs", nil}} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "bag")
			if res := runBin(t, nil, append([]string{"bag", "--manifest", manifest, "--out", out, "--quiet"}, tt.args...)...); res.code != 0 {
				t.Fatalf("bag: exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
			info := mustValidBag(t, out)
			checkPayload(t, out, rows, bagConfs(rows, func(map[string]string) bool { return true }))
			if got := info["Ledger-Head"]; !slices.Equal(got, heads) {
				t.Errorf("bag-info Ledger-Head %q, want the shards' %q", got, heads)
			}
			ledgers := checkBagLedgers(t, out)
			for i, run := range runs {
				c, ok := ledgers[run]
				if !ok || c.Head != heads[i] {
					t.Errorf("shard %d's ledger (run %s): in the bag %v, head %s, want %s", i, run, ok, c.Head, heads[i])
					continue
				}
				var sig report.LedgerSignature
				if err := json.Unmarshal(fileBytes(t, filepath.Join(out, "data", filepath.FromSlash(pipeline.LedgerSignatureKey(run)))), &sig); err != nil {
					t.Fatalf("shard %d's signature: %v", i, err)
				}
				if err := sig.Verify(pubKey, c); err != nil {
					t.Errorf("shard %d's signature from the bag: %v", i, err)
				}
			}
		})
	}

	ledgerOf := func(root string, i int) string {
		return filepath.Join(root, filepath.FromSlash(pipeline.LedgerKey(runs[i])))
	}
	sigOf := func(root string, i int) string {
		return filepath.Join(root, filepath.FromSlash(pipeline.LedgerSignatureKey(runs[i])))
	}
	for _, tt := range []struct {
		name  string
		spoil func(t *testing.T, replica string) (named []string)
	}{
		{"ledger edited (one byte)", func(t *testing.T, replica string) []string {
			flipByte(t, ledgerOf(replica, 0), 60)
			return []string{"mismatch\t" + ledgerOf(replica, 0)}
		}},
		{"ledger deleted", func(t *testing.T, replica string) []string {
			if err := os.Remove(ledgerOf(replica, 1)); err != nil {
				t.Fatal(err)
			}
			return []string{"missing\t" + ledgerOf(replica, 1)}
		}},
		{"ledger replaced by another run's", func(t *testing.T, replica string) []string {
			bagWriteFile(t, ledgerOf(replica, 0), string(fileBytes(t, ledgerOf(replica, 1))))
			return []string{"mismatch\t" + ledgerOf(replica, 0)}
		}},
		{"signature deleted", func(t *testing.T, replica string) []string {
			if err := os.Remove(sigOf(replica, 0)); err != nil {
				t.Fatal(err)
			}
			return []string{"missing\t" + sigOf(replica, 0)}
		}},
		{"signature of another head", func(t *testing.T, replica string) []string {
			bagRewrite(t, sigOf(replica, 1), heads[1], strings.Repeat("0", 64))
			return []string{"mismatch\t" + sigOf(replica, 1)}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			replica := filepath.Join(t.TempDir(), "replica")
			copyTree(t, dest, replica)
			wantBagRefused(t, manifest, replica, tt.spoil(t, replica))
		})
	}
}

// TestBagOfARunsLedgerAsItsSummaryStates: what the summary.json beside the
// manifest says of the run's ledger decides what the bag carries: no head
// (a dry run, an old report) carries no ledger and is bagged as before,
// even with the ledger gone; a head with no ledger uri (the run could not
// store it in the destination) is bagged with the report's copy of the
// ledger, checked the same, and refused as missing without one, as a head
// nobody could check.
func TestBagOfARunsLedgerAsItsSummaryStates(t *testing.T) {
	demo := bagDemo(t)
	sum, err := report.ReadSummary(filepath.Join(demo, "report", report.SummaryJSON))
	if err != nil || sum.Ledger == nil {
		t.Fatalf("the demo's summary states no ledger (%v)", err)
	}
	ledger := filepath.Join(demo, "archive", filepath.FromSlash(pipeline.LedgerKey(sum.RunID)))
	tests := []struct {
		name       string
		edit       func(l map[string]any) any // the summary's "ledger"
		removeFile bool                       // the ledger is gone from the archive
		copyLedger bool                       // the report's copy of the ledger is beside its summary
		args       []string
		code       int
		want       string // on stdout, exit 1
		carried    bool
	}{
		{"no ledger head", func(map[string]any) any { return nil }, true, false, nil, 0, "", false},
		{"no ledger uri: the report's copy", func(l map[string]any) any { delete(l, "uri"); return l }, true, true, nil, 0, "", true},
		{"no ledger uri, --dest: the report's copy", func(l map[string]any) any { delete(l, "uri"); return l }, true, true,
			[]string{"--dest", filepath.Join(demo, "archive")}, 0, "", true},
		{"no ledger uri, no copy", func(l map[string]any) any { delete(l, "uri"); return l }, false, false, nil, 1, "missing\t", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			manifest := bagCopyReport(t, filepath.Join(demo, "report"), func([]string, []string) {})
			sumPath := filepath.Join(filepath.Dir(manifest), report.SummaryJSON)
			var m map[string]any
			if err := json.Unmarshal(fileBytes(t, sumPath), &m); err != nil {
				t.Fatal(err)
			}
			m["ledger"] = tt.edit(m["ledger"].(map[string]any))
			b, _ := json.Marshal(m)
			bagWriteFile(t, sumPath, string(b))
			if tt.copyLedger {
				bagWriteFile(t, filepath.Join(filepath.Dir(manifest), report.LedgerFile), string(fileBytes(t, filepath.Join(demo, "report", report.LedgerFile))))
			}
			if tt.removeFile {
				saved := fileBytes(t, ledger)
				if err := os.Remove(ledger); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { bagWriteFile(t, ledger, string(saved)) })
			}
			out := filepath.Join(t.TempDir(), "bag")
			res := runBin(t, nil, append([]string{"bag", "--manifest", manifest, "--out", out, "--quiet"}, tt.args...)...)
			if res.code != tt.code || !strings.Contains(res.stdout, tt.want) {
				t.Fatalf("exit %d, want %d with %q\n%s%s", res.code, tt.code, tt.want, res.stdout, res.stderr)
			}
			if tt.code != 0 {
				noBagLeft(t, out)
				return
			}
			info := mustValidBag(t, out)
			ledgers := checkBagLedgers(t, out)
			if _, ok := ledgers[sum.RunID]; ok != tt.carried || len(info["Ledger-Head"]) != len(ledgers) {
				t.Errorf("ledgers carried %v, Ledger-Head %q; want carried %v", slices.Collect(maps.Keys(ledgers)), info["Ledger-Head"], tt.carried)
			}
		})
	}
}

// wantBagRefused bags manifest from dest and wants it refused (exit 1, no
// bag left), each of named on stdout and the count of failed objects; it
// returns the result.
func wantBagRefused(t *testing.T, manifest, dest string, named []string) result {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bag")
	res := runBin(t, nil, "bag", "--manifest", manifest, "--dest", dest, "--out", out, "--quiet")
	if res.code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", res.code, res.stdout, res.stderr)
	}
	for _, n := range named {
		if !strings.Contains(res.stdout, n) {
			t.Errorf("stdout does not name %q:\n%s", n, res.stdout)
		}
	}
	if want := fmt.Sprintf("no bag written: %d of ", len(named)); !strings.Contains(res.stdout, want) {
		t.Errorf("stdout does not say %q:\n%s", want, res.stdout)
	}
	noBagLeft(t, out)
	return res
}

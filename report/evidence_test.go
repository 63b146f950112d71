package report

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestEvidenceRowsDoNotCountAsRecordings: a conference's evidence rows,
// stored or missing, leave its status, the counts, Files, BytesArchived,
// failures.csv and the exit code as its recordings make them; the stored
// ones are in sha256sums.txt and Summary.Evidence counts both kinds.
func TestEvidenceRowsDoNotCountAsRecordings(t *testing.T) {
	sha := func(c string) string { return strings.Repeat(c, 64) }
	ev := func(seq, idx int, name string) Row {
		return Row{Seq: seq, ConfUUID: uuid(seq), Status: Archived, FileIndex: idx, FileType: FileTypeEvidence, FileName: name,
			ObjectURI: "/a/" + uuid(seq) + "/evidence_" + name, ObjectKey: uuid(seq) + "/evidence_" + name, Bytes: 7, SHA256: sha("e"), FinishedAt: t0}
	}
	gap := func(seq, idx int, name, code string) Row {
		return Row{Seq: seq, ConfUUID: uuid(seq), Status: Unavailable, FileIndex: idx, FileType: FileTypeEvidence, FileName: name,
			ErrorCode: code, ErrorMessage: name + " refused", Hint: "archived; ask an administrator", FinishedAt: t0}
	}
	media := archivedRow(0)
	media.ObjectKey = uuid(0) + "/Hd_0_0.mp4"
	again := ev(1, 1, "details.json")
	again.Status = AlreadyArchived
	pendingConf := Row{Seq: 2, ConfUUID: uuid(2), Status: PendingTranscode, ErrorCode: "pending-transcode", FinishedAt: t0}
	rows := []Row{
		media, ev(0, 1, "details.json"), gap(0, 2, "attendees.json", "evidence-not-permitted"), gap(0, 3, "controls.json", "evidence-not-deployed"),
		{Seq: 1, ConfUUID: uuid(1), Status: AlreadyArchived, FileType: "Hd", FileName: "0_0.mp4", ObjectKey: uuid(1) + "/Hd_0_0.mp4",
			ObjectURI: "/a/" + uuid(1), Bytes: 10, SHA256: sha("b"), FinishedAt: t0},
		again, gap(1, 2, "history.json", "evidence-not-permitted"),
		pendingConf,
	}
	dir := t.TempDir()
	w, err := NewWriter(dir, testInfo())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	want := map[Status]int{}
	for _, s := range Statuses() {
		want[s] = 0
	}
	want[Archived], want[AlreadyArchived], want[PendingTranscode] = 1, 1, 1
	if got := w.Counts(); !reflect.DeepEqual(got, want) {
		t.Errorf("Counts() = %v, want %v", got, want)
	}
	exit := ExitCode(w.Counts(), false, false)
	if exit != ExitOK {
		t.Errorf("ExitCode = %d, want 0", exit)
	}
	sum, err := w.Close(exit)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sum.Counts, want) {
		t.Errorf("Summary.Counts = %v, want %v", sum.Counts, want)
	}
	if sum.Conferences != 3 || sum.Files != 2 || sum.Rows != len(rows) || sum.BytesArchived != 10 {
		t.Errorf("Conferences, Files, Rows, BytesArchived = %d, %d, %d, %d; want 3, 2, %d, 10",
			sum.Conferences, sum.Files, sum.Rows, sum.BytesArchived, len(rows))
	}
	wantEv := EvidenceSummary{Objects: 2, Bytes: 14, Gaps: map[string]int{"evidence-not-permitted": 2, "evidence-not-deployed": 1}}
	if !reflect.DeepEqual(sum.Evidence, wantEv) {
		t.Errorf("Summary.Evidence = %+v, want %+v", sum.Evidence, wantEv)
	}
	if sum.Verdict.Level != LevelAmber {
		t.Errorf("verdict %s %q, want amber (one pending; evidence changes nothing)", sum.Verdict.Level, sum.Verdict.Text)
	}
	if got := readFailures(t, dir); !slices.Equal(got, []string{uuid(2)}) {
		t.Errorf("failures.csv lists %v, want only the pending conference", got)
	}
	f, err := os.Open(filepath.Join(dir, SHA256Sums))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sums, err := ReadSHA256Sums(f)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, s := range sums {
		paths = append(paths, s.Path)
	}
	wantPaths := []string{uuid(0) + "/Hd_0_0.mp4", uuid(0) + "/evidence_details.json", uuid(1) + "/Hd_0_0.mp4", uuid(1) + "/evidence_details.json"}
	slices.Sort(wantPaths)
	if !slices.Equal(paths, wantPaths) {
		t.Errorf("sha256sums.txt paths %v, want %v", paths, wantPaths)
	}
}

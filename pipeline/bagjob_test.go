package pipeline

import (
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// bagManifest writes a manifest.csv of rows, each given by column.
func bagManifest(t *testing.T, rows ...map[string]string) string {
	t.Helper()
	cols := strings.Split("seq,confUUID,confID,subject,scheduserName,startTime,recordingSecs,status,fileIndex,fileType,fileName,objectURI,bytes,sha256,platformSha256,versionId,lockMode,retainUntil,legalHold,deleted,attempts,errorCode,errorMessage,estimatedBytes,finishedAt,recordAuthType,isDecodeFinish,available,decodeEndTimeUTC,rcdSize,playbackURL,objectKey,hint,startTimeLocal", ",")
	path := filepath.Join(t.TempDir(), "manifest.csv")
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(fh)
	_ = w.Write(cols)
	for i, r := range rows {
		rec := make([]string, len(cols))
		for j, c := range cols {
			rec[j] = r[c]
		}
		rec[0] = string(rune('0' + i))
		_ = w.Write(rec)
	}
	w.Flush()
	if err := errors.Join(w.Error(), fh.Close()); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestExportBag: the bag job's refusals, each with its hooks and its
// error (the exit code), and no bag written.
func TestExportBag(t *testing.T) {
	const conf = "000000000000000000000000000000ff"
	row := map[string]string{"confUUID": conf, "startTime": "2019-12-19 02:07", "status": "archived", "fileIndex": "0", "fileType": "Hd", "fileName": "0_0.mp4",
		"objectURI": "file:///nowhere/rec/a.mp4", "objectKey": "rec/a.mp4", "bytes": "3", "sha256": strings.Repeat("ab", 32)}
	noURI := map[string]string{}
	for k, v := range row {
		noURI[k] = v
	}
	noURI["objectURI"] = ""
	tests := []struct {
		name       string
		manifest   string
		sel        BagSelection
		wantUsage  string
		wantFailed string
		problems   int
		failures   bool
		notWritten string
	}{
		{name: "no manifest", manifest: filepath.Join(t.TempDir(), "none.csv"), wantUsage: "bag: --manifest "},
		{name: "nothing chosen", manifest: bagManifest(t, row), sel: BagSelection{From: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}, wantUsage: "bag: no conference of "},
		{name: "a row names no object", manifest: bagManifest(t, noURI), wantFailed: "bag: no bag written: 1 problems (listed above)", problems: 1, notWritten: "no bag written: 1 problems"},
		{name: "an object is missing", manifest: bagManifest(t, row), wantFailed: "bag: no bag written: ", failures: true, notWritten: "no bag written: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "bag")
			var problems, failures int
			var line string
			hooks := BagHooks{
				Problem:    func(string) { problems++ },
				Failure:    func(BagFailure) { failures++ },
				NotWritten: func(l string) { line = l },
			}
			cfg := BagConfig{Manifest: tt.manifest, Out: out, Dest: t.TempDir(), Selection: tt.sel, Agent: "test"}
			_, err := ExportBag(context.Background(), cfg, hooks)
			var ue *UsageError
			switch {
			case tt.wantUsage != "":
				if !errors.As(err, &ue) || !strings.HasPrefix(err.Error(), tt.wantUsage) {
					t.Fatalf("err %v, want a usage error %q", err, tt.wantUsage)
				}
			case !errors.Is(err, ErrItemsFailed) || !strings.HasPrefix(err.Error(), tt.wantFailed):
				t.Fatalf("err %v, want a failure %q", err, tt.wantFailed)
			}
			if problems != tt.problems || (failures > 0) != tt.failures || !strings.HasPrefix(line, tt.notWritten) || (tt.notWritten == "") != (line == "") {
				t.Errorf("%d problems, %d failures, line %q; want %d, %v, %q", problems, failures, line, tt.problems, tt.failures, tt.notWritten)
			}
			if _, err := os.Stat(filepath.Join(out, "bagit.txt")); err == nil {
				t.Error("a bag was written")
			}
		})
	}
}

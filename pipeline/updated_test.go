package pipeline

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"meetarchive/archive"
	"meetarchive/export"
	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

// updatedSim is a simulator with one conference of two files of 1 MiB
// each (rcdSize 2 MB), archived once by the returned job. linkCalls is
// what that run's one Links call cost in requests of the links API
// (downloadurls pages until a short page).
func updatedSim(t *testing.T, links string, opts Options) (sim *meetingtest.Server, j *Job, c meetingtest.Conference, linkCalls int64) {
	t.Helper()
	ds := genDataset(1, 2, 1<<20, 83)
	sim = newSim(t, meetingtest.Config{Dataset: ds, Seed: 83, RecordInfo: links == "recordinfo"})
	j = newTestJob(t, sim, links, opts)
	c = ds.Conferences[0]
	rows, fatal := j.conference(context.Background(), Item{ConfUUID: c.ConfUUID})
	if fatal != nil {
		t.Fatal(fatal)
	}
	for _, r := range rows {
		if r.Status != report.Archived {
			t.Fatalf("first run: %s %s: %s %s", r.FileType, r.FileName, r.Status, r.ErrorMessage)
		}
	}
	ctr := sim.Counters()
	return sim, j, c, ctr.DownloadURLs + ctr.RecordInfo
}

// listed is what a date-range run knows of the conference: the list API's
// details (Discover), for free.
func listed(t *testing.T, j *Job, c meetingtest.Conference) map[string]export.Recording {
	t.Helper()
	start, err := time.Parse(meetingtest.StartTimeLayout, c.StartTime)
	if err != nil {
		t.Fatal(err)
	}
	_, known, err := Discover(context.Background(), j.API.(Lister), export.ListQuery{From: start.Add(-time.Hour), To: start.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return known
}

// mediaOf is the files the simulator served in full since from (an index
// into Served), as "type/name".
func mediaOf(sim *meetingtest.Server, from int) []string {
	var got []string
	for _, s := range sim.Served()[from:] {
		got = append(got, s.FileType+"/"+s.Name)
	}
	slices.Sort(got)
	return got
}

func statusesOf(rows []report.Row) []string {
	var got []string
	for _, r := range rows {
		got = append(got, r.FileType+"/"+r.FileName+"="+string(r.Status))
	}
	return got
}

// TestFilesAddedLater: a conference that gains a third file after it was
// archived. A run that knows nothing new of it (an input run, no
// --recheck) skips it without an API call; a date-range run (its listed
// rcdSize grew) and a --recheck run ask for its files and archive the third
// one only: the first two are not downloaded again, the sidecar lists all
// three, and the next run finds it already archived without asking.
func TestFilesAddedLater(t *testing.T) {
	tests := []struct {
		name        string
		recheck     string
		dateRange   bool
		wantUpdated bool
		wantLinks   int64 // Links calls of the second run
		wantDetails int64
	}{
		{name: "input run without recheck skips it", wantLinks: 0},
		{name: "date range with a changed rcdSize", dateRange: true, wantUpdated: true, wantLinks: 1},
		{name: "recheck on an input run", recheck: "--recheck", wantUpdated: true, wantLinks: 1, wantDetails: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sim, j, c, linkCalls := updatedSim(t, "downloadurls", Options{Tool: "test"})
			if err := sim.AddFile(c.ConfUUID, meetingtest.File{FileType: meetingtest.FileTypeHd, Name: "9_9.mp4", Size: 1 << 20}); err != nil {
				t.Fatal(err)
			}
			j.Options.Recheck = tc.recheck
			if tc.dateRange {
				j.Known = listed(t, j, c)
			}
			before, served := sim.Counters(), len(sim.Served())
			rows, fatal := j.conference(context.Background(), Item{ConfUUID: c.ConfUUID})
			if fatal != nil {
				t.Fatal(fatal)
			}
			after := sim.Counters()
			if got, want := after.DownloadURLs-before.DownloadURLs, tc.wantLinks*linkCalls; got != want {
				t.Errorf("downloadurls requests: got %d, want %d (%d Links calls)", got, want, tc.wantLinks)
			}
			if got := after.Details - before.Details; got != tc.wantDetails {
				t.Errorf("details calls: got %d, want %d", got, tc.wantDetails)
			}
			var wantMedia []string
			if tc.wantUpdated {
				wantMedia = []string{"Hd/9_9.mp4"}
			}
			if got := mediaOf(sim, served); !slices.Equal(got, wantMedia) {
				t.Errorf("media downloaded: got %v, want %v (the first two never again)", got, wantMedia)
			}
			var want []string
			for _, f := range c.Files {
				want = append(want, f.FileType+"/"+f.Name+"="+string(report.AlreadyArchived))
			}
			if tc.wantUpdated {
				want = append(want, "Hd/9_9.mp4="+string(report.Updated))
			}
			if got := statusesOf(rows); !slices.Equal(got, want) {
				t.Fatalf("rows: got %v, want %v", got, want)
			}
			if !tc.wantUpdated {
				return
			}
			new := rows[2]
			if new.SHA256 != sim.FileSHA256(c.ConfUUID, "Hd", "9_9.mp4") || new.Bytes != 1<<20 || new.FileIndex != 2 {
				t.Errorf("new row: sha256 %s bytes %d index %d, want the file's (%s, %d) at index 2", new.SHA256, new.Bytes, new.FileIndex, sim.FileSHA256(c.ConfUUID, "Hd", "9_9.mp4"), 1<<20)
			}
			sc, err := archive.GetSidecar(context.Background(), j.Store, c.ConfUUID)
			if err != nil {
				t.Fatal(err)
			}
			if len(sc.Files) != 3 || len(sc.Updates) != 1 || !slices.Equal(sc.Updates[0].Added, []string{new.ObjectKey}) {
				t.Errorf("sidecar: %d files, updates %+v; want 3 files and one update adding %s", len(sc.Files), sc.Updates, new.ObjectKey)
			}
			if d := DetailsChanged(sc.Details, listed(t, j, c)[c.ConfUUID]); d != "" {
				t.Errorf("sidecar details differ from the platform's latest: %s", d)
			}

			// The next run: nothing new, nothing asked.
			j.Options.Recheck = ""
			j.Known = listed(t, j, c)
			before = sim.Counters()
			rows, fatal = j.conference(context.Background(), Item{ConfUUID: c.ConfUUID})
			if fatal != nil {
				t.Fatal(fatal)
			}
			for _, r := range rows {
				if r.Status != report.AlreadyArchived {
					t.Errorf("third run: %s %s: %s, want already-archived", r.FileType, r.FileName, r.Status)
				}
			}
			if got := sim.Counters().DownloadURLs - before.DownloadURLs; got != 0 || len(rows) != 3 {
				t.Errorf("third run: %d rows, %d downloadurls calls; want 3 rows and none", len(rows), got)
			}
		})
	}
}

// TestChangedFileKeepsTheOldBytes: record info gives each file's size and
// SHA-256; a file the platform now serves with another size is archived at
// a key of its own (file-changed), and the object archived before keeps
// its bytes.
func TestChangedFileKeepsTheOldBytes(t *testing.T) {
	sim, j, c, _ := updatedSim(t, "recordinfo", Options{Tool: "test", Recheck: "--recheck"})
	ctx := context.Background()
	sc, err := archive.GetSidecar(ctx, j.Store, c.ConfUUID)
	if err != nil {
		t.Fatal(err)
	}
	changed := c.Files[0]
	sim.Update(c.ConfUUID, func(c *meetingtest.Conference) { c.Files[0].Size += 1000 })
	served := len(sim.Served())
	rows, fatal := j.conference(ctx, Item{ConfUUID: c.ConfUUID})
	if fatal != nil {
		t.Fatal(fatal)
	}
	if got, want := mediaOf(sim, served), []string{changed.FileType + "/" + changed.Name}; !slices.Equal(got, want) {
		t.Errorf("media downloaded: got %v, want %v", got, want)
	}
	if len(rows) != 3 {
		t.Fatalf("got %d rows, want 3: %v", len(rows), statusesOf(rows))
	}
	newRow := rows[2]
	var oldRow report.Row
	var old archive.SidecarFile
	for i, f := range sc.Files {
		if f.FileType == newRow.FileType && f.Name == newRow.FileName {
			old, oldRow = f, rows[i]
		}
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"old row status", oldRow.Status, report.AlreadyArchived},
		{"old row key", oldRow.ObjectKey, old.Key},
		{"old row names the new key", strings.Contains(oldRow.ErrorMessage, newRow.ObjectKey), true},
		{"new row status", newRow.Status, report.Updated},
		{"new row code", newRow.ErrorCode, string(CodeFileChanged)},
		{"new row key", newRow.ObjectKey, revisionKey(old.Key, 2)},
		{"new row bytes", newRow.Bytes, old.Bytes + 1000},
		{"new row sha256", newRow.SHA256, sim.FileSHA256(c.ConfUUID, changed.FileType, changed.Name)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
	t.Run("old object keeps its bytes", func(t *testing.T) {
		if err := archive.VerifyObject(ctx, j.Store, archive.Object{Key: old.Key, Bytes: old.Bytes, SHA256: old.SHA256}); err != nil {
			t.Error(err)
		}
	})
	t.Run("sidecar lists both", func(t *testing.T) {
		sc, err := archive.GetSidecar(ctx, j.Store, c.ConfUUID)
		if err != nil {
			t.Fatal(err)
		}
		last := sc.Files[len(sc.Files)-1]
		if len(sc.Files) != 3 || last.Supersedes != old.Key || last.Key != newRow.ObjectKey {
			t.Errorf("sidecar files %+v; want 3, the last superseding %s", sc.Files, old.Key)
		}
	})
}

// TestRevisionKey: the revision sits before the extension.
func TestRevisionKey(t *testing.T) {
	tests := []struct{ key, want string }{
		{"2024/05/abc/Hd/0_0.mp4", "2024/05/abc/Hd/0_0.v2.mp4"},
		{"abc/0_0", "abc/0_0.v2"},
		{"a.b/c.tar.gz", "a.b/c.tar.v2.gz"},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			if got := revisionKey(tc.key, 2); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestDetailsChanged: only the fields that tell of files count, and only
// where both answers carry them.
func TestDetailsChanged(t *testing.T) {
	kept := []byte(`{"confUUID":"a","rcdSize":2,"rcdTime":60,"subject":"x","isDecodeFinish":true,"available":true}`)
	tests := []struct {
		name string
		now  export.Recording
		want string
	}{
		{"same", export.Recording{RcdSize: 2, RcdTime: 60, Subject: "y", IsDecodeFinish: true, Available: true, Missing: export.FieldDecodeEndTime}, ""},
		{"rcdSize grew", export.Recording{RcdSize: 3, RcdTime: 60, IsDecodeFinish: true, Available: true}, "rcdSize 2 MB → 3 MB"},
		{"transcoding again", export.Recording{RcdSize: 2, RcdTime: 60, Available: true}, "isDecodeFinish true → false"},
		{"missing now", export.Recording{Missing: export.FieldRcdSize | export.FieldRcdTime, IsDecodeFinish: true, Available: true}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := DetailsChanged(kept, tc.now); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

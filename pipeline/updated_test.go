package pipeline

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"meetarchive/archive"
	"meetarchive/export"
	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

// updatedSim is a simulator with one conference of two files of 1 MiB
// each (rcdSize 2 MB), archived once by the returned job.
func updatedSim(t *testing.T, links string, opts Options) (sim *meetingtest.Server, j *Job, c meetingtest.Conference) {
	t.Helper()
	ds := meetingtest.GenerateFiles(1, 2, 1<<20, 83)
	sim = meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 83, RecordInfo: links == "recordinfo"})
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
	return sim, j, c
}

// listed is what a date-range run knows of the conference: the list API's
// details (Discover), for free.
func listed(t *testing.T, j *Job, c meetingtest.Conference) map[string]export.Recording {
	t.Helper()
	start, err := time.Parse(meetingtest.StartTimeLayout, c.StartTime)
	if err != nil {
		t.Fatal(err)
	}
	api := j.API
	if lc, ok := api.(*linkCounter); ok {
		api = lc.API
	}
	_, known, err := Discover(context.Background(), api.(Lister), export.ListQuery{From: start.Add(-time.Hour), To: start.Add(time.Hour)})
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
		wantLinks   int // Links calls of the second run
		wantDetails int64
	}{
		{name: "input run without recheck skips it", wantLinks: 0},
		{name: "date range with a changed rcdSize", dateRange: true, wantUpdated: true, wantLinks: 1},
		{name: "recheck on an input run", recheck: "--recheck", wantUpdated: true, wantLinks: 1, wantDetails: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sim, j, c := updatedSim(t, "downloadurls", Options{Tool: "test"})
			if err := sim.AddFile(c.ConfUUID, meetingtest.File{FileType: meetingtest.FileTypeHd, Name: "9_9.mp4", Size: 1 << 20}); err != nil {
				t.Fatal(err)
			}
			j.Options.Recheck = tc.recheck
			if tc.dateRange {
				j.Known = listed(t, j, c)
			}
			links := &linkCounter{API: j.API, calls: map[string]int{}}
			j.API = links
			before, served := sim.Counters(), len(sim.Served())
			rows, fatal := j.conference(context.Background(), Item{ConfUUID: c.ConfUUID})
			if fatal != nil {
				t.Fatal(fatal)
			}
			after := sim.Counters()
			if got := links.total(); got != tc.wantLinks {
				t.Errorf("Links calls: got %d, want %d", got, tc.wantLinks)
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
			for _, r := range rows { // every row with the platform's details now
				if r.RcdSize == nil || *r.RcdSize != 3 {
					t.Errorf("%s/%s: rcdSize %v, want 3 (the platform's now)", r.FileType, r.FileName, r.RcdSize)
				}
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
			before, calls := sim.Counters(), links.total()
			rows, fatal = j.conference(context.Background(), Item{ConfUUID: c.ConfUUID})
			if fatal != nil {
				t.Fatal(fatal)
			}
			for _, r := range rows {
				if r.Status != report.AlreadyArchived {
					t.Errorf("third run: %s %s: %s, want already-archived", r.FileType, r.FileName, r.Status)
				}
			}
			if got := links.total() - calls; got != 0 || len(rows) != 3 || sim.Counters().DownloadURLs != before.DownloadURLs {
				t.Errorf("third run: %d rows, %d Links calls; want 3 rows and none", len(rows), got)
			}
		})
	}
}

// TestChangedFileKeepsTheOldBytes: record info gives each file's size and
// SHA-256; a file the platform now serves with another size is archived at
// a key of its own (file-changed), and the object archived before keeps
// its bytes.
func TestChangedFileKeepsTheOldBytes(t *testing.T) {
	sim, j, c := updatedSim(t, "recordinfo", Options{Tool: "test", Recheck: "--recheck"})
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

// linkCounter counts the pipeline's Links calls (the simulator counts
// requests: a Links call of downloadurls is one request, or two when the
// client must prove a short page was the last).
type linkCounter struct {
	API
	mu    sync.Mutex
	calls map[string]int
}

func (l *linkCounter) Links(ctx context.Context, confUUID string) ([]export.File, error) {
	l.mu.Lock()
	l.calls[confUUID]++
	l.mu.Unlock()
	return l.API.Links(ctx, confUUID)
}

func (l *linkCounter) total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, c := range l.calls {
		n += c
	}
	return n
}

// TestRecheckCost measures what re-checking costs in API calls, over a
// run of five archived conferences of a date range, one of which gained a
// file: the listed details find that one for free (one Links call); a
// --recheck asks for every conference's files (five Links calls). Neither
// asks for details (the list gave them), and only the new file is
// downloaded.
func TestRecheckCost(t *testing.T) {
	tests := []struct {
		name      string
		recheck   string
		wantLinks int // Links calls
	}{
		{name: "date range: listed details", wantLinks: 1},
		{name: "date range with --recheck", recheck: "--recheck", wantLinks: 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := meetingtest.GenerateFiles(5, 2, 1<<20, 89)
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 89})
			j := newTestJob(t, sim, "downloadurls", Options{Tool: "test", Concurrency: 2})
			lister := j.API.(Lister)
			q := export.ListQuery{From: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC)}
			run := func() (*rowSink, meetingtest.Counters) {
				t.Helper()
				items, known, err := Discover(context.Background(), lister, q)
				if err != nil || len(items) != 5 {
					t.Fatalf("listed %d, %v; want 5", len(items), err)
				}
				j.Known = known
				before := sim.Counters()
				var sink rowSink
				res := j.Run(context.Background(), context.Background(), slices.Values(items), &sink)
				if res.Fatal != nil || res.WriteErr != nil {
					t.Fatal(res)
				}
				after := sim.Counters()
				after.DownloadURLs -= before.DownloadURLs
				after.Details -= before.Details
				after.Media -= before.Media
				return &sink, after
			}
			run()
			u := ds.Conferences[3].ConfUUID
			if err := sim.AddFile(u, meetingtest.File{FileType: meetingtest.FileTypeHd, Name: "9_9.mp4", Size: 1 << 20}); err != nil {
				t.Fatal(err)
			}
			j.Options.Recheck = tc.recheck
			links := &linkCounter{API: j.API, calls: map[string]int{}}
			j.API = links
			sink, second := run()
			if got := links.total(); got != tc.wantLinks {
				t.Errorf("Links calls %d, want %d", got, tc.wantLinks)
			}
			if got := second.DownloadURLs; got < int64(tc.wantLinks) || got > 2*int64(tc.wantLinks) {
				t.Errorf("downloadurls requests %d, want %d to %d", got, tc.wantLinks, 2*tc.wantLinks)
			}
			t.Logf("re-check: %d Links calls, %d downloadurls requests, %d details calls, %d media requests", links.total(), second.DownloadURLs, second.Details, second.Media)
			if second.Details != 0 || second.Media != 1 {
				t.Errorf("details calls %d, media requests %d; want 0 and 1", second.Details, second.Media)
			}
			updated := map[string]int{}
			for _, r := range sink.rows {
				if r.Status == report.Updated {
					updated[r.ConfUUID]++
				}
			}
			if len(updated) != 1 || updated[u] != 1 {
				t.Errorf("updated rows by conference %v, want one for %s", updated, u)
			}
		})
	}
}

// TestRecheckFailedKeepsTheArchive: a re-check whose links call is refused
// reports the archived files as they are and the conference as failed
// (recheck-failed); a dry run asks for nothing and says it would.
func TestRecheckFailedKeepsTheArchive(t *testing.T) {
	tests := []struct {
		name       string
		dryRun     bool
		wantStatus []report.Status
		wantCode   string
		wantLinks  bool
	}{
		{name: "links refused", wantStatus: []report.Status{report.AlreadyArchived, report.AlreadyArchived, report.Failed}, wantCode: string(CodeRecheckFailed), wantLinks: true},
		{name: "dry run", dryRun: true, wantStatus: []report.Status{report.AlreadyArchived, report.AlreadyArchived}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sim, j, c := updatedSim(t, "downloadurls", Options{Tool: "test"})
			if err := sim.SetFaults([]meetingtest.Fault{{Endpoint: meetingtest.EndpointDownloadURLs, Kind: meetingtest.FaultStatus, Status: 403}}); err != nil {
				t.Fatal(err)
			}
			j.Options.Recheck, j.Options.DryRun = "--recheck", tc.dryRun
			before := sim.Counters().DownloadURLs
			rows, fatal := j.conference(context.Background(), Item{ConfUUID: c.ConfUUID})
			if fatal != nil {
				t.Fatal(fatal)
			}
			var got []report.Status
			for _, r := range rows {
				got = append(got, r.Status)
			}
			if !slices.Equal(got, tc.wantStatus) {
				t.Fatalf("statuses %v, want %v", got, tc.wantStatus)
			}
			if last := rows[len(rows)-1]; tc.wantCode != "" && (last.ErrorCode != tc.wantCode || last.Hint == "") {
				t.Errorf("last row code %q hint %q, want %s with a hint", last.ErrorCode, last.Hint, tc.wantCode)
			}
			if asked := sim.Counters().DownloadURLs > before; asked != tc.wantLinks {
				t.Errorf("links asked: %v, want %v", asked, tc.wantLinks)
			}
		})
	}
}

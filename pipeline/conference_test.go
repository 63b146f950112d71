package pipeline

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"meetarchive/archive"
	"meetarchive/export"
	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

// newTestJob is the pipeline wired to the simulator and a directory store.
func newTestJob(t *testing.T, sim *meetingtest.Server, links string, opts Options) *Job {
	t.Helper()
	return testJob(t, export.Config{BaseURL: sim.URL, Rate: 500, Links: export.LinkSource(links),
		Credentials: export.Credentials{AppID: meetingtest.DefaultAppID, AppKey: meetingtest.DefaultAppKey}}, opts)
}

// testJob is the pipeline with a client made from cfg, a directory store,
// the default key template and short pipeline retries.
func testJob(t *testing.T, cfg export.Config, opts Options) *Job {
	t.Helper()
	client, err := export.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	store, err := archive.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if opts.Retry.MaxAttempts == 0 {
		opts.Retry.MaxAttempts = 3
	}
	opts.Retry.Base, opts.Retry.Max = time.Millisecond, 10*time.Millisecond
	return &Job{API: client, Store: store, Keys: archive.MustParseKeyTemplate(archive.DefaultKeyTemplate),
		Log: slog.New(slog.DiscardHandler), Progress: NoProgress{}, Options: opts}
}

// TestLinksRefreshedForLongConferences: a conference whose downloads outlast
// its links gets fresh links (proactively by age, or after a refused token)
// and is archived whole.
func TestLinksRefreshedForLongConferences(t *testing.T) {
	tests := []struct {
		name        string
		linkMaxAge  time.Duration
		wantRefused bool
	}{
		{name: "refresh by age before the token expires", linkMaxAge: 100 * time.Millisecond},
		{name: "refused expired token retried with fresh links", linkMaxAge: time.Hour, wantRefused: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := meetingtest.GenerateFiles(1, 3, 256<<10, 59)
			// Each file takes ~250 ms; links expire after 400 ms.
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 59, LinkLifetime: 400 * time.Millisecond, MediaRate: 1 << 20})
			j := newTestJob(t, sim, "downloadurls", Options{LinkMaxAge: tc.linkMaxAge})
			rows, fatal := j.conference(context.Background(), Item{ConfUUID: ds.Conferences[0].ConfUUID})
			if fatal != nil {
				t.Fatal(fatal)
			}
			if len(rows) != 3 {
				t.Fatalf("got %d rows, want 3: %+v", len(rows), rows)
			}
			for _, r := range rows {
				if r.Status != report.Archived {
					t.Errorf("%s: %s %s %s", r.FileName, r.Status, r.ErrorCode, r.ErrorMessage)
				}
			}
			c := sim.Counters()
			if refused := c.TokenRefused > 0; refused != tc.wantRefused {
				t.Errorf("tokens refused: %d, want refused=%v", c.TokenRefused, tc.wantRefused)
			}
			if c.DownloadURLs < 2 {
				t.Errorf("links fetched %d times, want fresh links at least once", c.DownloadURLs)
			}
		})
	}
}

// TestFileFailureKeepsConferenceUncommitted: when one file fails for good,
// no sidecar is written and every row of the conference is failed, so a
// rerun redoes it.
func TestFileFailureKeepsConferenceUncommitted(t *testing.T) {
	ds := meetingtest.GenerateFiles(1, 2, 16<<10, 61)
	u := ds.Conferences[0].ConfUUID
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 61,
		Faults: []meetingtest.Fault{{Endpoint: "media", Kind: "status", Status: 404, ConfUUID: u, Times: 1}}})
	j := newTestJob(t, sim, "downloadurls", Options{})
	rows, fatal := j.conference(context.Background(), Item{ConfUUID: u})
	if fatal != nil {
		t.Fatal(fatal)
	}
	codes := map[string]bool{}
	for _, r := range rows {
		if r.Status != report.Failed {
			t.Errorf("%s: status %s, want failed", r.FileName, r.Status)
		}
		codes[r.ErrorCode] = true
		// The stored file is visible: its object, size and SHA-256.
		if stored := r.ErrorCode == string(CodeUncommitted); stored != (r.ObjectURI != "" && r.SHA256 != "" && r.Bytes > 0) {
			t.Errorf("%s: code %s with object %q sha256 %q bytes %d", r.FileName, r.ErrorCode, r.ObjectURI, r.SHA256, r.Bytes)
		}
	}
	if len(codes) != 2 || !codes[string(CodeUncommitted)] || codes[""] {
		t.Errorf("error codes %v: want the file's own error and uncommitted", codes)
	}
	if _, err := archive.GetSidecar(context.Background(), j.Store, u); err == nil {
		t.Error("a sidecar was written for an incomplete conference")
	}
}

// TestIntegrityFailureRetriedOnce: bytes damaged once in transit are
// downloaded again and archived; damage at every download fails with
// integrity after exactly two downloads, and nothing is committed.
func TestIntegrityFailureRetriedOnce(t *testing.T) {
	tests := []struct {
		name       string
		times      int
		wantStatus report.Status
	}{
		{"transient flip", 1, report.Archived},
		{"persistent flip", 0, report.Failed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := meetingtest.GenerateFiles(1, 1, 64<<10, 73)
			u := ds.Conferences[0].ConfUUID
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 73, RecordInfo: true,
				Faults: []meetingtest.Fault{{Endpoint: "media", Kind: "flip", ConfUUID: u, Times: tc.times}}})
			j := newTestJob(t, sim, "recordinfo", Options{})
			rows, _ := j.conference(context.Background(), Item{ConfUUID: u})
			if len(rows) != 1 || rows[0].Status != tc.wantStatus || rows[0].Attempts != 2 {
				t.Fatalf("rows %+v: want one %s row after 2 attempts", rows, tc.wantStatus)
			}
			if tc.wantStatus == report.Failed && rows[0].ErrorCode != "integrity" {
				t.Errorf("errorCode %q, want integrity", rows[0].ErrorCode)
			}
			if got := sim.Counters().Media; got != 2 {
				t.Errorf("%d media downloads, want 2", got)
			}
		})
	}
}

// TestCancelledWhileAskingForLinks: a conference cancelled before any file is
// known still gets its row.
func TestCancelledWhileAskingForLinks(t *testing.T) {
	ds := meetingtest.GenerateFiles(1, 1, 4<<10, 79)
	u := ds.Conferences[0].ConfUUID
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 79,
		Faults: []meetingtest.Fault{{Endpoint: "downloadurls", Kind: "latency", Latency: 5 * time.Second}}})
	j := newTestJob(t, sim, "downloadurls", Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	rows, fatal := j.conference(ctx, Item{Seq: 7, ConfUUID: u})
	if fatal != nil {
		t.Fatal(fatal)
	}
	if len(rows) != 1 || rows[0].Status != report.Cancelled || rows[0].ConfUUID != u || rows[0].Seq != 7 {
		t.Fatalf("rows %+v: want one cancelled row for the conference", rows)
	}
}

// TestMaxElapsedBoundsFileRetries: a media host that always fails makes the
// conference fail once the retry policy's elapsed budget is spent, long
// before its attempts are.
func TestMaxElapsedBoundsFileRetries(t *testing.T) {
	ds := meetingtest.GenerateFiles(1, 1, 4<<10, 83)
	u := ds.Conferences[0].ConfUUID
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 83,
		Faults: []meetingtest.Fault{{Endpoint: "media", Kind: "status", Status: 503}}})
	j := newTestJob(t, sim, "downloadurls", Options{})
	j.Options.Retry = export.Backoff{Base: 100 * time.Millisecond, Max: 100 * time.Millisecond, MaxAttempts: 1000, MaxElapsed: 600 * time.Millisecond}
	rows, fatal := j.conference(context.Background(), Item{ConfUUID: u})
	if fatal != nil {
		t.Fatal(fatal)
	}
	if len(rows) != 1 || rows[0].Status != report.Failed || !strings.Contains(rows[0].ErrorMessage, "503") {
		t.Fatalf("rows %+v: want one row failed with the media host's 503", rows)
	}
	// 1000 attempts would take at least a minute of 100 ms delays (at
	// most 100 ms, with jitter); the budget ends them after 600 ms, the
	// fewer the slower the machine.
	if rows[0].Attempts >= 1000 || rows[0].Attempts < 2 {
		t.Errorf("gave up after %d attempts: want the 600ms budget to end the retries", rows[0].Attempts)
	}
}

// TestKeyCollisionFailsBeforeAnyWrite: two files of one conference that map
// to one key fail the conference with key-collision naming both, and nothing
// of it is written.
func TestKeyCollisionFailsBeforeAnyWrite(t *testing.T) {
	ds := meetingtest.SampleDataset()
	var conf meetingtest.Conference
	for _, c := range ds.Conferences {
		names := map[string]int{}
		for _, f := range c.Files {
			names[f.Name]++
		}
		for _, n := range names {
			if n > 1 {
				conf = c
			}
		}
	}
	if conf.ConfUUID == "" {
		t.Fatal("the sample dataset has no conference with two files of one name")
	}
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, RecordInfo: true})
	j := newTestJob(t, sim, "auto", Options{})
	j.Keys = archive.MustParseKeyTemplate("{{.ConfUUID}}/{{.FileName}}")
	rows, fatal := j.conference(context.Background(), Item{ConfUUID: conf.ConfUUID})
	if fatal != nil {
		t.Fatal(fatal)
	}
	if len(rows) == 0 {
		t.Fatal("no rows")
	}
	for _, r := range rows {
		if r.Status != report.Failed || r.ErrorCode != string(CodeKeyCollision) || r.ObjectURI != "" {
			t.Errorf("row %s/%s: %s %s %q: want failed key-collision with no object", r.FileType, r.FileName, r.Status, r.ErrorCode, r.ObjectURI)
		}
	}
	if got := sim.Counters().Media; got != 0 {
		t.Errorf("%d media downloads, want none", got)
	}
	if _, err := archive.GetSidecar(context.Background(), j.Store, conf.ConfUUID); err == nil {
		t.Error("a sidecar was written")
	}
}

// TestBrokenStreamResumedWithRange: a stream broken at random points three
// times is resumed with range requests: the stored SHA-256 is right and the
// media host served the file's size plus less than one part per break.
func TestBrokenStreamResumedWithRange(t *testing.T) {
	big := int64(200 << 20)
	if testing.Short() {
		big = 24 << 20
	}
	tests := []struct {
		name        string
		size        int64
		ignoreRange bool
	}{
		{"host serves ranges", big, false},
		{"host ignores ranges: the file starts over", 16 << 20, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			size := tc.size
			ds := meetingtest.GenerateFiles(1, 1, size, 89)
			u := ds.Conferences[0].ConfUUID
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 89, RecordInfo: true, IgnoreRange: tc.ignoreRange,
				Faults: []meetingtest.Fault{{Endpoint: "media", Kind: "truncate", RandomOffset: true, Times: 3}}})
			j := newTestJob(t, sim, "recordinfo", Options{})
			j.Options.Retry.MaxAttempts = 5
			rows, fatal := j.conference(context.Background(), Item{ConfUUID: u})
			if fatal != nil {
				t.Fatal(fatal)
			}
			want := sim.FileSHA256(u, ds.Conferences[0].Files[0].FileType, ds.Conferences[0].Files[0].Name)
			if len(rows) != 1 || rows[0].Status != report.Archived || rows[0].SHA256 != want {
				t.Fatalf("rows %+v: want one archived row with sha256 %s", rows, want)
			}
			served := sim.MediaBytesServed()
			if !tc.ignoreRange && served >= size+3*int64(archive.DefaultPartSize) {
				t.Errorf("media host served %d bytes for a %d-byte file broken 3 times: want less than one part per break more", served, size)
			}
			t.Logf("served %d bytes for %d (%.2fx)", served, size, float64(served)/float64(size))
		})
	}
}

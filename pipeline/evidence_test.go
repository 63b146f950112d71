package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"meetarchive/archive"
	"meetarchive/archive/archivetest"
	"meetarchive/export"
	"meetarchive/export/meetingtest"
	"meetarchive/redact"
	"meetarchive/report"
)

// newEvidenceJob is newTestJob with the evidence on (from the client, the
// job's API), its client's retries short, and key template tmpl ("" the
// default).
func newEvidenceJob(t *testing.T, sim *meetingtest.Server, links string, tmpl string) *Job {
	t.Helper()
	j := testJob(t, export.Config{BaseURL: sim.URL, Rate: 500, Links: export.LinkSource(links),
		RetryBase: time.Millisecond, RetryMax: 5 * time.Millisecond, Language: "en-US",
		Credentials: export.Credentials{AppID: meetingtest.DefaultAppID, AppKey: meetingtest.DefaultAppKey}},
		Options{Evidence: true, Tool: "meetarchive test"})
	if tmpl != "" {
		j.Keys = archive.MustParseKeyTemplate(tmpl)
	}
	return j
}

// readDoc reads a stored evidence object and checks its bytes against the row.
func readDoc(t *testing.T, st archive.Store, r report.Row) evidenceDoc {
	t.Helper()
	rc, err := st.Open(context.Background(), r.ObjectKey)
	if err != nil {
		t.Fatalf("%s: %v", r.FileName, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != r.SHA256 || int64(len(b)) != r.Bytes {
		t.Errorf("%s: stored %d bytes sha256 %s, row says %d bytes %s", r.FileName, len(b), got, r.Bytes, r.SHA256)
	}
	var doc evidenceDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", r.FileName, err)
	}
	return doc
}

// split returns a conference's recording rows and its evidence rows by name.
func split(t *testing.T, rows []report.Row) (media []report.Row, ev map[string]report.Row) {
	t.Helper()
	ev = map[string]report.Row{}
	for _, r := range rows {
		if r.IsEvidence() {
			if _, dup := ev[r.FileName]; dup {
				t.Errorf("two evidence rows %s", r.FileName)
			}
			ev[r.FileName] = r
			continue
		}
		media = append(media, r)
	}
	return media, ev
}

// pageRows is how many rows the answers' data held (history detail: its
// participants, in data.data).
func pageRows(t *testing.T, doc evidenceDoc) int {
	t.Helper()
	n := 0
	for _, p := range doc.Pages {
		var page struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(p.Answer, &page); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(strings.TrimSpace(string(page.Data)), "{") {
			if err := json.Unmarshal(page.Data, &page); err != nil {
				t.Fatal(err)
			}
		}
		var rows []json.RawMessage
		if err := json.Unmarshal(page.Data, &rows); err != nil {
			t.Fatalf("%s page at %d: data: %v", doc.API, p.Offset, err)
		}
		n += len(rows)
	}
	return n
}

// TestEvidenceStoredBesideRecordings: an archived conference has its
// evidence objects (details, record info when the links came from it,
// history detail, attendee and control records: every page), stored under
// the key template with the recordings, hashed like them, listed in the
// sidecar; a rerun finds them already archived, bytes re-read.
func TestEvidenceStoredBesideRecordings(t *testing.T) {
	tests := []struct {
		name      string
		links     string
		pageLimit int // the history APIs serve this many rows a page
		want      []string
	}{
		{"downloadurls", "downloadurls", 0, []string{"details.json", "history.json", "attendees.json", "controls.json"}},
		{"recordinfo, two-row pages", "recordinfo", 2, []string{"details.json", "recordinfo.json", "history.json", "attendees.json", "controls.json"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := meetingtest.GenerateFiles(1, 2, 8<<10, 71)
			c := ds.Conferences[0]
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 71, HistoryRetention: -1, RecordInfo: true, HistoryMaxLimit: tc.pageLimit})
			j := newEvidenceJob(t, sim, tc.links, "")
			rows, fatal := j.conference(context.Background(), Item{ConfUUID: c.ConfUUID})
			if fatal != nil {
				t.Fatal(fatal)
			}
			media, ev := split(t, rows)
			if len(media) != 2 {
				t.Fatalf("got %d recording rows, want 2: %+v", len(media), media)
			}
			for _, r := range media {
				if r.Status != report.Archived {
					t.Errorf("%s: %s %s %s", r.FileName, r.Status, r.ErrorCode, r.ErrorMessage)
				}
			}
			if len(ev) != len(tc.want) {
				t.Errorf("got evidence %v, want %v", keysOf(ev), tc.want)
			}
			sc, ok := sim.Conference(c.ConfUUID)
			if !ok || sc.History == nil {
				t.Fatal("the simulator has no history of the conference")
			}
			h := sc.History
			if n := len(h.Attendees); tc.pageLimit > 0 && n <= tc.pageLimit {
				t.Fatalf("%d attendees: the test needs more than a page of %d", n, tc.pageLimit)
			}
			wantRows := map[string]int{"history.json": len(h.Participants), "attendees.json": len(h.Attendees), "controls.json": len(h.Controls)}
			for i, name := range tc.want {
				r, ok := ev[name]
				if !ok {
					t.Errorf("no evidence row %s", name)
					continue
				}
				if r.Status != report.Archived || r.ErrorCode != "" {
					t.Errorf("%s: %s %s %s", name, r.Status, r.ErrorCode, r.ErrorMessage)
					continue
				}
				if want := "/" + c.ConfUUID + "/evidence_" + name; !strings.HasSuffix(r.ObjectKey, want) {
					t.Errorf("%s: key %q, want it to end %q", name, r.ObjectKey, want)
				}
				if r.FileIndex != len(media)+i {
					t.Errorf("%s: fileIndex %d, want %d (after the recordings)", name, r.FileIndex, len(media)+i)
				}
				doc := readDoc(t, j.Store, r)
				if doc.ConfUUID != c.ConfUUID || doc.API == "" || doc.FetchedAt.IsZero() || len(doc.Pages) == 0 {
					t.Errorf("%s: document %+v", name, doc)
				}
				if n, ok := wantRows[name]; ok {
					if got := pageRows(t, doc); got != n {
						t.Errorf("%s: the pages hold %d rows, want the platform's %d", name, got, n)
					}
					if tc.pageLimit > 0 && n > tc.pageLimit && len(doc.Pages) < 2 {
						t.Errorf("%s: %d page(s) for %d rows served %d a page", name, len(doc.Pages), n, tc.pageLimit)
					}
				}
			}
			if r, ok := ev["recordinfo.json"]; ok {
				var files []recordInfoFile
				if err := json.Unmarshal(readDoc(t, j.Store, r).Pages[0].Answer, &files); err != nil {
					t.Fatal(err)
				}
				for i, f := range files {
					if f.SHA256 != media[i].PlatformSHA256 || f.FileSize != media[i].Bytes {
						t.Errorf("recordinfo file %d: %+v, want the platform's size %d and sha256 %s", i, f, media[i].Bytes, media[i].PlatformSHA256)
					}
				}
			}

			side, err := archive.GetSidecar(context.Background(), j.Store, c.ConfUUID)
			if err != nil {
				t.Fatal(err)
			}
			listed := 0
			for _, f := range side.Files {
				if f.FileType == report.FileTypeEvidence {
					listed++
					if r := ev[f.Name]; r.ObjectKey != f.Key || r.SHA256 != f.SHA256 {
						t.Errorf("sidecar lists %s at %s %s, row says %s %s", f.Name, f.Key, f.SHA256, r.ObjectKey, r.SHA256)
					}
				}
			}
			if listed != len(tc.want) {
				t.Errorf("sidecar lists %d evidence objects, want %d", listed, len(tc.want))
			}

			// The rerun: already archived, the evidence too, no history call.
			before := sim.Counters().Requests
			again, fatal := j.conference(context.Background(), Item{ConfUUID: c.ConfUUID})
			if fatal != nil {
				t.Fatal(fatal)
			}
			_, ev2 := split(t, again)
			for _, name := range tc.want {
				if r := ev2[name]; r.Status != report.AlreadyArchived || r.SHA256 != ev[name].SHA256 {
					t.Errorf("rerun %s: %s %s, want already-archived %s", name, r.Status, r.SHA256, ev[name].SHA256)
				}
			}
			after := sim.Counters().Requests
			for _, e := range []string{meetingtest.EndpointHistoryDetail, meetingtest.EndpointAttendees, meetingtest.EndpointCtlRecords} {
				if after[e] != before[e] {
					t.Errorf("rerun called %s %d times, want 0", e, after[e]-before[e])
				}
			}
		})
	}
}

func keysOf(m map[string]report.Row) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestEvidenceGapsKeepTheRecording: an evidence answer refused (403), an
// API the deployment lacks (404, asked once per run), a meeting the
// history no longer keeps, or a failure after retries: the recording is
// archived and committed all the same, and each missing object has a row
// (status unavailable) with its code; what could be stored is.
func TestEvidenceGapsKeepTheRecording(t *testing.T) {
	tests := []struct {
		name      string
		cfg       func(*meetingtest.Config, string)
		wantCodes map[string]Code // evidence name -> code ("" stored)
		wantCalls map[string]int64
	}{
		{
			name: "attendees refused 403",
			cfg: func(c *meetingtest.Config, u string) {
				c.Faults = []meetingtest.Fault{{Endpoint: meetingtest.EndpointAttendees, Kind: "status", Status: 403, Code: "MMC.111070002"}}
			},
			wantCodes: map[string]Code{"details.json": "", "history.json": "", "attendees.json": CodeEvidenceNotPermitted, "controls.json": ""},
			wantCalls: map[string]int64{meetingtest.EndpointAttendees: 2},
		},
		{
			name: "control records not deployed",
			cfg: func(c *meetingtest.Config, u string) {
				c.NotDeployed = []string{meetingtest.EndpointCtlRecords}
			},
			wantCodes: map[string]Code{"details.json": "", "history.json": "", "attendees.json": "", "controls.json": CodeEvidenceNotDeployed},
			wantCalls: map[string]int64{meetingtest.EndpointCtlRecords: 1, meetingtest.EndpointAttendees: 2},
		},
		{
			name: "history no longer keeps the meeting",
			cfg:  func(c *meetingtest.Config, u string) { c.HistoryRetention = 0 },
			wantCodes: map[string]Code{"details.json": "", "history.json": CodeEvidenceNotKept,
				"attendees.json": CodeEvidenceNotKept, "controls.json": CodeEvidenceNotKept},
		},
		{
			name: "history detail 503 after retries",
			cfg: func(c *meetingtest.Config, u string) {
				c.Faults = []meetingtest.Fault{{Endpoint: meetingtest.EndpointHistoryDetail, Kind: "status", Status: 503}}
			},
			wantCodes: map[string]Code{"details.json": "", "history.json": CodeEvidenceFailed, "attendees.json": "", "controls.json": ""},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := meetingtest.GenerateFiles(2, 1, 4<<10, 73)
			cfg := meetingtest.Config{Dataset: ds, Seed: 73, HistoryRetention: -1}
			tc.cfg(&cfg, ds.Conferences[0].ConfUUID)
			sim := meetingtest.Start(t, cfg)
			j := newEvidenceJob(t, sim, "downloadurls", "")
			for _, c := range ds.Conferences {
				rows, fatal := j.conference(context.Background(), Item{ConfUUID: c.ConfUUID})
				if fatal != nil {
					t.Fatal(fatal)
				}
				media, ev := split(t, rows)
				if len(media) != 1 || media[0].Status != report.Archived {
					t.Fatalf("recording rows %+v, want one archived", media)
				}
				if _, ok, err := archive.Archived(context.Background(), j.Store, c.ConfUUID); !ok || err != nil {
					t.Errorf("%s not committed: %v", c.ConfUUID, err)
				}
				for name, code := range tc.wantCodes {
					r, ok := ev[name]
					switch {
					case !ok:
						t.Errorf("no evidence row %s", name)
					case code == "" && (r.Status != report.Archived || r.ObjectKey == ""):
						t.Errorf("%s: %s %s %s, want archived", name, r.Status, r.ErrorCode, r.ErrorMessage)
					case code != "" && (r.Status != report.Unavailable || Code(r.ErrorCode) != code || r.ObjectURI != "" || r.Hint == ""):
						t.Errorf("%s: %s %q object %q hint %q, want unavailable %q with a hint", name, r.Status, r.ErrorCode, r.ObjectURI, r.Hint, code)
					}
				}
				if len(ev) != len(tc.wantCodes) {
					t.Errorf("evidence rows %v, want %d", keysOf(ev), len(tc.wantCodes))
				}
			}
			got := sim.Counters().Requests
			for e, n := range tc.wantCalls {
				if got[e] != n {
					t.Errorf("%s called %d times, want %d", e, got[e], n)
				}
			}
		})
	}
}

// TestEvidenceKeyCollisionSparesTheRecordings: a key template that gives an
// evidence object a recording's key stores the recording and not that
// object (its row says key-collision); the other evidence is stored.
func TestEvidenceKeyCollisionSparesTheRecordings(t *testing.T) {
	ds := meetingtest.GenerateFiles(1, 2, 4<<10, 79)
	c := ds.Conferences[0]
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 79, HistoryRetention: -1})
	j := newEvidenceJob(t, sim, "downloadurls", "{{.ConfUUID}}/{{.Index}}")
	rows, fatal := j.conference(context.Background(), Item{ConfUUID: c.ConfUUID})
	if fatal != nil {
		t.Fatal(fatal)
	}
	media, ev := split(t, rows)
	for i, r := range media {
		if r.Status != report.Archived {
			t.Fatalf("%s: %s %s", r.FileName, r.Status, r.ErrorMessage)
		}
		if err := archive.VerifyObject(context.Background(), j.Store, archive.Object{Key: r.ObjectKey, Bytes: r.Bytes, SHA256: sim.FileSHA256(c.ConfUUID, c.Files[i].FileType, c.Files[i].Name)}); err != nil {
			t.Errorf("recording %s no longer holds its bytes: %v", r.ObjectKey, err)
		}
	}
	// Indexes 0 and 1 are the recordings'; details is 0.
	if r := ev["details.json"]; r.Status != report.Unavailable || Code(r.ErrorCode) != CodeKeyCollision {
		t.Errorf("details.json: %s %s, want unavailable key-collision", r.Status, r.ErrorCode)
	}
	for _, name := range []string{"history.json", "attendees.json", "controls.json"} {
		if r := ev[name]; r.Status != report.Archived {
			t.Errorf("%s: %s %s %s, want archived", name, r.Status, r.ErrorCode, r.ErrorMessage)
		}
	}
}

// TestEvidenceRedaction: the stored answers keep the people (names,
// numbers, addresses) and lose what admits someone (passwords, tokens,
// join links); other links keep scheme, host and path.
func TestEvidenceRedaction(t *testing.T) {
	const u = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
	raw := `{"conferenceData":{"confUUID":"` + u + `","chairPasswd":"123456","guestPwd":"654321",` +
		`"guestJoinUri":"https://meeting.example/#/j/98765432?pwd=654321","audienceJoinURL":"https://meeting.example/a/1",` +
		`"vmrPassword":"","accessToken":"tok-secret-0123456789","hostPin":"778899","passwordEntry":[{"conferenceRole":"chair","password":"24680"}]},` +
		`"data":{"count":1,"data":[{"name":"Ana Li","email":"ana@example.com","sms":"+8613800000000",` +
		`"playUrl":"https://media.example/` + u + `/play.html?token=abcdef0123456789abcdef","detail":"note token=abcdef0123456789abcdef","role":1}]}}`
	got, err := redactAnswer(json.RawMessage(raw), u)
	if err != nil {
		t.Fatal(err)
	}
	s := string(got)
	for _, gone := range []string{"123456", "654321", "98765432", "meeting.example/a/1", "tok-secret", "abcdef0123456789abcdef", "778899", "24680"} {
		if strings.Contains(s, gone) {
			t.Errorf("redacted answer still holds %q: %s", gone, s)
		}
	}
	for _, kept := range []string{"Ana Li", "ana@example.com", "+8613800000000", "https://media.example/" + u + "/play.html", `"role":1`, `"count":1`, `"vmrPassword":""`} {
		if !strings.Contains(s, kept) {
			t.Errorf("redacted answer lost %q: %s", kept, s)
		}
	}
	if !strings.Contains(s, redact.Marker) {
		t.Errorf("no %s marker in %s", redact.Marker, s)
	}
	if !json.Valid(got) {
		t.Errorf("not JSON: %s", s)
	}
}

// TestEvidenceAPICalls: the calls a run makes per conference without and
// with evidence, by the simulator's per-endpoint counters. Evidence adds
// one call of each history API per conference (pages of up to 500 rows),
// each on a quota of its own, and none of the recording APIs'.
func TestEvidenceAPICalls(t *testing.T) {
	const n = 3
	count := func(evidence bool) map[string]int64 {
		ds := meetingtest.GenerateFiles(n, 2, 4<<10, 83)
		sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 83, HistoryRetention: -1})
		j := newEvidenceJob(t, sim, "downloadurls", "")
		j.Options.Evidence = evidence
		var items []Item
		for i, c := range ds.Conferences {
			items = append(items, Item{Seq: i, ConfUUID: c.ConfUUID})
		}
		w := &rowsOf{}
		res := j.Run(context.Background(), context.Background(), func(yield func(Item) bool) {
			for _, it := range items {
				if !yield(it) {
					return
				}
			}
		}, w)
		if res.Fatal != nil || res.WriteErr != nil {
			t.Fatal(res.Fatal, res.WriteErr)
		}
		for _, r := range w.rows {
			if r.Status != report.Archived {
				t.Fatalf("%s %s: %s %s", r.ConfUUID, r.FileName, r.Status, r.ErrorMessage)
			}
		}
		return sim.Counters().Requests
	}
	before, after := count(false), count(true)
	t.Logf("API calls for %d conferences of 2 files, without evidence: %v; with: %v", n, before, after)
	for _, e := range []string{"details", "downloadurls", "recordinfo", "list", "media"} {
		if before[e] != after[e] {
			t.Errorf("%s: %d calls without evidence, %d with: want equal", e, before[e], after[e])
		}
	}
	for _, e := range []string{meetingtest.EndpointHistoryDetail, meetingtest.EndpointAttendees, meetingtest.EndpointCtlRecords} {
		if before[e] != 0 || after[e] != n {
			t.Errorf("%s: %d calls without evidence, %d with: want 0 and %d (one per conference)", e, before[e], after[e], n)
		}
	}
	if before[meetingtest.EndpointHistory] != 0 || after[meetingtest.EndpointHistory] != 0 {
		t.Errorf("history list called (%d, %d): evidence needs none", before[meetingtest.EndpointHistory], after[meetingtest.EndpointHistory])
	}
}

// TestS3EvidenceLockedLikeRecordings: in a bucket with Object Lock, the
// evidence objects are written like the recordings (the same lock mode,
// a version), listed in the sidecar with their versions, and a rerun finds
// the conference already archived, evidence included.
func TestS3EvidenceLockedLikeRecordings(t *testing.T) {
	b := archivetest.NewBucket(t, archivetest.BucketOptions{ObjectLock: true})
	ds := meetingtest.GenerateFiles(1, 1, 64<<10, 89)
	u := ds.Conferences[0].ConfUUID
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 89, HistoryRetention: -1})
	ctx := context.Background()
	store, err := archive.Open(ctx, b.URI("ev"), archive.Options{LockMode: "GOVERNANCE", RetainDays: 1,
		ClientOptions: []func(*s3.Options){b.Env.ClientOption()}})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	j := newEvidenceJob(t, sim, "downloadurls", "")
	j.Store = store
	rows, fatal := j.conference(ctx, Item{ConfUUID: u})
	if fatal != nil {
		t.Fatal(fatal)
	}
	media, ev := split(t, rows)
	if len(media) != 1 || media[0].Status != report.Archived || len(ev) != 4 {
		t.Fatalf("rows: recordings %+v, evidence %v", media, keysOf(ev))
	}
	for name, r := range ev {
		if r.Status != report.Archived || !strings.EqualFold(r.LockMode, "GOVERNANCE") || r.VersionID == "" || r.RetainUntil.IsZero() {
			t.Errorf("%s: %s lock %q until %v version %q, want archived and locked like %s (lock %q)", name, r.Status, r.LockMode, r.RetainUntil, r.VersionID,
				media[0].FileName, media[0].LockMode)
		}
		readDoc(t, store, r)
	}
	sc, ok, err := archive.Archived(ctx, store, u)
	if !ok || err != nil {
		t.Fatalf("not archived: %v", err)
	}
	for _, f := range sc.Files {
		if f.FileType == report.FileTypeEvidence && f.VersionID != ev[f.Name].VersionID {
			t.Errorf("sidecar %s version %q, row %q", f.Name, f.VersionID, ev[f.Name].VersionID)
		}
	}
	again, fatal := j.conference(ctx, Item{ConfUUID: u})
	if fatal != nil {
		t.Fatal(fatal)
	}
	if _, ev2 := split(t, again); len(ev2) != 4 || ev2["attendees.json"].Status != report.AlreadyArchived {
		t.Errorf("rerun evidence %+v, want 4 already-archived", ev2)
	}
}

// TestEvidenceGapsOnRerun: the sidecar records each evidence gap. A rerun
// of the archived conference reports the gaps again; one that failed
// (evidence-failed) is fetched again and, once stored, joins the sidecar;
// one refused (403) is not asked again.
func TestEvidenceGapsOnRerun(t *testing.T) {
	ds := meetingtest.GenerateFiles(1, 1, 4<<10, 97)
	u := ds.Conferences[0].ConfUUID
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 97, HistoryRetention: -1, Faults: []meetingtest.Fault{
		{Endpoint: meetingtest.EndpointHistoryDetail, Kind: "status", Status: 503},
		{Endpoint: meetingtest.EndpointAttendees, Kind: "status", Status: 403, Code: "MMC.111070002"},
	}})
	j := newEvidenceJob(t, sim, "downloadurls", "")
	ctx := context.Background()
	if _, fatal := j.conference(ctx, Item{ConfUUID: u}); fatal != nil {
		t.Fatal(fatal)
	}
	sc, err := archive.GetSidecar(ctx, j.Store, u)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"history.json": string(CodeEvidenceFailed), "attendees.json": string(CodeEvidenceNotPermitted)}
	if !maps.Equal(sc.EvidenceGaps, want) {
		t.Fatalf("sidecar evidence gaps %v, want %v", sc.EvidenceGaps, want)
	}

	// The platform answers history detail again; attendee records are
	// still refused, and must not be asked for.
	if err := sim.SetFaults([]meetingtest.Fault{{Endpoint: meetingtest.EndpointAttendees, Kind: "status", Status: 403, Code: "MMC.111070002"}}); err != nil {
		t.Fatal(err)
	}
	before := sim.Counters().Requests
	rows, fatal := j.conference(ctx, Item{ConfUUID: u})
	if fatal != nil {
		t.Fatal(fatal)
	}
	after := sim.Counters().Requests
	media, ev := split(t, rows)
	if len(media) != 1 || media[0].Status != report.AlreadyArchived {
		t.Fatalf("recording rows %+v, want one already-archived", media)
	}
	checks := []struct {
		name   string
		status report.Status
		code   Code
	}{
		{"details.json", report.AlreadyArchived, ""},
		{"controls.json", report.AlreadyArchived, ""},
		{"history.json", report.Archived, ""},
		{"attendees.json", report.Unavailable, CodeEvidenceNotPermitted},
	}
	for _, c := range checks {
		if r := ev[c.name]; r.Status != c.status || Code(r.ErrorCode) != c.code {
			t.Errorf("rerun %s: %s %q, want %s %q", c.name, r.Status, r.ErrorCode, c.status, c.code)
		}
	}
	if n := after[meetingtest.EndpointHistoryDetail] - before[meetingtest.EndpointHistoryDetail]; n != 1 {
		t.Errorf("the rerun called historydetail %d times, want 1", n)
	}
	for _, e := range []string{meetingtest.EndpointAttendees, meetingtest.EndpointCtlRecords, meetingtest.EndpointDetails, meetingtest.EndpointDownloadURLs, meetingtest.EndpointMedia} {
		if after[e] != before[e] {
			t.Errorf("the rerun called %s %d times, want 0", e, after[e]-before[e])
		}
	}
	sc, ok, err := archive.Archived(ctx, j.Store, u)
	if !ok || err != nil {
		t.Fatalf("not archived after the rerun: %v", err)
	}
	if want := map[string]string{"attendees.json": string(CodeEvidenceNotPermitted)}; !maps.Equal(sc.EvidenceGaps, want) {
		t.Errorf("sidecar evidence gaps %v, want %v", sc.EvidenceGaps, want)
	}
	if !slices.ContainsFunc(sc.Files, func(f archive.SidecarFile) bool {
		return f.Name == "history.json" && f.Key == ev["history.json"].ObjectKey
	}) {
		t.Errorf("the rewritten sidecar does not list history.json: %+v", sc.Files)
	}
	if err := archive.Proved(ctx, j.Store, sc); err != nil {
		t.Errorf("the rewritten sidecar's objects: %v", err)
	}
}

// cancelAtAttendees is the client, but a stop comes while the attendee
// records are asked for.
type cancelAtAttendees struct {
	EvidenceAPI
	cancel context.CancelFunc
}

func (c cancelAtAttendees) AttendeeRecords(ctx context.Context, confUUID string) (export.Records[export.AttendeeRecord], error) {
	c.cancel()
	return export.Records[export.AttendeeRecord]{}, ctx.Err()
}

// TestEvidenceStoppedBeforeCommit: a stop while the evidence is fetched
// leaves the conference uncommitted (no sidecar), and the manifest names
// every object stored so far, the evidence too, as uncommitted.
func TestEvidenceStoppedBeforeCommit(t *testing.T) {
	ds := meetingtest.GenerateFiles(1, 1, 4<<10, 101)
	u := ds.Conferences[0].ConfUUID
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 101, HistoryRetention: -1})
	j := newEvidenceJob(t, sim, "downloadurls", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	j.Evidence = cancelAtAttendees{EvidenceAPI: j.API.(EvidenceAPI), cancel: cancel}
	rows, fatal := j.conference(ctx, Item{ConfUUID: u})
	if fatal != nil {
		t.Fatal(fatal)
	}
	media, ev := split(t, rows)
	if len(media) != 1 || media[0].Status != report.Cancelled || Code(media[0].ErrorCode) != CodeUncommitted {
		t.Errorf("recording rows %+v, want one cancelled uncommitted", media)
	}
	if want := []string{"details.json", "history.json"}; len(ev) != len(want) {
		t.Errorf("evidence rows %v, want %v (the ones stored before the stop)", keysOf(ev), want)
	}
	for name, r := range ev {
		if r.Status != report.Cancelled || Code(r.ErrorCode) != CodeUncommitted || r.ObjectURI == "" {
			t.Errorf("%s: %s %s %q, want cancelled uncommitted with its object", name, r.Status, r.ErrorCode, r.ObjectURI)
		}
	}
	if _, err := archive.GetSidecar(context.Background(), j.Store, u); !errors.Is(err, archive.ErrNotExist) {
		t.Errorf("sidecar: %v, want none", err)
	}
}

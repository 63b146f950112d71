package export_test

// The history client against the simulator: counts, pages, de-duplication,
// refusals told apart, answers checked, evidence bodies kept.

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"meetarchive/export"
	"meetarchive/export/meetingtest"
)

// histNow is a clock two months after the generated history (2025-01):
// within the default six months. The sample's tests keep history for ever.
func histNow() time.Time { return time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC) }

var (
	histFrom = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	histTo   = time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
)

// bigHistory: 700 recordings and 150 meetings without one, ten minutes apart.
func bigHistory() meetingtest.Dataset {
	return meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 700, Meetings: 150, Seed: 8,
		Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Interval: 10 * time.Minute})
}

// historyOrder is every meeting of ds by start time (the API's order).
func historyOrder(ds meetingtest.Dataset) []string {
	type e struct {
		id, at string
	}
	var all []e
	for _, c := range ds.Conferences {
		all = append(all, e{c.ConfUUID, c.StartTime})
	}
	for _, m := range ds.Meetings {
		all = append(all, e{m.ConfUUID, m.StartTime})
	}
	slices.SortStableFunc(all, func(a, b e) int { return strings.Compare(a.at, b.at) })
	out := make([]string, len(all))
	for i, x := range all {
		out[i] = x.id
	}
	return out
}

func TestSimHistory(t *testing.T) {
	t.Parallel()
	ds := bigHistory()
	order := historyOrder(ds)
	omitted := ds.Conferences[123].ConfUUID
	tests := []struct {
		name      string
		cfg       meetingtest.Config
		wantCount int
		wantDiff  int
		want      []string
		calls     int64 // history requests
	}{
		{"row offset", meetingtest.Config{}, 850, 0, order, 3},                       // 500, probe (1 new), 349
		{"page index", meetingtest.Config{ListOffsetIsPage: true}, 850, 0, order, 2}, // 500, 350
		{"capped at 100", meetingtest.Config{HistoryMaxLimit: 100}, 850, 0, order, 10},
		{"count says more", meetingtest.Config{HistoryCountDelta: 5}, 855, -5, order, 4}, // + a page of nothing new
		{"count says fewer", meetingtest.Config{HistoryCountDelta: -5}, 845, 5, order, 3},
		{"a meeting left out", meetingtest.Config{Faults: []meetingtest.Fault{{Endpoint: "history", Kind: "omit", ConfUUID: omitted}}}, 849, 0,
			slices.DeleteFunc(slices.Clone(order), func(s string) bool { return s == omitted }), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg
			cfg.Dataset, cfg.Now = ds, histNow
			sim := meetingtest.Start(t, cfg)
			c := export.NewTestClient(t, sim.URL, appCreds(), nil)
			h, err := c.History(testCtx(t, 60*time.Second), export.HistoryQuery{From: histFrom, To: histTo, AllUsers: true})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range h.Meetings {
				got = append(got, m.ConfUUID)
				_, recorded := ds.Conference(m.ConfUUID)
				if m.IsHasRecordFile != recorded || m.ConferenceID == "" || m.EndTime == "" {
					t.Fatalf("meeting %+v: want isHasRecordFile %v, conferenceID and endTime", m, recorded)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("%d meetings, want %d in the API's order", len(got), len(tt.want))
			}
			if h.Count != tt.wantCount || h.Distinct != len(tt.want) || h.CountDiff() != tt.wantDiff {
				t.Errorf("Count %d Distinct %d CountDiff %d; want %d %d %d", h.Count, h.Distinct, h.CountDiff(), tt.wantCount, len(tt.want), tt.wantDiff)
			}
			if n := sim.Counters().Requests["history"]; n != tt.calls || int64(len(h.Pages)) != n {
				t.Errorf("history requests %d, pages %d; want %d", n, len(h.Pages), tt.calls)
			}
			rows := 0
			for _, p := range h.Pages {
				rows += p.New
				if p.Body != nil {
					t.Errorf("page at %d keeps its body: the lists by date keep none", p.Offset)
				}
			}
			if rows != h.Distinct {
				t.Errorf("pages brought %d new rows, Distinct %d", rows, h.Distinct)
			}
			wantRecorded := len(ds.Conferences)
			if !slices.Contains(tt.want, omitted) {
				wantRecorded-- // the omitted one is a conference
			}
			if r := h.Recorded(); len(r) != wantRecorded {
				t.Errorf("%d recorded meetings, want %d", len(r), wantRecorded)
			}
		})
	}
}

// TestSimListPaged: the recording list reports its declared count and the
// distinct conferences its pages gave.
func TestSimListPaged(t *testing.T) {
	t.Parallel()
	sample := meetingtest.SampleDataset()
	big := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 230, Seed: 5})
	hidden := sample.Conferences[2].ConfUUID
	tests := []struct {
		name      string
		cfg       meetingtest.Config
		wantCount int
		wantRows  int
		wantDiff  int
		calls     int64
	}{
		{"sample", meetingtest.Config{Dataset: sample}, 7, 7, 0, 1},
		{"count says more", meetingtest.Config{Dataset: sample, ListCountDelta: 2}, 9, 7, -2, 2}, // the offset probe
		{"count says fewer", meetingtest.Config{Dataset: sample, ListCountDelta: -2}, 5, 7, 2, 1},
		{"count 0", meetingtest.Config{Dataset: sample, ListCountDelta: -20}, 0, 7, 7, 1},
		{"a recording left out", meetingtest.Config{Dataset: sample, Faults: []meetingtest.Fault{{Endpoint: "list", Kind: "omit", ConfUUID: hidden}}}, 6, 6, 0, 1},
		{"pages", meetingtest.Config{Dataset: big}, 230, 230, 0, 4}, // 100, the probe (1 new), 100, 29
		// A count below the rows is wrong: the pages go on to a short one.
		{"pages, count says fewer", meetingtest.Config{Dataset: big, ListCountDelta: -60}, 170, 230, 60, 4},
		{"pages, count says more", meetingtest.Config{Dataset: big, ListCountDelta: 60}, 290, 230, -60, 5}, // + an empty page
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := meetingtest.Start(t, tt.cfg)
			c := export.NewTestClient(t, sim.URL, appCreds(), nil)
			var got []string
			l, err := c.ListPaged(testCtx(t, 30*time.Second), export.ListQuery{From: histFrom, To: histTo, AllUsers: true}, func(r export.Recording) error {
				got = append(got, r.ConfUUID)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.wantRows || l.Count != tt.wantCount || l.Distinct != tt.wantRows || l.CountDiff() != tt.wantDiff {
				t.Errorf("%d rows, Count %d Distinct %d CountDiff %d; want %d, %d, %d, %d", len(got), l.Count, l.Distinct, l.CountDiff(), tt.wantRows, tt.wantCount, tt.wantRows, tt.wantDiff)
			}
			if n := sim.Counters().List; n != tt.calls || int64(len(l.Pages)) != n {
				t.Errorf("list requests %d, pages %d; want %d", n, len(l.Pages), tt.calls)
			}
			if tt.name == "a recording left out" && slices.Contains(got, hidden) {
				t.Errorf("listed %s, which the list left out", hidden)
			}
		})
	}
}

func TestSimHistoryEvidence(t *testing.T) {
	t.Parallel()
	ds := meetingtest.SampleDataset()
	for _, tt := range []struct {
		name     string
		maxLimit int
		lang     string
		confUUID string
	}{
		{"one page", 0, "", ds.Conferences[0].ConfUUID},
		{"pages of two", 2, "", ds.Conferences[4].ConfUUID},
		{"pages of one, Chinese", 1, export.LanguageChinese, ds.Conferences[2].ConfUUID},
		{"meeting without recording", 0, "", ds.Meetings[1].ConfUUID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, HistoryRetention: -1, HistoryMaxLimit: tt.maxLimit})
			c := export.NewTestClient(t, sim.URL, appCreds(), func(c *export.Config) { c.Language = tt.lang })
			ctx := testCtx(t, 30*time.Second)
			hist := simHistory(t, sim, tt.confUUID)
			pageCalls := func(n int) int64 {
				per := tt.maxLimit
				if per == 0 {
					per = 500
				}
				return int64(max(1, (n+per-1)/per))
			}

			d, err := c.HistoryDetail(ctx, strings.ToUpper(tt.confUUID))
			if err != nil {
				t.Fatal(err)
			}
			if d.Meeting.ConfUUID != tt.confUUID || d.Meeting.ConferenceID != hist.ConferenceID || d.Meeting.EndTime != hist.EndTime {
				t.Errorf("meeting %+v, want %s of the history %+v", d.Meeting, tt.confUUID, hist)
			}
			if len(d.Participants) != len(hist.Participants) || d.Count != len(hist.Participants) || d.CountDiff() != 0 {
				t.Fatalf("%d participants, count %d; want %d", len(d.Participants), d.Count, len(hist.Participants))
			}
			for i, p := range d.Participants {
				w := hist.Participants[i]
				if p.ParticipantID != w.ParticipantID || p.Name != w.Name || p.Role != w.Role || p.AttendeeType != w.AttendeeType || p.Email != w.Email {
					t.Errorf("participant %d = %+v, want %+v", i, p, w)
				}
			}
			wantBodies(t, "historydetail", d.Pages, sim.Counters().Requests["historydetail"], pageCalls(len(hist.Participants)), tt.confUUID)

			a, err := c.AttendeeRecords(ctx, tt.confUUID)
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Rows) != len(hist.Attendees) || a.Count != len(hist.Attendees) {
				t.Fatalf("%d attendee records, count %d; want %d", len(a.Rows), a.Count, len(hist.Attendees))
			}
			for i, r := range a.Rows {
				w := hist.Attendees[i]
				if r.DisplayName != w.DisplayName || r.JoinTime != w.JoinTime || r.LeftTime != w.LeftTime || r.CallNumber != w.CallNumber {
					t.Errorf("attendee record %d = %+v, want %+v", i, r, w)
				}
				// mediaType is Video or Voice: the Chinese answers translate both.
				if english := r.MediaType == w.MediaType; english != (tt.lang != export.LanguageChinese) || r.MediaType == "" {
					t.Errorf("mediaType %q for %q in language %q", r.MediaType, w.MediaType, tt.lang)
				}
			}
			wantBodies(t, "attendees", a.Pages, sim.Counters().Requests["attendees"], pageCalls(len(hist.Attendees)), "")

			ctl, err := c.ControlRecords(ctx, tt.confUUID)
			if err != nil {
				t.Fatal(err)
			}
			if len(ctl.Rows) != len(hist.Controls) {
				t.Fatalf("%d control records, want %d", len(ctl.Rows), len(hist.Controls))
			}
			for i, r := range ctl.Rows {
				if w := hist.Controls[i]; r.OperateTime != w.OperateTime || r.OperationObject != w.OperationObject {
					t.Errorf("control record %d = %+v, want %+v", i, r, w)
				}
			}
			wantBodies(t, "ctlrecords", ctl.Pages, sim.Counters().Requests["ctlrecords"], pageCalls(len(hist.Controls)), "")
		})
	}
}

// simHistory is the simulator's history of a conference or meeting.
func simHistory(t *testing.T, sim *meetingtest.Server, confUUID string) meetingtest.History {
	t.Helper()
	if c, ok := sim.Conference(confUUID); ok {
		return *c.History
	}
	if m, ok := sim.Meeting(confUUID); ok {
		return *m.History
	}
	t.Fatalf("no history of %s", confUUID)
	return meetingtest.History{}
}

// wantBodies checks an evidence call's pages: one per request, each body
// a JSON page of rows (about confUUID where it says).
func wantBodies(t *testing.T, api string, pages []export.Page, requests, wantCalls int64, confUUID string) {
	t.Helper()
	if int64(len(pages)) != requests || requests != wantCalls {
		t.Errorf("%s: %d pages, %d requests; want %d", api, len(pages), requests, wantCalls)
	}
	for _, p := range pages {
		var doc struct {
			ConferenceData struct {
				ConfUUID string `json:"confUUID"`
			} `json:"conferenceData"`
			Offset *int            `json:"offset"`
			Data   json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(p.Body, &doc); err != nil || len(doc.Data) == 0 {
			t.Errorf("%s page at %d: body %s: %v", api, p.Offset, p.Body, err)
			continue
		}
		if confUUID != "" && doc.ConferenceData.ConfUUID != confUUID {
			t.Errorf("%s page at %d is about %q, want %s", api, p.Offset, doc.ConferenceData.ConfUUID, confUUID)
		}
		if confUUID == "" && (doc.Offset == nil || *doc.Offset != p.Offset) {
			t.Errorf("%s page asked at %d says offset %v", api, p.Offset, doc.Offset)
		}
	}
}

// TestSimHistoryRefusals: 403 (not an administrator) and 404 APIG.0101 (a
// deployment without the API) are told apart, per conference where the
// fault says; retries go through the client's machinery; no secret in the
// errors.
func TestSimHistoryRefusals(t *testing.T) {
	t.Parallel()
	ds := meetingtest.SampleDataset()
	a, b := ds.Conferences[0].ConfUUID, ds.Conferences[1].ConfUUID
	attendees := func(id string) func(context.Context, *export.Client) error {
		return func(ctx context.Context, c *export.Client) error { _, err := c.AttendeeRecords(ctx, id); return err }
	}
	control := func(id string) func(context.Context, *export.Client) error {
		return func(ctx context.Context, c *export.Client) error { _, err := c.ControlRecords(ctx, id); return err }
	}
	detail := func(id string) func(context.Context, *export.Client) error {
		return func(ctx context.Context, c *export.Client) error { _, err := c.HistoryDetail(ctx, id); return err }
	}
	history := func(ctx context.Context, c *export.Client) error {
		_, err := c.History(ctx, export.HistoryQuery{From: histFrom, To: histTo, AllUsers: true})
		return err
	}
	type F = meetingtest.Fault
	tests := []struct {
		name     string
		cfg      meetingtest.Config
		call     func(context.Context, *export.Client) error
		is       error // nil: success
		not      []error
		code     string
		attempts int
	}{
		{"attendees 403", meetingtest.Config{Faults: []F{{Endpoint: "attendees", Kind: "status", Status: 403}}}, attendees(a),
			export.ErrNotPermitted, []error{export.ErrNotDeployed, export.ErrNotFound}, "MMC.111070002", 1},
		{"control 403 for one conference", meetingtest.Config{Faults: []F{{Endpoint: "ctlrecords", Kind: "status", Status: 403, ConfUUID: a}}}, control(a),
			export.ErrNotPermitted, []error{export.ErrNotDeployed}, "MMC.111070002", 1},
		{"control of another conference", meetingtest.Config{Faults: []F{{Endpoint: "ctlrecords", Kind: "status", Status: 403, ConfUUID: a}}}, control(b), nil, nil, "", 1},
		{"attendees not deployed", meetingtest.Config{NotDeployed: []string{"attendees", "ctlrecords"}}, attendees(a),
			export.ErrNotDeployed, []error{export.ErrNotPermitted, export.ErrNotFound}, "APIG.0101", 1},
		{"control 404 fault", meetingtest.Config{Faults: []F{{Endpoint: "ctlrecords", Kind: "status", Status: 404}}}, control(a),
			export.ErrNotDeployed, []error{export.ErrNotPermitted}, "APIG.0101", 1},
		{"history not deployed", meetingtest.Config{NotDeployed: []string{"history"}}, history, export.ErrNotDeployed, nil, "APIG.0101", 1},
		{"detail of an unknown meeting", meetingtest.Config{}, detail(meetingtest.SampleUnknownConfUUID),
			export.ErrNotFound, []error{export.ErrNotDeployed, export.ErrNotPermitted}, "MMC.111070005", 1},
		{"attendees of an unknown meeting", meetingtest.Config{}, attendees(meetingtest.SampleUnknownConfUUID), export.ErrNotFound, nil, "MMC.111070005", 1},
		{"detail retried after 503s", meetingtest.Config{Faults: []F{{Endpoint: "historydetail", Kind: "status", Status: 503, Times: 2}}}, detail(a), nil, nil, "", 3},
		{"history retried after a throttle", meetingtest.Config{Faults: []F{{Endpoint: "history", Kind: "throttle", Times: 1}}}, history, nil, nil, "", 2},
		{"attendees retried after a cut body", meetingtest.Config{Faults: []F{{Endpoint: "attendees", Kind: "truncate", Times: 1}}}, attendees(a), nil, nil, "", 2},
		{"attendees of the wrong shape", meetingtest.Config{Faults: []F{{Endpoint: "attendees", Kind: "badjson"}}}, attendees(a), export.ErrBadResponse, nil, "bad-response", 1},
		{"control as a web page", meetingtest.Config{Faults: []F{{Endpoint: "ctlrecords", Kind: "html"}}}, control(a), export.ErrBadResponse, nil, "bad-response", 1},
		{"malformed confUUID", meetingtest.Config{}, attendees("not-a-uuid"), export.ErrInvalidConfUUID, nil, "invalid-input", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg
			cfg.Dataset, cfg.HistoryRetention = ds, -1
			sim := meetingtest.Start(t, cfg)
			c := export.NewTestClient(t, sim.URL, appCreds(), nil)
			err := tt.call(testCtx(t, 30*time.Second), c)
			calls := int64(0)
			for _, api := range []string{"history", "historydetail", "attendees", "ctlrecords"} {
				calls += sim.Counters().Requests[api]
			}
			if calls != int64(tt.attempts) {
				t.Errorf("%d history API requests, want %d", calls, tt.attempts)
			}
			mustNotReveal(t, err, meetingtest.DefaultAppKey)
			if tt.is == nil {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				return
			}
			if !errors.Is(err, tt.is) {
				t.Fatalf("got %v, want errors.Is %v", err, tt.is)
			}
			for _, n := range tt.not {
				if errors.Is(err, n) {
					t.Errorf("%v is also %v", err, n)
				}
			}
			if got := export.ErrorCode(err); got != tt.code {
				t.Errorf("ErrorCode = %q, want %q", got, tt.code)
			}
		})
	}
}

func mustNotReveal(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q reveals a secret", err)
		}
	}
}

// TestSimHistoryAnswerChecks: history answers a careful client must not
// trust, and one it must accept.
func TestSimHistoryAnswerChecks(t *testing.T) {
	t.Parallel()
	ds := meetingtest.SampleDataset()
	id := ds.Conferences[0].ConfUUID
	detail := func(ctx context.Context, c *export.Client) error {
		d, err := c.HistoryDetail(ctx, id)
		if err == nil && d.Meeting.ConfUUID != id {
			return errors.New("meeting " + d.Meeting.ConfUUID)
		}
		return err
	}
	history := func(ctx context.Context, c *export.Client) error {
		h, err := c.History(ctx, export.HistoryQuery{From: histFrom, To: histTo, AllUsers: true})
		for _, m := range h.Meetings {
			if !meetingKnown(ds, m.ConfUUID) {
				return errors.New("listed " + m.ConfUUID + ": not the dataset's form")
			}
		}
		return err
	}
	tests := []struct {
		endpoint, kind string
		call           func(context.Context, *export.Client) error
		is             error
		words          []string
	}{
		{"historydetail", "otherconf", detail, export.ErrResponseMismatch, []string{"conferenceData.confUUID", id}},
		{"historydetail", "noconf", detail, export.ErrBadResponse, []string{"conferenceData.confUUID", "missing"}},
		{"historydetail", "upperconf", detail, nil, nil},
		{"historydetail", "nohasrecord", detail, nil, nil}, // evidence: the flag is not what it is for
		{"history", "noconf", history, export.ErrBadResponse, []string{"data[0].confUUID", "history page at offset 0"}},
		{"history", "nohasrecord", history, export.ErrBadResponse, []string{"data[0].isHasRecordFile", "unknown, not false"}},
		{"history", "upperconf", history, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint+"/"+tt.kind, func(t *testing.T) {
			t.Parallel()
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, HistoryRetention: -1, Faults: []meetingtest.Fault{{Endpoint: tt.endpoint, Kind: tt.kind}}})
			err := tt.call(testCtx(t, 30*time.Second), export.NewTestClient(t, sim.URL, appCreds(), nil))
			if sim.Counters().FaultHits[tt.endpoint+"/"+tt.kind] == 0 {
				t.Error("the fault never hit")
			}
			if tt.is == nil {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				return
			}
			if !errors.Is(err, tt.is) || export.ShouldRetry(err) {
				t.Fatalf("got %v (retry %v), want errors.Is %v, not retried", err, export.ShouldRetry(err), tt.is)
			}
			for _, w := range tt.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q does not name %q", err, w)
				}
			}
		})
	}
}

func meetingKnown(ds meetingtest.Dataset, id string) bool {
	if _, ok := ds.Conference(id); ok {
		return true
	}
	return slices.ContainsFunc(ds.Meetings, func(m meetingtest.Meeting) bool { return m.ConfUUID == id })
}

// TestSimHistoryAfterChanges: a recording deleted after it was archived
// leaves the list and stays in the history without recording files; a
// file added to a conference shows in its links.
func TestSimHistoryAfterChanges(t *testing.T) {
	t.Parallel()
	ds := meetingtest.SampleDataset()
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, HistoryRetention: -1})
	c := export.NewTestClient(t, sim.URL, appCreds(), func(c *export.Config) { c.Links = export.LinksDownloadURLs })
	ctx := testCtx(t, 30*time.Second)
	gone, grown := ds.Conferences[1].ConfUUID, ds.Conferences[0].ConfUUID
	if err := sim.DeleteConference(gone); err != nil {
		t.Fatal(err)
	}
	if err := sim.AddFile(grown, meetingtest.File{FileType: meetingtest.FileTypeHd, Name: "0_1.mp4", Size: 4096}); err != nil {
		t.Fatal(err)
	}
	var listed []string
	l, err := c.ListPaged(ctx, export.ListQuery{From: histFrom, To: histTo, AllUsers: true}, func(r export.Recording) error {
		listed = append(listed, r.ConfUUID)
		return nil
	})
	if err != nil || slices.Contains(listed, gone) || l.CountDiff() != 0 || l.Count != 6 {
		t.Errorf("list: %v, %d listed (count %d) with %s: %v; want 6 without it", err, len(listed), l.Count, gone, slices.Contains(listed, gone))
	}
	h, err := c.History(ctx, export.HistoryQuery{From: histFrom, To: histTo, AllUsers: true})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(h.Meetings, func(m export.Meeting) bool { return m.ConfUUID == gone })
	if i < 0 || h.Meetings[i].IsHasRecordFile {
		t.Errorf("history of the deleted recording: index %d, %+v; want listed without recording files", i, h.Meetings)
	}
	files, err := c.Links(ctx, grown)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(ds.Conferences[0].Files)+1 || !slices.ContainsFunc(files, func(f export.File) bool { return f.ID() == "Hd/0_1.mp4" }) {
		t.Errorf("links %v, want the added Hd/0_1.mp4 too", files)
	}
}

// TestHistoryAPIsHaveLimiters: each history API has a limiter of its own
// and is counted apart.
func TestHistoryAPIsHaveLimiters(t *testing.T) {
	t.Parallel()
	ds := meetingtest.SampleDataset()
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, HistoryRetention: -1})
	c := export.NewTestClient(t, sim.URL, appCreds(), nil)
	ctx := testCtx(t, 30*time.Second)
	id := ds.Conferences[0].ConfUUID
	if _, err := c.History(ctx, export.HistoryQuery{From: histFrom, To: histTo}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.HistoryDetail(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttendeeRecords(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ControlRecords(ctx, id); err != nil {
		t.Fatal(err)
	}
	calls := c.CallStats().Calls
	for _, api := range []string{"history", "historydetail", "attendees", "ctlrecords"} {
		if calls[api][export.OutcomeOK] != 1 || c.RateLimit(api) <= 0 {
			t.Errorf("%s: %d ok calls, rate %v; want 1 and a limiter", api, calls[api][export.OutcomeOK], c.RateLimit(api))
		}
	}
}

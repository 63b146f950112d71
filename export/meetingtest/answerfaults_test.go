package meetingtest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// decodeDoc decodes a 200 JSON answer into a generic document.
func decodeDoc(t *testing.T, r reply) map[string]any {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d body %s, want 200", r.status, r.body)
	}
	var doc map[string]any
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	return doc
}

func sub(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %q: %T is not an object", k, v)
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("at [%d]: %T (len %d) is not a long enough array", k, v, len(a))
			}
			v = a[k]
		}
	}
	return v
}

func has(v any, key string) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	_, ok = m[key]
	return ok
}

func TestAnswerFaults(t *testing.T) {
	ds := SampleDataset()
	a := ds.Conferences[0].ConfUUID
	next := ds.Conferences[1].ConfUUID // otherconf answers the next conference of the dataset
	const (
		details = "/v1/mmc/management/conferences/record/files?confUUID="
		list    = "/v1/mmc/management/record/files?startDate=0&endDate=1893456000000&limit=100"
		dl      = "/v1/mmc/management/record/downloadurls?confUUID="
		ri      = "/v1/mmc/rlm/record/info"
	)
	riBody := func(conf string, off, lim int) string {
		return fmt.Sprintf(`{"confUUID":%q,"segmentOffset":%d,"segmentLimit":%d}`, conf, off, lim)
	}
	tests := []struct {
		name         string
		fault        Fault
		method, path string
		body         string
		check        func(t *testing.T, s *Server, doc map[string]any)
	}{
		{"details otherconf", Fault{Endpoint: "details", Kind: "otherconf"}, "GET", details + a, "", func(t *testing.T, s *Server, doc map[string]any) {
			if got := doc["confUUID"]; got != next {
				t.Errorf("confUUID = %v, want another conference's %s", got, next)
			}
		}},
		{"details upperconf", Fault{Endpoint: "details", Kind: "upperconf"}, "GET", details + a, "", func(t *testing.T, s *Server, doc map[string]any) {
			if got := doc["confUUID"]; got != strings.ToUpper(a) {
				t.Errorf("confUUID = %v, want %s", got, strings.ToUpper(a))
			}
		}},
		{"details noconf", Fault{Endpoint: "details", Kind: "noconf"}, "GET", details + a, "", func(t *testing.T, s *Server, doc map[string]any) {
			if has(doc, "confUUID") || !has(doc, "available") || !has(doc, "subject") {
				t.Errorf("answer %v: want confUUID gone, the rest there", doc)
			}
		}},
		{"details noavailable", Fault{Endpoint: "details", Kind: "noavailable"}, "GET", details + a, "", func(t *testing.T, s *Server, doc map[string]any) {
			if has(doc, "available") || !has(doc, "isDecodeFinish") || doc["confUUID"] != a {
				t.Errorf("answer %v: want available gone, the rest there", doc)
			}
		}},
		{"details nodecode", Fault{Endpoint: "details", Kind: "nodecode"}, "GET", details + a, "", func(t *testing.T, s *Server, doc map[string]any) {
			if has(doc, "isDecodeFinish") || !has(doc, "available") {
				t.Errorf("answer %v: want isDecodeFinish gone, the rest there", doc)
			}
		}},
		{"details negsize", Fault{Endpoint: "details", Kind: "negsize"}, "GET", details + a, "", func(t *testing.T, s *Server, doc map[string]any) {
			if got := doc["rcdSize"]; got != -1.0 {
				t.Errorf("rcdSize = %v, want -1", got)
			}
		}},
		{"list upperconf", Fault{Endpoint: "list", Kind: "upperconf"}, "GET", list + "&queryAll=true", "", func(t *testing.T, s *Server, doc map[string]any) {
			rows := sub(t, doc, "data").([]any)
			if len(rows) != len(ds.Conferences) {
				t.Fatalf("%d rows, want %d", len(rows), len(ds.Conferences))
			}
			for i, r := range rows {
				if id, _ := sub(t, r, "confUUID").(string); id == "" || id != strings.ToUpper(id) {
					t.Errorf("row %d confUUID %q, want upper case", i, id)
				}
			}
		}},
		{"list noconf", Fault{Endpoint: "list", Kind: "noconf"}, "GET", list, "", func(t *testing.T, s *Server, doc map[string]any) {
			for i, r := range sub(t, doc, "data").([]any) {
				if has(r, "confUUID") || !has(r, "subject") {
					t.Errorf("row %d = %v, want confUUID gone", i, r)
				}
			}
		}},
		{"list noavailable", Fault{Endpoint: "list", Kind: "noavailable"}, "GET", list, "", func(t *testing.T, s *Server, doc map[string]any) {
			for i, r := range sub(t, doc, "data").([]any) {
				if has(r, "available") || !has(r, "confUUID") {
					t.Errorf("row %d = %v, want available gone", i, r)
				}
			}
		}},
		{"list negsize", Fault{Endpoint: "list", Kind: "negsize"}, "GET", list, "", func(t *testing.T, s *Server, doc map[string]any) {
			if got := sub(t, doc, "data", 0, "rcdSize"); got != -1.0 {
				t.Errorf("rcdSize = %v, want -1", got)
			}
		}},
		{"downloadurls otherconf", Fault{Endpoint: "downloadurls", Kind: "otherconf"}, "GET", dl + a, "", func(t *testing.T, s *Server, doc map[string]any) {
			if got := sub(t, doc, "recordUrls", 0, "confUuid"); got != next {
				t.Errorf("confUuid = %v, want %s", got, next)
			}
			if n := len(sub(t, doc, "recordUrls", 0, "urls").([]any)); n != len(ds.Conferences[0].Files) {
				t.Errorf("%d urls, want the conference's %d", n, len(ds.Conferences[0].Files))
			}
		}},
		{"downloadurls upperconf", Fault{Endpoint: "downloadurls", Kind: "upperconf"}, "GET", dl + a, "", func(t *testing.T, s *Server, doc map[string]any) {
			if got := sub(t, doc, "recordUrls", 0, "confUuid"); got != strings.ToUpper(a) {
				t.Errorf("confUuid = %v, want %s", got, strings.ToUpper(a))
			}
		}},
		{"downloadurls noconf", Fault{Endpoint: "downloadurls", Kind: "noconf"}, "GET", dl + a, "", func(t *testing.T, s *Server, doc map[string]any) {
			if e := sub(t, doc, "recordUrls", 0); has(e, "confUuid") || !has(e, "urls") {
				t.Errorf("entry %v, want confUuid gone", e)
			}
		}},
		{"downloadurls endless", Fault{Endpoint: "downloadurls", Kind: "endless"}, "GET", dl + a + "&offset=1000&limit=100", "", func(t *testing.T, s *Server, doc map[string]any) {
			urls := sub(t, doc, "recordUrls", 0, "urls").([]any)
			if len(urls) != 100 {
				t.Fatalf("%d urls, want a full page of 100", len(urls))
			}
			for i, u := range urls {
				want := fmt.Sprintf("/0_%d.mp4", 1000+i)
				if got, _ := sub(t, u, "url").(string); !strings.HasSuffix(got, want) || sub(t, u, "token") == "" {
					t.Errorf("url %d = %v, want one ending %s with a token", i, u, want)
				}
			}
		}},
		{"downloadurls endless default limit", Fault{Endpoint: "downloadurls", Kind: "endless"}, "GET", dl + a, "", func(t *testing.T, s *Server, doc map[string]any) {
			if n := len(sub(t, doc, "recordUrls", 0, "urls").([]any)); n != DownloadURLsDefaultLimit {
				t.Errorf("%d urls, want %d", n, DownloadURLsDefaultLimit)
			}
		}},
		{"recordinfo otherconf", Fault{Endpoint: "recordinfo", Kind: "otherconf"}, "POST", ri, riBody(a, 0, 10), func(t *testing.T, s *Server, doc map[string]any) {
			if got := sub(t, doc, "data", "confUUID"); got != next {
				t.Errorf("data.confUUID = %v, want %s", got, next)
			}
		}},
		{"recordinfo upperconf", Fault{Endpoint: "recordinfo", Kind: "upperconf"}, "POST", ri, riBody(a, 0, 10), func(t *testing.T, s *Server, doc map[string]any) {
			if got := sub(t, doc, "data", "confUUID"); got != strings.ToUpper(a) {
				t.Errorf("data.confUUID = %v, want %s", got, strings.ToUpper(a))
			}
		}},
		{"recordinfo badsha", Fault{Endpoint: "recordinfo", Kind: "badsha"}, "POST", ri, riBody(a, 0, 10), func(t *testing.T, s *Server, doc map[string]any) {
			files := sub(t, doc, "data", "segmentList", 0, "fileList").([]any)
			if len(files) != 3 {
				t.Fatalf("%d files, want 3", len(files))
			}
			for i, f := range files {
				sum, _ := sub(t, f, "sha256").(string)
				ft := ds.Conferences[0].Files[i]
				full := s.FileSHA256(a, ft.FileType, ft.Name)
				if len(sum) != 40 || !strings.HasPrefix(full, sum) {
					t.Errorf("file %d sha256 %q, want the first 40 digits of %s", i, sum, full)
				}
			}
		}},
		{"recordinfo negsize", Fault{Endpoint: "recordinfo", Kind: "negsize"}, "POST", ri, riBody(a, 0, 10), func(t *testing.T, s *Server, doc map[string]any) {
			if got := sub(t, doc, "data", "segmentList", 0, "fileList", 0, "fileSize"); got != -1.0 {
				t.Errorf("fileSize = %v, want -1", got)
			}
		}},
		{"recordinfo endless", Fault{Endpoint: "recordinfo", Kind: "endless"}, "POST", ri, riBody(a, 500, 50), func(t *testing.T, s *Server, doc map[string]any) {
			segs := sub(t, doc, "data", "segmentList").([]any)
			if len(segs) != 50 || sub(t, doc, "data", "segmentCount") != 551.0 {
				t.Fatalf("%d segments, segmentCount %v; want 50 and 551", len(segs), sub(t, doc, "data", "segmentCount"))
			}
			if u, _ := sub(t, segs[0], "fileList", 0, "downloadUrl").(string); !strings.Contains(u, "/0_500.mp4?token=") {
				t.Errorf("first downloadUrl %q, want 0_500.mp4 with a token", u)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Start(t, Config{Dataset: ds, RecordInfo: true, Faults: []Fault{tt.fault}})
			tok := login(t, s, "")
			doc := decodeDoc(t, call(t, tt.method, s.URL+tt.path, tt.body, "X-Access-Token", tok))
			tt.check(t, s, doc)
			key := tt.fault.Endpoint + "/" + tt.fault.Kind
			if c := s.Counters(); c.FaultHits[key] != 1 {
				t.Errorf("FaultHits[%s] = %d, want 1", key, c.FaultHits[key])
			}
		})
	}
}

func TestAnswerFaultsLeaveErrorsAlone(t *testing.T) {
	s := Start(t, Config{Dataset: SampleDataset(), Faults: []Fault{{Endpoint: "details", Kind: "noconf"}}})
	tok := login(t, s, "")
	r := call(t, "GET", s.URL+"/v1/mmc/management/conferences/record/files?confUUID="+SampleUnknownConfUUID, "", "X-Access-Token", tok)
	wantError(t, r, 400, CodeMeetingNotExist)
}

func TestAnswerFaultEndpoints(t *testing.T) {
	for kind, eps := range answerFaultEndpoints {
		for _, ep := range faultEndpoints {
			t.Run(kind+"/"+ep, func(t *testing.T) {
				err := Config{Faults: []Fault{{Endpoint: ep, Kind: kind}}}.Validate()
				if want := slices.Contains(eps, ep); (err == nil) != want {
					t.Errorf("Validate = %v, want accepted %v", err, want)
				}
				if err != nil && !strings.Contains(err.Error(), kind) {
					t.Errorf("Validate = %v, want it to name the kind", err)
				}
			})
		}
		spec := eps[0] + ":" + kind + ":times=2"
		f, err := ParseFault(spec)
		if err != nil || f.Endpoint != eps[0] || f.Kind != kind || f.Times != 2 || f.String() != spec {
			t.Errorf("ParseFault(%q) = %+v (%q), %v", spec, f, f.String(), err)
		}
	}
}

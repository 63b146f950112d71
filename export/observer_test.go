package export_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"meetarchive/export"
	"meetarchive/export/meetingtest"
)

// idRecorder serves the simulator and keeps every X-Request-Id it sent, in
// order, by path: what Config.Observer must report, read from the wire.
type idRecorder struct {
	h   http.Handler
	mu  sync.Mutex
	ids map[string][]string
}

func (r *idRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.h.ServeHTTP(w, req)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids[req.URL.Path] = append(r.ids[req.URL.Path], w.Header().Get("X-Request-Id"))
}

func (r *idRecorder) sent() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var all []string
	for p, ids := range r.ids {
		if strings.HasPrefix(p, "/media/") {
			continue
		}
		all = append(all, ids...)
	}
	slices.Sort(all)
	return all
}

// TestObserverHearsEveryAPICall: every API exchange, retries and failures
// included, reaches Config.Observer with its API, conference, try, HTTP
// status and the gateway's X-Request-Id; a media download does not.
func TestObserverHearsEveryAPICall(t *testing.T) {
	ds := meetingtest.SampleDataset()
	conf := ds.Conferences[0]
	sim := meetingtest.NewServer(meetingtest.Config{Dataset: ds, RecordInfo: true, Faults: []meetingtest.Fault{
		{Endpoint: "details", Kind: "status", Status: 500, Times: 1},
	}})
	t.Cleanup(sim.Close)
	rec := &idRecorder{h: sim, ids: map[string][]string{}}
	front := httptest.NewServer(rec)
	t.Cleanup(front.Close)

	var (
		mu    sync.Mutex
		calls []export.Call
	)
	c, err := export.NewClient(export.Config{
		BaseURL: front.URL, Credentials: appCreds(), Rate: 1000, RequestTimeout: 5 * time.Second,
		RetryBase: time.Millisecond, RetryMax: 10 * time.Millisecond, Links: export.LinksRecordInfo,
		Observer: func(c export.Call) {
			mu.Lock()
			calls = append(calls, c)
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t, time.Minute)
	if _, err := c.Details(ctx, conf.ConfUUID); err != nil {
		t.Fatalf("Details: %v", err)
	}
	files, err := c.Links(ctx, conf.ConfUUID)
	if err != nil || len(files) == 0 {
		t.Fatalf("Links = %d files, %v", len(files), err)
	}
	m, err := c.OpenMediaAt(ctx, files[0], 0)
	if err != nil {
		t.Fatalf("OpenMediaAt: %v", err)
	}
	_, _ = io.Copy(io.Discard, m.Body)
	m.Body.Close()
	if err := c.Delete(ctx, conf.ConfUUID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := c.Delete(ctx, conf.ConfUUID); err == nil {
		t.Fatal("second Delete: want not-found")
	}

	mu.Lock()
	defer mu.Unlock()
	var got []string
	var ids []string
	for _, cl := range calls {
		got = append(got, fmt.Sprintf("%s %s %d %d %t", cl.API, cl.ConfUUID, cl.Try, cl.Status, cl.Error != ""))
		if cl.RequestID == "" {
			t.Errorf("call %+v: no request id", cl)
		}
		ids = append(ids, cl.RequestID)
	}
	u := conf.ConfUUID
	want := []string{
		"auth  1 200 false",
		"details " + u + " 1 500 true",
		"details " + u + " 2 200 false",
		"recordinfo " + u + " 1 200 false",
		"delete " + u + " 1 200 false",
		"delete " + u + " 1 400 true",
	}
	if !slices.Equal(got, want) {
		t.Errorf("calls =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The ids are the ones the gateway sent, each once: no media download
	// among them.
	slices.Sort(ids)
	if sent := rec.sent(); !slices.Equal(ids, sent) {
		t.Errorf("request ids observed =\n%q\nsent by the simulator (API paths) =\n%q", ids, sent)
	}
}

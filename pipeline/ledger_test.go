package pipeline

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
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

// ledgerLine is one line of a ledger as a test reads it.
type ledgerLine struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

func readLedgerLines(t *testing.T, data []byte) []ledgerLine {
	t.Helper()
	var out []ledgerLine
	for _, l := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		var ll ledgerLine
		if err := json.Unmarshal(l, &ll); err != nil {
			t.Fatalf("ledger line %q: %v", l, err)
		}
		out = append(out, ll)
	}
	return out
}

// ledgerJob is a job on sim and store whose client and pipeline report to
// a fresh RunLedger in a temporary report directory.
func ledgerJob(t *testing.T, sim *meetingtest.Server, store Store, opts Options) (*Job, *RunLedger) {
	t.Helper()
	led := NewRunLedger(t.TempDir())
	client, err := export.NewClient(export.Config{BaseURL: sim.URL, Rate: 500, Links: export.LinksRecordInfo,
		Credentials: export.Credentials{AppID: meetingtest.DefaultAppID, AppKey: meetingtest.DefaultAppKey},
		RetryBase:   time.Millisecond, RetryMax: 10 * time.Millisecond, Observer: led.Observe})
	if err != nil {
		t.Fatal(err)
	}
	opts.Retry = export.Backoff{MaxAttempts: 3, Base: time.Millisecond, Max: 10 * time.Millisecond}
	return &Job{API: client, Store: store, Keys: archive.MustParseKeyTemplate(archive.DefaultKeyTemplate),
		Log: slog.New(slog.DiscardHandler), Progress: NoProgress{}, Options: opts, Custody: led}, led
}

// TestLedgerOfAConference: the events of a conference whose first run
// stored one file of two, and whose second run keeps that file (reused),
// resumes the other after a broken stream, commits it and deletes it from
// the platform; the ledger stored in the destination verifies, ends with
// run-end, and its signature verifies.
func TestLedgerOfAConference(t *testing.T) {
	ds := meetingtest.GenerateFiles(1, 2, 64<<10, 71)
	u := ds.Conferences[0].ConfUUID
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 71, RecordInfo: true, Faults: []meetingtest.Fault{
		{Endpoint: "media", Kind: "status", Status: 404, ConfUUID: u, Times: 1}}}) // the first file fails for good
	store, err := archive.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	j1, led1 := ledgerJob(t, sim, store, Options{})
	if err := led1.Start(report.LedgerRunStart{RunID: "run-1", Tool: "meetarchive"}); err != nil {
		t.Fatal(err)
	}
	rows, fatal := j1.conference(ctx, Item{ConfUUID: u})
	if fatal != nil || len(rows) != 2 || rows[0].Status != report.Failed {
		t.Fatalf("run 1: rows %+v, fatal %v: want two failed rows (one file stored)", rows, fatal)
	}
	if _, err := led1.End(ctx, report.LedgerRunEnd{ExitCode: report.ExitFailures}, store, nil); err != nil {
		t.Fatal(err)
	}

	// Run 2's download breaks at 10 KiB and resumes with a range request.
	if err := sim.SetFaults([]meetingtest.Fault{{Endpoint: "media", Kind: "truncate", ConfUUID: u, Times: 1, Offset: 10 << 10}}); err != nil {
		t.Fatal(err)
	}
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	j2, led2 := ledgerJob(t, sim, store, Options{DeleteAfter: true})
	if err := led2.Start(report.LedgerRunStart{RunID: "run-2", Tool: "meetarchive"}); err != nil {
		t.Fatal(err)
	}
	rows, fatal = j2.conference(ctx, Item{ConfUUID: u})
	if fatal != nil || len(rows) != 2 {
		t.Fatalf("run 2: rows %+v, fatal %v", rows, fatal)
	}
	for _, r := range rows {
		if r.Status != report.Archived || !r.Deleted {
			t.Fatalf("run 2: %s %s %s deleted=%t: want archived and deleted", r.FileName, r.Status, r.ErrorMessage, r.Deleted)
		}
	}
	info, err := led2.End(ctx, report.LedgerRunEnd{ExitCode: report.ExitOK}, store, priv)
	if err != nil {
		t.Fatal(err)
	}

	// The destination's copy is the report directory's, and verifies.
	local, err := os.ReadFile(led2.Path())
	if err != nil {
		t.Fatal(err)
	}
	rc, err := store.Open(ctx, LedgerKey("run-2"))
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(stored, local) {
		t.Errorf("the destination's ledger differs from ledger.jsonl")
	}
	check, err := report.VerifyLedger(bytes.NewReader(stored))
	if err != nil {
		t.Fatalf("VerifyLedger: %v", err)
	}
	if check.RunID != "run-2" || !check.Ended || check.Head != info.Head || check.Lines != info.Lines || info.URI != store.URI(LedgerKey("run-2")) {
		t.Errorf("check = run %q ended %t head %s lines %d; info = %+v", check.RunID, check.Ended, check.Head, check.Lines, info)
	}
	sigData, _, err := store.GetMeta(ctx, LedgerSignatureKey("run-2"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var sig report.LedgerSignature
	if err := json.Unmarshal(sigData, &sig); err != nil {
		t.Fatal(err)
	}
	if err := sig.Verify(priv.Public().(ed25519.PublicKey), check); err != nil {
		t.Errorf("signature: %v", err)
	}
	if info.SignatureURI != store.URI(LedgerSignatureKey("run-2")) || info.KeySHA256 != report.KeyFingerprint(priv.Public().(ed25519.PublicKey)) {
		t.Errorf("info = %+v", info)
	}

	// The events, in order of kind; every object as the store holds it.
	var kinds []string
	var reused, fresh int
	for _, l := range readLedgerLines(t, stored) {
		k := l.Type
		switch l.Type {
		case report.EventAPICall:
			var c report.LedgerAPICall
			_ = json.Unmarshal(l.Data, &c)
			if c.RequestID == "" || c.Status == 0 {
				t.Errorf("api-call %+v: want a request id and a status", c)
			}
			k += " " + c.API
		case report.EventLink:
			var ln report.LedgerLink
			_ = json.Unmarshal(l.Data, &ln)
			if strings.ContainsAny(ln.URL, "?#") || !strings.HasPrefix(ln.URL, sim.URL) {
				t.Errorf("link url %q: want scheme, host and path only", ln.URL)
			}
			k += " " + ln.Use
			if ln.Offset > 0 {
				k += " resumed"
			}
		case report.EventObject:
			var o report.LedgerObject
			_ = json.Unmarshal(l.Data, &o)
			st, err := store.Stat(ctx, o.Key)
			if err != nil || st.Bytes != o.Bytes || o.SHA256 != o.PlatformSHA256 || o.URI != store.URI(o.Key) {
				t.Errorf("object %+v: store has %+v, %v", o, st, err)
			}
			if o.Reused {
				reused++
			} else {
				fresh++
			}
		case report.EventDelete:
			var d report.LedgerDelete
			_ = json.Unmarshal(l.Data, &d)
			if !d.Confirmed || d.ConfUUID != u {
				t.Errorf("delete %+v: want confirmed for %s", d, u)
			}
		}
		kinds = append(kinds, k)
	}
	if reused != 1 || fresh != 1 || len(check.Objects) != 2 {
		t.Errorf("objects: %d reused, %d downloaded, %d in the check; want 1, 1, 2", reused, fresh, len(check.Objects))
	}
	for _, want := range []string{"run-start", "api-call auth", "api-call details", "api-call recordinfo", "link issued",
		"link used", "link used resumed", "object", "commit", "api-call delete", "delete", "run-end"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("no %q line in %q", want, kinds)
		}
	}
	order := func(k string) int { return slices.Index(kinds, k) }
	if !(order("commit") > order("object") && order("api-call delete") > order("commit") && order("delete") > order("api-call delete") &&
		kinds[0] == "run-start" && kinds[len(kinds)-1] == "run-end") {
		t.Errorf("lines out of order: %q", kinds)
	}
}

// TestRunLedgerWritesAsItGoes: API calls heard before run-start come right
// after it; every line is in the file as soon as it is added (a killed run
// leaves them); a dry run's End stores nothing; a new run keeps the
// ledger an earlier one left in the directory.
func TestRunLedgerWritesAsItGoes(t *testing.T) {
	dir := t.TempDir()
	led := NewRunLedger(dir)
	if info, err := NewRunLedger(dir).End(context.Background(), report.LedgerRunEnd{}, nil, nil); info != nil || err != nil {
		t.Errorf("End before Start = %+v, %v; want nil, nil", info, err)
	}
	if _, err := os.Stat(led.Path()); !os.IsNotExist(err) {
		t.Errorf("a ledger not started left a file: %v", err)
	}
	led.Observe(export.Call{API: "auth", Try: 1, Status: 200, RequestID: "r1"})
	led.Observe(export.Call{API: "list", Try: 1, Status: 200, RequestID: "r2"})
	if err := led.Start(report.LedgerRunStart{RunID: "run-a", Tool: "meetarchive"}); err != nil {
		t.Fatal(err)
	}
	led.Link(report.LedgerLink{ConfUUID: "c", Use: report.LinkIssued, URL: "https://m/x"})
	data, err := os.ReadFile(led.Path())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range readLedgerLines(t, data) {
		got = append(got, l.Type)
	}
	if want := []string{"run-start", "api-call", "api-call", "link"}; !slices.Equal(got, want) {
		t.Errorf("before End the file holds %q, want %q", got, want)
	}
	if _, err := report.VerifyLedger(bytes.NewReader(data)); err == nil || !strings.Contains(err.Error(), "without run-end") {
		t.Errorf("VerifyLedger(a killed run's ledger) = %v, want: ends without run-end", err)
	}
	info, err := led.End(context.Background(), report.LedgerRunEnd{ExitCode: report.ExitOK}, nil, nil)
	if err != nil || info != nil {
		t.Errorf("End(no store) = %+v, %v; want nil, nil", info, err)
	}
	data, _ = os.ReadFile(led.Path())
	if c, err := report.VerifyLedger(bytes.NewReader(data)); err != nil || c.Lines != 5 || c.RunID != "run-a" {
		t.Errorf("VerifyLedger = %+v, %v; want 5 lines of run-a", c, err)
	}

	if err := NewRunLedger(dir).Start(report.LedgerRunStart{RunID: "run-b"}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	kept := 0
	if b, _ := os.ReadFile(dir + "/ledger-run-a.jsonl"); bytes.Equal(b, data) {
		kept++
	}
	if kept != 1 {
		t.Errorf("the earlier ledger was not kept beside the new one: %d copies in %v", kept, entries)
	}
}

// TestRunKeepsTheLedgerItIsGiven: Run, called as a second front end would,
// with RunConfig.Ledger (its Observe given to the client by Open), a
// signing key and an operator: the ledger of the run is in --out and the
// destination, starts with the operator, ends with the run's exit code
// (1: an invalid line), is signed and is the summary's.
func TestRunKeepsTheLedgerItIsGiven(t *testing.T) {
	ds := meetingtest.GenerateFiles(2, 1, 8<<10, 79)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 79})
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	if err := os.WriteFile(in, []byte(ds.Conferences[0].ConfUUID+"\n"+ds.Conferences[1].ConfUUID+"\nnot-a-uuid\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dest, out := t.TempDir(), filepath.Join(dir, "report")
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	led := NewRunLedger(out)
	cfg := RunConfig{
		Input: in, Dest: dest, Out: out, Keys: archive.MustParseKeyTemplate(archive.DefaultKeyTemplate),
		Job:     Options{Concurrency: 2, Tool: "test", Retry: export.Backoff{Base: time.Millisecond, Max: 10 * time.Millisecond, MaxAttempts: 2}},
		Version: "test", APIBase: sim.URL, Ledger: led, SignKey: priv, Operator: "front end", Commit: "abc123",
		Open: func(ctx context.Context, log *slog.Logger) (*export.Client, archive.Store, error) {
			client, err := export.NewClient(export.Config{BaseURL: sim.URL, Rate: 500, Credentials: export.Credentials{AppID: meetingtest.DefaultAppID, AppKey: meetingtest.DefaultAppKey},
				Observer: led.Observe})
			if err != nil {
				return nil, nil, err
			}
			store, err := archive.NewDirStore(dest)
			return client, store, err
		},
	}
	res, err := Run(context.Background(), cfg, RunHooks{Log: slog.New(slog.DiscardHandler)})
	if !errors.Is(err, ErrItemsFailed) || !res.Finished {
		t.Fatalf("Run = %v (finished %t), want ErrItemsFailed", err, res.Finished)
	}
	stored, err := os.ReadFile(filepath.Join(dest, filepath.FromSlash(LedgerKey(res.RunID))))
	if err != nil {
		t.Fatal(err)
	}
	check, err := report.VerifyLedger(bytes.NewReader(stored))
	if err != nil {
		t.Fatalf("VerifyLedger: %v", err)
	}
	lines := readLedgerLines(t, stored)
	var start report.LedgerRunStart
	var end report.LedgerRunEnd
	_ = json.Unmarshal(lines[0].Data, &start)
	_ = json.Unmarshal(lines[len(lines)-1].Data, &end)
	if start.Operator != "front end" || start.Commit != "abc123" || start.RunID != res.RunID || start.InputSHA256 == "" {
		t.Errorf("run-start %+v", start)
	}
	if end.ExitCode != report.ExitFailures || res.Summary.ExitCode != end.ExitCode || end.Objects != 2 || len(check.Objects) != 2 {
		t.Errorf("run-end %+v, summary exit %d, %d object lines; want exit 1 in both, 2 objects", end, res.Summary.ExitCode, len(check.Objects))
	}
	l := res.Summary.Ledger
	if l == nil || l.Head != check.Head || l.KeySHA256 != report.KeyFingerprint(priv.Public().(ed25519.PublicKey)) || res.Summary.Operator != "front end" {
		t.Fatalf("summary ledger %+v, operator %q", l, res.Summary.Operator)
	}
	sigData, err := os.ReadFile(filepath.Join(dest, filepath.FromSlash(LedgerSignatureKey(res.RunID))))
	if err != nil {
		t.Fatal(err)
	}
	var sig report.LedgerSignature
	if err := json.Unmarshal(sigData, &sig); err != nil {
		t.Fatal(err)
	}
	if err := sig.Verify(priv.Public().(ed25519.PublicKey), check); err != nil {
		t.Errorf("signature: %v", err)
	}
}

// recordingCustody keeps every Custody event, for a test.
type recordingCustody struct {
	mu      sync.Mutex
	objects []report.LedgerObject
	commits []report.LedgerCommit
	used    int
}

func (c *recordingCustody) Link(l report.LedgerLink) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l.Use == report.LinkUsed {
		c.used++
	}
}
func (c *recordingCustody) Object(o report.LedgerObject) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.objects = append(c.objects, o)
}
func (c *recordingCustody) Commit(m report.LedgerCommit) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.commits = append(c.commits, m)
}
func (c *recordingCustody) Delete(report.LedgerDelete) {}

// TestLedgerOfAnUpdate: a conference that gains a file after it was
// archived (--recheck): the custody events are the new file's download,
// its object, and the rewritten commit mark listing all three files.
func TestLedgerOfAnUpdate(t *testing.T) {
	sim, j, c := updatedSim(t, "downloadurls", Options{Tool: "test"})
	if err := sim.AddFile(c.ConfUUID, meetingtest.File{FileType: meetingtest.FileTypeHd, Name: "9_9.mp4", Size: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	cust := &recordingCustody{}
	j.Options.Recheck, j.Custody = "--recheck", cust
	rows, fatal := j.conference(context.Background(), Item{ConfUUID: c.ConfUUID})
	if fatal != nil {
		t.Fatal(fatal)
	}
	if got := statusesOf(rows); !slices.Contains(got, "Hd/9_9.mp4="+string(report.Updated)) {
		t.Fatalf("rows %v: want the new file updated", got)
	}
	if cust.used != 1 || len(cust.objects) != 1 || !strings.HasSuffix(cust.objects[0].Key, "9_9.mp4") {
		t.Errorf("links used %d, objects %+v: want the new file's only", cust.used, cust.objects)
	}
	if len(cust.commits) != 1 || cust.commits[0].Files != 3 || cust.commits[0].ConfUUID != c.ConfUUID {
		t.Errorf("commits %+v: want one, listing three files", cust.commits)
	}
}

// refusingStore is a store that refuses the reserved writes a run's end
// makes: the ledger (putErr) or its signature (metaErr).
type refusingStore struct {
	Store
	putErr, metaErr error
}

func (s refusingStore) Put(ctx context.Context, key string, r io.Reader, want archive.Expect) (archive.Object, error) {
	if s.putErr != nil && want.Reserved {
		return archive.Object{}, s.putErr
	}
	return s.Store.Put(ctx, key, r, want)
}

func (s refusingStore) PutMeta(ctx context.Context, key string, data []byte, m archive.Meta) (string, error) {
	if s.metaErr != nil && key == LedgerSignatureKey("run-x") {
		return "", s.metaErr
	}
	return s.Store.PutMeta(ctx, key, data, m)
}

// TestLedgerEndSaysWhatWasNotStored: a ledger or a signature the
// destination refused is said in the summary's LedgerInfo (Error), and a
// run given a key keeps its fingerprint there, so no page calls it
// unsigned.
func TestLedgerEndSaysWhatWasNotStored(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	fp := report.KeyFingerprint(priv.Public().(ed25519.PublicKey))
	tests := []struct {
		name             string
		putErr, metaErr  error
		key              ed25519.PrivateKey
		wantURI, wantSig bool
		wantKey          string
		wantErr          string
	}{
		{"stored and signed", nil, nil, priv, true, true, fp, ""},
		{"signature refused", nil, errors.New("access denied"), priv, true, false, fp, "ledger: signature not stored: access denied"},
		{"ledger refused, key given", errors.New("no space left on device"), nil, priv, false, false, fp, "ledger: store: no space left on device"},
		{"ledger refused, no key", errors.New("no space left on device"), nil, nil, false, false, "", "ledger: store: no space left on device"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, err := archive.NewDirStore(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			store := refusingStore{Store: dir, putErr: tc.putErr, metaErr: tc.metaErr}
			led := NewRunLedger(t.TempDir())
			if err := led.Start(report.LedgerRunStart{RunID: "run-x", Tool: "meetarchive"}); err != nil {
				t.Fatal(err)
			}
			info, err := led.End(context.Background(), report.LedgerRunEnd{ExitCode: report.ExitOK}, store, tc.key)
			if (err != nil) != (tc.wantErr != "") {
				t.Fatalf("End err = %v, want %q", err, tc.wantErr)
			}
			if info == nil {
				t.Fatal("End gave no LedgerInfo")
			}
			if (info.URI != "") != tc.wantURI || (info.SignatureURI != "") != tc.wantSig || info.KeySHA256 != tc.wantKey ||
				info.Error != tc.wantErr || info.Head == "" || info.Lines != 2 {
				t.Errorf("info = %+v; want uri %t, signature %t, key %q, error %q, head and 2 lines", info, tc.wantURI, tc.wantSig, tc.wantKey, tc.wantErr)
			}
		})
	}
}

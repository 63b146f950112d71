package export_test

// Integration tests against the simulator (export/meetingtest). They assert
// the simulator's own counters, not only what the client says.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"meetarchive/export"
	"meetarchive/export/meetingtest"
)

func appCreds() export.Credentials {
	return export.Credentials{AppID: meetingtest.DefaultAppID, AppKey: meetingtest.DefaultAppKey}
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestSimTokenLifetime2s: with 2 s tokens, 8 workers calling for at least
// 10 s log in no more than once per token lifetime (run-seconds/1.8 + 2
// logins) and no call fails for authentication.
func TestSimTokenLifetime2s(t *testing.T) {
	t.Parallel()
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 40, Seed: 1})
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, TokenLifetime: 2 * time.Second})
	c := export.NewTestClient(t, sim.URL, appCreds(), func(c *export.Config) { c.Rate = 40 })
	ctx := testCtx(t, 30*time.Second)
	ids := ds.UUIDs()

	start := time.Now()
	deadline := start.Add(10500 * time.Millisecond)
	var calls, failures atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; time.Now().Before(deadline); i += 8 {
				_, err := c.Details(ctx, ids[i%len(ids)])
				calls.Add(1)
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		})
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	ctr := sim.Counters()
	t.Logf("%.1fs: %d calls, %d logins, %d refused with 401, client auths %d", secs, calls.Load(), ctr.Auth, ctr.Unauthorized, c.Stats().Auths)
	if n := failures.Load(); n > 0 {
		t.Errorf("%d calls failed, first: %v", n, firstErr.Load())
	}
	// Tokens are renewed at 90% of their life: one login per 1.8 s, plus
	// the first, however long the machine made the run.
	if limit := int64(secs/1.8) + 2; ctr.Auth > limit {
		t.Errorf("authentications = %d over %.1fs, want <= %d", ctr.Auth, secs, limit)
	}
	if ctr.Auth < 5 {
		t.Errorf("authentications = %d over %.1fs of 2 s tokens: the token was not refreshed", ctr.Auth, secs)
	}
	if ctr.AuthFailed != 0 {
		t.Errorf("failed logins = %d", ctr.AuthFailed)
	}
	if calls.Load() < 100 {
		t.Errorf("only %d calls: the run did not exercise the token", calls.Load())
	}
}

// A simulator enforcing 20 requests/s on details sees zero 429s from a
// client capped at 20/s, which never goes faster than its ceiling. (How
// close to the limit it gets is make bench's measure: a busy machine would
// break a bound on time here.)
func TestSimRateCapped20(t *testing.T) {
	t.Parallel()
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 50, Seed: 2})
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, RatePerAPI: 20})
	c := export.NewTestClient(t, sim.URL, appCreds(), func(c *export.Config) { c.Rate = 20 })
	ctx := testCtx(t, 60*time.Second)
	if err := c.Authenticate(ctx); err != nil {
		t.Fatal(err)
	}
	ids := ds.UUIDs()
	var next, failures atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	// More workers than the rate needs, so that a slow moment on a busy
	// machine does not leave the limiter without callers.
	for range 16 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= 300 {
					return
				}
				if _, err := c.Details(ctx, ids[int(i)%len(ids)]); err != nil {
					failures.Add(1)
					t.Errorf("Details: %v", err)
				}
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	rate := 300 / el.Seconds()
	ctr := sim.Counters()
	t.Logf("300 calls in %v: %.2f/s; simulator 429s %d, details requests %d", el.Round(time.Millisecond), rate, ctr.Throttled, ctr.Details)
	if ctr.Throttled != 0 || c.Stats().Throttled != 0 {
		t.Errorf("429s = %d (client saw %d), want 0", ctr.Throttled, c.Stats().Throttled)
	}
	if rate > 20*1.02 {
		t.Errorf("%.2f calls/s, above the 20/s ceiling", rate)
	}
	if ctr.Details != 300 {
		t.Errorf("details requests = %d, want 300", ctr.Details)
	}
}

// TestSimRateLearned: a client capped at 100/s against a simulator that
// enforces 20/s per API learns the real limit from the headers and 429s:
// every conference is still archived (details, links, media, hash checked)
// and 429s stay under 5% of calls.
func TestSimRateLearned(t *testing.T) {
	t.Parallel()
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 150, FilesPerConference: 1, FileSize: 4 << 10, Seed: 3})
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, RatePerAPI: 20, Seed: 3})
	c := export.NewTestClient(t, sim.URL, appCreds(), func(c *export.Config) { c.Rate = 100; c.Links = export.LinksDownloadURLs })
	ctx := testCtx(t, 60*time.Second)
	ids := ds.UUIDs()
	var next atomic.Int64
	var archived atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(ids) {
					return
				}
				if err := archiveOne(ctx, c, sim, ids[i]); err != nil {
					t.Errorf("conference %s: %v", ids[i], err)
					continue
				}
				archived.Add(1)
			}
		})
	}
	wg.Wait()
	ctr := sim.Counters()
	calls := ctr.Details + ctr.DownloadURLs
	t.Logf("%d archived; %d API calls, %d 429s; learnt details %.2f/s, downloadurls %.2f/s",
		archived.Load(), calls, ctr.Throttled, c.RateLimit("details"), c.RateLimit("downloadurls"))
	if archived.Load() != int64(len(ids)) {
		t.Errorf("archived %d of %d", archived.Load(), len(ids))
	}
	if ctr.Throttled*20 >= calls {
		t.Errorf("429s = %d of %d calls, want < 5%%", ctr.Throttled, calls)
	}
	for _, api := range []string{"details", "downloadurls"} {
		if r := c.RateLimit(api); r > 20 {
			t.Errorf("%s limiter at %.2f/s, want <= the simulator's 20/s", api, r)
		}
	}
}

// archiveOne does what the pipeline does for one conference: details, fresh
// links, download with hash check, retrying a download with new links.
func archiveOne(ctx context.Context, c *export.Client, sim *meetingtest.Server, id string) error {
	rec, err := c.Details(ctx, id)
	if err != nil {
		return err
	}
	if !rec.IsDecodeFinish || !rec.Available {
		return nil
	}
	files, err := c.Links(ctx, id)
	if err != nil {
		return err
	}
	for _, f := range files {
		sum, _, err := download(ctx, c, f)
		if err != nil {
			return err
		}
		if want := sim.FileSHA256(id, f.FileType, f.Name); sum != want {
			return errors.New("sha256 mismatch for " + f.String())
		}
	}
	return nil
}

func download(ctx context.Context, c *export.Client, f export.File) (string, int64, error) {
	m, err := c.OpenMedia(ctx, f)
	if err != nil {
		return "", 0, err
	}
	defer m.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, m.Body)
	if err != nil {
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// TestSimFaultTable: each injected fault yields the documented retry or
// failure, with the attempts counted alike by the simulator and by the
// error.
func TestSimFaultTable(t *testing.T) {
	t.Parallel()
	type fault = meetingtest.Fault
	tests := []struct {
		name         string
		fault        fault
		wantErrCode  string // "" = success
		wantRequests int64  // details requests the simulator saw
		is           error
		minElapsed   time.Duration
	}{
		{"500 twice", fault{Endpoint: "details", Kind: "status", Status: 500, Times: 2}, "", 3, nil, 0},
		{"502 once", fault{Endpoint: "details", Kind: "status", Status: 502, Times: 1}, "", 2, nil, 0},
		{"503 always", fault{Endpoint: "details", Kind: "status", Status: 503}, meetingtest.CodeServerError, 4, nil, 0},
		{"504 once", fault{Endpoint: "details", Kind: "status", Status: 504, Times: 1}, "", 2, nil, 0},
		{"400 permanent", fault{Endpoint: "details", Kind: "status", Status: 400}, meetingtest.CodeRequestError, 1, nil, 0},
		{"403 permanent", fault{Endpoint: "details", Kind: "status", Status: 403}, meetingtest.CodeNoPermission, 1, nil, 0},
		{"404 permanent", fault{Endpoint: "details", Kind: "status", Status: 404}, meetingtest.CodeNoAPI, 1, nil, 0},
		{"429 with Retry-After", fault{Endpoint: "details", Kind: "throttle", RetryAfter: time.Second, Times: 1}, "", 2, nil, time.Second},
		{"429 always", fault{Endpoint: "details", Kind: "throttle"}, meetingtest.CodeThrottled, 4, nil, 0},
		{"latency once", fault{Endpoint: "details", Kind: "latency", Latency: 2 * time.Second, Times: 1}, "", 2, nil, 0},
		{"latency always", fault{Endpoint: "details", Kind: "latency", Latency: 2 * time.Second}, "timeout", 4, export.ErrTimeout, 0},
		{"truncated once", fault{Endpoint: "details", Kind: "truncate", Times: 1}, "", 2, nil, 0},
		{"truncated always", fault{Endpoint: "details", Kind: "truncate"}, "truncated", 4, export.ErrBadResponse, 0},
		{"html", fault{Endpoint: "details", Kind: "html"}, "bad-response", 1, export.ErrBadResponse, 0},
		{"badjson", fault{Endpoint: "details", Kind: "badjson"}, "bad-response", 1, export.ErrBadResponse, 0},
		{"reset twice", fault{Endpoint: "details", Kind: "reset", Times: 2}, "", 3, nil, 0},
		{"reset always", fault{Endpoint: "details", Kind: "reset"}, "connection", 4, export.ErrConnection, 0},
		{"auth 500 once", fault{Endpoint: "auth", Kind: "status", Status: 500, Times: 1}, "", 1, nil, 0},
		{"auth refused", fault{Endpoint: "auth", Kind: "status", Status: 401}, meetingtest.CodeTokenInvalid, 0, export.ErrAuth, 0},
		{"auth account locked", fault{Endpoint: "auth", Kind: "status", Status: 423}, "USG.000000001", 0, export.ErrAuth, 0},
	}
	ds := meetingtest.SampleDataset()
	id := ds.Conferences[0].ConfUUID
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Faults: []meetingtest.Fault{tt.fault}})
			c := export.NewTestClient(t, sim.URL, appCreds(), func(c *export.Config) {
				c.MaxAttempts = 4
				c.RequestTimeout = 300 * time.Millisecond
			})
			start := time.Now()
			rec, err := c.Details(testCtx(t, 30*time.Second), id)
			el := time.Since(start)
			ctr := sim.Counters()
			// Go's transport replays an idempotent GET once, by itself, when
			// a reused keep-alive connection dies before any answer: a reset
			// may be seen twice for one of our tries.
			slack := int64(0)
			if tt.fault.Kind == "reset" {
				slack = 1
			}
			if ctr.Details < tt.wantRequests || ctr.Details > tt.wantRequests+slack {
				t.Errorf("simulator details requests = %d, want %d (+%d)", ctr.Details, tt.wantRequests, slack)
			}
			if tt.wantErrCode == "" {
				if err != nil {
					t.Fatalf("Details: %v, want success after retries", err)
				}
				if rec.ConfUUID != id {
					t.Errorf("ConfUUID = %q, want %q", rec.ConfUUID, id)
				}
				if el < tt.minElapsed {
					t.Errorf("took %v, want >= %v (Retry-After)", el, tt.minElapsed)
				}
				return
			}
			if err == nil {
				t.Fatalf("Details = %+v, want error %s", rec, tt.wantErrCode)
			}
			if got := export.ErrorCode(err); got != tt.wantErrCode {
				t.Errorf("ErrorCode = %q, want %q (%v)", got, tt.wantErrCode, err)
			}
			wantAttempts := int(tt.wantRequests)
			if tt.fault.Kind == "reset" {
				wantAttempts = 4 // MaxAttempts: our tries, whatever the transport replayed
			}
			if tt.fault.Endpoint == "auth" {
				wantAttempts = int(ctr.Auth)
			}
			if got := export.Attempts(err); got != wantAttempts {
				t.Errorf("Attempts = %d, want %d (%v)", got, wantAttempts, err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}
}

// TestSimMediaRetryUsesNewToken: a download retried after a truncated body
// uses a new download token (the simulator refuses a token used before).
func TestSimMediaRetryUsesNewToken(t *testing.T) {
	t.Parallel()
	for _, links := range []export.LinkSource{export.LinksDownloadURLs, export.LinksRecordInfo} {
		t.Run(string(links), func(t *testing.T) {
			ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 1, FilesPerConference: 1, FileSize: 256 << 10, Seed: 4})
			id := ds.Conferences[0].ConfUUID
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, RecordInfo: true, Seed: 4,
				Faults: []meetingtest.Fault{{Endpoint: "media", Kind: "truncate", Times: 1}}})
			c := export.NewTestClient(t, sim.URL, appCreds(), func(c *export.Config) { c.Links = links })
			ctx := testCtx(t, 30*time.Second)

			first, err := c.Links(ctx, id)
			if err != nil || len(first) != 1 {
				t.Fatalf("Links = %v, %v", first, err)
			}
			_, n, err := download(ctx, c, first[0])
			if !errors.Is(err, export.ErrTruncated) || !export.ShouldRetry(err) {
				t.Fatalf("first download: %d bytes, %v; want ErrTruncated, retryable", n, err)
			}
			// The used link is dead: reusing it is refused.
			if _, err := c.OpenMedia(ctx, first[0]); export.ErrorCode(err) != meetingtest.CodeVerifyFailed {
				t.Errorf("reusing the link: %v, want %s", err, meetingtest.CodeVerifyFailed)
			}
			if got := sim.Counters().TokenRefused; got != 1 {
				t.Errorf("TokenRefused after reuse = %d, want 1", got)
			}
			// The retry asks for fresh links and succeeds.
			again, err := c.Links(ctx, id)
			if err != nil || len(again) != 1 {
				t.Fatalf("Links = %v, %v", again, err)
			}
			if again[0].URL == first[0].URL && again[0].Token == first[0].Token {
				t.Fatal("second Links returned the same link")
			}
			sum, n, err := download(ctx, c, again[0])
			if err != nil {
				t.Fatalf("retried download: %v", err)
			}
			f := ds.Conferences[0].Files[0]
			if want := sim.FileSHA256(id, f.FileType, f.Name); sum != want || n != f.Size {
				t.Errorf("downloaded %d bytes sha %s, want %d bytes sha %s", n, sum, f.Size, want)
			}
			if links == export.LinksRecordInfo && (again[0].SHA256 != sum || again[0].Size != n) {
				t.Errorf("record info said size %d sha %s; got %d %s", again[0].Size, again[0].SHA256, n, sum)
			}
			ctr := sim.Counters()
			if ctr.TokenRefused != 1 || ctr.MediaComplete != 1 || ctr.Media != 3 || ctr.LinksIssued != 2 {
				t.Errorf("counters: refused %d complete %d media %d links %d; want 1 1 3 2",
					ctr.TokenRefused, ctr.MediaComplete, ctr.Media, ctr.LinksIssued)
			}
			if s := sim.Served(); len(s) != 1 || s[0].SHA256 != sum {
				t.Errorf("served = %+v", s)
			}
		})
	}
}

func TestSimAuthentication(t *testing.T) {
	t.Parallel()
	ds := meetingtest.SampleDataset()
	tests := []struct {
		name    string
		creds   export.Credentials
		wantErr bool
	}{
		{"app id", appCreds(), false},
		{"account", export.Credentials{Account: meetingtest.DefaultAccount, Password: meetingtest.DefaultPassword}, false},
		{"wrong app key", export.Credentials{AppID: meetingtest.DefaultAppID, AppKey: "wrong-key-123"}, true},
		{"wrong password", export.Credentials{Account: meetingtest.DefaultAccount, Password: "wrong-pw-123"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds})
			c := export.NewTestClient(t, sim.URL, appCreds(), func(c *export.Config) { c.Credentials = tt.creds })
			ctx := testCtx(t, 10*time.Second)
			err := c.Authenticate(ctx)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Authenticate: %v", err)
				}
				if _, err := c.Details(ctx, ds.Conferences[0].ConfUUID); err != nil {
					t.Errorf("Details: %v", err)
				}
				return
			}
			if !errors.Is(err, export.ErrAuth) {
				t.Fatalf("Authenticate = %v, want ErrAuth", err)
			}
			if _, err := c.Details(ctx, ds.Conferences[0].ConfUUID); !errors.Is(err, export.ErrAuth) {
				t.Errorf("Details after refusal: %v", err)
			}
			ctr := sim.Counters()
			if ctr.Auth != 1 || ctr.AuthFailed != 1 || ctr.Details != 0 {
				t.Errorf("logins %d (failed %d), details %d; want 1 (1), 0: a refusal must fail fast", ctr.Auth, ctr.AuthFailed, ctr.Details)
			}
		})
	}
}

func TestSimDetailsLinksDelete(t *testing.T) {
	t.Parallel()
	ds := meetingtest.SampleDataset()
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, RecordInfo: false})
	c := export.NewTestClient(t, sim.URL, appCreds(), func(c *export.Config) { c.Links = export.LinksAuto })
	ctx := testCtx(t, 20*time.Second)

	_, err := c.Details(ctx, meetingtest.SampleUnknownConfUUID)
	if !errors.Is(err, export.ErrNotFound) || export.Attempts(err) != 1 {
		t.Errorf("unknown conference: %v (attempts %d), want ErrNotFound after 1", err, export.Attempts(err))
	}
	ready := 0
	for _, conf := range ds.Conferences {
		rec, err := c.Details(ctx, conf.ConfUUID)
		if err != nil {
			t.Fatalf("Details(%s): %v", conf.ConfUUID, err)
		}
		if rec.ConfUUID != conf.ConfUUID || rec.Subject != conf.Subject || rec.StartTime != conf.StartTime ||
			rec.IsDecodeFinish != conf.IsDecodeFinish || rec.Available != conf.Available || rec.RcdTime != conf.RcdTime {
			t.Errorf("Details = %+v, want %+v", rec, conf)
		}
		if !conf.Ready() {
			continue
		}
		ready++
		files, err := c.Links(ctx, conf.ConfUUID)
		if err != nil {
			t.Fatalf("Links: %v", err)
		}
		if len(files) != len(conf.Files) {
			t.Errorf("%d files, want %d", len(files), len(conf.Files))
		}
		for _, f := range files {
			sum, n, err := download(ctx, c, f)
			if err != nil {
				t.Fatalf("download %v: %v", f, err)
			}
			if want := sim.FileSHA256(conf.ConfUUID, f.FileType, f.Name); sum != want {
				t.Errorf("%v: sha %s (%d bytes), want %s", f, sum, n, want)
			}
		}
	}
	if ctr := sim.Counters(); ctr.RecordInfo != 1 {
		t.Errorf("record info requests = %d, want 1 (auto falls back once for the run)", ctr.RecordInfo)
	}
	victim := ds.Conferences[0].ConfUUID
	if err := c.Delete(ctx, victim); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if !sim.Deleted(victim) {
		t.Error("simulator: not deleted")
	}
	if _, err := c.Details(ctx, victim); !errors.Is(err, export.ErrNotFound) {
		t.Errorf("Details after Delete: %v, want ErrNotFound", err)
	}
}

func TestSimList(t *testing.T) {
	t.Parallel()
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 230, Seed: 5})
	for _, tt := range []struct {
		name     string
		pages    bool
		maxLimit int
	}{
		{"row offset", false, 100},
		{"page index", true, 100},
		{"row offset, capped page", false, 40},
		{"page index, capped page", true, 40},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, ListOffsetIsPage: tt.pages, ListMaxLimit: tt.maxLimit})
			c := export.NewTestClient(t, sim.URL, appCreds(), nil)
			var got []string
			err := c.List(testCtx(t, 20*time.Second), export.ListQuery{
				From: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC), AllUsers: true,
			}, func(r export.Recording) error {
				got = append(got, r.ConfUUID)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			want := ds.UUIDs() // Generate's start times ascend
			if len(got) != len(want) {
				t.Fatalf("listed %d, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("row %d = %s, want %s", i, got[i], want[i])
				}
			}
			pages := int64((len(want) + tt.maxLimit - 1) / tt.maxLimit)
			if n := sim.Counters().List; n > pages+2 {
				t.Errorf("list requests = %d, want <= %d", n, pages+2)
			}
		})
	}
}

func TestSimTLS(t *testing.T) {
	t.Parallel()
	ds := meetingtest.SampleDataset()
	sim := meetingtest.NewTLSServer(meetingtest.Config{Dataset: ds})
	t.Cleanup(sim.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: sim.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t, 20*time.Second)
	id := ds.Conferences[0].ConfUUID

	c := export.NewTestClient(t, sim.URL, appCreds(), nil)
	if err := c.Authenticate(ctx); err == nil || export.ShouldRetry(err) {
		t.Errorf("Authenticate against an untrusted certificate: %v, want a permanent failure", err)
	}
	c = export.NewTestClient(t, sim.URL, appCreds(), func(c *export.Config) { c.CABundle = ca; c.Links = export.LinksDownloadURLs })
	files, err := c.Links(ctx, id)
	if err != nil {
		t.Fatalf("Links with CABundle: %v", err)
	}
	if _, _, err := download(ctx, c, files[0]); err != nil {
		t.Errorf("download with CABundle: %v", err)
	}
}

// Without a usable header (the simulator's all-APIs limit is not in
// X-APIG-Ratelimit-Api), the client learns the limit from 429s alone: every
// call succeeds, the whole client pauses on each 429, and few calls are
// refused once it has learnt.
func TestSimRateLearnedFrom429s(t *testing.T) {
	t.Parallel()
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 20, Seed: 6})
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, RateAllEnv: 10})
	c := export.NewTestClient(t, sim.URL, appCreds(), func(c *export.Config) { c.Rate = 100; c.MaxAttempts = 8 })
	ctx := testCtx(t, 60*time.Second)
	if err := c.Authenticate(ctx); err != nil {
		t.Fatal(err)
	}
	const calls = 100
	took := detailsCalls(ctx, t, c, ds.UUIDs(), calls, 8)
	ctr := sim.Counters()
	t.Logf("%d calls in %v, %d 429s; learnt %.2f/s", calls, took.Round(time.Millisecond), ctr.Throttled, c.RateLimit("details"))
	if ctr.Throttled*10 >= calls {
		t.Errorf("429s = %d of %d calls, want < 10%%", ctr.Throttled, calls)
	}
	if r := c.RateLimit("details"); r > 20 {
		t.Errorf("details limiter at %.2f/s after 429s at 10/s, want it near 10", r)
	}
}

// Every answer is checked against its request: the simulator's answer
// faults each give the typed error, with a message naming the field; an
// upper-case confUUID is the same conference and is accepted.
func TestSimAnswerChecks(t *testing.T) {
	t.Parallel()
	ds := meetingtest.SampleDataset()
	id := ds.Conferences[0].ConfUUID
	other := ds.Conferences[1].ConfUUID // what otherconf answers
	from, to := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC)
	details := func(ctx context.Context, c *export.Client) error {
		rec, err := c.Details(ctx, id)
		if err == nil && rec.ConfUUID != id {
			return errors.New("ConfUUID " + rec.ConfUUID + ", want " + id)
		}
		return err
	}
	links := func(ctx context.Context, c *export.Client) error {
		files, err := c.Links(ctx, id)
		if err == nil && len(files) != len(ds.Conferences[0].Files) {
			return errors.New("wrong number of files")
		}
		for _, f := range files {
			if f.ConfUUID != id {
				return errors.New("file ConfUUID " + f.ConfUUID)
			}
		}
		return err
	}
	list := func(ctx context.Context, c *export.Client) error {
		n := 0
		err := c.List(ctx, export.ListQuery{From: from, To: to, AllUsers: true}, func(r export.Recording) error {
			if _, ok := ds.Conference(r.ConfUUID); !ok {
				return errors.New("listed " + r.ConfUUID + ": not the dataset's form")
			}
			n++
			return nil
		})
		if err == nil && n != len(ds.Conferences) {
			return errors.New("listed too few")
		}
		return err
	}
	type fault = meetingtest.Fault
	tests := []struct {
		name  string
		fault fault
		links export.LinkSource
		call  func(context.Context, *export.Client) error
		is    error    // nil: success
		code  string   // ErrorCode
		words []string // the message names these
	}{
		{"details otherconf", fault{Endpoint: "details", Kind: "otherconf"}, "", details, export.ErrResponseMismatch, "response-mismatch", []string{"confUUID", id, other}},
		{"details upperconf", fault{Endpoint: "details", Kind: "upperconf"}, "", details, nil, "", nil},
		{"details noconf", fault{Endpoint: "details", Kind: "noconf"}, "", details, export.ErrBadResponse, "bad-response", []string{"confUUID", "missing"}},
		{"details noavailable", fault{Endpoint: "details", Kind: "noavailable"}, "", details, export.ErrBadResponse, "bad-response", []string{"available", "missing"}},
		{"details nodecode", fault{Endpoint: "details", Kind: "nodecode"}, "", details, export.ErrBadResponse, "bad-response", []string{"isDecodeFinish", "missing"}},
		{"details negsize", fault{Endpoint: "details", Kind: "negsize"}, "", details, export.ErrBadResponse, "bad-response", []string{"rcdSize", "-1"}},
		{"list upperconf", fault{Endpoint: "list", Kind: "upperconf"}, "", list, nil, "", nil},
		{"list noconf", fault{Endpoint: "list", Kind: "noconf"}, "", list, export.ErrBadResponse, "bad-response", []string{"data[0].confUUID"}},
		{"list noavailable", fault{Endpoint: "list", Kind: "noavailable"}, "", list, export.ErrBadResponse, "bad-response", []string{"data[0].available", ds.Conferences[0].ConfUUID}},
		{"list nodecode", fault{Endpoint: "list", Kind: "nodecode"}, "", list, export.ErrBadResponse, "bad-response", []string{"data[0].isDecodeFinish"}},
		{"list negsize", fault{Endpoint: "list", Kind: "negsize"}, "", list, export.ErrBadResponse, "bad-response", []string{"data[0].rcdSize"}},
		{"downloadurls otherconf", fault{Endpoint: "downloadurls", Kind: "otherconf"}, export.LinksDownloadURLs, links, export.ErrResponseMismatch, "response-mismatch", []string{"recordUrls[0].confUuid", id, other}},
		{"downloadurls upperconf", fault{Endpoint: "downloadurls", Kind: "upperconf"}, export.LinksDownloadURLs, links, nil, "", nil},
		{"downloadurls noconf", fault{Endpoint: "downloadurls", Kind: "noconf"}, export.LinksDownloadURLs, links, export.ErrBadResponse, "bad-response", []string{"recordUrls[0].confUuid", "missing"}},
		{"downloadurls endless", fault{Endpoint: "downloadurls", Kind: "endless"}, export.LinksDownloadURLs, links, export.ErrTooManyPages, "too-many-pages", []string{"downloadurls", "100 pages"}},
		{"recordinfo otherconf", fault{Endpoint: "recordinfo", Kind: "otherconf"}, export.LinksRecordInfo, links, export.ErrResponseMismatch, "response-mismatch", []string{"data.confUUID", id, other}},
		{"recordinfo upperconf", fault{Endpoint: "recordinfo", Kind: "upperconf"}, export.LinksRecordInfo, links, nil, "", nil},
		{"recordinfo badsha", fault{Endpoint: "recordinfo", Kind: "badsha"}, export.LinksRecordInfo, links, export.ErrBadResponse, "bad-response", []string{"data.segmentList[0].fileList[0].sha256"}},
		{"recordinfo negsize", fault{Endpoint: "recordinfo", Kind: "negsize"}, export.LinksRecordInfo, links, export.ErrBadResponse, "bad-response", []string{"data.segmentList[0].fileList[0].fileSize", "-1"}},
		{"recordinfo endless", fault{Endpoint: "recordinfo", Kind: "endless"}, export.LinksRecordInfo, links, export.ErrTooManyPages, "too-many-pages", []string{"recordinfo", "100 pages"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, RecordInfo: true, Faults: []meetingtest.Fault{tt.fault}})
			c := export.NewTestClient(t, sim.URL, appCreds(), func(c *export.Config) {
				if tt.links != "" {
					c.Links = tt.links
				}
			})
			err := tt.call(testCtx(t, 30*time.Second), c)
			if hits := sim.Counters().FaultHits[tt.fault.Endpoint+"/"+tt.fault.Kind]; hits == 0 {
				t.Errorf("the fault never hit")
			}
			if tt.is == nil {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				return
			}
			if !errors.Is(err, tt.is) {
				t.Fatalf("got %v, want errors.Is %v", err, tt.is)
			}
			if got := export.ErrorCode(err); got != tt.code {
				t.Errorf("ErrorCode = %q, want %q", got, tt.code)
			}
			for _, w := range tt.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q does not name %q", err, w)
				}
			}
			if export.ShouldRetry(err) {
				t.Errorf("ShouldRetry = true for %v", err)
			}
		})
	}
}

// TestSimEndlessLinksStopAtCap: a links API that never ends its pages is
// stopped at the page cap (ErrTooManyPages), not by a timeout.
func TestSimEndlessLinksStopAtCap(t *testing.T) {
	t.Parallel()
	ds := meetingtest.SampleDataset()
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Faults: []meetingtest.Fault{{Endpoint: "downloadurls", Kind: "endless"}}})
	c := export.NewTestClient(t, sim.URL, appCreds(), func(c *export.Config) { c.Links = export.LinksDownloadURLs })
	_, err := c.Links(testCtx(t, 30*time.Second), ds.Conferences[0].ConfUUID)
	if !errors.Is(err, export.ErrTooManyPages) {
		t.Fatalf("Links = %v, want ErrTooManyPages", err)
	}
	if got := sim.Counters().DownloadURLs; got != 100 {
		t.Errorf("downloadurls requests = %d, want 100 (the page cap)", got)
	}
}

// Input UUIDs are normalised before any call; what is not a UUID sends nothing.
func TestSimConfUUIDNormalised(t *testing.T) {
	t.Parallel()
	ds := meetingtest.SampleDataset()
	id := ds.Conferences[0].ConfUUID
	dashed := id[:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:]
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, RecordInfo: true})
	c := export.NewTestClient(t, sim.URL, appCreds(), nil)
	ctx := testCtx(t, 20*time.Second)
	for _, in := range []string{id, strings.ToUpper(id), strings.ToUpper(dashed), " " + dashed + "\t"} {
		t.Run(in, func(t *testing.T) {
			rec, err := c.Details(ctx, in)
			if err != nil || rec.ConfUUID != id {
				t.Fatalf("Details(%q) = %q, %v; want %s", in, rec.ConfUUID, err, id)
			}
			files, err := c.Links(ctx, in)
			if err != nil || len(files) != len(ds.Conferences[0].Files) || files[0].ConfUUID != id {
				t.Fatalf("Links(%q) = %v, %v", in, files, err)
			}
		})
	}
	before := sim.Counters()
	for _, in := range []string{"", "x", id[:31], id + "0", strings.Replace(id, "3", "g", 1), dashed[:8] + "_" + dashed[9:], "../" + id[3:]} {
		t.Run("invalid "+in, func(t *testing.T) {
			_, err := c.Details(ctx, in)
			if !errors.Is(err, export.ErrInvalidConfUUID) || export.ErrorCode(err) != "invalid-input" {
				t.Errorf("Details(%q) = %v (%s), want ErrInvalidConfUUID, invalid-input", in, err, export.ErrorCode(err))
			}
			if _, err := c.Links(ctx, in); !errors.Is(err, export.ErrInvalidConfUUID) {
				t.Errorf("Links(%q) = %v, want ErrInvalidConfUUID", in, err)
			}
			if err := c.Delete(ctx, in); !errors.Is(err, export.ErrInvalidConfUUID) {
				t.Errorf("Delete(%q) = %v, want ErrInvalidConfUUID", in, err)
			}
		})
	}
	if after := sim.Counters(); after.Details != before.Details || after.RecordInfo != before.RecordInfo || after.Delete != before.Delete {
		t.Errorf("invalid UUIDs reached the simulator: details %d->%d, record info %d->%d, delete %d->%d",
			before.Details, after.Details, before.RecordInfo, after.RecordInfo, before.Delete, after.Delete)
	}
}

// A conference the platform does not know is ErrNotFound on every API
// about one conference, whichever way the links come.
func TestSimNotFoundEverywhere(t *testing.T) {
	t.Parallel()
	ds := meetingtest.SampleDataset()
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, RecordInfo: true})
	unknown := strings.ToUpper(meetingtest.SampleUnknownConfUUID)
	for _, tt := range []struct {
		name string
		call func(context.Context, *export.Client) error
	}{
		{"details", func(ctx context.Context, c *export.Client) error { _, err := c.Details(ctx, unknown); return err }},
		{"downloadurls", func(ctx context.Context, c *export.Client) error {
			c2 := export.NewTestClient(t, sim.URL, appCreds(), func(c *export.Config) { c.Links = export.LinksDownloadURLs })
			_, err := c2.Links(ctx, unknown)
			return err
		}},
		{"recordinfo", func(ctx context.Context, c *export.Client) error {
			c2 := export.NewTestClient(t, sim.URL, appCreds(), func(c *export.Config) { c.Links = export.LinksRecordInfo })
			_, err := c2.Links(ctx, unknown)
			return err
		}},
		{"auto", func(ctx context.Context, c *export.Client) error {
			c2 := export.NewTestClient(t, sim.URL, appCreds(), func(c *export.Config) { c.Links = export.LinksAuto })
			_, err := c2.Links(ctx, unknown)
			return err
		}},
		{"delete", func(ctx context.Context, c *export.Client) error { return c.Delete(ctx, unknown) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(testCtx(t, 20*time.Second), export.NewTestClient(t, sim.URL, appCreds(), nil))
			if !errors.Is(err, export.ErrNotFound) || export.ErrorCode(err) != meetingtest.CodeMeetingNotExist {
				t.Errorf("got %v (%s), want ErrNotFound, %s", err, export.ErrorCode(err), meetingtest.CodeMeetingNotExist)
			}
		})
	}
	// The other "not found" code of the fact sheet, on details and links.
	for _, ep := range []string{"details", "downloadurls", "recordinfo"} {
		t.Run(ep+" "+export.CodeConfNotFound, func(t *testing.T) {
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, RecordInfo: true, Faults: []meetingtest.Fault{
				{Endpoint: ep, Kind: "status", Status: 400, Code: export.CodeConfNotFound}}})
			c := export.NewTestClient(t, sim.URL, appCreds(), nil)
			ctx := testCtx(t, 20*time.Second)
			var err error
			if ep == "details" {
				_, err = c.Details(ctx, ds.Conferences[0].ConfUUID)
			} else {
				c = export.NewTestClient(t, sim.URL, appCreds(), func(c *export.Config) { c.Links = export.LinkSource(ep) })
				_, err = c.Links(ctx, ds.Conferences[0].ConfUUID)
			}
			if !errors.Is(err, export.ErrNotFound) || export.ErrorCode(err) != export.CodeConfNotFound {
				t.Errorf("got %v (%s), want ErrNotFound, %s", err, export.ErrorCode(err), export.CodeConfNotFound)
			}
		})
	}
}

// Colliding file names come through as distinct files with their own bytes
// (keeping them apart in the store is the pipeline's job).
func TestSimCollidingNames(t *testing.T) {
	t.Parallel()
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 3, CollidingNames: 1, FileSize: 4096, Seed: 9})
	var conf meetingtest.Conference
	for _, c := range ds.Conferences {
		if len(c.Files) == len(meetingtest.CollidingFiles(0)) {
			conf = c
		}
	}
	for _, mode := range []export.LinkSource{export.LinksDownloadURLs, export.LinksRecordInfo} {
		t.Run(string(mode), func(t *testing.T) {
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, RecordInfo: true})
			c := export.NewTestClient(t, sim.URL, appCreds(), func(c *export.Config) { c.Links = mode })
			ctx := testCtx(t, 20*time.Second)
			files, err := c.Links(ctx, conf.ConfUUID)
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]bool{}
			for _, f := range files {
				ids[f.ID()] = true
				sum, _, err := download(ctx, c, f)
				if err != nil {
					t.Fatalf("download %q: %v", f.ID(), err)
				}
				var want string
				for _, df := range conf.Files {
					if meetingtest.RecordType(df.FileType) == f.FileType || df.FileType == f.FileType {
						if df.Name == f.Name {
							want = sim.FileSHA256(conf.ConfUUID, df.FileType, df.Name)
						}
					}
				}
				if sum != want {
					t.Errorf("%q: sha256 %s, want %s", f.ID(), sum, want)
				}
			}
			if len(files) != 4 || len(ids) != 4 {
				t.Errorf("files %v: want 4 distinct", files)
			}
		})
	}
}

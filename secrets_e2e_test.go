package main

// End-to-end: an API and media host that echo every request header, query and
// body back in their error bodies (meetingtest's echo fault) must not get any
// secret into what the binary writes, whatever the authentication.

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"meetarchive/export/meetingtest"
	"meetarchive/redact"
)

// credentialTap is a reverse proxy in front of the simulator that notes every
// secret a request carries: the login's signature or Basic credential, the
// access tokens, the download tokens (header and query).
type credentialTap struct {
	*httptest.Server
	mu      sync.Mutex
	secrets map[string]bool
}

func newCredentialTap(t *testing.T, sim *meetingtest.Server) *credentialTap {
	t.Helper()
	target, err := url.Parse(sim.URL)
	if err != nil {
		t.Fatal(err)
	}
	tap := &credentialTap{secrets: map[string]bool{}}
	proxy := httputil.NewSingleHostReverseProxy(target) // keeps the Host header: links point back here
	tap.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tap.note(r)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(tap.Close)
	return tap
}

func (c *credentialTap) note(r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a := r.Header.Get("Authorization"); a != "" {
		switch scheme, rest, _ := strings.Cut(a, " "); scheme {
		case "HMAC-SHA256":
			for _, p := range strings.Split(rest, ",") {
				if v, ok := strings.CutPrefix(p, "signature="); ok {
					c.secrets[v] = true
				}
			}
		case "Basic":
			c.secrets[rest] = true
		default:
			c.secrets[a] = true // a download token
		}
	}
	if tok := r.Header.Get("X-Access-Token"); tok != "" {
		c.secrets[tok] = true
	}
	for k, vs := range r.URL.Query() {
		if strings.Contains(strings.ToLower(k), "token") {
			for _, v := range vs {
				c.secrets[v] = true
			}
		}
	}
}

func (c *credentialTap) seen() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for s := range c.secrets {
		out = append(out, s)
	}
	return out
}

// accountLogin logs in to the simulator directly and returns the access token.
func accountLogin(t *testing.T, base, account, password string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/v1/usg/acs/auth/account", strings.NewReader(`{"account":"`+account+`","clientType":72}`))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(account, password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		AccessToken string `json:"accessToken"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || doc.AccessToken == "" {
		t.Fatalf("login: status %d: %v", resp.StatusCode, err)
	}
	return doc.AccessToken
}

// textsUnder returns every file under dir but media, by path; a workbook
// (.xlsx) unzipped, each part by its own name.
func textsUnder(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".mp4", ".m4a", ".aac", ".mp3", ".wav", ".flv":
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.EqualFold(filepath.Ext(p), ".xlsx") {
			zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			for _, f := range zr.File {
				rc, err := f.Open()
				if err != nil {
					return fmt.Errorf("%s: %s: %w", p, f.Name, err)
				}
				part, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					return fmt.Errorf("%s: %s: %w", p, f.Name, err)
				}
				out[p+"/"+f.Name] = string(part)
			}
			return nil
		}
		out[p] = string(b)
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}

// TestNoSecretLeavesTheProcess runs the commands against an echoing API and
// media host, for each way to authenticate, and looks for every form of
// every secret (raw, base64 alone and of account:password, URL- and
// JSON-escaped) in stdout, stderr, every file under --out (the journal
// included) and the destination's non-media files.
func TestNoSecretLeavesTheProcess(t *testing.T) {
	const (
		appID    = "e2e-app"
		appKey   = "e2e-app-key-5b0c2e71"
		account  = "carol@example.com"
		password = "e2e-Pa$$word/+9-z"
	)
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 2, FilesPerConference: 1, FileSize: 4 << 10, Seed: 3,
		Start: time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)})
	modes := []string{"app id", "account", "pre-issued token"}
	cases := []struct {
		name, endpoint string
		args           []string // after the command's own; "IN", "DEST", "OUT" replaced
	}{
		{"run/auth", meetingtest.EndpointAuth, []string{"run", "--input", "IN", "--dest", "DEST", "--out", "OUT"}},
		{"run/details", meetingtest.EndpointDetails, []string{"run", "--input", "IN", "--dest", "DEST", "--out", "OUT"}},
		{"run/downloadurls", meetingtest.EndpointDownloadURLs, []string{"run", "--input", "IN", "--dest", "DEST", "--out", "OUT", "--links", "downloadurls"}},
		{"run/recordinfo", meetingtest.EndpointRecordInfo, []string{"run", "--input", "IN", "--dest", "DEST", "--out", "OUT", "--links", "recordinfo"}},
		{"run/media", meetingtest.EndpointMedia, []string{"run", "--input", "IN", "--dest", "DEST", "--out", "OUT", "--links", "downloadurls"}},
		{"run/media with record info links", meetingtest.EndpointMedia, []string{"run", "--input", "IN", "--dest", "DEST", "--out", "OUT", "--links", "recordinfo"}},
		{"run/delete", meetingtest.EndpointDelete, []string{"run", "--input", "IN", "--dest", "DEST", "--out", "OUT", "--delete-after-archive", "--confirm-delete"}},
		{"run/list", meetingtest.EndpointList, []string{"run", "--from", "2024-01-01", "--to", "2024-12-31", "--dest", "DEST", "--out", "OUT"}},
		{"list", meetingtest.EndpointList, []string{"list", "--from", "2024-01-01", "--to", "2024-12-31"}},
	}
	for i, mode := range modes {
		for _, tc := range cases {
			if tc.endpoint == meetingtest.EndpointAuth && mode == "pre-issued token" {
				continue // never logs in
			}
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, AppID: appID, AppKey: appKey, Account: account, Password: password, RecordInfo: true, Seed: 3})
				tap := newCredentialTap(t, sim)
				env := map[string]string{"MEETARCHIVE_API": tap.URL, "MEETARCHIVE_RATE": "500", "MEETARCHIVE_LOG_LEVEL": "debug",
					"MEETARCHIVE_LOG_FORMAT": []string{"text", "json"}[i%2], "MEETARCHIVE_MAX_ATTEMPTS": "2"}
				secrets := []string{appKey, password, sim.EchoCookie()}
				switch mode {
				case "app id":
					env["MEETARCHIVE_APP_ID"], env["MEETARCHIVE_APP_KEY"] = appID, appKey
				case "account":
					env["MEETARCHIVE_ACCOUNT"], env["MEETARCHIVE_PASSWORD"] = account, password
				default:
					tok := accountLogin(t, sim.URL, account, password)
					env["MEETARCHIVE_TOKEN"] = tok
					secrets = append(secrets, tok)
				}
				if err := sim.SetFaults([]meetingtest.Fault{{Endpoint: tc.endpoint, Kind: meetingtest.FaultEcho}}); err != nil {
					t.Fatal(err)
				}
				dir := t.TempDir()
				in := writeInput(t, dir, append([]string{"confUUID"}, ds.UUIDs()...)...)
				dest, out, merged := filepath.Join(dir, "archive"), filepath.Join(dir, "report"), filepath.Join(dir, "merged")
				var args []string
				for _, a := range tc.args {
					args = append(args, strings.NewReplacer("IN", in, "DEST", dest, "OUT", out).Replace(a))
				}
				texts := map[string]string{}
				res := runBin(t, env, args...)
				texts["stdout of "+tc.name], texts["stderr of "+tc.name] = res.stdout, res.stderr
				// A refused deletion leaves the archived row as it is (exit 0).
				if res.code == 0 && tc.endpoint != meetingtest.EndpointDelete {
					t.Errorf("%v: exit 0 against an echoing %s", args, tc.endpoint)
				}
				if _, err := os.Stat(filepath.Join(out, "manifest.csv")); err == nil {
					// The commands that read a report: verify, merge, and
					// report --from-journal when a journal is left (a run
					// that closes its report removes it).
					follows := [][]string{
						{"verify", "--manifest", filepath.Join(out, "manifest.csv"), "--dest", dest},
						{"merge", "--out", merged, out},
					}
					if _, err := os.Stat(filepath.Join(out, "journal.jsonl")); err == nil {
						follows = append(follows, []string{"report", "--from-journal", out})
					}
					for _, follow := range follows {
						r := runBin(t, env, follow...)
						texts["stdout of "+follow[0]], texts["stderr of "+follow[0]] = r.stdout, r.stderr
					}
				}
				for _, d := range []string{out, merged, dest} {
					for p, s := range textsUnder(t, d) {
						texts[p] = s
					}
				}
				if sim.Counters().FaultHits[tc.endpoint+"/"+meetingtest.FaultEcho] == 0 {
					t.Fatalf("the echo fault on %s was never hit; stderr:\n%s", tc.endpoint, res.stderr)
				}
				echoed := false
				secrets = append(secrets, tap.seen()...)
				for where, text := range texts {
					echoed = echoed || strings.Contains(text, "echo of the request")
					for _, s := range secrets {
						for _, f := range append(redact.Forms(s), redact.PairForms(account, s)...) {
							if strings.Contains(text, f) {
								t.Errorf("%s holds %q (a form of a secret)", where, f)
							}
						}
					}
				}
				if !echoed {
					t.Errorf("no output quotes the echo: the test saw nothing to redact; stderr:\n%s", res.stderr)
				}
				if t.Failed() {
					t.Logf("%s", fmt.Sprint(res.stderr))
				}
			})
		}
	}
}

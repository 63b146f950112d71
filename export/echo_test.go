package export_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"meetarchive/export"
	"meetarchive/export/meetingtest"
	"meetarchive/redact"
)

// secretRecorder is a transport that notes every secret a request carries:
// the HMAC signature or the Basic credential of a login, the access token,
// the download tokens (header and query).
type secretRecorder struct {
	rt http.RoundTripper

	mu      sync.Mutex
	secrets map[string]bool
	tokens  []string // access tokens, in order seen
}

func (r *secretRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	if r.secrets == nil {
		r.secrets = map[string]bool{}
	}
	if a := req.Header.Get("Authorization"); a != "" {
		switch {
		case strings.HasPrefix(a, "HMAC-SHA256 "):
			for _, p := range strings.Split(strings.TrimPrefix(a, "HMAC-SHA256 "), ",") {
				if v, ok := strings.CutPrefix(p, "signature="); ok {
					r.secrets[v] = true
				}
			}
		case strings.HasPrefix(a, "Basic "):
			r.secrets[strings.TrimPrefix(a, "Basic ")] = true
		default:
			r.secrets[a] = true // a download token
		}
	}
	if tok := req.Header.Get("X-Access-Token"); tok != "" {
		if !r.secrets[tok] {
			r.tokens = append(r.tokens, tok)
		}
		r.secrets[tok] = true
	}
	for k, vs := range req.URL.Query() {
		if strings.Contains(strings.ToLower(k), "token") {
			for _, v := range vs {
				r.secrets[v] = true
			}
		}
	}
	r.mu.Unlock()
	return r.rt.RoundTrip(req)
}

func (r *secretRecorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for s := range r.secrets {
		out = append(out, s)
	}
	return out
}

// leaked returns the forms of secrets that text contains.
func leaked(text string, account string, secrets ...string) []string {
	var out []string
	for _, s := range secrets {
		forms := append(redact.Forms(s), redact.PairForms(account, s)...)
		for _, f := range forms {
			if strings.Contains(text, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

// TestEchoFaultLeaksNoSecret: an API and media host that echo every request
// header, query and body in their error bodies get errors from the client
// that hold no form of any secret, whatever the authentication.
func TestEchoFaultLeaksNoSecret(t *testing.T) {
	t.Parallel()
	const (
		appID    = "echo-app-id"
		appKey   = "echo-app-key-3c1f9a27"
		account  = "alice@example.com"
		password = "echo-Pa$$word/+1-q"
	)
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 2, Seed: 11})
	conf := ds.Conferences[0].ConfUUID
	modes := []struct {
		name  string
		creds export.Credentials // Token filled in by a login first
	}{
		{"app id", export.Credentials{AppID: appID, AppKey: appKey}},
		{"account", export.Credentials{Account: account, Password: password}},
		{"pre-issued token", export.Credentials{}},
	}
	list := func(ctx context.Context, c *export.Client) error {
		return c.List(ctx, export.ListQuery{From: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC)},
			func(export.Recording) error { return nil })
	}
	calls := []struct {
		endpoint string
		links    export.LinkSource
		call     func(ctx context.Context, c *export.Client, sim *meetingtest.Server) error
	}{
		{meetingtest.EndpointAuth, "", func(ctx context.Context, c *export.Client, _ *meetingtest.Server) error { return c.Authenticate(ctx) }},
		{meetingtest.EndpointDetails, "", func(ctx context.Context, c *export.Client, _ *meetingtest.Server) error {
			_, err := c.Details(ctx, conf)
			return err
		}},
		{meetingtest.EndpointList, "", func(ctx context.Context, c *export.Client, _ *meetingtest.Server) error { return list(ctx, c) }},
		{meetingtest.EndpointDownloadURLs, export.LinksDownloadURLs, func(ctx context.Context, c *export.Client, _ *meetingtest.Server) error {
			_, err := c.Links(ctx, conf)
			return err
		}},
		{meetingtest.EndpointRecordInfo, export.LinksRecordInfo, func(ctx context.Context, c *export.Client, _ *meetingtest.Server) error {
			_, err := c.Links(ctx, conf)
			return err
		}},
		{meetingtest.EndpointDelete, "", func(ctx context.Context, c *export.Client, _ *meetingtest.Server) error { return c.Delete(ctx, conf) }},
		{meetingtest.EndpointMedia, export.LinksDownloadURLs, mediaEcho},
		{meetingtest.EndpointMedia + " (record info links)", export.LinksRecordInfo, mediaEcho},
	}
	for _, m := range modes {
		for _, cl := range calls {
			endpoint, _, _ := strings.Cut(cl.endpoint, " ")
			if endpoint == meetingtest.EndpointAuth && m.creds.Method() == "" {
				continue // a pre-issued token never logs in
			}
			t.Run(m.name+"/"+cl.endpoint, func(t *testing.T) {
				sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, AppID: appID, AppKey: appKey, Account: account, Password: password, RecordInfo: true})
				rec := &secretRecorder{rt: sim.Client().Transport}
				ctx := testCtx(t, 20*time.Second)
				creds := m.creds
				if creds.Method() == "" {
					pre := export.NewTestClient(t, sim.URL, appCreds(), func(c *export.Config) {
						c.Credentials = export.Credentials{AppID: appID, AppKey: appKey}
						c.HTTPClient = &http.Client{Transport: rec}
					})
					if _, err := pre.Details(ctx, conf); err != nil {
						t.Fatalf("login for a pre-issued token: %v", err)
					}
					creds = export.Credentials{Token: rec.tokens[0]}
				}
				c := export.NewTestClient(t, sim.URL, appCreds(), func(c *export.Config) {
					c.Credentials = creds
					c.HTTPClient = &http.Client{Transport: rec}
					c.MaxAttempts = 1
					if cl.links != "" {
						c.Links = cl.links
					}
				})
				if endpoint != meetingtest.EndpointMedia {
					if err := sim.SetFaults([]meetingtest.Fault{{Endpoint: endpoint, Kind: meetingtest.FaultEcho}}); err != nil {
						t.Fatal(err)
					}
				}
				err := cl.call(ctx, c, sim)
				if err == nil {
					t.Fatal("no error from an endpoint that echoes the request")
				}
				if sim.Counters().FaultHits[endpoint+"/"+meetingtest.FaultEcho] == 0 {
					t.Fatalf("the echo fault was not hit: %v", err)
				}
				text := err.Error()
				t.Logf("%s", text)
				secrets := append(rec.seen(), appKey, password, sim.EchoCookie())
				if bad := leaked(text, account, secrets...); len(bad) > 0 {
					t.Errorf("error %q holds %q", text, bad)
				}
				if !strings.Contains(text, "echo of the request") || !strings.Contains(text, redact.Marker) {
					t.Errorf("error %q: want the echo, with its secrets replaced by %s", text, redact.Marker)
				}
			})
		}
	}
}

// mediaEcho gets links, then opens a file from a media host that echoes.
func mediaEcho(ctx context.Context, c *export.Client, sim *meetingtest.Server) error {
	conf := sim.Config().Dataset.Conferences[0].ConfUUID
	files, err := c.Links(ctx, conf)
	if err != nil {
		return fmt.Errorf("links: %w", err)
	}
	if len(files) == 0 {
		return errors.New("links: no files")
	}
	if err := sim.SetFaults([]meetingtest.Fault{{Endpoint: meetingtest.EndpointMedia, Kind: meetingtest.FaultEcho}}); err != nil {
		return err
	}
	m, err := c.OpenMedia(ctx, files[0])
	if err == nil {
		m.Body.Close()
	}
	return err
}

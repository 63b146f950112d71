package main

// What a person sees of the report: summary.html of real runs of the binary
// rendered in headless Chromium, driven over the DevTools protocol through
// a pipe (--remote-debugging-pipe: no port, no websocket library); the
// workbook's properties and cell types read by openpyxl; and the README's
// "Seeing each status" recipe run as written.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

// chromiumPath finds the browser: $MEETARCHIVE_TEST_CHROMIUM, else
// chromium or chromium-browser on the PATH.
func chromiumPath() (string, error) {
	if p := os.Getenv("MEETARCHIVE_TEST_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium on the PATH (scripts/test.sh installs Debian's chromium where it can; MEETARCHIVE_TEST_CHROMIUM names another)")
}

// artefactDir is where the browser test keeps its screenshots:
// $MEETARCHIVE_TEST_ARTEFACTS (scripts/test.sh sets it), else a temporary
// directory of the test.
func artefactDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("MEETARCHIVE_TEST_ARTEFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// cdpMessage is a DevTools protocol message: an answer (ID) or an event
// (Method).
type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// browser is a headless Chromium driven through --remote-debugging-pipe:
// JSON messages separated by NUL bytes, commands on its fd 3, answers and
// events on its fd 4.
type browser struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	w      io.WriteCloser

	mu      sync.Mutex
	nextID  int
	waiting map[int]chan cdpMessage
	events  []cdpMessage
	arrived chan struct{} // signalled on every event
	readErr error
}

// startBrowser starts Chromium with the flags this machine needs (no
// sandbox as root, nothing that reaches the network) and a new empty
// profile.
func startBrowser(t *testing.T, path string) *browser {
	t.Helper()
	cmdIn, ourOut, err := os.Pipe() // we write, Chromium reads (its fd 3)
	if err != nil {
		t.Fatal(err)
	}
	ourIn, cmdOut, err := os.Pipe() // Chromium writes (its fd 4), we read
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--remote-debugging-pipe", "--hide-scrollbars", "about:blank")
	cmd.ExtraFiles = []*os.File{cmdIn, cmdOut}
	var stderr syncBuffer // written by exec's copier, read by a failing test
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	cmdIn.Close()
	cmdOut.Close()
	b := &browser{cmd: cmd, stderr: &stderr, w: ourOut, waiting: map[int]chan cdpMessage{}, arrived: make(chan struct{}, 1)}
	go b.read(ourIn)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = b.call(ctx, "", "Browser.close", nil, nil)
		_ = b.w.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			<-done
		}
		ourIn.Close()
	})
	return b
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// read dispatches the browser's messages until its pipe closes.
func (b *browser) read(r io.Reader) {
	br := bufio.NewReaderSize(r, 1<<20)
	var err error
	for {
		var line []byte
		line, err = br.ReadBytes(0)
		if err != nil {
			break
		}
		var m cdpMessage
		if err = json.Unmarshal(line[:len(line)-1], &m); err != nil {
			break
		}
		b.mu.Lock()
		if m.ID != 0 {
			if ch := b.waiting[m.ID]; ch != nil {
				ch <- m
				delete(b.waiting, m.ID)
			}
		} else {
			b.events = append(b.events, m)
			select {
			case b.arrived <- struct{}{}:
			default:
			}
		}
		b.mu.Unlock()
	}
	b.mu.Lock()
	b.readErr = fmt.Errorf("reading from the browser: %w", err)
	for id, ch := range b.waiting {
		close(ch)
		delete(b.waiting, id)
	}
	b.mu.Unlock()
}

// call sends a command (to a page's session, or to the browser when
// session is "") and decodes its result into result.
func (b *browser) call(ctx context.Context, session, method string, params, result any) error {
	b.mu.Lock()
	if b.readErr != nil {
		b.mu.Unlock()
		return b.readErr
	}
	b.nextID++
	id := b.nextID
	ch := make(chan cdpMessage, 1)
	b.waiting[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if _, err := b.w.Write(append(data, 0)); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return fmt.Errorf("%s: browser closed the pipe", method)
		}
		if m.Error != nil {
			return fmt.Errorf("%s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		if result != nil {
			return json.Unmarshal(m.Result, result)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// waitEvent waits for an event of the session, returns every event of the
// session seen so far.
func (b *browser) waitEvent(ctx context.Context, session, method string) error {
	for {
		b.mu.Lock()
		found := slices.ContainsFunc(b.events, func(m cdpMessage) bool { return m.SessionID == session && m.Method == method })
		b.mu.Unlock()
		if found {
			return nil
		}
		select {
		case <-b.arrived:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", method, ctx.Err())
		}
	}
}

// sessionEvents returns the events of a session so far.
func (b *browser) sessionEvents(session string) []cdpMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []cdpMessage
	for _, m := range b.events {
		if m.SessionID == session {
			out = append(out, m)
		}
	}
	return out
}

// pageView is what the page shows a person, read from the rendered DOM.
type pageView struct {
	Title      string     `json:"title"`
	Badge      string     `json:"badge"`
	Verdict    string     `json:"verdict"`
	Exit       string     `json:"exit"`
	Background string     `json:"background"`
	Border     string     `json:"border"`
	Top        float64    `json:"top"`
	Bottom     float64    `json:"bottom"`
	Viewport   float64    `json:"viewport"`
	FirstID    string     `json:"firstId"`
	Attention  [][]string `json:"attention"`
	FailLink   string     `json:"failLink"`
	Charts     []struct {
		Role, Labelled, Name string
		Width                float64
	} `json:"charts"`
	Resources   int    `json:"resources"`
	PrintAdjust string `json:"printAdjust"`
}

const pageScript = `(() => {
  const v = document.getElementById('verdict');
  const cs = getComputedStyle(v);
  const r = v.getBoundingClientRect();
  const text = id => { const e = document.getElementById(id); return e ? e.innerText.trim() : ''; };
  const link = document.querySelector('#attention a[href="failures.csv"]');
  return {
    title: document.title,
    badge: text('verdict-level'), verdict: text('verdict-text'), exit: text('verdict-exit'),
    background: cs.backgroundColor, border: cs.borderLeftColor,
    top: r.top, bottom: r.bottom, viewport: window.innerHeight,
    firstId: document.body.firstElementChild.id,
    attention: [...document.querySelectorAll('#attention tbody tr')].map(tr => [...tr.cells].map(td => td.innerText.trim())),
    failLink: link ? link.href : '',
    charts: [...document.querySelectorAll('svg')].map(s => {
      const ids = (s.getAttribute('aria-labelledby') || '').split(' ');
      return {Role: s.getAttribute('role') || '', Labelled: ids.map(id => { const e = document.getElementById(id); return e ? e.textContent : ''; }).join(' | '),
        Name: s.querySelector('title') ? s.querySelector('title').textContent : '', Width: s.getBoundingClientRect().width};
    }),
    resources: performance.getEntriesByType('resource').length,
    printAdjust: cs.printColorAdjust || cs.webkitPrintColorAdjust || '',
  };
})()`

// tab is a browser tab with a page loaded in it; its methods fail the
// test on any error, with the browser's own output.
type tab struct {
	ctx context.Context
	t   *testing.T
	b   *browser
	s   string // the tab's session
}

func (tb *tab) must(err error) {
	tb.t.Helper()
	if err != nil {
		tb.t.Fatalf("%v\nbrowser output:\n%s", err, tb.b.stderr.String())
	}
}

// openTab opens url in a new tab width pixels wide, with the DevTools
// domains Runtime and Page (and those given) enabled, and waits for the
// page's load event.
func (b *browser) openTab(ctx context.Context, t *testing.T, url string, width int, domains ...string) *tab {
	t.Helper()
	tb := &tab{ctx: ctx, t: t, b: b}
	var target struct{ TargetID string }
	tb.must(b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target))
	var att struct{ SessionID string }
	tb.must(b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att))
	tb.s = att.SessionID
	for _, m := range append([]string{"Runtime.enable", "Page.enable"}, domains...) {
		tb.must(b.call(ctx, tb.s, m, nil, nil))
	}
	tb.must(b.call(ctx, tb.s, "Emulation.setDeviceMetricsOverride", map[string]any{"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": false}, nil))
	var nav struct{ ErrorText string }
	tb.must(b.call(ctx, tb.s, "Page.navigate", map[string]any{"url": url}, &nav))
	if nav.ErrorText != "" {
		t.Fatalf("navigating to %s: %s", url, nav.ErrorText)
	}
	tb.must(b.waitEvent(ctx, tb.s, "Page.loadEventFired"))
	return tb
}

// eval runs a script in the page and decodes the value it returns.
func (tb *tab) eval(script string, into any) {
	tb.t.Helper()
	var res struct {
		Result           struct{ Value json.RawMessage }
		ExceptionDetails *struct{ Text string }
	}
	tb.must(tb.b.call(tb.ctx, tb.s, "Runtime.evaluate", map[string]any{"expression": script, "returnByValue": true}, &res))
	if res.ExceptionDetails != nil {
		tb.t.Fatalf("reading the page: %s", res.ExceptionDetails.Text)
	}
	tb.must(json.Unmarshal(res.Result.Value, into))
}

// screenshot saves the whole page, width pixels wide, to png.
func (tb *tab) screenshot(png string, width int) {
	tb.t.Helper()
	var metrics struct {
		CSSContentSize struct{ Width, Height float64 }
	}
	tb.must(tb.b.call(tb.ctx, tb.s, "Page.getLayoutMetrics", nil, &metrics))
	var shot struct{ Data string }
	tb.must(tb.b.call(tb.ctx, tb.s, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": width, "height": metrics.CSSContentSize.Height, "scale": 1}}, &shot))
	img, err := base64.StdEncoding.DecodeString(shot.Data)
	tb.must(err)
	tb.must(os.WriteFile(png, img, 0o644))
}

// renderPage opens a page in a new tab and returns what it shows, with
// every network request and every console or log message of the tab. It
// saves a screenshot of the whole page to png.
func renderPage(ctx context.Context, t *testing.T, b *browser, url, png string) (view, printView pageView, requests, messages []string) {
	t.Helper()
	tb := b.openTab(ctx, t, url, 1280, "Log.enable", "Network.enable")
	tb.eval(pageScript, &view)
	tb.screenshot(png, 1280)
	tb.must(b.call(ctx, tb.s, "Emulation.setEmulatedMedia", map[string]any{"media": "print"}, nil))
	tb.eval(pageScript, &printView)

	for _, m := range b.sessionEvents(tb.s) {
		switch m.Method {
		case "Network.requestWillBeSent":
			var p struct{ Request struct{ URL string } }
			_ = json.Unmarshal(m.Params, &p)
			if p.Request.URL != url {
				requests = append(requests, p.Request.URL)
			}
		case "Runtime.consoleAPICalled", "Runtime.exceptionThrown":
			messages = append(messages, m.Method+" "+string(m.Params))
		case "Log.entryAdded":
			var p struct {
				Entry struct{ Level, Source, Text string }
			}
			_ = json.Unmarshal(m.Params, &p)
			if p.Entry.Level == "error" || p.Entry.Level == "warning" {
				messages = append(messages, fmt.Sprintf("log %s (%s): %s", p.Entry.Level, p.Entry.Source, p.Entry.Text))
			}
		}
	}
	return view, printView, requests, messages
}

// colourOf parses "rgb(r, g, b)".
func colourOf(t *testing.T, css string) (r, g, b int) {
	t.Helper()
	if _, err := fmt.Sscanf(css, "rgb(%d, %d, %d)", &r, &g, &b); err != nil {
		t.Fatalf("colour %q: %v", css, err)
	}
	return r, g, b
}

// TestSummaryPageInABrowser: summary.html of a good run and of a run where
// every conference failed (the simulator answers 500 to every details
// request), rendered by headless Chromium: the verdict is the first thing
// on the screen, its sentence is summary.json's, its banner is green or
// red, the failed conferences are listed with their code and hint and a
// link to failures.csv, the charts are images a screen reader can name,
// the colours survive print, and the page logs nothing and loads nothing.
// The screenshots are kept in $MEETARCHIVE_TEST_ARTEFACTS.
func TestSummaryPageInABrowser(t *testing.T) {
	chromium, err := chromiumPath()
	if err != nil {
		t.Skip(err.Error())
	}
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 6, FilesPerConference: 1, FileSize: 16 << 10, Seed: 22,
		Start: time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)})
	art := artefactDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a safety net, not a bound
	defer cancel()
	b := startBrowser(t, chromium)

	// The checks below can fail: a page that loads an image and logs an
	// error is caught by them.
	t.Run("a bad page is caught", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close() // nothing answers there: the request is still made
		bad := filepath.Join(t.TempDir(), "bad.html")
		html := `<!DOCTYPE html><html><head><title>bad</title></head><body><section id="verdict"></section>` +
			`<img src="http://` + addr + `/x.png"><script>console.error("broken")</script></body></html>`
		if err := os.WriteFile(bad, []byte(html), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, requests, messages := renderPage(ctx, t, b, "file://"+bad, filepath.Join(t.TempDir(), "bad.png"))
		if !slices.Contains(requests, "http://"+addr+"/x.png") {
			t.Errorf("requests = %v, want the image's", requests)
		}
		if !slices.ContainsFunc(messages, func(m string) bool { return strings.Contains(m, "broken") }) {
			t.Errorf("messages = %v, want the console error", messages)
		}
	})

	tests := []struct {
		name     string
		faults   []meetingtest.Fault
		exit     int
		level    report.Level
		listed   int // conferences in the needs-action list
		dominant int // 0 red, 1 green: the banner's strongest colour channel
	}{
		{name: "good-run", exit: 0, level: report.LevelGreen, dominant: 1},
		{name: "all-failed-run", faults: []meetingtest.Fault{{Endpoint: "details", Kind: "status", Status: 500}},
			exit: 1, level: report.LevelRed, listed: len(ds.Conferences), dominant: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 22, Faults: tt.faults})
			dir := t.TempDir()
			out := filepath.Join(dir, "report")
			env := simEnv(sim)
			env["MEETARCHIVE_MAX_ATTEMPTS"] = "1"
			res := runBin(t, env, "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", filepath.Join(dir, "archive"), "--out", out)
			if res.code != tt.exit {
				t.Fatalf("run: exit %d, want %d\n%s", res.code, tt.exit, res.stderr)
			}
			sum := readSummary(t, out)
			verdict, _ := sum["verdict"].(map[string]any)
			if verdict["level"] != string(tt.level) {
				t.Fatalf("summary.json verdict = %v, want level %s", verdict, tt.level)
			}
			page := filepath.Join(out, report.SummaryHTML)
			png := filepath.Join(art, tt.name+".png")
			url := "file://" + page
			view, printed, requests, messages := renderPage(ctx, t, b, url, png)
			t.Logf("screenshot: %s", png)

			if view.Verdict != verdict["text"] {
				t.Errorf("the banner says %q, summary.json %q", view.Verdict, verdict["text"])
			}
			if view.FirstID != "verdict" || view.Top < 0 || view.Bottom > view.Viewport {
				t.Errorf("the verdict is not the first thing on the screen: first element %q, banner from %v to %v px of %v",
					view.FirstID, view.Top, view.Bottom, view.Viewport)
			}
			// The badge is upper-cased by its style sheet.
			if badge := strings.ToLower(view.Badge); !strings.Contains(badge, string(tt.level)) || !strings.HasPrefix(strings.ToLower(view.Title), badge) {
				t.Errorf("badge %q, title %q: want the level %q in words in both", view.Badge, view.Title, tt.level)
			}
			wantExit := fmt.Sprintf("Exit code %d (%s): %s.", tt.exit, report.ExitCodeName(tt.exit), report.ExitMeaning(tt.exit))
			if view.Exit != wantExit {
				t.Errorf("exit line = %q, want %q", view.Exit, wantExit)
			}
			for _, c := range []struct{ what, css string }{{"background", view.Background}, {"border", view.Border}} {
				r, g, bl := colourOf(t, c.css)
				ch := []int{r, g, bl}
				for i, v := range ch {
					if i != tt.dominant && v >= ch[tt.dominant] {
						t.Errorf("banner %s %s: want it %s (channel %d strongest)", c.what, c.css, tt.level, tt.dominant)
					}
				}
			}

			if len(view.Attention) != tt.listed {
				t.Errorf("%d conferences listed as needing action, want %d: %v", len(view.Attention), tt.listed, view.Attention)
			}
			if tt.listed > 0 {
				failures := map[string]map[string]string{}
				for _, r := range readCSV(t, filepath.Join(out, report.FailuresCSV)) {
					failures[r["confUUID"]] = r
				}
				var listed []string
				for _, row := range view.Attention {
					// seq, confUUID, subject, status, errorCode, what to do, errorMessage
					f := failures[row[1]]
					if len(row) != 7 || f == nil || row[3] != "failed" || row[4] != f["errorCode"] || row[5] != f["hint"] || row[5] == "" {
						t.Errorf("listed %q: want status failed with the errorCode and hint of failures.csv %v", row, f)
						continue
					}
					listed = append(listed, row[1])
				}
				slices.Sort(listed)
				want := ds.UUIDs()
				slices.Sort(want)
				if !slices.Equal(listed, want) {
					t.Errorf("listed %v, want every conference %v", listed, want)
				}
				if want := "file://" + filepath.Join(out, report.FailuresCSV); view.FailLink != want {
					t.Errorf("failures.csv link = %q, want %q", view.FailLink, want)
				}
			}

			if len(view.Charts) != 3 {
				t.Errorf("%d charts, want 3", len(view.Charts))
			}
			for _, c := range view.Charts {
				if c.Role != "img" || c.Name == "" || !strings.HasPrefix(c.Labelled, c.Name+" | ") || len(c.Labelled) <= len(c.Name)+4 || c.Width == 0 {
					t.Errorf("chart %+v: want role img, named by its title and described, and drawn", c)
				}
			}
			if printed.PrintAdjust != "exact" || printed.Background != view.Background {
				t.Errorf("in print: print-color-adjust %q, background %s; want exact and %s", printed.PrintAdjust, printed.Background, view.Background)
			}

			if len(requests) > 0 || view.Resources > 0 {
				t.Errorf("the page loaded %d resources, requests: %v", view.Resources, requests)
			}
			if len(messages) > 0 {
				t.Errorf("console or log messages: %v", messages)
			}
		})
	}
}

// TestWorkbookPropertiesInAnIndependentReader: openpyxl reads the
// workbook's properties (creator, application, created and modified = the
// run's start and end, title and subject naming the run) and the option
// cells' types (numbers, booleans, text) of a real run.
func TestWorkbookPropertiesInAnIndependentReader(t *testing.T) {
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import openpyxl").Run(); err != nil {
		t.Skip("no openpyxl for " + python)
	}
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 2, FileSize: 8 << 10, Seed: 23})
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 23})
	dir := t.TempDir()
	out := filepath.Join(dir, "report")
	res := runBin(t, simEnv(sim), "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", filepath.Join(dir, "archive"), "--out", out,
		"--concurrency", "3", "--force")
	if res.code != 0 {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	raw, err := exec.Command(python, "testdata/xlsx_props.py", filepath.Join(out, report.ManifestXLSX)).CombinedOutput()
	if err != nil {
		t.Fatalf("openpyxl: %v\n%s", err, raw)
	}
	var got struct {
		Creator, LastModifiedBy, Title, Subject, Description, Created, Modified, Application string
		Options                                                                              map[string]struct{ Type, Value string }
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("openpyxl's answer %s: %v", raw, err)
	}
	sum, err := report.ReadSummary(filepath.Join(out, report.SummaryJSON))
	if err != nil {
		t.Fatal(err)
	}
	// The binary of the tests is built without -ldflags: version "dev".
	tool := "meetarchive " + sum.Version
	second := func(tm time.Time) string { return tm.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05") }
	props := []struct{ name, got, want string }{
		{"creator", got.Creator, tool},
		{"lastModifiedBy", got.LastModifiedBy, tool},
		{"application", got.Application, tool},
		{"created", got.Created, second(sum.Started)},
		{"modified", got.Modified, second(sum.Finished)},
		{"title", got.Title, "meetarchive manifest of run " + sum.RunID},
		{"description", got.Description, sum.Verdict.Text},
	}
	for _, p := range props {
		if p.got != p.want {
			t.Errorf("%s = %q, want %q", p.name, p.got, p.want)
		}
	}
	if !strings.Contains(got.Subject, sum.RunID) || !strings.Contains(got.Subject, sum.Dest) {
		t.Errorf("subject %q does not name the run %s and its destination %s", got.Subject, sum.RunID, sum.Dest)
	}
	for name, want := range map[string]struct{ Type, Value string }{
		"concurrency": {"int", "3"},
		"rate":        {"int", "500"}, // simEnv's MEETARCHIVE_RATE
		"force":       {"bool", "True"},
		"dryRun":      {"bool", "False"},
		"links":       {"str", "auto"},
	} {
		if g := got.Options[name]; g != want {
			t.Errorf("option %s = %+v, want %+v", name, g, want)
		}
	}
}

// readmeRecipe returns the shell commands of the README's "Seeing each
// status" section: the lines of its first sh block.
func readmeRecipe(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "#### Seeing each status")
	if i < 0 {
		t.Fatal("README.md has no \"Seeing each status\" section")
	}
	m := regexp.MustCompile("(?s)```sh\n(.*?)```").FindStringSubmatch(text[i:])
	if m == nil {
		t.Fatal("the \"Seeing each status\" section has no sh block")
	}
	return strings.Split(strings.TrimSpace(m[1]), "\n")
}

// TestReadmeStatusRecipe runs the README's "Seeing each status" commands
// as written (with `meetarchive` the binary under test, in an empty
// directory; only the simulator's port is changed to a free one) and
// checks that they produce what the README says: every status of the
// comments, each once.
func TestReadmeStatusRecipe(t *testing.T) {
	lines := readmeRecipe(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	script := strings.ReplaceAll(strings.Join(lines, "\n"), "127.0.0.1:8080", fmt.Sprintf("127.0.0.1:%d", port))
	if script == strings.Join(lines, "\n") {
		t.Fatal("the recipe does not start the simulator on 127.0.0.1:8080")
	}
	dir := t.TempDir()
	// The simulator the recipe starts in the background is stopped with the
	// script.
	prelude := "trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT\n"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a safety net
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", prelude+script)
	cmd.Dir = dir
	cmd.Env = cleanEnv(map[string]string{"PATH": filepath.Dir(binPath) + string(os.PathListSeparator) + os.Getenv("PATH")})
	// Its last command exits 1 (the not-found and invalid-input lines), so
	// the script's own status says nothing: the reports below are checked.
	outb, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running the recipe: %v\n%s", err, outb)
	}
	t.Logf("the recipe's output:\n%s", outb)

	// The comments name what each command shows.
	statusOf := func(out string) map[string][]string {
		got := map[string][]string{}
		for _, r := range readManifest(t, filepath.Join(dir, out)) {
			got[r["status"]] = append(got[r["status"]], r["confUUID"])
		}
		return got
	}
	outs := map[string]string{}
	for _, l := range lines {
		if m := regexp.MustCompile(`--out (\S+)`).FindStringSubmatch(l); m != nil {
			outs[m[1]] = l
		}
	}
	if len(outs) != 3 {
		t.Fatalf("the recipe has %d runs, want 3: %v", len(outs), outs)
	}
	for out, line := range outs {
		got := statusOf(out)
		t.Logf("%s: %v", out, got)
		switch {
		case strings.Contains(line, "--dry-run"):
			if len(got["planned"]) == 0 {
				t.Errorf("%s: no planned rows", out)
			}
		case strings.Contains(line, "already-archived"):
			if len(got["already-archived"]) == 0 || len(got["archived"]) != 0 {
				t.Errorf("%s: want already-archived rows and no archived: %v", out, got)
			}
		default:
			// The first run: each status its comments name.
			for _, st := range []string{"archived", "pending-transcode", "unavailable", "not-found", "invalid-input", "duplicate-input"} {
				if !strings.Contains(script, "# "+st) && !strings.Contains(script, ", "+st) {
					t.Errorf("the recipe's comments do not name %s", st)
				}
				if len(got[st]) == 0 {
					t.Errorf("%s: no %s row", out, st)
				}
			}
			for _, st := range []string{"not-found", "invalid-input", "duplicate-input"} {
				if n := len(got[st]); n != 1 {
					t.Errorf("%s: %d %s rows, want 1 (one line was added for it)", out, n, st)
				}
			}
			if code := readSummary(t, filepath.Join(dir, out))["exitCode"]; code != 1.0 || !strings.Contains(line, "# exit 1") {
				t.Errorf("%s: exit code %v; the README says %q", out, code, line)
			}
		}
	}
}

// TestInstall: the README's two ways of putting meetarchive on the PATH
// leave a working binary where they say: `make install PREFIX=...` in
// PREFIX/bin (with DESTDIR in front when given), `go install .` in GOBIN.
func TestInstall(t *testing.T) {
	tests := []struct {
		name string
		tool string
		args func(dir string) []string
		env  func(dir string) []string
		want func(dir string) string
	}{
		{"make install", "make",
			func(dir string) []string {
				return []string{"install", "PREFIX=" + filepath.Join(dir, "prefix"), "BIN=" + filepath.Join(dir, "build", "meetarchive")}
			},
			nil,
			func(dir string) string { return filepath.Join(dir, "prefix", "bin", "meetarchive") }},
		{"make install with DESTDIR", "make",
			func(dir string) []string {
				return []string{"install", "DESTDIR=" + filepath.Join(dir, "stage"), "PREFIX=/opt/ma", "BIN=" + filepath.Join(dir, "build", "meetarchive")}
			},
			nil,
			func(dir string) string { return filepath.Join(dir, "stage", "opt", "ma", "bin", "meetarchive") }},
		{"go install", "go",
			func(dir string) []string { return []string{"install", "."} },
			func(dir string) []string { return []string{"GOBIN=" + filepath.Join(dir, "gobin")} },
			func(dir string) string { return filepath.Join(dir, "gobin", "meetarchive") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := exec.LookPath(tt.tool); err != nil {
				t.Skipf("no %s on the PATH", tt.tool)
			}
			dir := t.TempDir()
			cmd := exec.Command(tt.tool, tt.args(dir)...)
			cmd.Env = os.Environ()
			if tt.env != nil {
				cmd.Env = append(cmd.Env, tt.env(dir)...)
			}
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s %v: %v\n%s", tt.tool, tt.args(dir), err, out)
			}
			out, err := exec.Command(tt.want(dir), "version").CombinedOutput()
			if err != nil || !strings.HasPrefix(string(out), "meetarchive ") {
				t.Errorf("%s version: %v, %q; want \"meetarchive ...\"", tt.want(dir), err, out)
			}
		})
	}
}

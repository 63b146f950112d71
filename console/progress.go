// Package console is what a person sees of a command: on a terminal one
// live status line that the log writes above (Screen, Progress), off one
// progress log lines; the closing summary every run ends with (Closing);
// the warnings --quiet holds back (Held); the loggers of the commands
// (NewLogger, SDKLogger, DebugEvents); and Text, which makes any text fit
// for a terminal line.
package console

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/smithy-go/logging"

	"meetarchive/redact"
	"meetarchive/report"
)

// counters is the shared state behind every progress display: the
// pipeline counts into it (cheap, safe for concurrent use), the display
// reads it.
type counters struct {
	total      atomic.Int64 // conferences (or objects) to process
	done       atomic.Int64
	bytes      atomic.Int64
	estimated  atomic.Int64 // sum of the size estimates known so far
	estimatedN atomic.Int64 // how many conferences they cover
	files      atomic.Int64 // files archived or already archived (CountRows)
	failed     atomic.Int64 // conferences that ended in a failure status (CountRows)
}

// counters is a pipeline.Progress.
func (c *counters) ConferenceDone()  { c.done.Add(1) }
func (c *counters) AddBytes(n int64) { c.bytes.Add(n) }

// Estimate notes one conference's expected bytes. 0 is no estimate (the
// platform gives rcdSize in whole MiB, and download links give none): the
// display then shows bytes without a total.
func (c *counters) Estimate(n int64) {
	if n > 0 {
		c.estimated.Add(n)
		c.estimatedN.Add(1)
	}
}

// countRows counts one conference's rows: its files stored (or found
// stored), and the conference as failed when a row of it ended in a
// status that makes the exit code 1.
func (c *counters) countRows(rows []report.Row) {
	failed := map[int]bool{}
	for _, r := range rows {
		if r.Status.Stored() && r.ObjectURI != "" && !r.IsEvidence() {
			c.files.Add(1)
		}
		if r.Status.Failure() {
			failed[r.Seq] = true
		}
	}
	c.failed.Add(int64(len(failed)))
}

// snapshot is one reading of the counters with derived rate and ETA.
type snapshot struct {
	Done, Total    int64
	Files, Failed  int64
	Bytes, EstByte int64 // EstByte 0: no size is known
	Rate           float64
	Elapsed        time.Duration
	ETA            time.Duration // 0: not known yet
}

func (c *counters) read(started time.Time) snapshot {
	el := time.Since(started)
	s := snapshot{Done: c.done.Load(), Total: c.total.Load(), Bytes: c.bytes.Load(), EstByte: c.estimated.Load(),
		Files: c.files.Load(), Failed: c.failed.Load(), Elapsed: el}
	// Conferences whose size is not known yet are assumed average.
	if n := c.estimatedN.Load(); n > 0 && s.Total > n {
		s.EstByte += s.EstByte / n * (s.Total - n)
	}
	if s.EstByte > 0 {
		s.EstByte = max(s.EstByte, s.Bytes)
	}
	if el > 0 {
		s.Rate = float64(s.Bytes) / el.Seconds()
	}
	// ETA from conferences, refined by bytes when sizes are known.
	if s.Done > 0 && s.Total > s.Done {
		s.ETA = el / time.Duration(s.Done) * time.Duration(s.Total-s.Done)
	}
	if s.Rate > 0 && s.EstByte > s.Bytes && s.Total > s.Done {
		if byBytes := time.Duration(float64(s.EstByte-s.Bytes) / s.Rate * float64(time.Second)); byBytes > s.ETA {
			s.ETA = byBytes
		}
	}
	return s
}

// Progress renders the counters: a live status line on a terminal
// (Screen), log lines at an interval otherwise, nothing with --quiet.
type Progress struct {
	*counters
	started time.Time
	stop    chan struct{}
	wg      sync.WaitGroup
	render  func(snapshot, bool)
}

// CountRows counts one conference's rows for the display: its files
// stored (or found stored), and the conference as failed when a row of it
// ended in a status that makes the exit code 1.
func (r *Progress) CountRows(rows []report.Row) { r.countRows(rows) }

// NewProgress picks the display: the status line of scr when the
// command has one (stderr is a terminal), else a log line every interval;
// unit names what total counts ("conferences", "objects").
func NewProgress(scr *Screen, log *slog.Logger, total int, unit string, quiet bool, interval time.Duration) *Progress {
	r := &Progress{counters: &counters{}, started: time.Now(), stop: make(chan struct{})}
	r.total.Store(int64(total))
	var every time.Duration
	switch {
	case quiet:
		return r
	case scr != nil:
		every = statusEvery
		r.render = func(s snapshot, final bool) {
			if final {
				scr.Clear()
				return
			}
			scr.setStatus(statusLine(s, unit, scr.Width()))
		}
	default:
		every = interval
		r.render = func(s snapshot, final bool) {
			msg := "progress"
			if final {
				msg = "progress: finished"
			}
			log.Info(msg, "conferences_done", s.Done, "conferences_total", s.Total, "unit", unit,
				"files", s.Files, "failed", s.Failed,
				"bytes", s.Bytes, "bytes_estimated", s.EstByte,
				"rate", report.HumanBytes(int64(s.Rate))+"/s", "eta", s.ETA.Round(time.Second).String())
		}
	}
	if every <= 0 {
		every = DefaultInterval
	}
	if scr != nil {
		r.render(r.read(r.started), false) // at once: a short run shows it too
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-r.stop:
				return
			case <-t.C:
				r.render(r.read(r.started), false)
			}
		}
	}()
	return r
}

// DefaultInterval is the default interval of progress log lines off a
// terminal (run's --progress-interval).
const DefaultInterval = 30 * time.Second

// statusEvery is how often the status line is redrawn.
const statusEvery = 200 * time.Millisecond

// Close stops the display and renders the final figures once (off a
// terminal) or takes the status line away (on one).
func (r *Progress) Close() {
	if r.render == nil {
		return
	}
	close(r.stop)
	r.wg.Wait()
	r.render(r.read(r.started), true)
}

// statusLine is the live display in one line of at most width-1 columns:
// a bar of the conferences done, then the counts, bytes and rate, ETA and
// failures; what does not fit is left out from the end.
//
//	[#######.............] 123/300 conferences | 246 files | 12.3 MiB of ~30.0 MiB, 4.1 MiB/s | ETA 12s | 0 failed
func statusLine(s snapshot, unit string, width int) string {
	const barWidth = 20
	fill := 0
	if s.Total > 0 {
		fill = int(min(s.Done, s.Total) * barWidth / s.Total)
	}
	bar := "[" + strings.Repeat("#", fill) + strings.Repeat(".", barWidth-fill) + "]"
	bytes := report.HumanBytes(s.Bytes)
	if s.EstByte > 0 {
		bytes += " of ~" + report.HumanBytes(s.EstByte)
	}
	bytes += ", " + report.HumanBytes(int64(s.Rate)) + "/s"
	eta := "ETA --"
	switch {
	case s.ETA >= time.Second:
		eta = "ETA " + s.ETA.Round(time.Second).String()
	case s.ETA > 0:
		eta = "ETA <1s"
	}
	parts := []string{fmt.Sprintf("%s %d/%d %s", bar, s.Done, s.Total, unit)}
	if unit == "conferences" {
		parts = append(parts, fmt.Sprintf("%d files", s.Files))
	}
	parts = append(parts, bytes, eta)
	failed := fmt.Sprintf("%d failed", s.Failed)
	// What does not fit goes, from the end; the failures stay.
	for keep := len(parts); keep > 0; keep-- {
		line := strings.Join(append(parts[:keep:keep], failed), " | ")
		if width <= 0 || len([]rune(line)) < width {
			return line
		}
	}
	r := []rune(parts[0] + " | " + failed)
	return string(r[:max(0, width-1)])
}

// Screen is stderr while it is a terminal: it keeps one status line at the
// bottom, and everything else written through it (log lines, and stdout's
// lines on the same terminal) goes above that line, which is drawn again
// under it. Safe for concurrent use.
type Screen struct {
	mu      sync.Mutex
	term    io.Writer // the terminal (stderr)
	size    func() int
	status  string // the status line shown, "" when none
	partial bool   // the last write did not end a line: no status until one does
}

// NewScreen is the Screen of stderr when it is a terminal and a live display
// is wanted (not quiet), else nil.
func NewScreen(stderr io.Writer, quiet bool) *Screen {
	if quiet || !isTerminal(stderr) {
		return nil
	}
	return &Screen{term: stderr, size: func() int { return terminalWidth(stderr) }}
}

// Or is s as a writer, or w when there is no Screen.
func (s *Screen) Or(w io.Writer) io.Writer {
	if s == nil {
		return w
	}
	return s
}

// Width is the terminal's width in columns (80 when unknown); 0 when
// there is no Screen.
func (s *Screen) Width() int {
	if s == nil {
		return 0
	}
	if w := s.size(); w > 0 {
		return w
	}
	return 80
}

// Write writes p to the terminal above the status line.
func (s *Screen) Write(p []byte) (int, error) { return s.writeTo(s.term, p) }

// Above is w (another stream on the same terminal, stdout) written above
// the status line; w itself when s is nil.
func (s *Screen) Above(w io.Writer) io.Writer {
	if s == nil {
		return w
	}
	return aboveWriter{s: s, w: w}
}

type aboveWriter struct {
	s *Screen
	w io.Writer
}

func (a aboveWriter) Write(p []byte) (int, error) { return a.s.writeTo(a.w, p) }

func (s *Screen) writeTo(w io.Writer, p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status != "" && !s.partial {
		_, _ = io.WriteString(s.term, "\r\x1b[K")
	}
	n, err := w.Write(p)
	if len(p) > 0 {
		s.partial = p[len(p)-1] != '\n'
	}
	if s.status != "" && !s.partial {
		_, _ = io.WriteString(s.term, s.status)
	}
	return n, err
}

// setStatus draws line as the status line, in place of the last one.
func (s *Screen) setStatus(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = line
	if !s.partial {
		_, _ = io.WriteString(s.term, "\r\x1b[K"+line)
	}
}

// Clear takes the status line away.
func (s *Screen) Clear() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status != "" && !s.partial {
		_, _ = io.WriteString(s.term, "\r\x1b[K")
	}
	s.status = ""
}

// DebugEvents is a handler that logs info records at debug: the per-file
// and per-conference events of the pipeline (stored, archived, pending...)
// while a live display shows the run on a terminal. Warnings and errors
// pass unchanged.
type DebugEvents struct{ slog.Handler }

func (d DebugEvents) Enabled(ctx context.Context, l slog.Level) bool {
	if l == slog.LevelInfo {
		l = slog.LevelDebug
	}
	return d.Handler.Enabled(ctx, l)
}

func (d DebugEvents) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelInfo {
		r.Level = slog.LevelDebug
	}
	return d.Handler.Handle(ctx, r)
}

func (d DebugEvents) WithAttrs(as []slog.Attr) slog.Handler {
	return DebugEvents{d.Handler.WithAttrs(as)}
}

func (d DebugEvents) WithGroup(name string) slog.Handler {
	return DebugEvents{d.Handler.WithGroup(name)}
}

// SDKLogger carries the AWS SDK's log lines (smithy-go's logging.Logger)
// into the command's slog logger: the same handler, format and level as
// every other line, so that --log-format json stays JSON only, and above
// the status line on a terminal. Its warnings are warnings; the rest is
// debug.
type SDKLogger struct{ Log *slog.Logger }

func (l SDKLogger) Logf(c logging.Classification, format string, v ...any) {
	level := slog.LevelDebug
	if c == logging.Warn {
		level = slog.LevelWarn
	}
	l.Log.Log(context.Background(), level, "aws sdk: "+redact.String(fmt.Sprintf(format, v...)))
}

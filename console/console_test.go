package console

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestStatusLine: the status line fits the terminal, dropping parts from
// the right but never the failures, and says when sizes are estimated.
func TestStatusLine(t *testing.T) {
	s := snapshot{Done: 150, Total: 300, Files: 298, Failed: 2, Bytes: 10 << 20, Rate: 1 << 20, ETA: 12 * time.Second}
	est := s
	est.EstByte = 20 << 20
	tests := []struct {
		name  string
		s     snapshot
		width int
		want  string
	}{
		{"wide", s, 200, "[##########..........] 150/300 conferences | 298 files | 10.0 MiB, 1.0 MiB/s | ETA 12s | 2 failed"},
		{"estimated", est, 200, "[##########..........] 150/300 conferences | 298 files | 10.0 MiB of ~20.0 MiB, 1.0 MiB/s | ETA 12s | 2 failed"},
		{"no ETA yet", snapshot{Total: 300}, 200, "[....................] 0/300 conferences | 0 files | 0 B, 0 B/s | ETA -- | 0 failed"},
		{"narrow", s, 80, "[##########..........] 150/300 conferences | 298 files | 2 failed"},
		{"very narrow", s, 50, "[##########..........] 150/300 conferences | 2 fa"},
		{"done", snapshot{Done: 300, Total: 300, ETA: 0}, 200, "[####################] 300/300 conferences | 0 files | 0 B, 0 B/s | ETA -- | 0 failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := statusLine(tt.s, "conferences", tt.width)
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if n := len([]rune(got)); n >= tt.width {
				t.Errorf("%d columns on a terminal of %d: it would wrap", n, tt.width)
			}
		})
	}
}

// TestScreenWritesAboveTheStatusLine: a line written while the status line
// is up takes its place and the status line is drawn again under it; a
// partial line keeps the status line away until it ends.
func TestScreenWritesAboveTheStatusLine(t *testing.T) {
	var term bytes.Buffer
	scr := &Screen{term: &term, size: func() int { return 80 }}
	var stdout bytes.Buffer
	scr.setStatus("[1]")
	_, _ = scr.Write([]byte("log line\n"))
	_, _ = scr.Above(&stdout).Write([]byte("result\n"))
	_, _ = scr.Write([]byte("partial "))
	scr.setStatus("[2]")
	_, _ = scr.Write([]byte("end\n"))
	scr.Clear()
	want := "\r\x1b[K[1]" + "\r\x1b[Klog line\n[1]" + "\r\x1b[K[1]" + "\r\x1b[Kpartial " + "end\n[2]" + "\r\x1b[K"
	if got := term.String(); got != want {
		t.Errorf("terminal got %q\nwant %q", got, want)
	}
	if stdout.String() != "result\n" {
		t.Errorf("stdout got %q", stdout.String())
	}
}

func TestTermText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "report/manifest.csv", "report/manifest.csv"},
		{"unicode stays", "季度评审 Kundengespräch", "季度评审 Kundengespräch"},
		{"ESC and BEL", "\x1b]0;x\x07", `\x1b]0;x\x07`},
		{"line breaks", "a\r\nb", `a\r\nb`},
		{"NUL and DEL", "a\x00b\x7f", `a\x00b\x7f`},
		{"C1 and bidi", "a\u009bb\u202ec", `a\u009bb\u202ec`},
		{"invalid UTF-8", "a\xffb", `a\xffb`},
		{"long text is not cut", strings.Repeat("x", 10000), strings.Repeat("x", 10000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Text(tc.in); got != tc.want {
				t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestQuietHandlerHoldsWarnings: under --quiet errors are written at once,
// warnings (with their attributes) only on flush, in order, at most
// maxHeldLogs of them and then a count of the rest.
func TestQuietHandlerHoldsWarnings(t *testing.T) {
	var buf bytes.Buffer
	held := &Held{}
	log := slog.New(quietHandler{Handler: slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}), held: held})
	conf := log.With("confUUID", "c1")
	conf.Warn("first warning")
	log.Error("an error")
	log.Info("not even held")
	if got := buf.String(); !strings.Contains(got, "an error") || strings.Contains(got, "warning") || strings.Contains(got, "not even") {
		t.Fatalf("before flush: %q, want the error alone", got)
	}
	for i := range maxHeldLogs + 4 {
		log.Warn("more", "i", i)
	}
	buf.Reset()
	held.Flush(context.Background())
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != maxHeldLogs+1 {
		t.Fatalf("flushed %d lines, want %d", len(lines), maxHeldLogs+1)
	}
	if !strings.Contains(lines[0], `msg="first warning" confUUID=c1`) {
		t.Errorf("first held line %q, want the first warning with its attributes", lines[0])
	}
	if !strings.Contains(lines[len(lines)-1], "held back 5 more warnings") {
		t.Errorf("last line %q, want the count of the 5 dropped", lines[len(lines)-1])
	}
	buf.Reset()
	held.Flush(context.Background())
	if buf.Len() != 0 {
		t.Errorf("a second flush wrote %q", buf.String())
	}
}

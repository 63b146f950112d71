package console

import (
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"

	"golang.org/x/term"

	"meetarchive/report"
)

// Text makes text fit for a terminal line: every control character
// (ESC, BEL, CR, LF, NUL...), invalid UTF-8 and the bidirectional
// overrides escaped visibly as the report does (report.CleanText, without
// a length limit), so that text from an API, a manifest or a path can
// neither drive the terminal nor forge a line. Everything printed to
// stdout or stderr outside the logger goes through it.
func Text(s string) string { return report.CleanText(s, math.MaxInt, false) }

// AbsPath is for messages: the absolute form of a path when it can be had.
func AbsPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// NewLogger is a command's logger on w: text or JSON (format "json"), the
// least severe level shown (debug, info, warn, error), and with held the
// warnings --quiet holds back. On a Screen (a person watching) text lines
// carry no time: the clock is on the wall.
func NewLogger(w io.Writer, format, level string, held *Held) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if _, live := w.(*Screen); live && format == "text" {
		opts.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}
	}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	if held != nil {
		h = quietHandler{Handler: h, held: held}
	}
	return slog.New(h)
}

// isTerminal reports whether w is a terminal (a live status line) or not (log lines).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// terminalWidth is the width in columns of the terminal w, 0 when unknown.
func terminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return width
}

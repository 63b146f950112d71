package report

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestSummaryHTML(t *testing.T) {
	dir := t.TempDir()
	info := testInfo()
	info.RunID = `run-<script>alert(1)</script>`
	info.Dest = "s3://bucket/prefix?X-Amz-Signature=abcdef0123456789&x=1"
	rows := chartRows()
	rows = append(rows, Row{Seq: 20, ConfUUID: uuid(20), Status: Failed, ErrorCode: `<img src=x onerror=alert(2)>`})
	sum := writeRun(t, dir, info, rows, ExitFailures)
	b, err := os.ReadFile(filepath.Join(dir, SummaryHTML))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)

	tests := []struct {
		name    string
		absent  []string
		present []string
	}{
		{"no script, no external asset",
			[]string{"<script", "<link", "<img", `src="`, "@import", "url("},
			[]string{"<svg", "</html>"}},
		{"text escaped",
			[]string{"<img", "<script>alert"},
			[]string{"&lt;script&gt;", "&lt;img src=x onerror=alert(2)&gt;"}},
		{"secrets redacted",
			[]string{"abcdef0123456789"},
			[]string{"X-Amz-Signature=REDACTED"}},
		{"three charts",
			nil,
			[]string{"Conferences by status", "Bytes archived per recording day", "Failed rows by error code"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range tt.absent {
				if strings.Contains(page, s) {
					t.Errorf("page contains %q", s)
				}
			}
			for _, s := range tt.present {
				if !strings.Contains(page, s) {
					t.Errorf("page lacks %q", s)
				}
			}
		})
	}
	t.Run("figures equal the summary", func(t *testing.T) {
		for st, n := range sum.Counts {
			want := fmt.Sprintf("<tr><td>%s</td><td class=\"n\">%s</td></tr>", st, groupDigits(int64(n)))
			if !strings.Contains(page, want) {
				t.Errorf("page lacks %s", want)
			}
		}
		want := fmt.Sprintf("<tr><td>bytes archived</td><td>%s</td></tr>", groupDigits(sum.BytesArchived))
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	})
	t.Run("only the SVG namespace is a URL", func(t *testing.T) {
		for _, m := range regexp.MustCompile(`https?://[^"'\s<]+`).FindAllString(page, -1) {
			if m != "http://www.w3.org/2000/svg" && !strings.HasPrefix(m, "s3://") {
				t.Errorf("page refers to %q", m)
			}
		}
	})
}

func TestGroupDigits(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234", 100000: "100,000"} {
		if got := groupDigits(n); got != want {
			t.Errorf("groupDigits(%d) = %q, want %q", n, got, want)
		}
	}
}

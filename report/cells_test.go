package report

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCleanText(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct {
		name      string
		in        string
		limit     int
		multiLine bool
		want      string
	}{
		{"plain", "0123abcd-ef", 200, false, "0123abcd-ef"},
		{"unicode kept", "会议 🎉 ünï", 200, false, "会议 🎉 ünï"},
		{"nul and esc", "a\x00b\x1bc", 200, false, `a\x00b\x1bc`},
		{"del", "a\x7fb", 200, false, `a\x7fb`},
		{"newline single", "a\nb\r\nc\td", 200, false, `a\nb\r\nc\td`},
		{"newline multi", "a\nb\r\nc\td", 200, true, "a\nb\\r\nc\td"},
		{"c1", "a\u0085b", 200, false, `a\u0085b`},
		{"bidi override", "evil\u202egnp.exe", 200, false, `evil\u202egnp.exe`},
		{"isolate and bom", "\u2066x\u2069\ufeff", 200, false, `\u2066x\u2069\ufeff`},
		{"line separator", "a\u2028b", 200, true, `a\u2028b`},
		{"invalid utf-8", "a\xffb\xc3", 200, false, `a\xffb\xc3`},
		{"at the limit", long[:200], 200, false, long[:200]},
		{"cut", long, 200, false, long[:200-len("… (300 bytes)")] + "… (300 bytes)"},
		{"cut after escaping", strings.Repeat("\x00", 100), 200, false,
			strings.Repeat(`\x00`, (200-len("… (100 bytes)"))/4) + "… (100 bytes)"},
		{"cut keeps whole characters", strings.Repeat("会", 100), 64, false,
			strings.Repeat("会", (64-len("… (300 bytes)"))/3) + "… (300 bytes)"},
		{"empty", "", 200, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CleanText(tt.in, tt.limit, tt.multiLine)
			if got != tt.want {
				t.Errorf("CleanText(%.40q) = %q, want %q", tt.in, got, tt.want)
			}
			if len(got) > tt.limit {
				t.Errorf("length %d > limit %d", len(got), tt.limit)
			}
			if !utf8.ValidString(got) {
				t.Errorf("result %q is not UTF-8", got)
			}
			if again := CleanText(got, tt.limit, tt.multiLine); again != got {
				t.Errorf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

// TestSanitizeRowEveryField: every text field of Row, including any added
// later, is cleaned and bounded.
func TestSanitizeRowEveryField(t *testing.T) {
	var r Row
	v := reflect.ValueOf(&r).Elem()
	junk := "x\x00y\x1b" + strings.Repeat("z", 1<<20)
	n := 0
	for i := range v.NumField() {
		if v.Field(i).Kind() == reflect.String {
			v.Field(i).SetString(junk)
			n++
		}
	}
	got := reflect.ValueOf(sanitizeRow(r))
	for i := range got.NumField() {
		f := got.Field(i)
		if f.Kind() != reflect.String {
			continue
		}
		s, name := f.String(), got.Type().Field(i).Name
		if strings.ContainsAny(s, "\x00\x1b") {
			t.Errorf("%s keeps a raw control byte", name)
		}
		if len(s) > limitLong || !strings.HasSuffix(s, "(1048580 bytes)") {
			t.Errorf("%s: %d bytes ending %q, want at most %d ending with the original length", name, len(s), s[max(0, len(s)-20):], limitLong)
		}
	}
	if n < 15 {
		t.Errorf("only %d text fields found by reflection", n)
	}
}

// TestHostileCells: a NUL, an ESC and a 1 MB cell reach neither the
// journal nor any report file raw or whole.
func TestHostileCells(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("A", 1<<20)
	rows := []Row{
		{Seq: 0, ConfUUID: "nul\x00uuid", Status: InvalidInput, ErrorCode: "invalid-input", ErrorMessage: "cell: " + big},
		{Seq: 1, ConfUUID: uuid(1), Subject: "esc \x1b[31mred\x1b[0m", Status: Failed, ErrorCode: "timeout",
			ErrorMessage: "first line\nsecond \x00 line", Hint: "hint\x07"},
		{Seq: 2, ConfUUID: big, Status: InvalidInput, ErrorCode: "invalid-input"},
	}
	w, err := NewWriter(dir, testInfo())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddPlan(PlanItem{Seq: 3, ConfUUID: "plan\x00" + big}); err != nil {
		t.Fatal(err)
	}
	if err := w.SetFatal("fatal\x00 " + big); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(ExitFailures); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() != ManifestXLSX && bytes.ContainsAny(b, "\x00\x1b\x07") {
			t.Errorf("%s holds a raw control byte", e.Name())
		}
		if len(b) > 64<<10 {
			t.Errorf("%s is %d bytes: a 1 MB cell was kept whole", e.Name(), len(b))
		}
	}
	got := readAll(t, dir)
	if len(got) != 4 {
		t.Fatalf("%d rows, want 4", len(got))
	}
	for _, c := range []struct{ field, got, want string }{
		{"confUUID 0", got[0].ConfUUID, `nul\x00uuid`},
		{"subject 1", got[1].Subject, `esc \x1b[31mred\x1b[0m`},
		{"errorMessage 1", got[1].ErrorMessage, "first line\nsecond \\x00 line"},
		{"hint 1", got[1].Hint, `hint\x07`},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	for _, c := range []struct {
		field, s string
		limit    int
	}{
		{"errorMessage 0", got[0].ErrorMessage, limitLong},
		{"confUUID 2", got[2].ConfUUID, limitShort},
		{"planned confUUID 3", got[3].ConfUUID, limitShort},
	} {
		if len(c.s) > c.limit || !strings.Contains(c.s, "bytes)") {
			t.Errorf("%s: %d bytes %.30q…, want at most %d with the original length noted", c.field, len(c.s), c.s, c.limit)
		}
	}
	sum, err := ReadSummary(filepath.Join(dir, SummaryJSON))
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Fatal) > limitFatal || !strings.HasPrefix(sum.Fatal, `fatal\x00 `) {
		t.Errorf("Summary.Fatal = %d bytes %.30q, want at most %d, escaped", len(sum.Fatal), sum.Fatal, limitFatal)
	}
}

// BenchmarkSanitizeRow: an archived row (Redact finds nothing to look at)
// and a failed one whose message holds a token (Redact's patterns run).
func BenchmarkSanitizeRow(b *testing.B) {
	plain := archivedRow(7)
	plain.Subject = "季度业务回顾: sales, pipeline & hiring"
	b.Run("plain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = sanitizeRow(plain)
		}
	})
	for _, i := range []int{0, 1} {
		r := bigRow(i)
		r.Subject = plain.Subject
		b.Run(string(r.Status), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = sanitizeRow(r)
			}
		})
	}
}

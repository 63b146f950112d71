package archive_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"meetarchive/archive"
	"meetarchive/archive/archivetest"
)

func TestSanitizeKey(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"plain", "2024/05/uuid/Hd_0_1.mp4", "2024/05/uuid/Hd_0_1.mp4"},
		{"dot-dot", "../../x", "__/__/x"},
		{"dot-dot inside", "a/../../b", "a/__/__/b"},
		{"dot", "./a/./b", "_/a/_/b"},
		{"leading slash", "/etc/passwd", "etc/passwd"},
		{"empty segments", "a//b///c/", "a/b/c"},
		{"backslashes", `a\..\b`, "a/__/b"},
		{"control chars", "a\x00b\x1bc\nd\re\x7ff\u0085g", "a_b_c_d_e_f_g"},
		{"tab", "a\tb", "a_b"},
		{"bidi override", "x\u202Egpj.exe", "x_gpj.exe"},
		{"bom", "\uFEFFname", "_name"},
		{"invalid utf8", "a\xffb\xc3", "a_b_"},
		{"spaces around segments", " a / b c /  ", "a/b c/_"},
		{"only spaces segment", "a/   /b", "a/_/b"},
		{"empty", "", "_"},
		{"only slashes", "///", "_"},
		{"reserved first segment", "_meetarchive/x.json", "__meetarchive/x.json"},
		{"reserved first segment in another case", "_MeetArchive/x.json", "__MeetArchive/x.json"},
		{"reserved later is fine", "a/_meetarchive/x", "a/_meetarchive/x"},
		{"unicode kept", "会议/Besprechung ü/録画.mp4", "会议/Besprechung ü/録画.mp4"},
		{"three dots kept", ".../x", ".../x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := archive.SanitizeKey(tc.in); got != tc.want {
				t.Errorf("SanitizeKey(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got := archive.SanitizeKey(tc.want); got != tc.want {
				t.Errorf("SanitizeKey not idempotent: SanitizeKey(%q) = %q", tc.want, got)
			}
		})
	}
}

func TestSanitizeKeyLong(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
	}{
		{"2000-char subject segment", "2024/05/" + strings.Repeat("s", 2000) + "/uuid/Hd_0_1.mp4"},
		{"2000 multibyte chars", "2024/05/" + strings.Repeat("会", 2000) + "/uuid/Hd_0_1.mp4"},
		{"2000-char file name", "2024/" + strings.Repeat("n", 2000) + ".mp4"},
		{"many short segments", strings.Repeat("abcdefghi/", 300) + "Hd_0_1.mp4"},
		{"many multibyte segments", strings.Repeat("会会会会会会会/", 100) + "Hd_0_1.mp4"},
		{"one 3000-byte segment", strings.Repeat("x", 3000)},
	}
	seen := map[string]string{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := archive.SanitizeKey(tc.in)
			if len(got) > archive.MaxKeyBytes || !utf8.ValidString(got) {
				t.Fatalf("SanitizeKey = %d bytes (valid UTF-8 %v), want <= %d valid", len(got), utf8.ValidString(got), archive.MaxKeyBytes)
			}
			for _, seg := range strings.Split(got, "/") {
				if len(seg) > archive.MaxSegmentBytes || seg == "" || seg == "." || seg == ".." {
					t.Errorf("bad segment %q (%d bytes)", seg, len(seg))
				}
			}
			if again := archive.SanitizeKey(got); again != got {
				t.Errorf("not idempotent:\n%q\n%q", got, again)
			}
			if !strings.Contains(got, "~") {
				t.Errorf("shortened key %q carries no hash tag", got)
			}
			if strings.HasSuffix(tc.in, ".mp4") && !strings.HasSuffix(got, ".mp4") {
				t.Errorf("shortened key %q lost its extension", got)
			}
			if strings.HasSuffix(tc.in, "/Hd_0_1.mp4") && !strings.HasSuffix(got, "/Hd_0_1.mp4") {
				t.Errorf("shortened key %q lost its file name", got)
			}
			if prev, dup := seen[got]; dup {
				t.Errorf("%q and %q both give %q", prev, tc.name, got)
			}
			seen[got] = tc.name
		})
	}
	// Keys that differ only beyond the cut stay different.
	a := archive.SanitizeKey(strings.Repeat("s", 1999) + "a")
	b := archive.SanitizeKey(strings.Repeat("s", 1999) + "b")
	if a == b {
		t.Errorf("long keys differing at the end collide: %q", a)
	}
	if got, again := archive.SanitizeKey(strings.Repeat("s", 2000)), archive.SanitizeKey(strings.Repeat("s", 2000)); got != again {
		t.Errorf("not deterministic: %q vs %q", got, again)
	}
}

func TestKeyTemplate(t *testing.T) {
	t.Parallel()
	f := archive.KeyFields{ConfUUID: "0a1b2c3d-0000-4000-8000-000000000001", ConfID: "987654321", Subject: "Weekly sync",
		ScheduserName: "Ann", StartTime: "2019-12-19 02:07", FileType: "Hd", FileName: "0_1.mp4", Index: 2}
	tests := []struct {
		name   string
		tmpl   string
		fields func(archive.KeyFields) archive.KeyFields
		want   string
	}{
		{"default", archive.DefaultKeyTemplate, nil, "2019/12/0a1b2c3d-0000-4000-8000-000000000001/Hd_0_1.mp4"},
		{"unparsable start time", archive.DefaultKeyTemplate, func(f archive.KeyFields) archive.KeyFields { f.StartTime = "yesterday"; return f },
			"unknown/unknown/0a1b2c3d-0000-4000-8000-000000000001/Hd_0_1.mp4"},
		{"explicit date fields win", archive.DefaultKeyTemplate, func(f archive.KeyFields) archive.KeyFields { f.Year, f.Month, f.Day = "2030", "01", "02"; return f },
			"2030/01/0a1b2c3d-0000-4000-8000-000000000001/Hd_0_1.mp4"},
		{"day and index", "{{.Year}}-{{.Month}}-{{.Day}}/{{.ConfUUID}}/{{.Index}}-{{.FileName}}", nil,
			"2019-12-19/0a1b2c3d-0000-4000-8000-000000000001/2-0_1.mp4"},
		{"functions", "{{lower .FileType}}/{{trunc 6 .Subject}}/{{upper .ConfUUID}}/{{.FileName}}", nil,
			"hd/Weekly/0A1B2C3D-0000-4000-8000-000000000001/0_1.mp4"},
		{"slash in a field makes no folder", "{{.Subject}}/{{.ConfUUID}}/{{.FileName}}",
			func(f archive.KeyFields) archive.KeyFields { f.Subject = "../../etc/passwd"; return f },
			".._.._etc_passwd/0a1b2c3d-0000-4000-8000-000000000001/0_1.mp4"},
		{"dot-dot subject", "{{.Subject}}/{{.ConfUUID}}/{{.FileName}}",
			func(f archive.KeyFields) archive.KeyFields { f.Subject = ".."; return f },
			"__/0a1b2c3d-0000-4000-8000-000000000001/0_1.mp4"},
		{"control chars", "{{.Subject}}/{{.ConfUUID}}/{{.FileName}}",
			func(f archive.KeyFields) archive.KeyFields { f.Subject = "a\x00b\nc"; f.FileName = "x\r.mp4"; return f },
			"a_b_c/0a1b2c3d-0000-4000-8000-000000000001/x_.mp4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kt, err := archive.ParseKeyTemplate(tc.tmpl)
			if err != nil {
				t.Fatalf("ParseKeyTemplate: %v", err)
			}
			ff := f
			if tc.fields != nil {
				ff = tc.fields(f)
			}
			got, err := kt.Key(ff)
			if err != nil {
				t.Fatalf("Key: %v", err)
			}
			if got != tc.want {
				t.Errorf("Key = %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("2000-char subject", func(t *testing.T) {
		kt := archive.MustParseKeyTemplate("{{.Subject}}/{{.ConfUUID}}/{{.FileType}}_{{.FileName}}")
		ff := f
		ff.Subject = strings.Repeat("Quarterly review ", 120)[:2000]
		got, err := kt.Key(ff)
		if err != nil {
			t.Fatal(err)
		}
		archivetest.AssertSafeKey(t, got)
		if !strings.HasSuffix(got, "/0a1b2c3d-0000-4000-8000-000000000001/Hd_0_1.mp4") {
			t.Errorf("Key = %q, want the conference and file kept", got)
		}
	})
}

func TestParseKeyTemplateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, tmpl, want string }{
		{"empty", "  ", "empty"},
		{"syntax", "{{.Year", "key template"},
		{"unknown field", "{{.Nope}}/{{.ConfUUID}}/{{.FileName}}", "Nope"},
		{"no confUUID", "{{.Year}}/{{.Subject}}/{{.FileType}}_{{.FileName}}", "ConfUUID"},
		{"no file", "{{.Year}}/{{.ConfUUID}}", "collide"},
		{"bad function call", "{{trunc .Subject}}/{{.ConfUUID}}/{{.FileName}}", "trunc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := archive.ParseKeyTemplate(tc.tmpl)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseKeyTemplate(%q) err = %v, want it to mention %q", tc.tmpl, err, tc.want)
			}
		})
	}
}

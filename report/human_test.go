package report

import "testing"

func TestHumanBytes(t *testing.T) {
	tests := []struct {
		name string
		n    int64
		want string
	}{
		{"bytes", 1023, "1023 B"},
		{"one KiB", 1024, "1.0 KiB"},
		{"one and a half GiB", 3 << 29, "1.5 GiB"},
		{"just under a MiB", 1<<20 - 1, "1024.0 KiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := HumanBytes(tc.n); got != tc.want {
				t.Errorf("HumanBytes(%d) = %q, want %q", tc.n, got, tc.want)
			}
		})
	}
}

func TestTextCell(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "s3://b/k.mp4", "s3://b/k.mp4"},
		{"control characters escaped", "a\x1b[2Jb\nc", `a\x1b[2Jb\nc`},
		{"formula neutralised", "=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := TextCell(tc.in); got != tc.want {
				t.Errorf("TextCell(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

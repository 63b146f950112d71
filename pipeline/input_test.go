package pipeline

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"meetarchive/report"
)

const (
	uuidA = "0123456789abcdef0123456789abcdef"
	uuidB = "fedcba9876543210fedcba9876543210"
	uuidC = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
)

// readAll reads every item of an input CSV.
func readAll(r io.Reader) ([]Item, error) {
	in := NewInputReader(r)
	var items []Item
	for {
		it, err := in.Next()
		if errors.Is(err, io.EOF) {
			return items, nil
		}
		if err != nil {
			return items, err
		}
		items = append(items, it)
	}
}

func TestReadInput(t *testing.T) {
	type want struct {
		uuid    string
		problem report.Status
	}
	tests := []struct {
		name string
		in   string
		want []want
	}{
		{"no header", uuidA + "\n" + uuidB + "\n", []want{{uuidA, ""}, {uuidB, ""}}},
		{"header any case", "CONFUUID\n" + uuidA + "\n", []want{{uuidA, ""}}},
		{"header in second column", "subject,confUuid\nhello," + uuidA + "\nbye," + uuidB + "\n", []want{{uuidA, ""}, {uuidB, ""}}},
		{"word header takes first column", "id\n" + uuidA + "\n", []want{{uuidA, ""}}},
		{"utf8 bom and crlf", "\ufeffconfUUID\r\n" + uuidA + "\r\n" + uuidB + "\r\n", []want{{uuidA, ""}, {uuidB, ""}}},
		{"bom without header", "\ufeff" + uuidA + "\r\n", []want{{uuidA, ""}}},
		{"blank lines skipped", "\n\n" + uuidA + "\n\n   \n" + uuidB + "\n\n", []want{{uuidA, ""}, {uuidB, ""}}},
		{"surrounding spaces", "  " + uuidA + "  \n\t" + uuidB + "\n", []want{{uuidA, ""}, {uuidB, ""}}},
		{"duplicate, case-insensitive", uuidA + "\n" + strings.ToUpper(uuidA) + "\n" + uuidA + "\n",
			[]want{{uuidA, ""}, {uuidA, report.DuplicateInput}, {uuidA, report.DuplicateInput}}},
		{"malformed", uuidA + "\nnot-a-uuid\n" + uuidA[:31] + "\n" + uuidA + "g\n" + uuidB + "\n",
			[]want{{uuidA, ""}, {"not-a-uuid", report.InvalidInput}, {uuidA[:31], report.InvalidInput}, {uuidA + "g", report.InvalidInput}, {uuidB, ""}}},
		{"dashed uuid accepted", "01234567-89ab-cdef-0123-456789abcdef\n", []want{{"0123456789abcdef0123456789abcdef", ""}}},
		{"upper case normalised", strings.ToUpper(uuidB) + "\n", []want{{uuidB, ""}}},
		{"quoted cell spanning lines (failures.csv)", "confUUID,subject,errorMessage\n" + uuidA + ",\"a\nb\",\"x, \"\"y\"\"\r\nz\"\n" + uuidB + ",c,d\n",
			[]want{{uuidA, ""}, {uuidB, ""}}},
		{"control bytes escaped", "\x00\x1b[31m\n" + uuidA + "\n", []want{{`\x00\x1b[31m`, report.InvalidInput}, {uuidA, ""}}},
		{"record too long", strings.Repeat("x", MaxInputRecord+10) + "\n" + uuidA + "\n", []want{{"", report.InvalidInput}, {uuidA, ""}}},
		{"unterminated quote does not swallow the file", "\"" + strings.Repeat("y", MaxInputRecord) + "\n" + uuidA + "\n" + uuidB + "\n",
			[]want{{"", report.InvalidInput}, {uuidA, ""}, {uuidB, ""}}},
		{"stray quote does not swallow the lines after it", "x\"y\n" + strings.Repeat(uuidC[:31]+"0\n", 1000) + uuidA + "\n",
			append(append([]want{{`x"y`, report.InvalidInput}, {uuidC[:31] + "0", ""}}, repeatWant(want{uuidC[:31] + "0", report.DuplicateInput}, 999)...), want{uuidA, ""})},
		{"quoted cells", "\"confUUID\",\"x\"\n\"" + uuidC + "\",\"a, b\"\n", []want{{uuidC, ""}}},
		{"empty cell in uuid column", "confUUID,x\n,foo\n" + uuidA + ",bar\n", []want{{"", report.InvalidInput}, {uuidA, ""}}},
		{"empty file", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items, err := readAll(strings.NewReader(tc.in))
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if len(items) != len(tc.want) {
				t.Fatalf("got %d items %+v, want %d", len(items), items, len(tc.want))
			}
			for i, w := range tc.want {
				got := items[i]
				if got.ConfUUID != w.uuid || got.Problem != w.problem || got.Seq != i {
					t.Errorf("item %d: got (%q, %q, seq %d), want (%q, %q, seq %d)", i, got.ConfUUID, got.Problem, got.Seq, w.uuid, w.problem, i)
				}
				if got.Problem != "" && got.Detail == "" {
					t.Errorf("item %d: problem %q without detail", i, got.Problem)
				}
			}
		})
	}
}

func repeatWant[W any](w W, n int) []W {
	out := make([]W, n)
	for i := range out {
		out[i] = w
	}
	return out
}

func TestParseShard(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name    string
		in      string
		env     map[string]string
		k, n    int
		wantErr bool
	}{
		{"none", "", nil, 0, 1, false},
		{"explicit", "2/4", nil, 2, 4, false},
		{"k8s index", "/3", map[string]string{"JOB_COMPLETION_INDEX": "1"}, 1, 3, false},
		{"aws batch index", "3", map[string]string{"AWS_BATCH_JOB_ARRAY_INDEX": "2"}, 2, 3, false},
		{"index out of range", "4/4", nil, 0, 0, true},
		{"env index out of range", "/2", map[string]string{"JOB_COMPLETION_INDEX": "5"}, 0, 0, true},
		{"no index", "/2", nil, 0, 0, true},
		{"zero shards", "0/0", nil, 0, 0, true},
		{"garbage", "a/b", nil, 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sh, err := ParseShard(tc.in, env(tc.env))
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseShard(%q) err = %v, wantErr %v", tc.in, err, tc.wantErr)
			}
			if err == nil && (sh.K != tc.k || sh.N != tc.n) {
				t.Errorf("ParseShard(%q) = %d/%d, want %d/%d", tc.in, sh.K, sh.N, tc.k, tc.n)
			}
		})
	}
}

func TestShardsPartitionInput(t *testing.T) {
	var items []Item
	for i := 0; i < 500; i++ {
		u := strings.Repeat("0", 24) + hexOf(i)
		items = append(items, Item{Seq: i, ConfUUID: u})
	}
	seen := map[int]int{}
	for k := 0; k < 3; k++ {
		for it := range SliceSource(items).Sharded(Shard{K: k, N: 3}).Items() {
			seen[it.Seq]++
		}
	}
	for i := range items {
		if seen[i] != 1 {
			t.Fatalf("item %d is in %d shards, want exactly 1", i, seen[i])
		}
	}
}

func hexOf(i int) string {
	const digits = "0123456789abcdef"
	s := ""
	for j := 0; j < 8; j++ {
		s = string(digits[i&15]) + s
		i >>= 4
	}
	return s
}

// TestSourceNoticesAChangedInput: a pass over an input that changed after
// Digest hashed it ends with an error, not with other items than planned.
func TestSourceNoticesAChangedInput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.csv")
	if err := os.WriteFile(path, []byte(uuidA+"\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	src := FileSource(path)
	if _, err := src.Digest(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range src.Items() {
	}
	if err := src.Err(); err != nil {
		t.Fatalf("unchanged input: %v", err)
	}
	if err := os.WriteFile(path, []byte(uuidA+"\n"+uuidB+"\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	for range src.Items() {
	}
	if src.Err() == nil {
		t.Error("a pass over a changed input reported no error")
	}
}

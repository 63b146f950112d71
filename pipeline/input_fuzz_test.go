package pipeline

import (
	"bytes"
	"strings"
	"testing"

	"meetarchive/report"
)

// FuzzInputReader: any input reads without error or panic; every item has
// a Seq in order; a valid item's UUID is in the platform's form; an invalid
// one's text is bounded and free of control bytes; no physical line is lost
// (items + blank/header lines never exceed the lines read).
func FuzzInputReader(f *testing.F) {
	f.Add([]byte("confUUID\n0123456789abcdef0123456789abcdef\n"))
	f.Add([]byte("a,\"b\nc\",0123456789ABCDEF0123456789ABCDEF\n"))
	f.Add([]byte("\"\x00\xff\n\r\n,,,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		items, err := readAll(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		if len(items) > lines {
			t.Fatalf("%d items from %d lines", len(items), lines)
		}
		for i, it := range items {
			if it.Seq != i {
				t.Fatalf("item %d has seq %d", i, it.Seq)
			}
			switch it.Problem {
			case "":
				if n, ok := normalize(it.ConfUUID); !ok || n != it.ConfUUID {
					t.Fatalf("valid item %q is not in the platform's form", it.ConfUUID)
				}
			case report.InvalidInput, report.DuplicateInput:
				if len(it.ConfUUID) > 4*maxShownCell+40 || strings.ContainsAny(it.ConfUUID, "\x00\n\r\x1b") {
					t.Fatalf("invalid item text not bounded or clean: %q", it.ConfUUID)
				}
			default:
				t.Fatalf("unknown problem %q", it.Problem)
			}
		}
	})
}

package report

import "testing"

func TestEntryList(t *testing.T) {
	for _, n := range []int{0, 1, entryChunk - 1, entryChunk, entryChunk + 1, 2*entryChunk + 5} {
		t.Run("", func(t *testing.T) {
			var l entryList
			for i := range n {
				l.add(entry{off: int64(i), seq: int32(i)})
			}
			if got := l.len(); got != n {
				t.Fatalf("len = %d, want %d", got, n)
			}
			got := l.flatten()
			if len(got) != n {
				t.Fatalf("flatten: %d entries, want %d", len(got), n)
			}
			for i, e := range got {
				if e.off != int64(i) || e.seq != int32(i) {
					t.Fatalf("entry %d = %+v, want off and seq %d", i, e, i)
				}
			}
			if l.len() != 0 || len(l.chunks) != 0 {
				t.Errorf("after flatten: len %d, %d chunks, want empty", l.len(), len(l.chunks))
			}
		})
	}
}

func TestConfStatus(t *testing.T) {
	var c confStatus
	if _, ok := c.get(7); ok {
		t.Fatal("empty: seq 7 has a status")
	}
	sets := []struct {
		seq int32
		id  uint8
	}{{0, 0}, {1, 3}, {confPage - 1, 254}, {confPage, 1}, {1 << 30, 2}, {1, 4}}
	for _, s := range sets {
		c.set(s.seq, s.id)
	}
	for _, tc := range []struct {
		name string
		seq  int32
		want uint8
		ok   bool
	}{
		{"first", 0, 0, true},
		{"overwritten", 1, 4, true},
		{"end of page", confPage - 1, 254, true},
		{"next page", confPage, 1, true},
		{"far", 1 << 30, 2, true},
		{"unset in a page", 2, 0, false},
		{"unset page", 3 * confPage, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := c.get(tc.seq)
			if got != tc.want || ok != tc.ok {
				t.Errorf("get(%d) = %d, %v; want %d, %v", tc.seq, got, ok, tc.want, tc.ok)
			}
		})
	}
}

package report

// entryChunk is how many entries one chunk of an entryList holds (1 MiB).
const entryChunk = 64 << 10

// entryList is the journal's row index, grown in fixed chunks: appending
// never copies what is there (a slice grown by append holds up to twice
// its length while it is copied), and the memory is one entry per row plus
// at most one partly filled chunk.
type entryList struct {
	chunks [][]entry
	n      int
}

func (l *entryList) add(e entry) {
	if len(l.chunks) == 0 || len(l.chunks[len(l.chunks)-1]) == entryChunk {
		l.chunks = append(l.chunks, make([]entry, 0, entryChunk))
	}
	last := &l.chunks[len(l.chunks)-1]
	*last = append(*last, e)
	l.n++
}

// flatten returns the entries as one slice and empties l, releasing each
// chunk once it is copied, so that the peak is the slice plus one chunk.
func (l *entryList) flatten() []entry {
	out := make([]entry, 0, l.n)
	for i, c := range l.chunks {
		out = append(out, c...)
		l.chunks[i] = nil
	}
	l.chunks, l.n = nil, 0
	return out
}

// confPage is how many conferences one page of a confStatus covers.
const confPage = 4096

// confStatus maps a conference (Seq) to the index of its status so far, one
// byte per Seq in pages of confPage allocated as Seqs are seen: Seqs are
// dense (input order), so a million conferences take about 1 MiB.
type confStatus struct {
	pages map[int32]*[confPage]uint8 // Seq/confPage -> statusID+1 per Seq (0: no row yet)
}

// get returns the status index of seq and whether seq has a row.
func (c *confStatus) get(seq int32) (uint8, bool) {
	p := c.pages[seq/confPage]
	if p == nil || p[seq%confPage] == 0 {
		return 0, false
	}
	return p[seq%confPage] - 1, true
}

// set records id (< 255) as the status index of seq.
func (c *confStatus) set(seq int32, id uint8) {
	if c.pages == nil {
		c.pages = map[int32]*[confPage]uint8{}
	}
	p := c.pages[seq/confPage]
	if p == nil {
		p = new([confPage]uint8)
		c.pages[seq/confPage] = p
	}
	p[seq%confPage] = id + 1
}

// idSet is a set of confUUIDs. A UUID of 32 lowercase hexadecimal digits
// (what the platform gives) is kept as its 16 bytes, anything else as a
// string: a million UUIDs take about 30 MiB instead of about 80.
type idSet struct {
	hex   map[[16]byte]struct{}
	other map[string]struct{}
}

func newIDSet() *idSet {
	return &idSet{hex: map[[16]byte]struct{}{}, other: map[string]struct{}{}}
}

// add adds id and reports whether it was new.
func (s *idSet) add(id string) bool {
	if k, ok := hexUUID(id); ok {
		if _, seen := s.hex[k]; seen {
			return false
		}
		s.hex[k] = struct{}{}
		return true
	}
	if _, seen := s.other[id]; seen {
		return false
	}
	s.other[id] = struct{}{}
	return true
}

// hexUUID decodes 32 lowercase hexadecimal digits.
func hexUUID(id string) (k [16]byte, ok bool) {
	if len(id) != 32 {
		return k, false
	}
	for i := range 32 {
		c := id[i]
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		default:
			return k, false
		}
		k[i/2] |= d << (4 * (1 - i%2))
	}
	return k, true
}

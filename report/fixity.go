package report

import (
	"bufio"
	"container/heap"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
)

// SHA256Sums is the fixity file of a report directory: one line per object
// stored by the run or found already archived, in the format `sha256sum -c`
// reads, with paths relative to the destination root. For a directory
// destination, `sha256sum -c /path/to/report/sha256sums.txt` run from the
// root checks every object the report names.
const SHA256Sums = "sha256sums.txt"

// A line of sha256sums.txt is "<64 lower-case hex digits>  <objectKey>\n"
// (two spaces: sha256sum's text mode, which on POSIX systems reads the same
// bytes as binary mode). The file has one line per distinct objectKey of
// the rows with status archived or already-archived that carry a SHA-256,
// sorted by path (byte order of the path as written). When two rows name
// the same path with different hashes, the row that finished last wins (the
// object a later write left in place) and the Summary sheet counts the
// conflict.
//
// A key containing a newline is written the way GNU sha256sum writes it:
// the line begins with a backslash and the name has "\n" for a newline and
// "\\" for a backslash. Keys sha256sum could not name, or that could
// climb out of the root, are left out and counted on the Summary sheet: a
// key with a backslash (after the report's control-character escaping, a
// backslash no longer tells a real one from an escape; the archive never
// makes such keys), a CR or NUL, an absolute path, a "." or ".." segment, or
// a key the report had to shorten. Rows with status archived or
// already-archived that carry no objectKey or no SHA-256 cannot be listed
// either; the Summary sheet counts them too.

// FileSum is one line of sha256sums.txt.
type FileSum struct {
	SHA256 string // 64 lower-case hex digits
	Path   string // relative to the destination root, unescaped
}

// fixity gathers the lines of sha256sums.txt and sorts them with bounded
// memory: records are sorted in runs of up to fixityRunBytes, spilled to
// temporary files in the report directory, and merged at the end.
type fixity struct {
	dir      string
	recs     []string
	recBytes int
	runs     []*os.File
	order    uint64 // rows seen, for "finished last wins" among equals

	lines, leftOut, conflicts int
	unnamed                   int // stored objects without objectKey or SHA-256
}

// fixityRunBytes is the size of the records kept in memory before a sorted
// run is spilled (a million rows make about 60 runs). A variable so that a
// test can force spilling.
var fixityRunBytes = 2 << 20

// fixityReadBuf is the read buffer of each run while they are merged.
const fixityReadBuf = 32 << 10

func newFixity(dir string) *fixity { return &fixity{dir: dir} }

var reHex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// reShortened matches the end CleanText gives text it had to shorten.
var reShortened = regexp.MustCompile(`… \(\d+ bytes\)$`)

// usableKey reports whether sha256sum can name key safely from the root.
func usableKey(key string) bool {
	if key == "" || strings.HasPrefix(key, "/") || strings.ContainsAny(key, "\\\r\x00") || reShortened.MatchString(key) {
		return false
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// escapeSumPath escapes a path as GNU sha256sum does: it reports whether
// the line needs the leading backslash.
func escapeSumPath(p string) (string, bool) {
	if !strings.ContainsAny(p, "\\\n") {
		return p, false
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(p[i])
		}
	}
	return b.String(), true
}

// add takes a (redacted) row in output order.
func (fx *fixity) add(r *Row) error {
	if !r.Status.Stored() {
		return nil
	}
	if r.ObjectKey == "" || !reHex64.MatchString(r.SHA256) {
		fx.unnamed++ // no path or no hash: nothing sha256sum could check
		return nil
	}
	fx.order++
	if !usableKey(r.ObjectKey) {
		fx.leftOut++
		return nil
	}
	esc, _ := escapeSumPath(r.ObjectKey)
	// path NUL order NUL hash: NUL sorts before any byte of a path, so the
	// records of one path are together and in order of finishing.
	var fin int64
	if !r.FinishedAt.IsZero() {
		fin = r.FinishedAt.UnixNano()
	}
	rec := esc + "\x00" + fmt.Sprintf("%016x%016x", uint64(fin)^1<<63, fx.order) + "\x00" + r.SHA256
	fx.recs = append(fx.recs, rec)
	fx.recBytes += len(rec) + 16
	if fx.recBytes >= fixityRunBytes {
		return fx.spill()
	}
	return nil
}

// spill writes the records in memory as one sorted run.
func (fx *fixity) spill() error {
	slices.Sort(fx.recs)
	f, err := os.CreateTemp(fx.dir, "."+SHA256Sums+".*.run.tmp")
	if err != nil {
		return err
	}
	fx.runs = append(fx.runs, f)
	bw := bufio.NewWriterSize(f, 64<<10)
	for _, r := range fx.recs {
		bw.WriteString(r)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	fx.recs, fx.recBytes = fx.recs[:0], 0
	if len(fx.runs) >= maxFixityRuns {
		return fx.compact()
	}
	return nil
}

// maxFixityRuns bounds the run files open at once: past it the runs are
// merged into one (a variable so that a test can lower it).
var maxFixityRuns = 128

// compact merges every run into one, keeping every record.
func (fx *fixity) compact() error {
	next, err := fx.mergeRuns()
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(fx.dir, "."+SHA256Sums+".*.run.tmp")
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	for {
		rec, ok, err := next()
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
			return err
		}
		if !ok {
			break
		}
		bw.WriteString(rec)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return err
	}
	for _, old := range fx.runs {
		_ = old.Close()
		_ = os.Remove(old.Name())
	}
	fx.runs = []*os.File{f}
	return nil
}

// runReader is one sorted run being merged.
type runReader struct {
	br  *bufio.Reader
	cur string
}

type runHeap []*runReader

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return h[i].cur < h[j].cur }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (r *runReader) next() (bool, error) {
	line, err := r.br.ReadString('\n')
	if errors.Is(err, io.EOF) && line == "" {
		return false, nil
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	r.cur = strings.TrimSuffix(line, "\n")
	return true, nil
}

// write writes sha256sums.txt to w: the records in order, one line per
// path (the last record of a path wins).
func (fx *fixity) write(w io.Writer) error {
	next, err := fx.iterate()
	if err != nil {
		return err
	}
	var prevPath, prevHash string
	have := false
	flush := func() error {
		if !have {
			return nil
		}
		fx.lines++
		line := prevHash + "  " + prevPath + "\n"
		if strings.IndexByte(prevPath, '\\') >= 0 {
			line = `\` + line
		}
		_, err := io.WriteString(w, line)
		return err
	}
	for {
		rec, ok, err := next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		path, rest, _ := strings.Cut(rec, "\x00")
		_, hash, _ := strings.Cut(rest, "\x00")
		if have && path == prevPath {
			if hash != prevHash {
				fx.conflicts++
			}
			prevHash = hash
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		prevPath, prevHash, have = path, hash, true
	}
	return flush()
}

// iterate returns the records in sorted order: straight from memory when
// nothing was spilled, else merged from the runs.
func (fx *fixity) iterate() (func() (string, bool, error), error) {
	if len(fx.runs) == 0 {
		slices.Sort(fx.recs)
		i := 0
		return func() (string, bool, error) {
			if i >= len(fx.recs) {
				return "", false, nil
			}
			i++
			return fx.recs[i-1], true, nil
		}, nil
	}
	if len(fx.recs) > 0 {
		if err := fx.spill(); err != nil {
			return nil, err
		}
	}
	return fx.mergeRuns()
}

// mergeRuns returns the records of the runs in sorted order.
func (fx *fixity) mergeRuns() (func() (string, bool, error), error) {
	h := &runHeap{}
	for _, f := range fx.runs {
		r := &runReader{br: bufio.NewReaderSize(f, fixityReadBuf)}
		ok, err := r.next()
		if err != nil {
			return nil, err
		}
		if ok {
			*h = append(*h, r)
		}
	}
	heap.Init(h)
	return func() (string, bool, error) {
		if h.Len() == 0 {
			return "", false, nil
		}
		r := (*h)[0]
		rec := r.cur
		ok, err := r.next()
		if err != nil {
			return "", false, err
		}
		if ok {
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
		return rec, true, nil
	}, nil
}

// close removes the temporary runs.
func (fx *fixity) close() {
	for _, f := range fx.runs {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}
	fx.runs = nil
	fx.recs = nil
}

// ScanSHA256Sums reads a sha256sums.txt (or any file in the format GNU
// sha256sum writes: "<hash>  <path>" or "<hash> *<path>", a line beginning
// with a backslash having "\\", "\n" and "\r" escapes in its path) and
// calls fn for each line, in file order, without holding the file in
// memory. Empty lines are skipped; any other line that is not in that
// format is an error naming its line number. An error from fn stops the
// reading and is returned.
func ScanSHA256Sums(r io.Reader, fn func(FileSum) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		line, err := br.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("report: read %s: %w", SHA256Sums, err)
		}
		if line == "" && err != nil {
			return nil
		}
		line = strings.TrimSuffix(line, "\n")
		if line != "" {
			s, perr := parseSumLine(line)
			if perr != nil {
				return fmt.Errorf("report: read %s: line %d: %w", SHA256Sums, n, perr)
			}
			if ferr := fn(s); ferr != nil {
				return ferr
			}
		}
		if err != nil {
			return nil
		}
	}
}

func parseSumLine(line string) (FileSum, error) {
	escaped := strings.HasPrefix(line, `\`)
	if escaped {
		line = line[1:]
	}
	if len(line) < 64+2+1 || !reHex64.MatchString(strings.ToLower(line[:64])) || line[64] != ' ' || (line[65] != ' ' && line[65] != '*') {
		return FileSum{}, errors.New(`not "<64 hex digits>  <path>"`)
	}
	p := line[66:]
	if escaped {
		var err error
		if p, err = unescapeSumPath(p); err != nil {
			return FileSum{}, err
		}
	}
	return FileSum{SHA256: strings.ToLower(line[:64]), Path: p}, nil
}

func unescapeSumPath(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", errors.New("path ends in a lone backslash")
		}
		i++
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			return "", fmt.Errorf("unknown escape %q in path", "\\"+string(s[i]))
		}
	}
	return b.String(), nil
}

// writeSHA256Sums writes the fixity file's temporary part for
// reportWriter.close.
func writeSHA256Sums(dir string, fx *fixity) (*tempFile, error) {
	t, err := newTempFile(dir, SHA256Sums)
	if err != nil {
		return nil, err
	}
	if err := fx.write(t.bw); err != nil {
		t.abort()
		return nil, fmt.Errorf("%s: %w", SHA256Sums, err)
	}
	return t, nil
}

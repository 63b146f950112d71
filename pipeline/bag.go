package pipeline

// The BagIt writer: a bag (RFC 8493, BagIt 1.0) of objects streamed from a
// store, each re-checked against the archive's own SHA-256 while it is
// copied. bagplan.go chooses what goes in it from a manifest.

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"meetarchive/archive"
)

// Names in a bag (RFC 8493 §2).
const (
	BagDataDir         = "data"
	BagDeclaration     = "bagit.txt"
	BagInfoFile        = "bag-info.txt"
	BagManifestFile    = "manifest-sha256.txt"
	BagTagManifestFile = "tagmanifest-sha256.txt"
)

// BagConcurrency is how many objects WriteBag copies at once.
const BagConcurrency = 4

// bagCopyBuf is the copy buffer of one object: with BagConcurrency, what a
// bag holds of object bytes in memory, whatever their size.
const bagCopyBuf = 256 << 10

// BagOpener is what a bag needs of a store: an object's bytes, and its
// URI to name it in messages.
type BagOpener interface {
	Open(ctx context.Context, key string) (io.ReadCloser, error) // archive.ErrNotExist when absent
	URI(key string) string
}

// BagObject is a payload file copied from a store.
type BagObject struct {
	Path  string // under data/, slash-separated
	Store BagOpener
	Key   string // in Store
	URI   string // names the object in messages
	// SHA256 and Bytes are the archive's own record of the object (the
	// manifest row's); the copy must have them. SHA256 "" means the archive
	// records none (a sidecar): Check must vouch for the copy instead.
	// Bytes < 0: not known.
	SHA256 string
	Bytes  int64
	// Check (may be nil) reads the copy back once it is whole: an error
	// fails the object (status mismatch).
	Check func(r io.Reader) error
	// Optional: an object absent from Store is no failure; the bag holds
	// no file for it (a ledger's signature, when the run signed none).
	Optional bool
}

// BagFile is a payload file the bag's maker writes (the manifest rows).
type BagFile struct {
	Path string
	Fill func(w io.Writer) error
}

// BagInfo is what bag-info.txt says besides Payload-Oxum (which WriteBag
// counts). An empty field leaves its line out.
type BagInfo struct {
	SourceOrganization  string
	BaggingDate         time.Time // its UTC date; zero: today
	ExternalIdentifiers []string  // one External-Identifier line each (the run ids)
	SoftwareAgent       string
	Description         string // Internal-Sender-Description
	// LedgerHeads are the custody ledger heads of the runs whose objects
	// the bag holds, one Ledger-Head line each (report.LedgerInfo.Head).
	LedgerHeads []string
}

// Bag is what WriteBag writes: its payload and its metadata.
type Bag struct {
	Files   []BagFile // written first, in order
	Objects []BagObject
	Info    BagInfo
	// Progress (may be nil) counts the object bytes copied and each object
	// done (ConferenceDone), failed or not.
	Progress Progress
}

// Bag failure statuses (BagFailure.Status), as verify names them.
const (
	BagMissing  = archive.VerifyMissing
	BagMismatch = archive.VerifyMismatch
	BagError    = archive.VerifyError
)

// BagFailure is an object that could not go into the bag.
type BagFailure struct {
	Path, URI string
	Status    string // BagMissing, BagMismatch or BagError
	Err       error
}

// BagResult is what WriteBag did.
type BagResult struct {
	Dir      string // the bag, once written
	Files    int    // payload files (Payload-Oxum's stream count)
	Bytes    int64  // payload bytes (Payload-Oxum's octet count)
	Failures []BagFailure
}

var (
	// ErrBagExists: the bag's directory exists and is not empty; nothing was written.
	ErrBagExists = errors.New("bag directory exists and is not empty")
	// ErrBagIncomplete: some object could not go into the bag
	// (BagResult.Failures); no bag was left behind.
	ErrBagIncomplete = errors.New("some objects could not go into the bag")
	// ErrBagPath: a payload path a bag cannot hold (see CheckBagPath), or
	// two that would land on one file.
	ErrBagPath = errors.New("invalid bag path")
)

// WriteBag writes b as a BagIt 1.0 bag (RFC 8493) into the directory out,
// which must not exist or be empty (else ErrBagExists). Everything is
// written into a sibling directory "<out>.tmp-<random>" that is renamed to
// out only when the bag is whole and every file in it synced: a bag at out
// is complete. On any failure that directory is removed.
//
// Each object is streamed from its store into data/<Path> through SHA-256
// (BagConcurrency at once, one bagCopyBuf buffer each: memory does not
// grow with object size) and must have the SHA-256 and size the archive
// recorded for it; one that does not, is missing or cannot be read is a
// BagFailure, the others are still copied and checked (so that every bad
// object is named), and the result is ErrBagIncomplete. A failure to write
// the bag itself (disk full) stops at once and is returned as is.
//
// The tag files: bagit.txt (version 1.0, UTF-8), bag-info.txt,
// manifest-sha256.txt (every payload file, paths percent-encoded as §2.1.3
// says: "%" "\r" "\n" only) and tagmanifest-sha256.txt (the other three).
func WriteBag(ctx context.Context, out string, b Bag) (res BagResult, err error) {
	var paths []string
	for _, f := range b.Files {
		paths = append(paths, f.Path)
	}
	for _, o := range b.Objects {
		paths = append(paths, o.Path)
	}
	if err := checkBagPaths(paths); err != nil {
		return res, err
	}
	if err := emptyOrAbsent(out); err != nil {
		return res, err
	}
	parent := filepath.Dir(filepath.Clean(out))
	if err := os.MkdirAll(parent, 0o777); err != nil {
		return res, fmt.Errorf("bag: %w", err)
	}
	tmp, err := mkdirTemp(parent, filepath.Base(filepath.Clean(out))+".tmp-")
	if err != nil {
		return res, fmt.Errorf("bag: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(tmp)
		}
	}()
	w := &bagWriter{root: tmp, prog: b.Progress}
	if w.prog == nil {
		w.prog = NoProgress{}
	}
	if w.manifest, err = w.create(BagManifestFile); err != nil {
		return res, err
	}
	defer w.manifest.Close()
	w.mbuf = bufio.NewWriter(w.manifest)
	for _, f := range b.Files {
		if err := w.writeFile(ctx, f); err != nil {
			return res, err
		}
	}
	if err := w.copyObjects(ctx, b.Objects); err != nil {
		return res, err
	}
	res.Files, res.Bytes, res.Failures = w.files, w.bytes, w.failures
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if len(res.Failures) > 0 {
		return res, fmt.Errorf("bag: %d of %d objects: %w", len(res.Failures), len(b.Objects), ErrBagIncomplete)
	}
	if err := w.finishManifest(); err != nil {
		return res, err
	}
	if err := w.writeTags(b.Info); err != nil {
		return res, err
	}
	if err := w.syncDirs(); err != nil {
		return res, err
	}
	if err := emptyOrAbsent(out); err != nil {
		return res, err
	}
	_ = os.Remove(out) // an empty directory given as --out
	if err := os.Rename(tmp, out); err != nil {
		return res, fmt.Errorf("bag: %w", err)
	}
	if err := syncDir(parent); err != nil {
		return res, fmt.Errorf("bag: %w", err)
	}
	res.Dir = out
	return res, nil
}

// mkdirTemp creates a new directory dir/<prefix><random>. Unlike
// os.MkdirTemp (0700) it asks for mode 0777: the bag ends up as readable
// as the umask allows, like everything else the tool writes.
func mkdirTemp(dir, prefix string) (string, error) {
	for range 100 {
		p := filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64(), 36))
		err := os.Mkdir(p, 0o777)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return p, err
	}
	return "", fmt.Errorf("create a temporary directory in %s: every name tried exists", dir)
}

// emptyOrAbsent is nil when dir does not exist or is an empty directory.
func emptyOrAbsent(dir string) error {
	f, err := os.Open(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bag: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("bag: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("bag: %s is a file: %w", dir, ErrBagExists)
	}
	if names, _ := f.Readdirnames(1); len(names) > 0 {
		return fmt.Errorf("bag: %s: %w", dir, ErrBagExists)
	}
	return nil
}

// CheckBagPath is nil for a payload path a bag can hold on any file
// system a validator may run on: relative, slash-separated, valid UTF-8,
// no NUL or backslash, no empty, "." or ".." segment. Line ends and "%"
// are allowed (the manifests encode them).
func CheckBagPath(p string) error {
	bad := func(why string) error { return fmt.Errorf("bag path %q: %s: %w", p, why, ErrBagPath) }
	switch {
	case p == "":
		return bad("empty")
	case !utf8.ValidString(p):
		return bad("not valid UTF-8")
	case strings.ContainsAny(p, "\x00\\"):
		return bad("contains a NUL or a backslash")
	case strings.HasPrefix(p, "/"):
		return bad("absolute")
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return bad(`empty, "." or ".." segment`)
		}
	}
	return nil
}

// checkBagPaths checks every path and that no two land on one file (equal,
// equal but for case, or one a folder of the other: archive.KeyCollision).
func checkBagPaths(paths []string) error {
	for _, p := range paths {
		if err := CheckBagPath(p); err != nil {
			return err
		}
	}
	if i, j, ok := archive.KeyCollision(paths); ok {
		return fmt.Errorf("bag paths %q and %q would be one file: %w", paths[i], paths[j], ErrBagPath)
	}
	return nil
}

// EncodeBagPath encodes a path for a manifest line (RFC 8493 §2.1.3): "%",
// CR and LF, and only those, percent-encoded.
func EncodeBagPath(p string) string {
	if !strings.ContainsAny(p, "%\r\n") {
		return p
	}
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(p)
}

// bagWriter writes the files of one bag under root.
type bagWriter struct {
	root     string
	prog     Progress
	manifest *os.File
	mbuf     *bufio.Writer

	mu       sync.Mutex // the fields below, and mbuf
	files    int
	bytes    int64
	failures []BagFailure
	dirs     map[string]bool // directories created (to sync)
}

// create creates rel (slash-separated, below root) and its folders.
func (w *bagWriter) create(rel string) (*os.File, error) {
	p := filepath.Join(w.root, filepath.FromSlash(rel))
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, fmt.Errorf("bag: %w", err)
	}
	w.mu.Lock()
	if w.dirs == nil {
		w.dirs = map[string]bool{}
	}
	for d := dir; len(d) >= len(w.root) && !w.dirs[d]; d = filepath.Dir(d) {
		w.dirs[d] = true
	}
	w.mu.Unlock()
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return nil, fmt.Errorf("bag: %w", err)
	}
	return f, nil
}

// added records a whole payload file in the manifest and the counts.
func (w *bagWriter) added(rel, sum string, n int64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.files++
	w.bytes += n
	if _, err := w.mbuf.WriteString(sum + "  " + EncodeBagPath(BagDataDir+"/"+rel) + "\n"); err != nil {
		return fmt.Errorf("bag: write %s: %w", BagManifestFile, err)
	}
	return nil
}

func (w *bagWriter) fail(o BagObject, status string, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.failures = append(w.failures, BagFailure{Path: o.Path, URI: o.URI, Status: status, Err: err})
}

// sink is where a payload file's bytes go: the file and its hash. A write
// error is kept apart from a read error of the source.
type sink struct {
	f    *os.File
	h    io.Writer
	n    int64
	werr error
	prog Progress // nil: none
}

func (s *sink) Write(p []byte) (int, error) {
	n, err := s.f.Write(p)
	s.h.Write(p[:n])
	s.n += int64(n)
	if s.prog != nil {
		s.prog.AddBytes(int64(n))
	}
	if err != nil {
		s.werr = err
	}
	return n, err
}

// closeFile syncs and closes f.
func closeFile(f *os.File) error {
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeFile writes one generated payload file.
func (w *bagWriter) writeFile(ctx context.Context, bf BagFile) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := w.create(BagDataDir + "/" + bf.Path)
	if err != nil {
		return err
	}
	h := sha256.New()
	s := &sink{f: f, h: h}
	bw := bufio.NewWriterSize(s, 64<<10)
	err = bf.Fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := closeFile(f); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("bag: write data/%s: %w", bf.Path, err)
	}
	return w.added(bf.Path, hex.EncodeToString(h.Sum(nil)), s.n)
}

// copyObjects copies the objects, BagConcurrency at once. It returns only
// what stops the bag (a write error, ctx done); object failures are kept.
func (w *bagWriter) copyObjects(ctx context.Context, objs []BagObject) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(BagConcurrency, len(objs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, bagCopyBuf)
			for i := range next {
				if err := w.copyObject(ctx, objs[i], buf); err != nil {
					cancel(err)
				}
				w.prog.ConferenceDone()
			}
		}()
	}
feed:
	for i := range objs {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}

// copyObject copies one object into the bag and checks it. Its error stops
// the bag; the object's own failures are recorded with fail.
func (w *bagWriter) copyObject(ctx context.Context, o BagObject, buf []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if o.SHA256 != "" && !isHexSHA256(o.SHA256) {
		w.fail(o, BagError, fmt.Errorf("bag %s: no valid sha256 to compare with: %q", o.URI, o.SHA256))
		return nil
	}
	rc, err := o.Store.Open(ctx, o.Key)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		status := BagError
		if errors.Is(err, archive.ErrNotExist) {
			if o.Optional {
				return nil
			}
			status = BagMissing
		}
		w.fail(o, status, fmt.Errorf("bag %s: %w", o.URI, err))
		return nil
	}
	defer rc.Close()
	rel := BagDataDir + "/" + o.Path
	f, err := w.create(rel)
	if err != nil {
		return err
	}
	h := sha256.New()
	s := &sink{f: f, h: h, prog: w.prog}
	_, cerr := io.CopyBuffer(s, ctxReader{ctx: ctx, r: rc}, buf)
	if err := closeFile(f); err != nil && s.werr == nil {
		s.werr = err
	}
	switch {
	case s.werr != nil:
		return fmt.Errorf("bag: write %s: %w", rel, s.werr)
	case ctx.Err() != nil:
		return ctx.Err()
	case cerr != nil:
		w.fail(o, BagError, fmt.Errorf("bag %s: read after %d bytes: %w", o.URI, s.n, cerr))
		return w.discard(rel)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	var bad error
	switch {
	case o.SHA256 != "" && !strings.EqualFold(sum, o.SHA256):
		bad = fmt.Errorf("bag %s: %w: %d bytes sha256 %s, the archive recorded sha256 %s", o.URI, archive.ErrIntegrity, s.n, sum, strings.ToLower(o.SHA256))
	case o.Bytes >= 0 && s.n != o.Bytes:
		bad = fmt.Errorf("bag %s: %w: %d bytes, the archive recorded %d", o.URI, archive.ErrIntegrity, s.n, o.Bytes)
	case o.Check != nil:
		if err := w.check(rel, o.Check); err != nil {
			bad = fmt.Errorf("bag %s: %w", o.URI, err)
		}
	}
	if bad != nil {
		w.fail(o, BagMismatch, bad)
		return w.discard(rel)
	}
	return w.added(o.Path, sum, s.n)
}

// check runs a BagObject's Check on its copy.
func (w *bagWriter) check(rel string, check func(io.Reader) error) error {
	f, err := os.Open(filepath.Join(w.root, filepath.FromSlash(rel)))
	if err != nil {
		return err
	}
	defer f.Close()
	return check(bufio.NewReader(f))
}

// discard removes a payload file that failed: the bag will not be kept,
// and its bytes need not wait for the end on the disk.
func (w *bagWriter) discard(rel string) error {
	if err := os.Remove(filepath.Join(w.root, filepath.FromSlash(rel))); err != nil {
		return fmt.Errorf("bag: %w", err)
	}
	return nil
}

// ctxReader stops a long copy when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func (w *bagWriter) finishManifest() error {
	err := w.mbuf.Flush()
	if err == nil {
		err = closeFile(w.manifest)
	}
	if err != nil {
		return fmt.Errorf("bag: write %s: %w", BagManifestFile, err)
	}
	return nil
}

// writeTags writes bagit.txt, bag-info.txt and the tag manifest.
func (w *bagWriter) writeTags(info BagInfo) error {
	tags := []struct {
		name string
		text string
	}{
		{BagDeclaration, "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"},
		{BagInfoFile, bagInfoText(info, w.bytes, w.files)},
	}
	var tm strings.Builder
	for _, t := range tags {
		if err := w.writeTag(t.name, []byte(t.text)); err != nil {
			return err
		}
		sum := sha256.Sum256([]byte(t.text))
		tm.WriteString(hex.EncodeToString(sum[:]) + "  " + t.name + "\n")
	}
	msum, err := fileSHA256(filepath.Join(w.root, BagManifestFile))
	if err != nil {
		return fmt.Errorf("bag: %w", err)
	}
	tm.WriteString(msum + "  " + BagManifestFile + "\n")
	return w.writeTag(BagTagManifestFile, []byte(tm.String()))
}

func (w *bagWriter) writeTag(name string, data []byte) error {
	f, err := w.create(name)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := closeFile(f); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("bag: write %s: %w", name, err)
	}
	return nil
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// bagInfoText is bag-info.txt: "Label: value" lines (RFC 8493 §2.2.2),
// every value on one line (line ends in a value become spaces).
func bagInfoText(info BagInfo, octets int64, streams int) string {
	var b strings.Builder
	line := func(label, value string) {
		value = strings.TrimSpace(strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' {
				return ' '
			}
			return r
		}, value))
		if value != "" {
			b.WriteString(label + ": " + value + "\n")
		}
	}
	line("Source-Organization", info.SourceOrganization)
	date := info.BaggingDate
	if date.IsZero() {
		date = time.Now()
	}
	line("Bagging-Date", date.UTC().Format(time.DateOnly))
	line("Payload-Oxum", strconv.FormatInt(octets, 10)+"."+strconv.Itoa(streams))
	for _, id := range info.ExternalIdentifiers {
		line("External-Identifier", id)
	}
	line("Internal-Sender-Description", info.Description)
	line("Bag-Software-Agent", info.SoftwareAgent)
	for _, h := range info.LedgerHeads {
		line("Ledger-Head", h)
	}
	return b.String()
}

// syncDirs makes every directory of the bag durable, deepest first.
func (w *bagWriter) syncDirs() error {
	dirs := make([]string, 0, len(w.dirs))
	for d := range w.dirs {
		dirs = append(dirs, d)
	}
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	for _, d := range dirs {
		if err := syncDir(d); err != nil {
			return fmt.Errorf("bag: %w", err)
		}
	}
	return nil
}

// syncDir makes the entries of dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, os.ErrInvalid) { // some file systems cannot sync a directory
		return nil
	}
	return err
}

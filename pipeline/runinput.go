package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"meetarchive/archive"
	"meetarchive/export"
	"meetarchive/report"
)

// StdinInput is the --input that names standard input.
const StdinInput = "-"

// loadItems authenticates once, before anything else (a wrong key fails
// fast), and returns the run's items: the input, or the date range's
// recordings with their details (known); fatal when the run cannot start.
// When ctx is done (a signal) it stops where it is, without a fatal error:
// the items read or listed so far are the run's, and none of them starts.
func (r *run) loadItems(ctx context.Context, client *export.Client, inc *Incremental) (items *Source, known map[string]export.Recording, fatal error) {
	if err := client.Authenticate(ctx); err != nil && ctx.Err() == nil {
		fatal = APIFailure(r.cfg.APIBase, err)
	}
	switch {
	case r.cfg.Input != "":
		var err error
		items, err = r.inputSource(ctx)
		if err != nil && ctx.Err() == nil && fatal == nil {
			fatal = fmt.Errorf("reading --input: %w", err)
		}
	case fatal == nil && ctx.Err() == nil:
		var listed []Item
		q := *r.cfg.List
		listed, r.listed, fatal = DiscoverListed(ctx, client, q)
		known = r.listed.Recordings
		if ctx.Err() != nil {
			fatal = nil // interrupted: what was listed is reported cancelled
		}
		r.log.Info("discovered recordings", "count", len(listed), "from", q.From.Format(time.RFC3339), "to", q.To.Format(time.RFC3339))
		if inc != nil {
			listed = inc.Items(listed) // plus the conferences carried over
		}
		items = SliceSource(listed)
	default:
		items = SliceSource(nil)
	}
	return items.Sharded(r.cfg.Shard), known, fatal
}

// inputSource is the run's --input. A regular file is read more than once
// (a pass to hash it, one to plan, one to run), as a file it can be.
// Standard input ("-") and any other file (a pipe, a FIFO, a process
// substitution, /dev/stdin, a character device) is read once, into a
// temporary file of its items in --out, beside the journal. Opening and
// reading both give up when ctx is done, with the items read so far.
// It never returns a nil source.
func (r *run) inputSource(ctx context.Context) (*Source, error) {
	input := r.cfg.Input
	if input != StdinInput {
		st, err := os.Stat(input)
		if err != nil {
			return SliceSource(nil), err
		}
		if st.Mode().IsRegular() {
			return FileSource(input), nil
		}
	}
	r.log.Info("reading --input once: not a regular file", "input", input)
	in := r.cfg.Stdin
	if input != StdinInput {
		f, err := OpenInput(ctx, input)
		if err != nil {
			return SliceSource(nil), err
		}
		defer f.Close()
		in = f
	}
	src, err := ReadOnce(ctx, in, r.cfg.Out)
	if src == nil {
		return SliceSource(nil), err
	}
	if ctx.Err() != nil {
		r.log.Warn("reading --input stopped by a signal", "input", input, "bytes", src.BytesRead())
	} else if err == nil {
		r.log.Info("read --input", "input", input, "bytes", src.BytesRead())
	}
	return src, err
}

// startReport opens the report and writes the plan first: after a kill,
// the journal still accounts for every input line. The plan's pass over
// the input also counts the conferences to process.
func (r *run) startReport(ctx context.Context, items *Source) (*report.Writer, int, error) {
	c := r.cfg
	info := report.RunInfo{
		RunID: newRunID(r.started), Version: c.Version, Started: r.started,
		Input: c.Input, Dest: c.Dest, Options: c.Options, Shard: c.Shard.String(), TimeZone: c.TimeZone, Operator: c.Operator,
	}
	if c.List != nil {
		info.DateRange = c.List.From.Format("2006-01-02") + ".." + c.List.To.Format("2006-01-02")
	}
	// An input file's lines are all there: after a signal it is still read
	// whole (so that every line is reported), for a moment, not more.
	hashCtx, cancel := afterStop(ctx, inputAfterSignal)
	defer cancel()
	var err error
	if info.InputSHA256, err = items.Digest(hashCtx); err != nil {
		if hashCtx.Err() == nil {
			return nil, 0, Usagef("run: --input: %v", err)
		}
		r.log.Warn("reading --input stopped by a signal: no line of it is reported", "input", c.Input)
	}
	w, err := report.NewWriter(c.Out, info)
	if err != nil {
		return nil, 0, Usagef("run: --out %s: %v", c.Out, err)
	}
	r.res.RunID = info.RunID
	if err := r.startLedger(info); err != nil {
		return nil, 0, &FatalError{Err: fmt.Errorf("writing the custody ledger: %w", err)}
	}
	total := 0
	if err := w.Plan(planOf(items, &total)); err != nil {
		return nil, 0, &FatalError{Err: fmt.Errorf("writing the report journal: %w", err)}
	}
	if err := items.Err(); err != nil {
		return nil, 0, &FatalError{Err: fmt.Errorf("reading --input: %w", err)}
	}
	if !c.Shard.Whole() {
		r.log.Info("shard", "shard", c.Shard.String(), "conferences", total)
	}
	return w, total, nil
}

// inputAfterSignal is how long an input file may still be read after a
// signal, so that the report lists its every line as not started.
const inputAfterSignal = time.Second

// afterStop is a context that ends d after stop does.
func afterStop(stop context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(stop))
	unhook := context.AfterFunc(stop, func() { time.AfterFunc(d, cancel) })
	return ctx, func() { unhook(); cancel() }
}

// planOf is the report's plan of the items, one entry per input line; it
// counts the conferences to process into total as it goes.
func planOf(items *Source, total *int) iter.Seq[report.PlanItem] {
	return func(yield func(report.PlanItem) bool) {
		for it := range items.Items() {
			if it.Problem == "" {
				*total++
			}
			if !yield(report.PlanItem{Seq: it.Seq, ConfUUID: it.ConfUUID, Line: it.Line}) {
				return
			}
		}
	}
}

// CheckInput is a usage check of --input: StdinInput, or a path that
// exists, is not a directory and that we may read. It does not open the
// path: opening a FIFO waits for a writer, and that wait belongs to the
// run, where a signal ends it.
func CheckInput(path string) error {
	if path == StdinInput {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return errors.Unwrap(err)
	}
	if st.IsDir() {
		return errors.New("is a directory, not a CSV file")
	}
	return unix.Access(path, unix.R_OK)
}

// CheckOutDir is a usage check of --out before anything is created: an
// existing directory we can write into, or a path whose nearest existing
// ancestor is one.
func CheckOutDir(path string) error {
	p := filepath.Clean(path)
	for {
		st, err := os.Stat(p)
		switch {
		case err == nil && !st.IsDir():
			if p == filepath.Clean(path) {
				return errors.New("is a file, not a directory")
			}
			return fmt.Errorf("%s is a file, not a directory", p)
		case err == nil:
			if unix.Access(p, unix.W_OK|unix.X_OK) != nil {
				return fmt.Errorf("%s is not writable", p)
			}
			return nil
		case !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
			return errors.Unwrap(err)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return nil
		}
		p = parent
	}
}

// CheckEmptyDir is nil when dir is absent or an empty directory (bag's
// --out); else why not: an *fs.PathError when it cannot be read, or an
// error naming dir.
func CheckEmptyDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%s is a file", dir)
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	names, err := d.Readdirnames(1)
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return err
	case len(names) > 0:
		return fmt.Errorf("%s is not empty: a bag goes into a new or empty directory", dir)
	}
	return nil
}

// CheckOutFile is nil when a file may be written at path (verify's
// --report): its directory exists and is writable, and path is not a
// directory.
func CheckOutFile(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return errors.New("is a directory, not a file")
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case err != nil:
		return errors.New("its directory " + dir + " does not exist")
	case !st.IsDir():
		return errors.New(dir + " is not a directory")
	case unix.Access(dir, unix.W_OK|unix.X_OK) != nil:
		return errors.New("its directory " + dir + " is not writable")
	}
	return nil
}

// CheckApart is a usage check: --out and a local --dest are two
// directories, neither inside the other (relative paths and symbolic links
// resolved as far as the paths exist), so that the report never lands
// among the recordings nor the recordings among the report. An s3:// --dest
// is not a local directory.
func CheckApart(out, dest string) error {
	if archive.IsS3URI(dest) {
		return nil
	}
	o, d := report.ResolvePath(out), report.ResolvePath(dest)
	switch {
	case o == d:
		return fmt.Errorf("--out %s and --dest %s are the same directory: give the report a directory of its own", out, dest)
	case inside(o, d):
		return fmt.Errorf("--out %s is inside --dest %s: give the report a directory outside the archive", out, dest)
	case inside(d, o):
		return fmt.Errorf("--dest %s is inside --out %s: give the archive a directory outside the report's", dest, out)
	}
	return nil
}

// inside reports whether the clean absolute path p is below dir.
func inside(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// APIFailure is the fatal error of the first call to the Meeting API (the
// authentication) when it failed: it says what went wrong in the words of
// its cause, and what to do. The credentials refused, the API's host name
// not resolving, the connection refused, its TLS certificate not trusted
// and no answer in time are each told apart (their errorCode: auth, dns,
// connection-refused, tls, timeout).
func APIFailure(api string, err error) error {
	code, hint := Explain(err)
	host := api
	if u, perr := url.Parse(api); perr == nil && u.Host != "" {
		host = u.Host
	}
	var what string
	switch string(code) {
	case string(CodeAuth):
		var ae *export.APIError
		if errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound {
			return fmt.Errorf("the Meeting API at %s has no authentication endpoint: %w", host, err)
		}
		return fmt.Errorf("the Meeting API refused the credentials: %w", err) // its text says what to check
	case export.CodeDNS:
		what = "cannot resolve the Meeting API's host name " + host
	case export.CodeRefused:
		what = "the Meeting API at " + host + " refused the connection"
	case export.CodeTLS:
		what = "the Meeting API's TLS certificate (" + host + ") is not trusted"
	case export.CodeTimeout:
		what = "no answer from the Meeting API at " + host + " in time"
	case export.CodeConnection:
		what = "cannot reach the Meeting API at " + host
	default:
		if strings.HasPrefix(string(code), "USG.") {
			return fmt.Errorf("the Meeting API refused the credentials: %w", err)
		}
		what = "the Meeting API at " + host + " failed the authentication call"
	}
	return fmt.Errorf("%s (%s): %w; %s", what, code, err, hint)
}

package report

import "fmt"

// extraFiles are the report files written beside the four main ones:
// sha256sums.txt and summary.html. They are gathered in the same pass over
// the rows and renamed into place with the others (before summary.json).
type extraFiles struct {
	dir   string
	fig   *figures
	att   attention // summary.html's lists
	fix   *fixity
	parts []*tempFile // written, not yet renamed
}

func newExtraFiles(dir string) *extraFiles {
	return &extraFiles{dir: dir, fig: newFigures(), fix: newFixity(dir)}
}

// add counts a (sanitised) row.
func (x *extraFiles) add(r *Row) error {
	x.fig.add(r)
	if err := x.fix.add(r); err != nil {
		return fmt.Errorf("%s: %w", SHA256Sums, err)
	}
	return nil
}

// prepare writes sha256sums.txt under a temporary name (the Summary sheet
// reports its line counts, so it comes before the workbook).
func (x *extraFiles) prepare() error {
	t, err := writeSHA256Sums(x.dir, x.fix)
	x.fig.fixityLines, x.fig.fixityLeftOut, x.fig.fixityConflicts, x.fig.fixityUnnamed = x.fix.lines, x.fix.leftOut, x.fix.conflicts, x.fix.unnamed
	x.fix.close()
	if err != nil {
		return err
	}
	x.parts = append(x.parts, t)
	return nil
}

// abort removes what was written.
func (x *extraFiles) abort() {
	x.fix.close()
	for _, t := range x.parts {
		t.abort()
	}
	x.parts = nil
}

// writeHTML writes summary.html under a temporary name from what the
// workbook's Summary sheet shows (after book.finish).
func (x *extraFiles) writeHTML(s *Summary, b *book) error {
	t, err := newTempFile(x.dir, SummaryHTML)
	if err != nil {
		return err
	}
	if err := writeSummaryHTML(t.bw, s, &x.att, b.fields, b.tables); err != nil {
		t.abort()
		return fmt.Errorf("%s: %w", SummaryHTML, err)
	}
	x.parts = append(x.parts, t)
	return nil
}

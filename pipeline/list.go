package pipeline

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"meetarchive/export"
	"meetarchive/report"
)

// ListColumns are the columns of the list job's CSV: confUUID first, so
// that it is a valid run --input.
var ListColumns = []string{"confUUID", "confID", "subject", "startTime", "available", "isDecodeFinish"}

// ListRow is a recording's row of the list job's CSV: text cells kept as
// text in a spreadsheet, the subject cleaned to one line and neutralized.
func ListRow(r export.Recording) []string {
	return []string{report.TextCell(r.ConfUUID), report.TextCell(r.ConfID), report.Neutralize(report.CleanText(r.Subject, math.MaxInt, true)),
		report.TextCell(r.StartTime), strconv.FormatBool(r.Available), strconv.FormatBool(r.IsDecodeFinish)}
}

// Lister lists the recordings of a query (export.Client): what the list
// job and discovery need of the Meeting API client.
type Lister interface {
	List(ctx context.Context, q export.ListQuery, fn func(export.Recording) error) error
}

// List is the list job: the recordings of q written to w as CSV
// (ListColumns, one ListRow each). It returns the rows written; its error
// is a FatalError (exit 3), naming the rows written unless authentication
// failed.
func List(ctx context.Context, l Lister, q export.ListQuery, w io.Writer) (int, error) {
	cw := csv.NewWriter(w)
	_ = cw.Write(ListColumns)
	n := 0
	err := l.List(ctx, q, func(r export.Recording) error {
		n++
		return cw.Write(ListRow(r))
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	if err != nil {
		if errors.Is(err, export.ErrAuth) {
			return n, &FatalError{Err: err}
		}
		return n, &FatalError{Err: fmt.Errorf("list: %w (wrote %d rows)", err, n)}
	}
	return n, nil
}

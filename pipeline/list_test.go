package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"meetarchive/export"
)

// fakeLister lists its recordings, then fails with err.
type fakeLister struct {
	recs []export.Recording
	err  error
}

func (f fakeLister) List(ctx context.Context, q export.ListQuery, fn func(export.Recording) error) error {
	for _, r := range f.recs {
		if err := fn(r); err != nil {
			return err
		}
	}
	return f.err
}

// TestList: the list job's CSV (its columns, cells cleaned and kept as
// text, a subject's lines kept) and its errors, all exit 3.
func TestList(t *testing.T) {
	rec := export.Recording{ConfUUID: "u1", ConfID: "=1+2", Subject: "=HYPERLINK(\"x\")\nline two", StartTime: "2026-01-02 03:04", Available: true}
	const header = "confUUID,confID,subject,startTime,available,isDecodeFinish\n"
	tests := []struct {
		name    string
		l       fakeLister
		want    string
		wantN   int
		wantErr string
	}{
		{name: "none", want: header},
		{name: "one, cells neutralized, the subject keeps its lines", l: fakeLister{recs: []export.Recording{rec}}, wantN: 1,
			want: header + "u1,'=1+2,\"'=HYPERLINK(\"\"x\"\")\nline two\",2026-01-02 03:04,true,false\n"},
		{name: "failed after a row", l: fakeLister{recs: []export.Recording{rec}, err: errors.New("HTTP 500")}, wantN: 1, wantErr: "list: HTTP 500 (wrote 1 rows)"},
		{name: "authentication", l: fakeLister{err: fmt.Errorf("token: %w", export.ErrAuth)}, wantErr: "token: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			n, err := List(context.Background(), tt.l, export.ListQuery{}, &b)
			if n != tt.wantN {
				t.Errorf("%d rows, want %d", n, tt.wantN)
			}
			if tt.wantErr != "" {
				var fe *FatalError
				if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want a FatalError %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("CSV\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}

package pipeline

import (
	"fmt"

	"meetarchive/export"
)

// Bounds of the plausibility check of a conference's bytes against its
// rcdSize. rcdSize is the platform's size of the whole recording in MB,
// rounded, and may be 0 for a small one; the facts sheet says no more (not
// whether MB is 10^6 or 2^20 bytes, nor exactly which files it covers), so
// the bounds are wide and a file outside them is archived with a note,
// never failed: only record info's exact fileSize and sha256 can fail it.
const (
	// rcdSizeMaxRatio: the files together may hold up to this many times
	// rcdSize (plus one MB of rounding).
	rcdSizeMaxRatio = 4
	// rcdSizeMinDivisor: the files together must hold at least
	// rcdSize/rcdSizeMinDivisor (when every file type was asked for).
	rcdSizeMinDivisor = 8
)

// sizeNote compares the bytes of a conference's stored files with the
// recording's rcdSize and returns a note for its rows, "" when they agree
// within the bounds above or rcdSize is unknown or 0. partial: only some
// file types were asked for (--file-types), so only the upper bound holds.
func sizeNote(rec export.Recording, states []*fileState, partial bool) string {
	if !rec.Has(export.FieldRcdSize) || rec.RcdSize <= 0 {
		return ""
	}
	var total int64
	for _, st := range states {
		if st.obj != nil {
			total += st.obj.Bytes
		}
	}
	mb := int64(rec.RcdSize)
	switch {
	case total > rcdSizeMaxRatio*(mb+1)<<20:
		return fmt.Sprintf("warning: the %d files hold %d bytes, more than %d times the recording's rcdSize (%d MB): check the recording on the platform",
			len(states), total, rcdSizeMaxRatio, mb)
	case !partial && total*rcdSizeMinDivisor < mb*1_000_000:
		return fmt.Sprintf("warning: the %d files hold %d bytes, less than 1/%d of the recording's rcdSize (%d MB): the media host may have served something else; check the recording on the platform",
			len(states), total, rcdSizeMinDivisor, mb)
	}
	return ""
}

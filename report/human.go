package report

import (
	"fmt"
	"math"
)

// HumanBytes renders a byte count for people: 1.5 GiB.
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// TextCell is a text cell of a CSV outside the manifest (list's output,
// verify's --report): control characters escaped and a formula
// neutralised, as the manifest's cells are.
func TextCell(s string) string { return Neutralize(CleanText(s, math.MaxInt, false)) }

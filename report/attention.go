package report

// What summary.html lists under its verdict: the conferences a person must
// look at, one line each with its status, errorCode and hint, gathered in
// the one pass over the rows. Each list keeps its first maxAttention
// conferences (input order) and counts the rest, so the page stays small
// however large the run.

// maxAttention is how many conferences each list of summary.html shows.
const maxAttention = 200

// Cuts of the texts shown in the lists (the files have them whole).
const (
	maxAttentionSubject = 80
	maxAttentionMessage = 200
)

// attentionRow is one conference in a list of summary.html.
type attentionRow struct {
	Seq      int
	ConfUUID string
	Subject  string
	Status   Status
	Code     string
	Hint     string
	Message  string
}

// attention is the two lists of summary.html: the conferences that need
// action (a status whose Failure is true: failed, not-found, invalid-input,
// cancelled, unknown) and those waiting on the platform (pending-transcode,
// unavailable).
type attention struct {
	act, wait   []attentionRow // the first maxAttention of each
	actN, waitN int            // all of each
}

// add counts a conference under status, described by rep (see betterCause).
func (a *attention) add(rep *Row, status Status) {
	var list *[]attentionRow
	switch {
	case status.Failure():
		a.actN++
		list = &a.act
	case status == PendingTranscode || status == Unavailable:
		a.waitN++
		list = &a.wait
	default:
		return
	}
	if len(*list) >= maxAttention {
		return
	}
	*list = append(*list, attentionRow{
		Seq: rep.Seq, ConfUUID: rep.ConfUUID, Subject: cutRunes(rep.Subject, maxAttentionSubject),
		Status: status, Code: rep.ErrorCode, Hint: Hint(*rep), Message: cutRunes(rep.ErrorMessage, maxAttentionMessage),
	})
}

// betterCause reports whether row r tells why its conference ended as it
// did better than cur: a more severe status first; then a row that names no
// stored object (the file or step that failed, not a file stored before
// it: those say "uncommitted"); then a row with an errorCode.
func betterCause(r, cur *Row) bool {
	if a, b := severity(r.Status), severity(cur.Status); a != b {
		return a > b
	}
	if (r.ObjectURI == "") != (cur.ObjectURI == "") {
		return r.ObjectURI == ""
	}
	return cur.ErrorCode == "" && r.ErrorCode != ""
}

// cutRunes cuts s to n runes, the last one an ellipsis when cut.
func cutRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

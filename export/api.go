package export

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	pathDetails      = "/v1/mmc/management/conferences/record/files"
	pathDownloadURLs = "/v1/mmc/management/record/downloadurls"
	pathRecordInfo   = "/v1/mmc/rlm/record/info"
	pathList         = "/v1/mmc/management/record/files"
	pathDelete       = "/v1/mmc/management/record/files"

	linksPageSize = 100 // files per downloadurls page
	// linksDefaultPage is the downloadurls page size when no limit is
	// given (documented: 20); a gateway may serve it whatever is asked.
	linksDefaultPage = 20
	segmentPageSize  = 50 // segments per record info page
	// maxLinkPages bounds the pages of one conference's links (10,000 files
	// or 5,000 segments: far more than any recording has); paging that goes
	// on past it fails with ErrTooManyPages.
	maxLinkPages = 100
)

// Details fetches the recording details of one conference. confUUID is
// normalised first (NormalizeConfUUID; a malformed one is an error wrapping
// ErrInvalidConfUUID and sends nothing). An unknown conference gives an
// *APIError that errors.Is ErrNotFound. The answer is checked against the
// request: a confUUID other than the one asked for (compared
// case-insensitively) is an error wrapping ErrResponseMismatch; a missing
// confUUID, available or isDecodeFinish (unknown, not false), or an
// impossible rcdSize, one wrapping ErrBadResponse; both are a
// *ValidationError naming the field. The Recording's ConfUUID is the
// normalised one asked for.
func (c *Client) Details(ctx context.Context, confUUID string) (Recording, error) {
	id, err := argConfUUID("details", confUUID)
	if err != nil {
		return Recording{}, err
	}
	var rec Recording
	err = c.do(ctx, &request{
		op:     "details",
		conf:   id,
		method: http.MethodGet,
		path:   pathDetails,
		query:  url.Values{"confUUID": {id}},
	}, &rec)
	if err != nil {
		return Recording{}, err
	}
	if err := checkRecording("details", "", id, &rec); err != nil {
		return Recording{}, err
	}
	return rec, nil
}

// Delete deletes the recordings of one conference from the platform
// (confUUID normalised first). An unknown or already deleted conference
// gives an error that errors.Is ErrNotFound.
func (c *Client) Delete(ctx context.Context, confUUID string) error {
	id, err := argConfUUID("delete", confUUID)
	if err != nil {
		return err
	}
	return c.do(ctx, &request{
		op:     "delete",
		conf:   id,
		method: http.MethodDelete,
		path:   pathDelete,
		query:  url.Values{"confUUIDs": {id}},
	}, nil)
}

// Links asks for FRESH download links of one conference's files (tokens are
// single use: call it again for every download attempt), filtered by
// Config.FileTypes and ordered by file type, then name (0_2 before 0_10).
// File.Index is the position in the unfiltered order.
//
// confUUID is normalised first (see Details). Every answer is checked: a
// downloadurls entry about another conference is an ErrResponseMismatch, one
// without confUuid, a record info sha256 that is not 64 hexadecimal digits
// or a negative or impossible fileSize an ErrBadResponse, and paging that
// does not end (every page full, or a page repeating files already listed)
// an ErrTooManyPages: each a *ValidationError naming the field. An unknown
// conference gives an error that errors.Is ErrNotFound.
func (c *Client) Links(ctx context.Context, confUUID string) ([]File, error) {
	confUUID, err := argConfUUID("links", confUUID)
	if err != nil {
		return nil, err
	}
	var files []File
	switch {
	case c.cfg.Links == LinksDownloadURLs, c.cfg.Links != LinksRecordInfo && c.linksFallback.Load():
		files, err = c.downloadURLs(ctx, confUUID)
	case c.cfg.Links == LinksRecordInfo:
		files, err = c.recordInfo(ctx, confUUID)
	case c.cfg.Links == LinksSpread && c.spill.source(confUUID, c.limits) == "downloadurls":
		files, err = c.downloadURLs(ctx, confUUID)
	default: // auto, or spread through record info
		files, err = c.recordInfo(ctx, confUUID)
		if err != nil && recordInfoUnavailable(err) {
			if c.linksFallback.CompareAndSwap(false, true) {
				c.cfg.Logger.Warn("export: record info is not available to this account; using downloadurls for the rest of the run (no platform SHA-256 or size)", "err", err)
			}
			files, err = c.downloadURLs(ctx, confUUID)
		}
	}
	if err != nil {
		return nil, err
	}
	return c.finishFiles(files), nil
}

// recordInfoUnavailable reports whether err says the record info API is not
// there for us at all (not enabled, no such route, not allowed), as opposed
// to a problem with one conference.
func recordInfoUnavailable(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) || ae.Op != "recordinfo" {
		return false
	}
	switch ae.StatusCode {
	case http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return true
	}
	return false
}

// finishFiles orders, indexes and filters the files. Names are not made
// unique here: two names that differ only in case stay as they are, and
// the pipeline fails such a conference with key-collision rather than
// rename one file onto another's name.
func (c *Client) finishFiles(files []File) []File {
	sort.SliceStable(files, func(i, j int) bool {
		a, b := files[i], files[j]
		if ta, tb := strings.ToLower(a.FileType), strings.ToLower(b.FileType); ta != tb {
			return ta < tb
		}
		if a.Name != b.Name {
			return naturalLess(a.Name, b.Name)
		}
		return false
	})
	for i := range files {
		files[i].Index = i
	}
	if len(c.cfg.FileTypes) == 0 {
		return files
	}
	out := files[:0]
	for _, f := range files {
		for _, t := range c.cfg.FileTypes {
			if strings.EqualFold(strings.TrimSpace(t), f.FileType) {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

// downloadURLsResponse is the downloadurls answer. Note "confUuid".
type downloadURLsResponse struct {
	RecordURLs []struct {
		ConfUUID *string `json:"confUuid"` // also matches "confUUID" (case-insensitive); nil = missing
		URLs     []struct {
			Token    string `json:"token"`
			FileType string `json:"fileType"`
			URL      string `json:"url"`
		} `json:"urls"`
	} `json:"recordUrls"`
}

// check makes sure the answer has recordUrls (an empty list is no files; no
// list at all says nothing) and that every entry is about confUUID
// (normalised); it returns the number of links on the page.
func (r *downloadURLsResponse) check(confUUID string) (int, error) {
	if r.RecordURLs == nil {
		return 0, badField("downloadurls", "recordUrls", "missing (the answer lists no conference at all)")
	}
	n := 0
	for i, ru := range r.RecordURLs {
		got := ""
		if ru.ConfUUID != nil {
			got = *ru.ConfUUID
		}
		if err := checkConfUUID("downloadurls", fmt.Sprintf("recordUrls[%d].confUuid", i), confUUID, got, ru.ConfUUID != nil); err != nil {
			return 0, err
		}
		n += len(ru.URLs)
	}
	return n, nil
}

// files converts the answer for confUUID (entries for other conferences are
// ignored: check reports them; an entry without confUuid is taken as ours).
func (r *downloadURLsResponse) files(confUUID string) []File {
	var out []File
	for _, ru := range r.RecordURLs {
		if ru.ConfUUID != nil && *ru.ConfUUID != "" && !strings.EqualFold(*ru.ConfUUID, confUUID) {
			continue
		}
		for _, u := range ru.URLs {
			if strings.TrimSpace(u.URL) == "" {
				continue
			}
			out = append(out, File{
				ConfUUID: confUUID,
				FileType: u.FileType,
				Name:     fileName(u.URL),
				URL:      u.URL,
				Token:    u.Token,
				Size:     -1,
			})
		}
	}
	return out
}

func (c *Client) downloadURLs(ctx context.Context, confUUID string) ([]File, error) {
	all := newFileList("downloadurls")
	prev := 0 // links on the previous page
	for page := 0; ; page++ {
		if page == maxLinkPages {
			return nil, tooManyPages("downloadurls", "%d pages of %d links were all full (%d files so far) and the answers still say there are more", page, linksPageSize, len(all.files))
		}
		var resp downloadURLsResponse
		err := c.do(ctx, &request{
			op:     "downloadurls",
			conf:   confUUID,
			method: http.MethodGet,
			path:   pathDownloadURLs,
			query: url.Values{
				"confUUID": {confUUID},
				"offset":   {strconv.Itoa(len(all.files))},
				"limit":    {strconv.Itoa(linksPageSize)},
			},
		}, &resp)
		if err != nil {
			return nil, err
		}
		links, err := resp.check(confUUID)
		if err != nil {
			return nil, err
		}
		added := 0
		for _, f := range resp.files(confUUID) {
			ok, err := all.add(f)
			if err != nil {
				return nil, err
			}
			if ok {
				added++
			}
		}
		// The next page starts after the distinct files seen so far (a
		// link listed twice is one file). The answer has no count, and a
		// host may serve fewer links than asked for, so a short page is
		// not always the last:
		//   - an empty page ends the list; one after a short page proves
		//     that short page was the last, and the client remembers its
		//     length (linksShortFinal);
		//   - a page with nothing new ends it too (a host that ignores
		//     offset and lists everything at once), unless the page before
		//     could have been a capped one (full, or the documented default
		//     of 20): then files may be missing, and the conference fails
		//     rather than lose them;
		//   - a page shorter than the one before (full, or capped since
		//     this one followed it) is the last, and so is one no longer
		//     than a short page this host already proved to be the last;
		//     any other short page is followed by one more request, which
		//     tells.
		switch {
		case links == 0:
			if prev > 0 && prev < linksPageSize {
				c.learnShortFinal(prev)
			}
			return all.files, nil
		case added == 0:
			if prev >= linksPageSize || prev == linksDefaultPage {
				return nil, tooManyPages("downloadurls", "the page at offset %d repeats links already listed: the paging does not advance", len(all.files))
			}
			c.learnShortFinal(prev)
			return all.files, nil
		case links >= linksPageSize:
		case prev > 0 && links < prev:
			return all.files, nil // shorter than the page before, which was full or capped
		case links < linksDefaultPage && int64(links) <= c.linksShortFinal.Load():
			return all.files, nil
		}
		prev = links
	}
}

// learnShortFinal remembers that a page of n links was this host's last.
func (c *Client) learnShortFinal(n int) {
	for {
		cur := c.linksShortFinal.Load()
		if int64(n) <= cur || c.linksShortFinal.CompareAndSwap(cur, int64(n)) {
			return
		}
	}
}

// recordInfoRequest is the record info body.
type recordInfoRequest struct {
	ConfUUID      string `json:"confUUID"`
	SegmentOffset int    `json:"segmentOffset"`
	SegmentLimit  int    `json:"segmentLimit"`
}

// recordInfoResponse is the record info answer.
type recordInfoResponse struct {
	Code    flexString `json:"code"`
	Message string     `json:"message"`
	Data    *struct {
		// ConfUUID is not documented for this answer; when a server sends
		// it, it must be the one asked for.
		ConfUUID      *string `json:"confUUID"`
		Subject       string  `json:"subject"`
		SegmentOffset flexInt `json:"segmentOffset"`
		SegmentLimit  flexInt `json:"segmentLimit"`
		SegmentCount  flexInt `json:"segmentCount"`
		SegmentList   []struct {
			ManualOrder  flexInt `json:"manualOrder"`
			SegmentOrder flexInt `json:"segmentOrder"`
			SegmentSize  flexInt `json:"segmentSize"`
			FileList     []struct {
				RecordType  string  `json:"recordType"`
				FileSize    flexInt `json:"fileSize"`
				SHA256      string  `json:"sha256"`
				PlayURL     string  `json:"playUrl"`
				DownloadURL string  `json:"downloadUrl"`
			} `json:"fileList"`
		} `json:"segmentList"`
	} `json:"data"`
}

// check validates one record info page against confUUID (normalised): data
// present, its confUUID if any, and each file's sha256 and fileSize.
func (r *recordInfoResponse) check(confUUID string) error {
	if r.Data == nil {
		return badField("recordinfo", "data", "missing from a successful answer (code %q)", clip(string(r.Code), 64))
	}
	if r.Data.ConfUUID != nil {
		if err := checkConfUUID("recordinfo", "data.confUUID", confUUID, *r.Data.ConfUUID, true); err != nil {
			return err
		}
	}
	for i, seg := range r.Data.SegmentList {
		for j, f := range seg.FileList {
			field := fmt.Sprintf("data.segmentList[%d].fileList[%d].", i, j)
			if err := checkSHA256("recordinfo", field+"sha256", f.SHA256); err != nil {
				return err
			}
			if err := checkFileSize("recordinfo", field+"fileSize", int64(f.FileSize)); err != nil {
				return err
			}
		}
	}
	return nil
}

// files converts one record info page; n is the number of segments on it.
func (r *recordInfoResponse) files(confUUID string) (files []File, segments, count int) {
	if r.Data == nil {
		return nil, 0, 0
	}
	for _, seg := range r.Data.SegmentList {
		for _, f := range seg.FileList {
			if strings.TrimSpace(f.DownloadURL) == "" {
				continue
			}
			size := int64(f.FileSize)
			if size <= 0 {
				size = -1
			}
			files = append(files, File{
				ConfUUID: confUUID,
				FileType: f.RecordType,
				Name:     fileName(f.DownloadURL),
				URL:      f.DownloadURL,
				Token:    "", // the URL carries it (token=)
				Size:     size,
				SHA256:   normSHA256(f.SHA256),
			})
		}
	}
	return files, len(r.Data.SegmentList), int(r.Data.SegmentCount)
}

func (c *Client) recordInfo(ctx context.Context, confUUID string) ([]File, error) {
	all := newFileList("recordinfo")
	offset := 0
	for page := 0; ; page++ {
		if page == maxLinkPages {
			return nil, tooManyPages("recordinfo", "%d pages of segments (%d files so far) and the answers still say there are more", page, len(all.files))
		}
		var resp recordInfoResponse
		err := c.do(ctx, &request{
			op:     "recordinfo",
			conf:   confUUID,
			method: http.MethodPost,
			path:   pathRecordInfo,
			body:   recordInfoRequest{ConfUUID: confUUID, SegmentOffset: offset, SegmentLimit: segmentPageSize},
		}, &resp)
		if err != nil {
			return nil, err
		}
		if resp.Data == nil && !successCode(string(resp.Code)) {
			return nil, &APIError{Op: "recordinfo", StatusCode: http.StatusOK,
				Code: clip(string(resp.Code), 64), Message: c.scrub(clip(resp.Message, 300))}
		}
		if err := resp.check(confUUID); err != nil {
			return nil, err
		}
		got, segs, count := resp.files(confUUID)
		added := 0
		for _, f := range got {
			ok, err := all.add(f)
			if err != nil {
				return nil, err
			}
			if ok {
				added++
			}
		}
		offset += segs
		// An empty page ends the list whatever segmentCount says (the
		// count's meaning is not documented beyond its name).
		if segs == 0 || offset >= count {
			break
		}
		if len(got) > 0 && added == 0 {
			return nil, tooManyPages("recordinfo", "the page at segment offset %d repeats files already listed (segmentCount %d): the paging does not advance", offset-segs, count)
		}
	}
	return all.files, nil
}

// normSHA256 lower-cases a 64-hex-digit hash; anything else is "" (the
// answer's check has refused a malformed one already).
func normSHA256(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) != 64 {
		return ""
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return ""
		}
	}
	return s
}

// urlBase is the last element of a URL's path ("0_1.mp4").
func urlBase(raw string) string {
	p := urlPath(raw)
	b := path.Base(p)
	if b == "." || b == "/" {
		return "file"
	}
	return b
}

// urlPath is the unescaped path of a URL, without query (which may carry token=).
func urlPath(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		p, _, _ := strings.Cut(raw, "?")
		return p
	}
	return u.Path
}

// naturalLess orders "0_2.mp4" before "0_10.mp4".
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := isDigit(a[0]), isDigit(b[0])
		switch {
		case da && db:
			na, ra := digitsPrefix(a)
			nb, rb := digitsPrefix(b)
			ta, tb := strings.TrimLeft(na, "0"), strings.TrimLeft(nb, "0")
			if len(ta) != len(tb) {
				return len(ta) < len(tb)
			}
			if ta != tb {
				return ta < tb
			}
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			a, b = ra, rb
		case a[0] != b[0]:
			return a[0] < b[0]
		default:
			a, b = a[1:], b[1:]
		}
	}
	return len(a) < len(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digitsPrefix(s string) (string, string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

// listResponse is one page of the recording list.
type listResponse struct {
	Offset flexInt     `json:"offset"`
	Limit  flexInt     `json:"limit"`
	Count  *flexInt    `json:"count"` // nil: not declared
	Data   []Recording `json:"data"`
}

// declared is a page's count, -1 when it declares none.
func declared(n *flexInt) int {
	if n == nil {
		return -1
	}
	return int(*n)
}

// List pages through the recordings that started between q.From and q.To,
// calling fn once per conference (de-duplicated by confUUID) in the API's
// order (ascending start time). An error from fn stops List and is returned
// as is. It is ListPaged without what the paging gave.
func (c *Client) List(ctx context.Context, q ListQuery, fn func(Recording) error) error {
	_, err := c.ListPaged(ctx, q, fn)
	return err
}

// ListPaged is List, and also returns what the paging gave: the count the
// answers declared, each page, and the distinct conferences the pages held
// (Listing.CountDiff tells a list whose pages add up to fewer or more
// conferences than its count: a finding in itself).
//
// Each listed recording is checked like a Details answer: confUUID present
// and well-formed (handed to fn normalised, see NormalizeConfUUID),
// available and isDecodeFinish present, rcdSize possible. One bad recording
// fails the whole call with a *ValidationError naming it ("data[3].available
// ... (conference ...; list page at offset 200)"), since a caller cannot
// know what the bad row was meant to be: a date-range run would otherwise
// skip a conference without a word. A page is checked whole before any of
// its rows reaches fn, but rows of earlier pages have been handed on: a
// caller that needs all or nothing discards them when the call fails. Paging
// that does not end (more than a generous page cap, or a page that repeats
// rows already seen while count says more) fails with ErrTooManyPages.
// The Listing is returned with the error too, holding the pages read.
func (c *Client) ListPaged(ctx context.Context, q ListQuery, fn func(Recording) error) (Listing, error) {
	if q.From.IsZero() || q.To.IsZero() || q.To.Before(q.From) {
		return Listing{Count: -1}, fmt.Errorf("export: list: want From <= To, both set")
	}
	limit := q.PageSize
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 500)
	p := &pager[Recording]{
		op: "list", limit: limit, probe: true, dedup: true, emit: fn, log: c.cfg.Logger,
		key: func(r Recording) string { return r.ConfUUID },
		fetch: func(ctx context.Context, offset int) (rowsPage[Recording], error) {
			var resp listResponse
			qs := dateQuery(q.From, q.To, offset, limit, q.AllUsers, q.Search, "ASC_StartTIME")
			if err := c.do(ctx, &request{op: "list", method: http.MethodGet, path: pathList, query: qs}, &resp); err != nil {
				return rowsPage[Recording]{}, err
			}
			for i := range resp.Data {
				if err := checkRecording("list", fmt.Sprintf("data[%d].", i), "", &resp.Data[i]); err != nil {
					return rowsPage[Recording]{}, atOffset(err, "list", offset)
				}
			}
			return rowsPage[Recording]{limit: int(resp.Limit), count: declared(resp.Count), rows: resp.Data}, nil
		},
	}
	return p.run(ctx)
}

// dateQuery is the query of the lists by date (recording list, history).
func dateQuery(from, to time.Time, offset, limit int, all bool, search, sortType string) url.Values {
	qs := url.Values{
		"startDate": {strconv.FormatInt(from.UnixMilli(), 10)},
		"endDate":   {strconv.FormatInt(to.UnixMilli(), 10)},
		"offset":    {strconv.Itoa(offset)},
		"limit":     {strconv.Itoa(limit)},
		"queryAll":  {strconv.FormatBool(all)},
		"sortType":  {sortType},
	}
	if search != "" {
		qs.Set("searchKey", search)
	}
	return qs
}

// atOffset adds the page's offset to a row's *ValidationError.
func atOffset(err error, what string, offset int) error {
	var ve *ValidationError
	if errors.As(err, &ve) {
		ve.Reason += fmt.Sprintf(" (%s page at offset %d)", what, offset)
	}
	return err
}

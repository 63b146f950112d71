package meetingtest

// # Meeting history
//
// The history knows every conference of the dataset (isHasRecordFile true
// until its recording is deleted, through the API or DeleteConference:
// then false, the meeting stays) and every meeting of Dataset.Meetings
// (ended without a recording: isHasRecordFile false; the recording APIs
// answer 400 MMC.111070005 for them). It keeps a meeting for
// Config.HistoryRetention from its start (default six calendar months on
// the Config.Now clock; negative: for ever): older ones vanish from the
// list and the other history APIs answer 400 MMC.111070005 for them, while
// their recordings stay. What the history says beyond the conference's own
// fields is Conference.History (Meeting.History), derived from the seed
// when the dataset gives none (see History): conferenceID (the confID,
// shared by the runs of a recurring meeting, whose confType is then
// CYCLE), endTime, userUUID, recordType, isAutoRecord, recordAuxStream,
// confMode, confType, mediaTypes, timeZoneID "56", conferenceState
// "Destroyed"; the invited participants; attendee records; control records
// with "Start recording" and "Stop recording" rcdTime apart.
//
// Every history answer pages as {"offset","limit","count","data":[...]}:
// limit absent or 0 means 20 (HistoryDefaultLimit), above
// Config.HistoryMaxLimit (default 500) it is capped silently (the answer's
// "limit" is the effective one), offset counts rows (Config.ListOffsetIsPage
// makes the history list's a page index, as the recording list's); a
// negative or malformed offset or limit answers 400 MMC.111070001.
//
// List: startDate and endDate (epoch ms) are required and select by start
// time (UTC), as the recording list does; queryAll and searchKey (subject,
// scheduserName or conferenceID) likewise. sortType ASC_StartTIME (the
// default), DSC_StartTIME, or ASC_RecordTYPE / DSC_RecordTYPE: meetings
// with recording files first, then by start time ascending / descending
// (the grouping direction is the fact sheet's, the vendor does not state
// it); anything else answers 400. Each entry has confUUID, conferenceID,
// subject, scheduserName, userUUID, startTime, endTime, isHasRecordFile,
// recordType, isAutoRecord, recordAuxStream, recordAuthType, confMode,
// conferenceState, confType, mediaTypes and timeZoneID.
//
// confDetail answers {"conferenceData":<that entry>,"data":<page of
// participants: participantID, name, role, attendeeType, accountId, email,
// sms, deptName, userUUID, appId, isAutoInvite>}. confAttendeeRecord pages
// displayName, callNumber, deviceType, joinTime, leftTime (UTC epoch ms),
// mediaType, deptName; confCtlRecord pages operateTime (UTC epoch ms),
// operateSource, operator, operateCode, operationObject, operateResult,
// detail. Both answer in English with "Accept-Language: en-US" (any en
// tag) and in Chinese otherwise, the vendor's default: the English texts
// of derived records are translated (deviceType, mediaType, operateCode,
// operateSource, operator, operateResult); others pass unchanged. A missing
// confUUID answers 400 MMC.111070001, an unknown one 400 MMC.111070005.
// Each history API is its own API at the gateway: a limit or quota of its
// own, like every other API.

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
	"time"
)

// HistoryDefaultLimit is the history APIs' page size when limit is absent
// or 0 (documented: 20).
const HistoryDefaultLimit = 20

// ConferenceStateEnded is the conferenceState of every history entry: the
// meeting has ended.
const ConferenceStateEnded = "Destroyed"

// completeHistoriesLocked derives the History of every conference and
// meeting that has none, and completes the given ones (see History).
// Conferences and meetings that share a confID are runs of one recurring
// meeting (confType CYCLE).
func (s *Server) completeHistoriesLocked() {
	ids := map[string]int{}
	for _, id := range s.order {
		ids[s.confs[id].ConfID]++
	}
	for _, id := range s.meetingOrder {
		ids[s.meetings[id].ConfID]++
	}
	fill := func(h **History, b hisBase) {
		b.recurring = b.confID != "" && ids[b.confID] > 1
		switch {
		case *h == nil:
			d := deriveHistory(s.cfg.Seed, b)
			*h = &d
			s.derived[b.confUUID] = true
		case s.derived[b.confUUID] && b.recurring:
			(*h).ConfType = "CYCLE" // a run of its meeting was added since
		default:
			(*h).complete(b)
		}
	}
	for _, id := range s.order {
		c := s.confs[id]
		aux := slices.ContainsFunc(c.Files, func(f File) bool { return f.FileType == FileTypeAux })
		fill(&c.History, hisBase{confUUID: c.ConfUUID, confID: c.ConfID, subject: c.Subject, scheduser: c.ScheduserName,
			startTime: c.StartTime, rcdTime: c.RcdTime, recorded: true, aux: aux})
	}
	for _, id := range s.meetingOrder {
		m := s.meetings[id]
		fill(&m.History, hisBase{confUUID: m.ConfUUID, confID: m.ConfID, subject: m.Subject, scheduser: m.ScheduserName,
			startTime: m.StartTime})
	}
}

// hisView is one meeting as the history APIs see it.
type hisView struct {
	confUUID, confID, subject, scheduser, startTime, userID string
	at                                                      int64 // start, epoch ms
	hist                                                    *History
	hasRecord                                               bool
	authType                                                int
}

// hisConference is a history list entry and history detail's conferenceData.
type hisConference struct {
	ConfUUID        string `json:"confUUID"`
	ConferenceID    string `json:"conferenceID"`
	Subject         string `json:"subject"`
	ScheduserName   string `json:"scheduserName"`
	UserUUID        string `json:"userUUID"`
	StartTime       string `json:"startTime"`
	EndTime         string `json:"endTime"`
	IsHasRecordFile bool   `json:"isHasRecordFile"`
	RecordType      int    `json:"recordType"`
	IsAutoRecord    int    `json:"isAutoRecord"`
	RecordAuxStream int    `json:"recordAuxStream"`
	RecordAuthType  int    `json:"recordAuthType"`
	ConfMode        string `json:"confMode"`
	ConferenceState string `json:"conferenceState"`
	ConfType        string `json:"confType"`
	MediaTypes      string `json:"mediaTypes"`
	TimeZoneID      string `json:"timeZoneID"`
}

func (v hisView) wire() hisConference {
	h := v.hist
	return hisConference{
		ConfUUID: v.confUUID, ConferenceID: h.ConferenceID, Subject: v.subject, ScheduserName: v.scheduser,
		UserUUID: h.UserUUID, StartTime: v.startTime, EndTime: h.EndTime, IsHasRecordFile: v.hasRecord,
		RecordType: h.RecordType, IsAutoRecord: h.IsAutoRecord, RecordAuxStream: h.RecordAuxStream,
		RecordAuthType: v.authType, ConfMode: h.ConfMode, ConferenceState: ConferenceStateEnded,
		ConfType: h.ConfType, MediaTypes: h.MediaTypes, TimeZoneID: h.TimeZoneID,
	}
}

// historyCutoff is the start (epoch ms) before which the history has
// forgotten a meeting (the smallest int64 when it keeps them for ever).
func (s *Server) historyCutoff(now time.Time) int64 {
	switch r := s.cfg.HistoryRetention; {
	case r < 0:
		return -1 << 63
	case r == 0:
		return now.AddDate(0, -6, 0).UnixMilli()
	default:
		return now.Add(-r).UnixMilli()
	}
}

// historyLocked lists every meeting the history still keeps, conferences
// first, each in dataset order.
func (s *Server) historyLocked(now time.Time) []hisView {
	cutoff := s.historyCutoff(now)
	var out []hisView
	for _, ids := range [][]string{s.order, s.meetingOrder} {
		for _, id := range ids {
			if v, ok := s.hisViewLocked(id, cutoff); ok {
				out = append(out, v)
			}
		}
	}
	return out
}

// hisViewLocked is the history's view of one conference or meeting, if the
// history still keeps it (it started at or after cutoff, epoch ms).
func (s *Server) hisViewLocked(confUUID string, cutoff int64) (hisView, bool) {
	var v hisView
	if c, ok := s.confs[confUUID]; ok {
		v = hisView{confUUID: c.ConfUUID, confID: c.ConfID, subject: c.Subject, scheduser: c.ScheduserName,
			startTime: c.StartTime, userID: c.UserID, hist: c.History, hasRecord: !s.deleted[confUUID], authType: c.RecordAuthType}
	} else if m, ok := s.meetings[confUUID]; ok {
		v = hisView{confUUID: m.ConfUUID, confID: m.ConfID, subject: m.Subject, scheduser: m.ScheduserName,
			startTime: m.StartTime, userID: m.UserID, hist: m.History}
	} else {
		return hisView{}, false
	}
	t, err := time.Parse(StartTimeLayout, v.startTime)
	if err != nil {
		return hisView{}, false
	}
	v.at = t.UnixMilli()
	return v, v.at >= cutoff
}

// lookupHistoryLocked finds a meeting the history still keeps.
func (s *Server) lookupHistoryLocked(confUUID string, now time.Time) (hisView, bool) {
	return s.hisViewLocked(confUUID, s.historyCutoff(now))
}

// omitted returns the conferences that omit faults leave out of this
// answer of endpoint (each fault that applies counts a hit).
func (s *Server) omitted(endpoint string) map[string]bool {
	s.mu.Lock()
	var confs []string
	for _, f := range s.faults {
		if f.Endpoint == endpoint && f.Kind == FaultOmit {
			confs = append(confs, f.ConfUUID)
		}
	}
	s.mu.Unlock()
	out := map[string]bool{}
	for _, id := range confs {
		if s.pickFaultWhere(endpoint, []string{id}, func(f *Fault) bool { return f.Kind == FaultOmit && f.ConfUUID == id }) != nil {
			out[id] = true
		}
	}
	return out
}

// pageParams reads offset and limit: limit absent or 0 is def, above max
// it is max (silently); negative or malformed values are a bad request.
func pageParams(rq *apiRequest, def, maxLimit int64) (offset, limit int64, bad *response) {
	q := rq.r.URL.Query()
	offset, err := intParam(q, "offset", 0)
	if err != nil || offset < 0 {
		r := badParam(rq.id, "offset must be a non-negative integer")
		return 0, 0, &r
	}
	limit, err = intParam(q, "limit", 0)
	if err != nil || limit < 0 {
		r := badParam(rq.id, "limit must be a non-negative integer")
		return 0, 0, &r
	}
	if limit == 0 {
		limit = def
	}
	return offset, min(limit, maxLimit), nil
}

// window reads startDate and endDate (epoch ms, both required).
func window(rq *apiRequest) (from, to int64, bad *response) {
	q := rq.r.URL.Query()
	if q.Get("startDate") == "" || q.Get("endDate") == "" {
		r := badParam(rq.id, "startDate and endDate are required")
		return 0, 0, &r
	}
	var err error
	if from, err = intParam(q, "startDate", 0); err == nil {
		to, err = intParam(q, "endDate", 0)
	}
	if err != nil {
		r := badParam(rq.id, err.Error())
		return 0, 0, &r
	}
	return from, to, nil
}

// pageOf is rows [skip, skip+limit) of all.
func pageOf[T any](all []T, skip, limit int64) []T {
	out := []T{}
	for i := skip; i >= 0 && i < int64(len(all)) && i < skip+limit; i++ {
		out = append(out, all[i])
	}
	return out
}

type historyListResponse struct {
	Offset int64           `json:"offset"`
	Limit  int64           `json:"limit"`
	Count  int64           `json:"count"`
	Data   []hisConference `json:"data"`
}

func (s *Server) handleHistory(rq *apiRequest) response {
	from, to, bad := window(rq)
	if bad != nil {
		return *bad
	}
	offset, limit, bad := pageParams(rq, HistoryDefaultLimit, int64(s.cfg.HistoryMaxLimit))
	if bad != nil {
		return *bad
	}
	q := rq.r.URL.Query()
	var desc, recordFirst bool
	switch st := q.Get("sortType"); {
	case st == "" || strings.EqualFold(st, "ASC_StartTIME"):
	case strings.EqualFold(st, "DSC_StartTIME"):
		desc = true
	case strings.EqualFold(st, "ASC_RecordTYPE"):
		recordFirst = true
	case strings.EqualFold(st, "DSC_RecordTYPE"):
		recordFirst, desc = true, true
	default:
		return badParam(rq.id, "sortType must be ASC_StartTIME, DSC_StartTIME, ASC_RecordTYPE or DSC_RecordTYPE")
	}
	all := strings.EqualFold(q.Get("queryAll"), "true")
	search := strings.ToLower(q.Get("searchKey"))
	omit := s.omitted(EndpointHistory)

	s.mu.Lock()
	defer s.mu.Unlock()
	var hits []hisView
	for _, v := range s.historyLocked(rq.now) {
		switch {
		case v.at < from || v.at > to, omit[v.confUUID]:
		case !all && v.userID != "" && v.userID != rq.userID:
		case search != "" && !containsFold([]string{v.subject, v.scheduser, v.hist.ConferenceID}, search):
		default:
			hits = append(hits, v)
		}
	}
	slices.SortStableFunc(hits, func(a, b hisView) int {
		if recordFirst && a.hasRecord != b.hasRecord {
			if a.hasRecord {
				return -1
			}
			return 1
		}
		if desc {
			return cmp.Compare(b.at, a.at)
		}
		return cmp.Compare(a.at, b.at)
	})
	skip := offset
	if s.cfg.ListOffsetIsPage {
		skip = offset * limit
	}
	out := historyListResponse{Offset: offset, Limit: limit, Count: max(0, int64(len(hits)+s.cfg.HistoryCountDelta)), Data: []hisConference{}}
	for _, v := range pageOf(hits, skip, limit) {
		out.Data = append(out.Data, v.wire())
	}
	return jsonResponse(http.StatusOK, out)
}

// containsFold reports whether any of fields contains search (lower case).
func containsFold(fields []string, search string) bool {
	for _, f := range fields {
		if strings.Contains(strings.ToLower(f), search) {
			return true
		}
	}
	return false
}

// historyConf reads confUUID and finds the meeting, or answers the error.
func (s *Server) historyConf(rq *apiRequest) (hisView, *response) {
	confUUID := rq.r.URL.Query().Get("confUUID")
	if confUUID == "" {
		r := badParam(rq.id, "confUUID is required")
		return hisView{}, &r
	}
	v, ok := s.lookupHistoryLocked(confUUID, rq.now)
	if !ok {
		r := notExist(rq.id)
		return hisView{}, &r
	}
	return v, nil
}

type pageDoc[T any] struct {
	Offset int64 `json:"offset"`
	Limit  int64 `json:"limit"`
	Count  int64 `json:"count"`
	Data   []T   `json:"data"`
}

func newPage[T any](all []T, offset, limit int64) pageDoc[T] {
	return pageDoc[T]{Offset: offset, Limit: limit, Count: int64(len(all)), Data: pageOf(all, offset, limit)}
}

type historyDetailResponse struct {
	ConferenceData hisConference        `json:"conferenceData"`
	Data           pageDoc[Participant] `json:"data"`
}

func (s *Server) handleHistoryDetail(rq *apiRequest) response {
	offset, limit, bad := pageParams(rq, HistoryDefaultLimit, int64(s.cfg.HistoryMaxLimit))
	if bad != nil {
		return *bad
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, bad := s.historyConf(rq)
	if bad != nil {
		return *bad
	}
	return jsonResponse(http.StatusOK, historyDetailResponse{ConferenceData: v.wire(), Data: newPage(v.hist.Participants, offset, limit)})
}

// chinese reports whether an answer is in zh-CN: the default without
// Accept-Language (the vendor's), and for any language but English.
func chinese(r *http.Request) bool {
	lang := strings.TrimSpace(r.Header.Get("Accept-Language"))
	if lang == "" {
		return true
	}
	first, _, _ := strings.Cut(lang, ",")
	first, _, _ = strings.Cut(first, ";")
	return !strings.HasPrefix(strings.ToLower(strings.TrimSpace(first)), "en")
}

func (s *Server) handleAttendees(rq *apiRequest) response {
	return handleRecords(s, rq, func(h *History) []AttendeeRecord { return h.Attendees }, func(a AttendeeRecord, zh bool) AttendeeRecord {
		a.DeviceType, a.MediaType = localize(a.DeviceType, zh), localize(a.MediaType, zh)
		return a
	})
}

func (s *Server) handleCtlRecords(rq *apiRequest) response {
	return handleRecords(s, rq, func(h *History) []ControlRecord { return h.Controls }, func(c ControlRecord, zh bool) ControlRecord {
		c.OperateSource, c.Operator, c.OperateCode = localize(c.OperateSource, zh), localize(c.Operator, zh), localize(c.OperateCode, zh)
		c.OperateResult = localize(c.OperateResult, zh)
		return c
	})
}

// handleRecords answers a page of one meeting's records (rows of its
// History), each in the request's language (Chinese unless it asks for
// English).
func handleRecords[T any](s *Server, rq *apiRequest, rows func(*History) []T, local func(T, bool) T) response {
	offset, limit, bad := pageParams(rq, HistoryDefaultLimit, int64(s.cfg.HistoryMaxLimit))
	if bad != nil {
		return *bad
	}
	zh := chinese(rq.r)
	s.mu.Lock()
	defer s.mu.Unlock()
	v, bad := s.historyConf(rq)
	if bad != nil {
		return *bad
	}
	all := rows(v.hist)
	recs := make([]T, len(all))
	for i, r := range all {
		recs[i] = local(r, zh)
	}
	return jsonResponse(http.StatusOK, newPage(recs, offset, limit))
}

// notDeployed reports whether this deployment lacks the endpoint.
func (s *Server) notDeployed(endpoint string) bool {
	return slices.Contains(s.cfg.NotDeployed, endpoint) || (endpoint == EndpointRecordInfo && !s.cfg.RecordInfo)
}

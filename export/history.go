package export

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	pathHistory       = "/v1/mmc/management/conferences/history"
	pathHistoryDetail = "/v1/mmc/management/conferences/history/confDetail"
	pathAttendees     = "/v1/mmc/management/conferences/history/confAttendeeRecord"
	pathCtlRecords    = "/v1/mmc/management/conferences/history/confCtlRecord"

	// historyPageSize is the limit the history APIs are asked for: their
	// documented maximum (500). A server that serves fewer a page says so
	// in the answer's limit, and the paging goes on.
	historyPageSize = 500
)

// HistoryQuery selects ended meetings by start date (the meeting history).
type HistoryQuery struct {
	From, To time.Time
	AllUsers bool   // queryAll=true: an administrator sees the whole enterprise
	Search   string // searchKey: subject, scheduler or meeting ID
	PageSize int    // default and maximum 500 (documented)
}

// Meeting is one ended meeting of the meeting history: a history list row,
// or history detail's conferenceData. Each run of a recurring meeting is a
// Meeting of its own (its own ConfUUID, the same ConferenceID). Times are
// "YYYY-MM-DD HH:MM", read as UTC (the API does not state their zone).
type Meeting struct {
	ConfUUID        string `json:"confUUID"`
	ConferenceID    string `json:"conferenceID"`
	Subject         string `json:"subject"`
	ScheduserName   string `json:"scheduserName"`
	UserUUID        string `json:"userUUID"`
	StartTime       string `json:"startTime"`
	EndTime         string `json:"endTime"`
	IsHasRecordFile bool   `json:"isHasRecordFile"` // the meeting has recording files
	RecordType      int    `json:"recordType"`      // 0 none, 1 live, 2 recording, 3 live and recording
	IsAutoRecord    int    `json:"isAutoRecord"`
	RecordAuxStream int    `json:"recordAuxStream"`
	RecordAuthType  int    `json:"recordAuthType"`
	ConfMode        string `json:"confMode"`
	ConferenceState string `json:"conferenceState"`
	ConfType        string `json:"confType"`
	MediaTypes      string `json:"mediaTypes"`
	TimeZoneID      string `json:"timeZoneID"`
}

// meetingWire is Meeting on the wire: numbers may come as strings, and a
// missing confUUID or isHasRecordFile must be told from an empty or false one.
type meetingWire struct {
	ConfUUID        *string `json:"confUUID"`
	ConferenceID    string  `json:"conferenceID"`
	Subject         string  `json:"subject"`
	ScheduserName   string  `json:"scheduserName"`
	UserUUID        string  `json:"userUUID"`
	StartTime       string  `json:"startTime"`
	EndTime         string  `json:"endTime"`
	IsHasRecordFile *bool   `json:"isHasRecordFile"`
	RecordType      flexInt `json:"recordType"`
	IsAutoRecord    flexInt `json:"isAutoRecord"`
	RecordAuxStream flexInt `json:"recordAuxStream"`
	RecordAuthType  flexInt `json:"recordAuthType"`
	ConfMode        string  `json:"confMode"`
	ConferenceState string  `json:"conferenceState"`
	ConfType        string  `json:"confType"`
	MediaTypes      string  `json:"mediaTypes"`
	TimeZoneID      string  `json:"timeZoneID"`
}

func (w meetingWire) meeting() Meeting {
	m := Meeting{
		ConferenceID: w.ConferenceID, Subject: w.Subject, ScheduserName: w.ScheduserName, UserUUID: w.UserUUID,
		StartTime: w.StartTime, EndTime: w.EndTime, RecordType: int(w.RecordType), IsAutoRecord: int(w.IsAutoRecord),
		RecordAuxStream: int(w.RecordAuxStream), RecordAuthType: int(w.RecordAuthType), ConfMode: w.ConfMode,
		ConferenceState: w.ConferenceState, ConfType: w.ConfType, MediaTypes: w.MediaTypes, TimeZoneID: w.TimeZoneID,
	}
	if w.ConfUUID != nil {
		m.ConfUUID = *w.ConfUUID
	}
	if w.IsHasRecordFile != nil {
		m.IsHasRecordFile = *w.IsHasRecordFile
	}
	return m
}

// HistoryList is the meeting history of a window: every distinct meeting
// (by confUUID, in the API's order) and what the paging gave (its
// Listing.CountDiff tells pages that add up to fewer or more meetings
// than the count declared).
type HistoryList struct {
	Listing
	Meetings []Meeting
}

// Recorded is the meetings whose isHasRecordFile is true.
func (h HistoryList) Recorded() []Meeting {
	var out []Meeting
	for _, m := range h.Meetings {
		if m.IsHasRecordFile {
			out = append(out, m)
		}
	}
	return out
}

type historyListResponse struct {
	Limit flexInt       `json:"limit"`
	Count *flexInt      `json:"count"`
	Data  []meetingWire `json:"data"`
}

// History pages through the meeting history of the meetings that started
// between q.From and q.To, by the recording list's rules (see pager:
// until count meetings are seen or a page comes back short,
// offset probed as a row offset or a page index, de-duplicated by
// confUUID). Every row must have a well-formed confUUID (handed out
// normalised) and isHasRecordFile: a row without either fails the whole
// call with a *ValidationError wrapping ErrBadResponse, naming the row and
// the page, since a completeness check cannot tell what it was. The
// HistoryList is returned with an error too, holding what was read. An API
// this deployment lacks (404 APIG.0101) gives an error that errors.Is
// ErrNotDeployed, one refused to a user who is not an administrator
// ErrNotPermitted. Cost: one call of the "history" API per page of up to
// 500 meetings, plus one (the offset probe) when there is more than one
// page.
func (c *Client) History(ctx context.Context, q HistoryQuery) (HistoryList, error) {
	if q.From.IsZero() || q.To.IsZero() || q.To.Before(q.From) {
		return HistoryList{Listing: Listing{Count: -1}}, fmt.Errorf("export: history: want From <= To, both set")
	}
	limit := q.PageSize
	if limit <= 0 || limit > historyPageSize {
		limit = historyPageSize
	}
	var out HistoryList
	p := &pager[Meeting]{
		op: "history", limit: limit, probe: true, dedup: true, log: c.cfg.Logger,
		key:  func(m Meeting) string { return m.ConfUUID },
		emit: func(m Meeting) error { out.Meetings = append(out.Meetings, m); return nil },
		fetch: func(ctx context.Context, offset int) (rowsPage[Meeting], error) {
			var resp historyListResponse
			qs := dateQuery(q.From, q.To, offset, limit, q.AllUsers, q.Search, "ASC_StartTIME")
			if err := c.do(ctx, &request{op: "history", method: http.MethodGet, path: pathHistory, query: qs}, &resp); err != nil {
				return rowsPage[Meeting]{}, err
			}
			rows := make([]Meeting, len(resp.Data))
			for i, w := range resp.Data {
				m, err := checkMeeting("history", fmt.Sprintf("data[%d].", i), "", w)
				if err != nil {
					return rowsPage[Meeting]{}, atOffset(err, "history", offset)
				}
				rows[i] = m
			}
			return rowsPage[Meeting]{limit: int(resp.Limit), count: declared(resp.Count), rows: rows}, nil
		},
	}
	var err error
	out.Listing, err = p.run(ctx)
	return out, err
}

// checkMeeting checks a history row or conferenceData: a confUUID (equal to
// asked when asked is not "", else well-formed; returned normalised) and,
// for history rows (asked ""), isHasRecordFile.
func checkMeeting(op, prefix, asked string, w meetingWire) (Meeting, error) {
	m := w.meeting()
	if asked != "" {
		if err := checkConfUUID(op, prefix+"confUUID", asked, m.ConfUUID, w.ConfUUID != nil); err != nil {
			return Meeting{}, err
		}
		m.ConfUUID = asked
		return m, nil
	}
	if strings.TrimSpace(m.ConfUUID) == "" {
		return Meeting{}, badField(op, prefix+"confUUID", "missing")
	}
	id, ok := normConfUUID(m.ConfUUID)
	if !ok {
		return Meeting{}, badField(op, prefix+"confUUID", "%q is not a conference UUID (32 hexadecimal digits)", clip(m.ConfUUID, 80))
	}
	m.ConfUUID = id
	if w.IsHasRecordFile == nil {
		return Meeting{}, badField(op, prefix+"isHasRecordFile", "missing (conference %s): whether the meeting has recordings is unknown, not false", id)
	}
	return m, nil
}

// Participant is one invited participant of a meeting (history detail):
// the invitation list, not who joined (see AttendeeRecords).
type Participant struct {
	ParticipantID string `json:"participantID"`
	Name          string `json:"name"`
	Role          int    `json:"role"`         // 1 host, 0 other
	AttendeeType  string `json:"attendeeType"` // normal, terminal, outside, mobile
	AccountID     string `json:"accountId"`
	Email         string `json:"email"`
	SMS           string `json:"sms"`
	DeptName      string `json:"deptName"`
	UserUUID      string `json:"userUUID"`
	AppID         string `json:"appId"`
	IsAutoInvite  int    `json:"isAutoInvite"`
}

type participantWire struct {
	ParticipantID string  `json:"participantID"`
	Name          string  `json:"name"`
	Role          flexInt `json:"role"`
	AttendeeType  string  `json:"attendeeType"`
	AccountID     string  `json:"accountId"`
	Email         string  `json:"email"`
	SMS           string  `json:"sms"`
	DeptName      string  `json:"deptName"`
	UserUUID      string  `json:"userUUID"`
	AppID         string  `json:"appId"`
	IsAutoInvite  flexInt `json:"isAutoInvite"`
}

// AttendeeRecord is one join of a meeting (attendee records): who was
// there, from JoinTime to LeftTime (UTC epoch ms).
type AttendeeRecord struct {
	DisplayName string `json:"displayName"`
	CallNumber  string `json:"callNumber"`
	DeviceType  string `json:"deviceType"`
	JoinTime    int64  `json:"joinTime"`
	LeftTime    int64  `json:"leftTime"`
	MediaType   string `json:"mediaType"`
	DeptName    string `json:"deptName"`
}

type attendeeWire struct {
	DisplayName string  `json:"displayName"`
	CallNumber  string  `json:"callNumber"`
	DeviceType  string  `json:"deviceType"`
	JoinTime    flexInt `json:"joinTime"`
	LeftTime    flexInt `json:"leftTime"`
	MediaType   string  `json:"mediaType"`
	DeptName    string  `json:"deptName"`
}

// ControlRecord is one conference-control operation (control records), for
// example the recording started or stopped (OperateCode is a description;
// its values are not documented). OperateTime is UTC epoch ms.
type ControlRecord struct {
	OperateTime     int64  `json:"operateTime"`
	OperateSource   string `json:"operateSource"`
	Operator        string `json:"operator"`
	OperateCode     string `json:"operateCode"`
	OperationObject string `json:"operationObject"`
	OperateResult   string `json:"operateResult"`
	Detail          string `json:"detail"`
}

type controlWire struct {
	OperateTime     flexInt `json:"operateTime"`
	OperateSource   string  `json:"operateSource"`
	Operator        string  `json:"operator"`
	OperateCode     string  `json:"operateCode"`
	OperationObject string  `json:"operationObject"`
	OperateResult   string  `json:"operateResult"`
	Detail          string  `json:"detail"`
}

// Records is one conference's answers of an evidence API: every page's
// body as received (Listing.Pages[i].Body: valid JSON, not redacted: it
// may hold names, numbers and addresses of people) and the rows they
// held, in order, all of them (no de-duplication).
type Records[T any] struct {
	Listing
	Rows []T
}

// HistoryDetail is the history detail of one meeting: the meeting
// (conferenceData of the first page), its invited participants (every
// page) and the answers as received (Listing.Pages[i].Body).
type HistoryDetail struct {
	Meeting      Meeting
	Participants []Participant
	Listing
}

// evidencePage is one page of an evidence API: {"offset","limit","count","data":[...]}.
type evidencePage[W any] struct {
	Limit flexInt  `json:"limit"`
	Count *flexInt `json:"count"`
	Data  []W      `json:"data"`
}

// HistoryDetail fetches the history detail of one meeting, every page of
// its participants. confUUID is normalised first (see Details). Every
// page's conferenceData must be about the meeting asked for (a confUUID
// other than the one asked for is an ErrResponseMismatch, a missing one an
// ErrBadResponse), and the first page must have it. An unknown meeting (or
// one the history no longer keeps) gives an error that errors.Is
// ErrNotFound. Cost: one call of the "historydetail" API per 500
// participants.
func (c *Client) HistoryDetail(ctx context.Context, confUUID string) (HistoryDetail, error) {
	id, err := argConfUUID("historydetail", confUUID)
	if err != nil {
		return HistoryDetail{Listing: Listing{Count: -1}}, err
	}
	var out HistoryDetail
	p := &pager[Participant]{
		op: "historydetail", limit: historyPageSize, log: c.cfg.Logger, key: contentKey[Participant],
		emit: func(pt Participant) error { out.Participants = append(out.Participants, pt); return nil },
		fetch: func(ctx context.Context, offset int) (rowsPage[Participant], error) {
			var resp struct {
				ConferenceData *meetingWire                   `json:"conferenceData"`
				Data           *evidencePage[participantWire] `json:"data"`
			}
			raw, err := c.evidence(ctx, "historydetail", pathHistoryDetail, id, offset, &resp)
			if err != nil {
				return rowsPage[Participant]{}, err
			}
			if resp.ConferenceData == nil {
				if offset == 0 {
					return rowsPage[Participant]{}, badField("historydetail", "conferenceData", "missing (the answer does not say which meeting it is about)")
				}
			} else {
				m, err := checkMeeting("historydetail", "conferenceData.", id, *resp.ConferenceData)
				if err != nil {
					return rowsPage[Participant]{}, err
				}
				if offset == 0 {
					out.Meeting = m
				}
			}
			pg := rowsPage[Participant]{count: -1, body: raw}
			if d := resp.Data; d != nil {
				pg.limit, pg.count = int(d.Limit), declared(d.Count)
				for _, w := range d.Data {
					pg.rows = append(pg.rows, Participant{ParticipantID: w.ParticipantID, Name: w.Name, Role: int(w.Role),
						AttendeeType: w.AttendeeType, AccountID: w.AccountID, Email: w.Email, SMS: w.SMS, DeptName: w.DeptName,
						UserUUID: w.UserUUID, AppID: w.AppID, IsAutoInvite: int(w.IsAutoInvite)})
				}
			}
			return pg, nil
		},
	}
	out.Listing, err = p.run(ctx)
	return out, err
}

// AttendeeRecords fetches who joined one meeting, every page (the answers
// in Config.Language). These answers do not say which meeting they are
// about, so nothing can be compared. A refusal to a user who is not an
// administrator (403) errors.Is ErrNotPermitted; a deployment without
// this API (404 APIG.0101) ErrNotDeployed; an unknown meeting ErrNotFound.
// Cost: one call of the "attendees" API per 500 records.
func (c *Client) AttendeeRecords(ctx context.Context, confUUID string) (Records[AttendeeRecord], error) {
	return evidenceRecords(ctx, c, "attendees", pathAttendees, confUUID, func(w attendeeWire) AttendeeRecord {
		return AttendeeRecord{DisplayName: w.DisplayName, CallNumber: w.CallNumber, DeviceType: w.DeviceType,
			JoinTime: int64(w.JoinTime), LeftTime: int64(w.LeftTime), MediaType: w.MediaType, DeptName: w.DeptName}
	})
}

// ControlRecords fetches the conference-control log of one meeting, every
// page (in Config.Language), with the same errors as AttendeeRecords.
// Cost: one call of the "ctlrecords" API per 500 records.
func (c *Client) ControlRecords(ctx context.Context, confUUID string) (Records[ControlRecord], error) {
	return evidenceRecords(ctx, c, "ctlrecords", pathCtlRecords, confUUID, func(w controlWire) ControlRecord {
		return ControlRecord{OperateTime: int64(w.OperateTime), OperateSource: w.OperateSource, Operator: w.Operator,
			OperateCode: w.OperateCode, OperationObject: w.OperationObject, OperateResult: w.OperateResult, Detail: w.Detail}
	})
}

// evidenceRecords pages one conference's records of an evidence API.
func evidenceRecords[W, T any](ctx context.Context, c *Client, op, path, confUUID string, conv func(W) T) (Records[T], error) {
	id, err := argConfUUID(op, confUUID)
	if err != nil {
		return Records[T]{Listing: Listing{Count: -1}}, err
	}
	var out Records[T]
	p := &pager[T]{
		op: op, limit: historyPageSize, log: c.cfg.Logger, key: contentKey[T],
		emit: func(r T) error { out.Rows = append(out.Rows, r); return nil },
		fetch: func(ctx context.Context, offset int) (rowsPage[T], error) {
			var resp evidencePage[W]
			raw, err := c.evidence(ctx, op, path, id, offset, &resp)
			if err != nil {
				return rowsPage[T]{}, err
			}
			pg := rowsPage[T]{limit: int(resp.Limit), count: declared(resp.Count), body: raw}
			for _, w := range resp.Data {
				pg.rows = append(pg.rows, conv(w))
			}
			return pg, nil
		},
	}
	out.Listing, err = p.run(ctx)
	return out, err
}

// evidence GETs one page of an evidence API about confUUID (normalised)
// through the client's machinery and returns the body as received, after
// decoding it into out.
func (c *Client) evidence(ctx context.Context, op, path, confUUID string, offset int, out any) (json.RawMessage, error) {
	var raw json.RawMessage
	err := c.do(ctx, &request{
		op: op, conf: confUUID, method: http.MethodGet, path: path,
		query: url.Values{
			"confUUID": {confUUID},
			"offset":   {strconv.Itoa(offset)},
			"limit":    {strconv.Itoa(historyPageSize)},
		},
		header: http.Header{"Accept-Language": {c.cfg.Language}},
	}, &raw)
	if err != nil {
		return nil, err
	}
	// decode has checked raw (JSON, an object, no error body); this gives
	// the same errors for fields of the wrong type.
	if err := decode(op, http.StatusOK, "application/json", raw, out); err != nil {
		return nil, err
	}
	return raw, nil
}

// contentKey identifies an evidence row by its content (the pager's check
// that a page brings something new).
func contentKey[T any](r T) string {
	b, _ := json.Marshal(r)
	return string(b)
}

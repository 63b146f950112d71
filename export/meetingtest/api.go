package meetingtest

// # Endpoints
//
//	POST   /v2/usg/acs/auth/appauth                    App ID login (HMAC-SHA256)
//	POST   /v1/usg/acs/auth/account                    account login (Basic)
//	POST   /v1/usg/acs/token/validate                  {"token","needGenNewToken"}
//	PUT    /v1/usg/acs/token                           refresh: X-Access-Token = access or refresh token
//	DELETE /v1/usg/acs/token                           logout: deletes the X-Access-Token's token
//	GET    /v1/mmc/management/conferences/record/files ?confUUID=     recording detail
//	GET    /v1/mmc/management/record/files             ?startDate=&endDate=&offset=&limit=&queryAll=&searchKey=&sortType=
//	DELETE /v1/mmc/management/record/files             ?confUUIDs=<uuid>[,<uuid>...]
//	GET    /v1/mmc/management/record/downloadurls      ?confUUID=&offset=&limit=
//	POST   /v1/mmc/rlm/record/info                     {"confUUID","segmentOffset","segmentLimit"} (Config.RecordInfo)
//	GET    /v1/mmc/management/conferences/history      ?startDate=&endDate=&offset=&limit=&queryAll=&searchKey=&sortType=
//	GET    /v1/mmc/management/conferences/history/confDetail          ?confUUID=&offset=&limit=
//	GET    /v1/mmc/management/conferences/history/confAttendeeRecord  ?confUUID=&offset=&limit= (Accept-Language)
//	GET    /v1/mmc/management/conferences/history/confCtlRecord       ?confUUID=&offset=&limit= (Accept-Language)
//	GET    /media/<confUUID>/<fileType>/<name>         the media behind download links
//	GET    /play/<confUUID>?token=...                  a playback page (text/html), what url[] points at
//
// Any other method and path answers 404 APIG.0101, and so does an API
// endpoint Config.NotDeployed names (a deployment without that API).
//
// # Recordings
//
// An unknown or deleted confUUID answers 400 MMC.111070005 on detail,
// downloadurls, record info and delete; a missing or malformed parameter
// 400 MMC.111070001. rcdSize is the files' total in MiB rounded down
// (Conference.RcdSize overrides it). url[] holds one playback page link
// (carrying token=) for a ready recording, none otherwise;
// Conference.PlaybackURLs replaces it with the links given.
//
// List: startDate and endDate (epoch ms) are required; a recording matches
// when its startTime (read as UTC) lies in [startDate, endDate] and
// searchKey, if any, is a case-insensitive substring of its subject,
// scheduserName or confID (the vendor: "subject, scheduler and meeting ID").
// Without queryAll=true only recordings whose Conference.UserID is empty or
// equals the token's userId are listed. sortType is ASC_StartTIME (the
// default) or DSC_StartTIME (case-insensitive); others answer 400. limit
// defaults to 20 and is capped at Config.ListMaxLimit (100) without error:
// the answer's "limit" is the effective one. offset is a row offset by
// default; Config.ListOffsetIsPage makes it a page index (rows skipped =
// offset*limit), so clients can test their detection of either. "count" is
// the number of matching rows.
//
// downloadurls answers one recordUrls entry (note "confUuid") whose urls
// list the files, each with a fresh single-use token; offset and limit page
// the files: limit absent or 0 means 20, and more than 500 is capped at
// 500 (the vendor's documented default and maximum). A recording still
// transcoding (isDecodeFinish false) or not available answers 200 with an
// empty urls list: its files cannot be fetched. Links point at this server
// (/media/<confUUID>/<fileType>/<name>) or at Config.MediaBaseURL.
//
// Record info (only with Config.RecordInfo; otherwise 404 APIG.0101)
// answers {"code":"0","message":"success","data":{...}}: one segment per
// file stem ("0_0", "0_1", ...), each with the files of that part in every
// type; recordType maps Hd->SPEAKER_VIDEO, Aux->SHARE_VIDEO,
// Sd->SPEAKER_SHARE_VIDEO; fileSize is bytes (a number), segmentSize bytes
// (a string), sha256 the true content's hash, a file's beginTime/endTime
// epoch ms (numbers), duration seconds. data.beginTime is a string (the
// vendor and the SDK type it String; its format is undocumented: the
// simulator writes epoch ms in decimal). segmentLimit 0 means 100 (the
// cap). downloadUrl carries its single-use token as ?token=. Not-ready
// recordings answer an empty segmentList.
//
// Delete (the fact sheet's missing API; this form is the simulator's):
// DELETE /v1/mmc/management/record/files?confUUIDs=a,b answers 200 {} and
// deletes all, or, if any is unknown or already deleted, 400 MMC.111070005
// and deletes none. Deleted recordings then answer 400 MMC.111070005 and
// their media 404 MMC.111070005.

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

const maxRequestBody = 1 << 20

// response is an API answer before it is written (so faults can rework it).
type response struct {
	status int
	body   []byte
}

// apiRequest is what a route handler gets.
type apiRequest struct {
	r      *http.Request
	id     string
	body   []byte
	userID string // owner of the access token ("" = default admin)
	now    time.Time
}

type route struct {
	endpoint  string
	api       string // rate-limit bucket
	needToken bool
	handle    func(*Server, *apiRequest) response
	confUUIDs func(*apiRequest) []string // for Fault.ConfUUID; nil = none
}

type routeKey struct{ method, path string }

var routes = map[routeKey]route{
	{http.MethodPost, "/v2/usg/acs/auth/appauth"}:                   {endpoint: EndpointAuth, api: "appauth", handle: (*Server).handleAppAuth},
	{http.MethodPost, "/v1/usg/acs/auth/account"}:                   {endpoint: EndpointAuth, api: "account", handle: (*Server).handleAccountAuth},
	{http.MethodPost, "/v1/usg/acs/token/validate"}:                 {endpoint: EndpointValidate, api: "validate", handle: (*Server).handleValidate},
	{http.MethodPut, "/v1/usg/acs/token"}:                           {endpoint: EndpointRefresh, api: "refresh", handle: (*Server).handleRefresh},
	{http.MethodDelete, "/v1/usg/acs/token"}:                        {endpoint: EndpointLogout, api: "logout", needToken: true, handle: (*Server).handleLogout},
	{http.MethodGet, "/v1/mmc/management/conferences/record/files"}: {endpoint: EndpointDetails, api: "details", needToken: true, handle: (*Server).handleDetails, confUUIDs: queryConf},
	{http.MethodGet, "/v1/mmc/management/record/files"}:             {endpoint: EndpointList, api: "list", needToken: true, handle: (*Server).handleList},
	{http.MethodDelete, "/v1/mmc/management/record/files"}:          {endpoint: EndpointDelete, api: "delete", needToken: true, handle: (*Server).handleDelete, confUUIDs: deleteConfs},
	{http.MethodGet, "/v1/mmc/management/record/downloadurls"}:      {endpoint: EndpointDownloadURLs, api: "downloadurls", needToken: true, handle: (*Server).handleDownloadURLs, confUUIDs: queryConf},
	{http.MethodPost, "/v1/mmc/rlm/record/info"}:                    {endpoint: EndpointRecordInfo, api: "recordinfo", needToken: true, handle: (*Server).handleRecordInfo, confUUIDs: bodyConf},

	{http.MethodGet, "/v1/mmc/management/conferences/history"}:                    {endpoint: EndpointHistory, api: "history", needToken: true, handle: (*Server).handleHistory},
	{http.MethodGet, "/v1/mmc/management/conferences/history/confDetail"}:         {endpoint: EndpointHistoryDetail, api: "historydetail", needToken: true, handle: (*Server).handleHistoryDetail, confUUIDs: queryConf},
	{http.MethodGet, "/v1/mmc/management/conferences/history/confAttendeeRecord"}: {endpoint: EndpointAttendees, api: "attendees", needToken: true, handle: (*Server).handleAttendees, confUUIDs: queryConf},
	{http.MethodGet, "/v1/mmc/management/conferences/history/confCtlRecord"}:      {endpoint: EndpointCtlRecords, api: "ctlrecords", needToken: true, handle: (*Server).handleCtlRecords, confUUIDs: queryConf},
}

func queryConf(rq *apiRequest) []string { return []string{rq.r.URL.Query().Get("confUUID")} }

func bodyConf(rq *apiRequest) []string {
	var b struct {
		ConfUUID string `json:"confUUID"`
	}
	_ = json.Unmarshal(rq.body, &b)
	return []string{b.ConfUUID}
}

func deleteConfs(rq *apiRequest) []string {
	var out []string
	for _, v := range rq.r.URL.Query()["confUUIDs"] {
		for _, u := range strings.Split(v, ",") {
			if u = strings.TrimSpace(u); u != "" {
				out = append(out, u)
			}
		}
	}
	return out
}

// ServeHTTP serves the API, the media links and the playback pages.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/media/"):
		s.serveMedia(w, r)
		return
	case strings.HasPrefix(r.URL.Path, "/play/"):
		s.servePlay(w, r)
		return
	}
	reqID := s.requestID()
	w.Header().Set("X-Request-Id", reqID)
	rt, ok := routes[routeKey{r.Method, r.URL.Path}]
	if !ok {
		writeResponse(w, errorResponse(http.StatusNotFound, CodeNoAPI, "the API does not exist or has not been published in the environment", reqID))
		return
	}
	s.count(rt.endpoint)
	if !s.admit(w, rt, reqID) {
		return
	}
	rq, ok := s.readRequest(w, r, rt, reqID)
	if !ok {
		return
	}
	var confs []string
	if rt.confUUIDs != nil {
		confs = rt.confUUIDs(rq)
	}
	f := s.pickFault(rt.endpoint, confs, func(kind string) bool { return kind != FaultOmit })
	if !s.faultBeforeAnswer(w, rt, rq, f) {
		return
	}
	resp := rt.handle(s, rq)
	s.faultOnAnswer(rt, rq, f, &resp)
	writeResponse(w, resp)
}

// admit is the gateway in front of an API: its rate limit headers, a 429
// when the API's limit or quota refuses the call, a 404 when the API is
// not deployed. False when it has answered.
func (s *Server) admit(w http.ResponseWriter, rt route, reqID string) bool {
	apiHdr, allHdr, refuse := s.gateway(rt.api, rt.endpoint)
	w.Header().Set("X-APIG-Ratelimit-Api", apiHdr)
	w.Header().Set("X-APIG-Ratelimit-Api-Allenv", allHdr)
	if refuse > 0 {
		s.mu.Lock()
		s.ctr.Throttled++
		s.mu.Unlock()
		w.Header().Set("Retry-After", retryAfterSeconds(refuse))
		writeResponse(w, errorResponse(http.StatusTooManyRequests, CodeThrottled, "the throttling threshold has been reached", reqID))
		return false
	}
	if s.notDeployed(rt.endpoint) {
		writeResponse(w, errorResponse(http.StatusNotFound, CodeNoAPI, "the API does not exist or has not been published in the environment", reqID))
		return false
	}
	return true
}

// readRequest reads a POST or PUT body (up to maxRequestBody) and, for an
// API that needs one, checks the access token. False when it has answered
// (or the client went away).
func (s *Server) readRequest(w http.ResponseWriter, r *http.Request, rt route, reqID string) (*apiRequest, bool) {
	rq := &apiRequest{r: r, id: reqID, now: s.now()}
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
		if err != nil {
			return nil, false // the client went away
		}
		if len(body) > maxRequestBody {
			writeResponse(w, errorResponse(http.StatusRequestEntityTooLarge, CodeRequestError, "request body too large", reqID))
			return nil, false
		}
		rq.body = body
	}
	if rt.needToken {
		userID, ok := s.checkToken(r.Header.Get("X-Access-Token"), rq.now)
		if !ok {
			s.mu.Lock()
			s.ctr.Unauthorized++
			s.mu.Unlock()
			writeResponse(w, errorResponse(http.StatusUnauthorized, CodeTokenInvalid, "the access token is invalid or has expired", reqID))
			return nil, false
		}
		rq.userID = userID
	}
	return rq, true
}

// faultBeforeAnswer applies a fault that replaces or delays the answer
// (status, throttle, HTML, reset, echo; latency). False when it has
// answered, or the request ended while it waited.
func (s *Server) faultBeforeAnswer(w http.ResponseWriter, rt route, rq *apiRequest, f *Fault) bool {
	if f == nil {
		return true
	}
	switch f.Kind {
	case FaultStatus:
		status, code, msg := faultStatus(f, rt.endpoint)
		writeResponse(w, errorResponse(status, code, msg, rq.id))
		return false
	case FaultThrottle:
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", retryAfterSeconds(f.RetryAfter))
		}
		writeResponse(w, errorResponse(http.StatusTooManyRequests, CodeThrottled, "the throttling threshold has been reached", rq.id))
		return false
	case FaultLatency:
		return s.sleep(rq.r.Context(), f.Latency)
	case FaultHTML:
		writeHTML(w)
		return false
	case FaultReset:
		resetConn(w)
		return false
	case FaultEcho:
		s.writeEcho(w, rq.r, rq.body, rt.endpoint, rq.id, f)
		return false
	}
	return true
}

// faultOnAnswer applies a fault that changes the answer itself: half its
// body, wrong JSON types, or an answer fault's rework.
func (s *Server) faultOnAnswer(rt route, rq *apiRequest, f *Fault, resp *response) {
	if f == nil {
		return
	}
	switch f.Kind {
	case FaultTruncate:
		resp.body = resp.body[:len(resp.body)/2]
	case FaultBadJSON:
		resp.status = http.StatusOK
		resp.body = mangleJSON(resp.body)
	default:
		if isAnswerFault(f.Kind) {
			s.reworkAnswer(f, rt.endpoint, rq, resp)
		}
	}
}

func (s *Server) count(endpoint string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctr.Requests[endpoint]++
	switch endpoint {
	case EndpointAuth:
		s.ctr.Auth++
	case EndpointDetails:
		s.ctr.Details++
	case EndpointList:
		s.ctr.List++
	case EndpointDownloadURLs:
		s.ctr.DownloadURLs++
	case EndpointRecordInfo:
		s.ctr.RecordInfo++
	case EndpointDelete:
		s.ctr.Delete++
	case EndpointMedia:
		s.ctr.Media++
	}
}

func writeResponse(w http.ResponseWriter, resp response) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(resp.body)))
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

// ErrorBody is the API's error document.
type ErrorBody struct {
	ErrorCode string `json:"error_code"`
	ErrorMsg  string `json:"error_msg"`
	RequestID string `json:"request_id"`
}

func errorResponse(status int, code, msg, reqID string) response {
	return jsonResponse(status, ErrorBody{ErrorCode: code, ErrorMsg: msg, RequestID: reqID})
}

func writeError(w http.ResponseWriter, status int, code, msg, reqID string) {
	writeResponse(w, errorResponse(status, code, msg, reqID))
}

func jsonResponse(status int, v any) response {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("meetingtest: marshal response: %v", err))
	}
	return response{status: status, body: b}
}

// randomHex returns n random bytes as hex (tokens are unpredictable even
// with a fixed Seed).
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// baseURL is the scheme://host of links handed out for this request.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.MediaBaseURL != "" {
		return strings.TrimSuffix(s.cfg.MediaBaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// recording is the recording detail document (detail API, list API data).
type recording struct {
	ConfUUID       string   `json:"confUUID"`
	ConfID         string   `json:"confID"`
	URL            []string `json:"url"`
	RcdTime        int      `json:"rcdTime"`
	RcdSize        int      `json:"rcdSize"`
	Subject        string   `json:"subject"`
	ScheduserName  string   `json:"scheduserName"`
	StartTime      string   `json:"startTime"`
	IsDecodeFinish bool     `json:"isDecodeFinish"`
	DecodeEndTime  int64    `json:"decodeEndTime"`
	Available      bool     `json:"available"`
	RecordAuthType int      `json:"recordAuthType"`
}

func playURL(base, confUUID string) string {
	return base + "/play/" + url.PathEscape(confUUID) + "?token=" + randomHex(16)
}

func (c *Conference) detail(base string) recording {
	size := c.RcdSize
	if size == 0 {
		var n int64
		for _, f := range c.Files {
			n += f.Size
		}
		size = int(n >> 20)
	}
	urls := []string{}
	switch {
	case c.PlaybackURLs != nil:
		urls = append(urls, c.PlaybackURLs...)
	case c.Ready():
		urls = append(urls, playURL(base, c.ConfUUID))
	}
	return recording{
		ConfUUID: c.ConfUUID, ConfID: c.ConfID, URL: urls, RcdTime: c.RcdTime, RcdSize: size,
		Subject: c.Subject, ScheduserName: c.ScheduserName, StartTime: c.StartTime,
		IsDecodeFinish: c.IsDecodeFinish, DecodeEndTime: c.DecodeEndTime, Available: c.Available,
		RecordAuthType: c.RecordAuthType,
	}
}

// lookupLocked returns a live (known, not deleted) conference.
func (s *Server) lookupLocked(confUUID string) *Conference {
	if s.deleted[confUUID] {
		return nil
	}
	return s.confs[confUUID]
}

func notExist(reqID string) response {
	return errorResponse(http.StatusBadRequest, CodeMeetingNotExist, "the meeting does not exist", reqID)
}

func badParam(reqID, msg string) response {
	return errorResponse(http.StatusBadRequest, CodeRequestError, msg, reqID)
}

func (s *Server) handleDetails(rq *apiRequest) response {
	confUUID := rq.r.URL.Query().Get("confUUID")
	if confUUID == "" {
		return badParam(rq.id, "confUUID is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookupLocked(confUUID)
	if c == nil {
		return notExist(rq.id)
	}
	return jsonResponse(http.StatusOK, c.detail(s.baseURL(rq.r)))
}

// intParam parses an optional integer query parameter.
func intParam(q url.Values, name string, def int64) (int64, error) {
	v := strings.TrimSpace(q.Get(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s must be an integer", name)
	}
	return n, nil
}

type listResponse struct {
	Offset int64       `json:"offset"`
	Limit  int64       `json:"limit"`
	Count  int64       `json:"count"`
	Data   []recording `json:"data"`
}

func (s *Server) handleList(rq *apiRequest) response {
	q := rq.r.URL.Query()
	from, to, bad := window(rq)
	if bad != nil {
		return *bad
	}
	offset, limit, bad := pageParams(rq, 20, int64(s.cfg.ListMaxLimit))
	if bad != nil {
		return *bad
	}
	desc := false
	switch st := q.Get("sortType"); {
	case st == "" || strings.EqualFold(st, "ASC_StartTIME"):
	case strings.EqualFold(st, "DSC_StartTIME"):
		desc = true
	default:
		return badParam(rq.id, "sortType must be ASC_StartTIME or DSC_StartTIME")
	}
	all := strings.EqualFold(q.Get("queryAll"), "true")
	search := strings.ToLower(q.Get("searchKey"))

	type hit struct {
		c  *Conference
		at int64
	}
	omit := s.omitted(EndpointList)
	s.mu.Lock()
	defer s.mu.Unlock()
	var hits []hit
	for _, id := range s.order {
		c := s.lookupLocked(id)
		if c == nil {
			continue
		}
		t, err := time.Parse(StartTimeLayout, c.StartTime)
		if err != nil {
			continue
		}
		at := t.UnixMilli()
		if at < from || at > to {
			continue
		}
		if c.HiddenFromList || omit[id] {
			continue
		}
		if !all && c.UserID != "" && c.UserID != rq.userID {
			continue
		}
		if search != "" && !matchesSearch(c, search) {
			continue
		}
		hits = append(hits, hit{c, at})
	}
	slices.SortStableFunc(hits, func(a, b hit) int {
		if desc {
			return cmp.Compare(b.at, a.at)
		}
		return cmp.Compare(a.at, b.at)
	})
	skip := offset
	if s.cfg.ListOffsetIsPage {
		skip = offset * limit
	}
	out := listResponse{Offset: offset, Limit: limit, Count: max(0, int64(len(hits)+s.cfg.ListCountDelta)), Data: []recording{}}
	base := s.baseURL(rq.r)
	for _, h := range pageOf(hits, skip, limit) {
		out.Data = append(out.Data, h.c.detail(base))
	}
	return jsonResponse(http.StatusOK, out)
}

// matchesSearch reports whether the list API's searchKey (lower-cased)
// matches a recording: the vendor's reference and the official Go SDK say
// "the meeting subject, the scheduler and the meeting ID can be searched", so
// it is a case-insensitive substring of the subject, the scheduserName or
// the confID.
func matchesSearch(c *Conference, search string) bool {
	return containsFold([]string{c.Subject, c.ScheduserName, c.ConfID}, search)
}

// Paging of the downloadurls API's links (files), as the vendor documents it.
const (
	DownloadURLsDefaultLimit = 20  // links per answer when limit is absent or 0
	DownloadURLsMaxLimit     = 500 // larger limits are capped (silently)
)

type downloadURLsResponse struct {
	RecordURLs []recordURLs `json:"recordUrls"`
}

type recordURLs struct {
	ConfUUID string        `json:"confUuid"`
	URLs     []downloadURL `json:"urls"`
}

type downloadURL struct {
	Token    string `json:"token"`
	FileType string `json:"fileType"`
	URL      string `json:"url"`
}

// mediaPath is the path (and, for the query styles, the query) of a media
// link in the server's MediaURLs style.
func (s *Server) mediaPath(confUUID, fileType, name string) string {
	return mediaLink(s.cfg.MediaURLs, confUUID, fileType, name)
}

func mediaPath(confUUID, fileType, name string) string {
	return mediaLink(MediaURLsPath, confUUID, fileType, name)
}

func mediaLink(style, confUUID, fileType, name string) string {
	switch style {
	case MediaURLsQuery:
		return mediaDownloadPath + "?" + url.Values{"conf": {confUUID}, "type": {fileType}, "file": {name}}.Encode()
	case MediaURLsOpaque:
		id := base64.RawURLEncoding.EncodeToString([]byte(confUUID + "/" + fileType + "/" + name))
		return mediaDownloadPath + "?id=" + id
	}
	return "/media/" + url.PathEscape(confUUID) + "/" + url.PathEscape(fileType) + "/" + url.PathEscape(name)
}

// withToken adds token=tok to a link's query.
func withToken(link, tok string) string {
	sep := "?"
	if strings.Contains(link, "?") {
		sep = "&"
	}
	return link + sep + "token=" + url.QueryEscape(tok)
}

func (s *Server) handleDownloadURLs(rq *apiRequest) response {
	q := rq.r.URL.Query()
	confUUID := q.Get("confUUID")
	if confUUID == "" {
		return badParam(rq.id, "confUUID is required")
	}
	// The vendor's reference and the official Go SDK: "default 20, maximum
	// 500". An absent (or 0) limit gives 20 links, a larger one is capped.
	offset, limit, bad := pageParams(rq, DownloadURLsDefaultLimit, DownloadURLsMaxLimit)
	if bad != nil {
		return *bad
	}
	if s.cfg.LinksMaxLimit > 0 {
		limit = min(limit, int64(s.cfg.LinksMaxLimit))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookupLocked(confUUID)
	if c == nil {
		return notExist(rq.id)
	}
	entry := recordURLs{ConfUUID: c.ConfUUID, URLs: []downloadURL{}}
	if c.Ready() {
		base := s.baseURL(rq.r)
		for _, f := range pageOf(c.Files, offset, limit) {
			tok := s.issueLinkLocked(c.ConfUUID, f.FileType, f.Name, false, rq.now)
			entry.URLs = append(entry.URLs, downloadURL{Token: tok, FileType: f.FileType, URL: base + s.mediaPath(c.ConfUUID, f.FileType, f.Name)})
		}
	}
	return jsonResponse(http.StatusOK, downloadURLsResponse{RecordURLs: []recordURLs{entry}})
}

// RecordType maps a downloadurls file type to the record info API's
// recordType: Hd -> SPEAKER_VIDEO, Aux -> SHARE_VIDEO, Sd -> SPEAKER_SHARE_VIDEO.
func RecordType(fileType string) string {
	switch fileType {
	case FileTypeHd:
		return "SPEAKER_VIDEO"
	case FileTypeAux:
		return "SHARE_VIDEO"
	case FileTypeSd:
		return "SPEAKER_SHARE_VIDEO"
	}
	return "AUDIO"
}

type recordInfoResponse struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Data    recordInfoData `json:"data"`
}

type recordInfoData struct {
	Subject string `json:"subject"`
	// BeginTime is a string here (epoch ms in decimal), unlike the files'
	// numeric beginTime: the vendor's reference and the official Go SDK
	// (RecordInfoDo.BeginTime *string) type it String, and the SDK fails to
	// decode a number.
	BeginTime     string          `json:"beginTime"`
	SegmentOffset int             `json:"segmentOffset"`
	SegmentLimit  int             `json:"segmentLimit"`
	SegmentCount  int             `json:"segmentCount"`
	SegmentList   []recordSegment `json:"segmentList"`
}

type recordSegment struct {
	ManualOrder  int              `json:"manualOrder"`
	SegmentOrder int              `json:"segmentOrder"`
	SegmentSize  string           `json:"segmentSize"`
	FileList     []recordInfoFile `json:"fileList"`
}

type recordInfoFile struct {
	RecordType  string `json:"recordType"`
	BeginTime   int64  `json:"beginTime"`
	EndTime     int64  `json:"endTime"`
	Duration    int64  `json:"duration"`
	FileSize    int64  `json:"fileSize"`
	SHA256      string `json:"sha256"`
	PlayURL     string `json:"playUrl"`
	DownloadURL string `json:"downloadUrl"`
}

func (s *Server) handleRecordInfo(rq *apiRequest) response {
	var req struct {
		ConfUUID      string `json:"confUUID"`
		SegmentOffset int    `json:"segmentOffset"`
		SegmentLimit  int    `json:"segmentLimit"`
	}
	if err := json.Unmarshal(rq.body, &req); err != nil {
		return badParam(rq.id, "request body is not valid JSON")
	}
	if req.ConfUUID == "" {
		return badParam(rq.id, "confUUID is required")
	}
	if req.SegmentOffset < 0 || req.SegmentLimit < 0 {
		return badParam(rq.id, "segmentOffset and segmentLimit must be non-negative")
	}
	if req.SegmentLimit == 0 {
		req.SegmentLimit = 100
	}
	req.SegmentLimit = min(req.SegmentLimit, 100)

	s.mu.Lock()
	c := s.lookupLocked(req.ConfUUID)
	if c == nil {
		s.mu.Unlock()
		return notExist(rq.id)
	}
	conf := c.clone()
	s.mu.Unlock()

	start, _ := time.Parse(StartTimeLayout, conf.StartTime)
	data := recordInfoData{Subject: conf.Subject, BeginTime: strconv.FormatInt(start.UnixMilli(), 10), SegmentOffset: req.SegmentOffset,
		SegmentLimit: req.SegmentLimit, SegmentList: []recordSegment{}}
	if conf.Ready() {
		// One segment per file stem ("0_0", "0_1", ...), in order of first
		// appearance; each segment holds that part in every file type.
		var stems []string
		byStem := map[string][]File{}
		for _, f := range conf.Files {
			stem := strings.TrimSuffix(f.Name, pathExt(f.Name))
			if _, ok := byStem[stem]; !ok {
				stems = append(stems, stem)
			}
			byStem[stem] = append(byStem[stem], f)
		}
		data.SegmentCount = len(stems)
		segDur := int64(conf.RcdTime) / int64(max(1, len(stems)))
		base := s.baseURL(rq.r)
		for i, stem := range stems {
			if i < req.SegmentOffset || i >= req.SegmentOffset+req.SegmentLimit {
				continue
			}
			begin := start.Add(time.Duration(int64(i)*segDur) * time.Second).UnixMilli()
			seg := recordSegment{ManualOrder: i, SegmentOrder: i}
			var segSize int64
			for _, f := range byStem[stem] {
				sum := s.FileSHA256(conf.ConfUUID, f.FileType, f.Name)
				s.mu.Lock()
				tok := s.issueLinkLocked(conf.ConfUUID, f.FileType, f.Name, true, rq.now)
				s.mu.Unlock()
				seg.FileList = append(seg.FileList, recordInfoFile{
					RecordType: RecordType(f.FileType), BeginTime: begin, EndTime: begin + segDur*1000,
					Duration: segDur, FileSize: f.Size, SHA256: sum,
					PlayURL:     playURL(base, conf.ConfUUID),
					DownloadURL: base + withToken(s.mediaPath(conf.ConfUUID, f.FileType, f.Name), tok),
				})
				segSize += f.Size
			}
			seg.SegmentSize = strconv.FormatInt(segSize, 10)
			data.SegmentList = append(data.SegmentList, seg)
		}
	}
	return jsonResponse(http.StatusOK, recordInfoResponse{Code: "0", Message: "success", Data: data})
}

func pathExt(name string) string {
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		return name[i:]
	}
	return ""
}

func (s *Server) handleDelete(rq *apiRequest) response {
	ids := deleteConfs(rq)
	if len(ids) == 0 {
		return badParam(rq.id, "confUUIDs is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if s.lookupLocked(id) == nil {
			return notExist(rq.id)
		}
	}
	for _, id := range ids {
		if !s.deleted[id] {
			s.deleted[id] = true
			s.ctr.Deleted++
		}
	}
	return response{status: http.StatusOK, body: []byte("{}")}
}

func (s *Server) servePlay(w http.ResponseWriter, r *http.Request) {
	s.count(EndpointPlay)
	w.Header().Set("X-Request-Id", s.requestID())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = io.WriteString(w, "<!DOCTYPE html><html><head><title>Recording playback</title></head><body><div id=\"player\">This is a playback page, not the media.</div></body></html>\n")
}

// Package meetingtest is an in-process simulator of the Huawei Cloud Meeting
// API, in the manner of net/http/httptest: NewServer starts it on a loopback
// port, Server.URL is its base URL, Close stops it, and Counters, Served,
// FileSHA256 and Deleted let a test check what a client did. Serve runs the
// same handler as a process (`meetarchive simulate`).
//
// It follows the Meeting API's documented wire format (as the official SDK
// test, sdk_test.go, checks): field names, status codes, error
// bodies {"error_code","error_msg","request_id"} with the X-Request-Id
// header, single-use download tokens, a real HMAC check, gateway headers.
//
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
// # Authentication
//
// App ID login verifies the hex HMAC-SHA256 (upper or lower case), keyed by
// the app key, over appId:userId:expireTime:nonce (appId:corpId:userId:
// expireTime:nonce when corpId is set), from
// "Authorization: HMAC-SHA256 signature=<hex>,access=<base64(appId)>" or the
// older form with signature= only (access, when present, must decode to the
// appId). The body must have clientType 72, a nonce of 32 to 64 characters
// and an expireTime (epoch seconds) not in the past (0 = never). A malformed
// request answers 400 USG.000000001; a wrong app ID, signature, account or
// password, or an expired signed request, 401 USG.000000005 (both codes are
// the simulator's own: the vendor does not document them). Account login
// takes "Authorization: Basic base64(account:password)" and
// {"account","clientType":72}, as the official Go SDK sends it.
//
// Both answer accessToken, validPeriod (s), expireTime (epoch s), createTime
// (epoch ms), refreshToken, refreshValidPeriod, refreshExpireTime,
// refreshCreateTime, tokenType 0, clientType 72, user{...} and the other
// fields of the SDK's token response. Tokens live Config.TokenLifetime
// (refresh tokens twice that). One user (app ID + corp ID + user ID, or
// account) holds at most Config.MaxTokensPerUser (64) live tokens: the next
// login silently invalidates the oldest (Counters.TokensEvicted), which is
// what hurts a client that logs in too often.
//
// Every other API call needs X-Access-Token; a missing, unknown, expired or
// evicted token answers 401 USG.000000004 (Counters.Unauthorized). Logout
// (DELETE /v1/usg/acs/token, the official Go SDK's DeleteToken) kills the
// token it carries, and its refresh token, and answers 200 {}.
//
// The official Go SDK (huaweicloud-sdk-go-v3 services/meeting/v1) implements
// account login only (MeetingCredentials); it sends Content-Type
// application/json on every call, GETs and DELETEs included, drops the "="
// of an empty query value ("?confUUID"), encodes spaces as %20 and commas as
// %2C, and ends JSON bodies with a newline; all of that is accepted.
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
//
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
//
// # Reconciliation faults
//
// What a completeness check must find, besides the faults below:
//
//   - a recording the list skips: Conference.HiddenFromList, or the fault
//     "list:omit:conf=<uuid>" (Times counts list answers; "history:omit"
//     leaves a meeting out of the history list alike). The conference is
//     left out of the rows and of count; every other API knows it;
//   - a count that disagrees with the pages: Config.ListCountDelta and
//     Config.HistoryCountDelta are added to the declared count (never
//     below 0) while the pages serve the true rows;
//   - a conference deleted after it was archived: the delete API, or
//     DeleteConference;
//   - attendee or control records refused: the "status" fault with status
//     403 (MMC.111070002, not an administrator) or 404 (APIG.0101), per
//     conference with conf=; or Config.NotDeployed;
//   - files added to an archived conference: AddFile;
//   - history answers a careful client must not trust: the answer faults
//     below on history and historydetail.
//
// # Media
//
// A downloadurls token is accepted only as the bare "Authorization: <token>"
// header, a record info token only as ?token=. A token is consumed by its
// first presentation, whatever happens next; a missing token answers 401,
// a used, unknown, expired (Config.LinkLifetime on the Config.Now clock) or
// other file's token 403, both with error code MMC.111070004, and both count
// in Counters.TokenRefused; a Range request needs a fresh token like any
// other. The body is the file's deterministic pseudo-random content (see
// Content) with Content-Length and "Accept-Ranges: bytes". One range
// ("bytes=N-", "bytes=N-M", "bytes=-S") is served as object storage serves
// it: 206 with "Content-Range: bytes N-M/T"; a range starting at or beyond
// the end answers 416 with "Content-Range: bytes */T"; several ranges, or a
// header that does not parse, get the whole file. Config.IgnoreRange makes
// the host ignore Range (200, whole file). Config.MediaRate throttles each
// response (real time), and cancellation of the request or Close stops it.
// Served records the SHA-256 of the bytes actually sent (computed when Served
// is called, from the same deterministic content, not while serving), for
// complete responses only (Served.Offset is where a range started); an
// entry is added just before the last bytes are written (and withdrawn if
// that write fails), so a client that has read a whole file finds it there.
// MediaBytesServed counts every body byte written, complete or not.
//
// # Gateway
//
// Every API response (not media) carries the two headers of the vendor's
// gateway: "X-APIG-Ratelimit-Api: remain:R,limit:L,time:W" (the API's quota
// for the caller) and "X-APIG-Ratelimit-Api-Allenv: remain:R,limit:L,time:1
// second" (the API's per-second limit). Limits belong to the caller (the
// app), not to a connection or a login: every client of the simulator
// authenticates as its one app ID, so all of them, from any number of
// processes, share one limit per API. A request an enforced limit refuses
// answers 429 APIG.0308 ("the throttling threshold has been reached") with
// Retry-After (whole seconds, at least 1) and counts in Counters.Throttled;
// a refused request uses nothing. The login APIs are limited like any other.
//
// With Config.QuotaPerAPI = N > 0 each API has a quota of N calls per
// Config.QuotaWindow W (default one minute, whole seconds), advertised as
// "remain:R,limit:N,time:1 minute" (or "time:10 second": a count and a
// singular unit), in one of two models, chosen for every API by
// Config.QuotaModel and per endpoint by Config.QuotaModels (a real gateway
// may do either, and a client must not depend on which):
//
//   - QuotaFixed (the default): fixed windows aligned to multiples of W;
//     R is what is left in the current window, a call beyond it is refused
//     until the window's end, and the next window starts with all N.
//   - QuotaBucket: a token bucket that refills continuously at N per W and
//     holds at most Config.QuotaBurst calls (default one second's refill:
//     20 for 1,200 a minute). The quota header's R refills as continuously
//     (a bucket of N); the Allenv header shows the burst bucket per second:
//     "remain:<whole tokens>,limit:<N per second>,time:1 second". A call
//     finding either bucket empty is refused until a token is back.
//
// Without a quota, Config.RatePerAPI = r > 0 gives each API an enforced
// token bucket on the Config.Now clock, holding Config.RateBurst tokens
// (default L) and refilling at r/s, shown as "limit:r,time:1 second" when r
// is a whole number, else as round(60r) per "1 minute"; with neither,
// nothing is enforced and the header advertises 1000 per second. The Allenv
// header shows, unless the QuotaBucket model's bucket does, the API's own
// per-second limit of 200 (not enforced); Config.RateAllEnv instead puts one
// enforced limit over all APIs together and shows it in every API's Allenv
// header.
//
// # Faults
//
// Config.Faults (or SetFaults) are checked in order; the first whose
// Endpoint matches, whose ConfUUID is "" or the request's, whose Times is 0
// or not used up, and whose Probability (drawn from a Seed-seeded generator)
// hits, applies. On API endpoints faults apply after the gateway limit and
// the access-token check; on media after the download token is consumed,
// except "reset", which happens before the token is looked at (the request
// never reached the media server, so its token stays valid).
// Kinds: "status" (Status, default 500, with an error body: Code or a code
// chosen from the status), "throttle" (429 APIG.0308, Retry-After when
// RetryAfter > 0), "latency" (sleep, then answer normally), "truncate" (API:
// the first half of the JSON with a matching Content-Length; media: the full
// Content-Length, half the body, or Offset bytes, or a random number of
// them with RandomOffset, then the connection closes), "html" (200
// text/html), "badjson" (200, numbers and booleans turned into "abc"), "reset"
// (connection closed with RST, no answer; on media with Offset or
// RandomOffset: after the token check, the headers and that many body
// bytes, then RST), "flip" (media: the middle byte
// inverted), "stall" (media: the headers and Offset body bytes, default
// half, then silence on an open connection until the client leaves; with
// Latency, the rest one byte every Latency: a trickle), "chunked" (media:
// no Content-Length, a chunked body; with Offset or RandomOffset the
// connection closes after that many bytes, without the terminating chunk),
// "close" (media: no Content-Length and not chunked, the end of the body is
// the connection's close; with Offset or RandomOffset it closes after that
// many bytes, which a client cannot tell from a whole body), "echo" (any endpoint: an error, Status default 400, whose
// message quotes the request's headers, query and body back: see
// FaultEcho), "omit" (list, history: the conference named by ConfUUID,
// which it needs, is left out of the answer and its count). The history
// endpoints are "history", "historydetail", "attendees" and "ctlrecords".
// Counters.Faults and FaultHits["endpoint/kind"] count hits.
//
// Answer faults rework a 200 answer into well-formed JSON a careful client
// must not trust (error answers pass unchanged; FaultOtherConf and the
// other constants say exactly what each does):
//
//	otherconf    details, downloadurls, recordinfo  confUUID of the next conference of the dataset
//	upperconf    details, list, downloadurls, recordinfo  confUUID in upper case (still valid)
//	noconf       details, list, downloadurls  confUUID (confUuid) left out
//	noavailable  details, list                available left out
//	nodecode     details, list                isDecodeFinish left out
//	badsha       recordinfo                   sha256 of 40 hexadecimal digits
//	negsize      details, list, recordinfo    rcdSize -1, fileSize -1
//	endless      downloadurls, recordinfo     every page full of new links, more always said to follow
//	repeat       downloadurls, recordinfo     every link listed twice on its page
//
// On the history APIs: otherconf (historydetail: conferenceData.confUUID),
// upperconf and noconf (history rows, historydetail), and nohasrecord
// (isHasRecordFile left out: history rows, historydetail).
//
// List faults touch every row; record info has no documented confUUID, so
// otherconf and upperconf add data.confUUID. For colliding file names use
// the dataset: GenerateConfig.CollidingNames or CollidingFiles (the
// sample's first conference has "0_0.mp4" in three file types).
// ParseFault and ParseFaults read faults in a flag form
// ("details:status:status=503:times=2", "media:truncate:at=random:times=3").
//
// Beware: Go's http.Transport silently resends an idempotent request (GET,
// DELETE) once when a reused keep-alive connection is reset before any
// answer, so a single "reset" fault (Times 1) is invisible to such a client;
// use Times >= 2, or fresh connections, to make it show.
package meetingtest

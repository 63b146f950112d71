// Package export is the client for the Huawei Cloud Meeting API that meetarchive
// archives recordings from: authentication, recording details, download links,
// media streams, the recording list and deletion; and the meeting history
// (the history list, history detail, attendee and control records) that a
// completeness check and the evidence around a recording come from.
//
// One Client is meant to be shared by every worker of a run. It holds:
//
//   - one access token for the whole run (App ID HMAC, account and password, or
//     a pre-issued token). It is refreshed at 90% of its validPeriod (which for
//     tokens of 50 minutes or more is at least 5 minutes before expiry) and
//     when a call answers 401; however many goroutines find it expired, exactly
//     one authentication is in flight, and the failed call is retried once with
//     the new token. A refused authentication is fatal and sticky: every later
//     call fails at once with an error wrapping ErrAuth instead of hammering the
//     login (and locking the account).
//
//   - one retry loop. ShouldRetry is the single retry decision; Backoff.Next
//     the single policy: capped exponential delays with full jitter, a
//     Retry-After honoured up to MaxRetryAfter, and no wait past MaxElapsed
//     (a Retry-After beyond what is left of it gives up at once). The
//     pipeline reuses both for whole-file retries.
//
//   - two rate limiters per API (details, downloadurls, recordinfo, list,
//     delete, auth, history, historydetail, attendees, ctlrecords), shared
//     by all goroutines: one for the API's quota
//     (X-APIG-Ratelimit-Api: "remain:R,limit:L,time:W", per minute as a
//     rule), one for its per-second limit (X-APIG-Ratelimit-Api-Allenv, the
//     vendor's "default API request limit"; a gateway that shares it among
//     APIs shows as other callers taking from it). Config.Rate is RateAuto
//     (the default: start at DefaultRate, 1.6 calls a second per API, until
//     the gateway says more) or a ceiling the client never passes (over any
//     second, give or take one call). Either way each limiter follows its
//     header, at most 95% of L/W, and learns from how R moves against its
//     own calls both how the quota comes back (fixed windows, or a bucket
//     refilled continuously) and how much of it other callers take (the
//     other shards of a job, on any machine): with fixed windows it paces
//     what remains, less a reserve for the others, over the time left in the
//     window; with continuous refill it scales its share of the quota with
//     every caller's total consumption against a target that keeps the
//     quota about half full. Until the answers show how the quota comes
//     back, a per-second limit is taken to refill continuously (its share
//     starting at a quarter of its rate) and a longer one to come back in
//     windows. apiLimit's documentation has the details. On a
//     429 or APIG.0308 the whole client pauses together until Retry-After
//     (or one second) has passed, lengthened by up to a quarter at random,
//     and that API's rate is cut to 0.5-0.7 of what it was granted (at
//     random, at most once a second), so that processes throttled together
//     do not come back in lockstep; it then climbs back, in time rather than
//     per call. Client.QuotaModel says what the client learnt; CallStats
//     counts tries by API and outcome.
//
// # What is retried
//
// 429 and APIG.0308, 500, 502, 503, 504, per-request timeouts (RequestTimeout
// covers one API request from sending to the last body byte), connection
// resets and refusals, and bodies cut short (shorter than their
// Content-Length, or JSON that stops mid-document) are retried. Other 4xx,
// an HTML page or JSON of the wrong shape with status 200, an oversized body
// (MaxBodyBytes), an untrusted TLS certificate and a cancelled context are
// not. Note that Go's HTTP transport may itself replay an idempotent GET once
// when a reused keep-alive connection turns out to be closed before any
// answer.
//
// # Download links
//
// Tokens in download links are single use, so Links asks for fresh links on
// every call and OpenMedia never retries: a caller that must retry a download
// calls Links again and opens the new link, from the byte it reached with
// OpenMediaAt (a Range request; a host that answers 200 sends the whole file
// and the caller starts over). A 401 or 403 from the media host wraps
// ErrLinkExpired. Media redirects are followed at most MaxMediaRedirects
// hops, to https only (http only from an http link), never with a Referer,
// and without the download token once a hop leaves the link's scheme, host
// and port; any other redirect fails with ErrBadRedirect. The API client
// follows no redirect. With LinkSource "auto" the client
// tries record info first (it gives each file's size and SHA-256) and, the
// first time record info answers 403, 404, 405 or 501 (not enabled), falls back
// to downloadurls for the rest of the client's life. LinkSource "spread" does
// the same, except that a conference whose record info call would wait on
// its quota (more than spillWait, once the gateway has told the quota) while
// downloadurls' quota would take it sooner gets its links from downloadurls;
// each conference keeps the API it had for its fresh links (the two APIs
// name file types differently), so its files keep their identity.
//
// # Paging the recording list
//
// The fact sheet cannot tell whether the list API's offset is a row offset or
// a page index. List asks for the first page with offset=0 and, when more rows
// remain, the second with offset=1, then compares the two pages:
//
//   - no overlap (fewer than half of page 2's rows were on page 1): offset is a
//     0-based page index (offset=1 was the second page); continue with 2, 3, ...
//   - page 2 equals page 1 (same length, every row already seen): offset is a
//     1-based page index (0 and 1 both meant the first page); continue with 2, 3, ...
//   - otherwise (page 2 is page 1 shifted by one row): offset counts rows;
//     continue from the number of rows read so far.
//
// The probe costs at most one page of duplicates, never skips rows (asking for
// offset=limit would skip almost everything on a server that counts pages), and
// still works when the server silently caps the page size. Rows are
// de-duplicated by confUUID. List stops when count rows have been seen, when a
// page is empty, or when count is unknown (absent or 0) or proven wrong (more
// distinct rows than it says) and a page is short or brings no new row; a
// page is short when it holds fewer rows than asked for, or than the limit
// the answer states when that is smaller (a server that caps the page and
// says so). A page that brings no new row while count says more, and paging
// past a hard cap on the number of pages, fail with ErrTooManyPages.
//
// History pages the meeting history by the same rules (500 meetings a page,
// the documented maximum). ListPaged and History also return a Listing: the
// count the answers declared, each page (offset, limit, count, rows, new
// rows) and the distinct conferences the pages held, so that a caller can
// report a list whose pages add up to fewer or more than its count
// (Listing.CountDiff): a finding in itself.
//
// # Meeting history and evidence
//
// History lists the ended meetings of a window; every row must carry a
// confUUID and isHasRecordFile (the meeting has recording files), or the
// call fails (ErrBadResponse): unknown is not false. HistoryDetail (the
// meeting and its invited participants), AttendeeRecords (who joined, when)
// and ControlRecords (who started and stopped the recording) fetch every
// page of one conference, asking 500 rows a page with row offsets, until
// count rows are read or a page comes back short (a page repeating the rows
// of the last one fails with ErrTooManyPages). Each keeps every page's
// body as received (Page.Body: valid JSON, not redacted) beside the decoded
// rows; HistoryDetail's conferenceData must be about the meeting asked for
// (ErrResponseMismatch), while attendee and control records do not say
// which meeting they are about. The attendee and control records are asked
// in Config.Language (Accept-Language, en-US by default).
//
// A refusal to a user who is not an administrator (403, MMC.111070002,
// MMC.111070010) errors.Is ErrNotPermitted; an API this deployment does not
// have (404 APIG.0101) ErrNotDeployed; an unknown meeting ErrNotFound.
//
// API calls per conference, each on a quota (and a client limiter) of its
// own: "history" one per 500 meetings of the window plus one probe when
// there is more than one page; "historydetail", "attendees" and
// "ctlrecords" one each per conference and per 500 rows (in practice one).
//
// # Answers are checked against their requests
//
// Every confUUID argument is normalised first (NormalizeConfUUID: 32
// lower-case hexadecimal digits; a malformed one wraps ErrInvalidConfUUID and
// sends nothing). Every answer about a conference must be about the one
// asked for, and a missing field is unknown, never false or zero, so an
// answer is refused, with a *ValidationError naming the field and the
// values, when:
//
//   - its confUUID (details; downloadurls' confUuid; record info's
//     data.confUUID when a server sends one) is another conference's,
//     compared case-insensitively: ErrResponseMismatch ("response-mismatch");
//   - details or a list row lacks confUUID, available or isDecodeFinish, a
//     downloadurls entry lacks confUuid, or a value is impossible (rcdSize
//     negative or above 16 TiB, a record info sha256 that is not 64
//     hexadecimal digits, a fileSize negative or above 16 TiB): ErrBadResponse
//     ("bad-response");
//   - link paging does not end (every page full for 100 pages, or a page
//     repeating links already listed): ErrTooManyPages ("too-many-pages").
//
// One bad list row fails the whole List call. None of these is retried.
// "Meeting does not exist" (MMC.111070005, MMC.111072065) on details, links,
// record info, delete, history detail, attendee or control records wraps
// ErrNotFound. Recording.Missing keeps which
// optional fields an answer left out.
//
// # Secrets
//
// No secret (app key, password, access token, download token, token= query
// values, HMAC signature) appears in an error, a log line or the %v of any
// type of this package: File.String and Credentials.String omit them, and
// every message from the server goes through package redact before it is
// cut. NewClient registers the credentials with redact, and the client
// registers every signature and access token it makes or obtains and every
// download token it uses, so that redact.String finds them in any text of
// the process, in any form (raw, base64, escaped), named or not.
package export

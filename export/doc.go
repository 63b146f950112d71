// Package export is the client for the Huawei Cloud Meeting API that meetarchive
// archives recordings from: authentication, recording details, download links,
// media streams, the recording list and deletion.
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
//   - one retry loop. ShouldRetry is the single retry decision; Backoff gives
//     capped exponential delays with full jitter and honours Retry-After. The
//     pipeline reuses both for whole-file retries.
//
//   - one rate limiter per API (details, downloadurls, recordinfo, list, delete,
//     auth) shared by all goroutines. Config.Rate is a ceiling; the client
//     goes lower on its own: it follows the gateway's
//     X-APIG-Ratelimit-Api header (limit per window), backs off
//     multiplicatively on a 429 or APIG.0308 and creeps back additively on
//     success, and on throttling the whole client pauses together until the
//     Retry-After time (or one second) has passed.
//
// # Download links
//
// Tokens in download links are single use, so Links asks for fresh links on
// every call and OpenMedia never retries: a caller that must retry a download
// calls Links again and opens the new link. With LinkSource "auto" the client
// tries record info first (it gives each file's size and SHA-256) and, the
// first time record info answers 403, 404, 405 or 501 (not enabled), falls back
// to downloadurls for the rest of the client's life.
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
// page is empty, when count is unknown and a page is short, or when a page
// brings no new row (loop guard), with a hard cap on the number of pages.
//
// # Secrets
//
// No secret (app key, password, access token, download token, token= query
// values) appears in an error, a log line or the %v of any type of this
// package: File.String and Credentials.String omit them and every message from
// the server is redacted.
package export

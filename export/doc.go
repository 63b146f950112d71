// Package export is the client of the Huawei Cloud Meeting API that
// meetarchive archives recordings from: authentication, recording details,
// download links, media streams, the recording list and deletion; and the
// meeting history (list, detail, attendee and control records) that a
// completeness check and the evidence around a recording come from.
//
// The main types:
//
//   - Client (NewClient, Config, Credentials): one per run, shared by every
//     worker. It holds the access token, the retry loop and the rate
//     limiters of every API (see Client and limits).
//   - Recording (Details, List, ListPaged with its Listing), File (Links:
//     fresh, single-use download links; see LinkSource) and Media
//     (OpenMedia, OpenMediaAt: a download stream, resumable by Range).
//   - HistoryList, HistoryDetail and Records (History, HistoryDetail,
//     AttendeeRecords, ControlRecords): the meeting history, every page's
//     body kept as received beside the decoded rows.
//   - Backoff and ShouldRetry: the one retry policy and the one retry
//     decision, which the pipeline reuses for whole-file retries.
//   - Errors: sentinels for errors.Is (ErrAuth, ErrNotFound, ErrLinkExpired,
//     ErrTooManyPages, ...), *APIError for an answer with an error code,
//     *ValidationError for an answer that cannot be trusted (about another
//     conference, a field missing, an impossible value); ErrorCode gives the
//     report's code of any of them.
//
// Every answer is checked against its request, and a missing field is
// unknown, never false or zero (see ValidationError); list paging is
// pager's; no secret appears in an error, a log line or the %v of any type
// of this package (see secrets.go).
package export

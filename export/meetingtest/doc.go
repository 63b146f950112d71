// Package meetingtest is an in-process simulator of the Huawei Cloud
// Meeting API for tests, in the manner of net/http/httptest: Start (or
// NewServer) starts it on a loopback port, Server.URL is its base URL,
// Close stops it, and Counters, Served, FileSHA256 and Deleted let a test
// check what a client did. Serve runs the same handler as a process
// (`meetarchive simulate`).
//
// It follows the Meeting API's documented wire format (sdk_test.go replays
// the official Go SDK's requests against it): field names, status codes,
// error bodies {"error_code","error_msg","request_id"} with the
// X-Request-Id header, single-use download tokens, a real HMAC check, the
// gateway's rate limit headers and quotas.
//
// The main types:
//
//   - Config: how the simulator behaves (credentials, token and link
//     lifetimes, rate limits and quotas, media rate and Range support,
//     history retention, faults).
//   - Dataset (Conference, File, Meeting, History): what it serves.
//     Generate, GenerateFiles and SampleDataset make one, LoadDataset reads
//     one.
//   - Fault (ParseFault, ParseFaults): a failure injected on an endpoint,
//     from an error status to a stalled media body or an answer a careful
//     client must not trust.
//   - Server: the running simulator, what it counted (Counters, Served) and
//     the changes a test makes while it runs (DeleteConference, AddFile,
//     AddMeeting, SetFaults).
//
// Each part of the contract is documented beside its code: the endpoints
// and the recording APIs in api.go, authentication in auth.go, the meeting
// history in history.go, media in media.go, the gateway's limits and
// quotas in gateway.go, faults in faults.go, and what a completeness check
// must find in mutate.go. The README's `simulate` section gives the same
// as flags.
//
// Beware: Go's http.Transport silently resends an idempotent request (GET,
// DELETE) once when a reused keep-alive connection is reset before any
// answer, so a single "reset" fault (Times 1) is invisible to such a
// client; use Times >= 2, or fresh connections, to make it show.
package meetingtest

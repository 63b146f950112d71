package meetingtest

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

import (
	"fmt"
	"strings"
)

// Add puts a new conference into the running simulator, as the platform
// lists a recording once it exists: from then on the list API returns it
// (by its startTime, which may lie in the past: a recording listed late)
// and the other APIs know it. It fails for an invalid conference or a
// confUUID the simulator already knows (deleted ones and meetings
// included). Update changes a conference already there. Its History, when
// nil, is derived as for the dataset's conferences.
func (s *Server) Add(c Conference) error {
	if err := (Dataset{Conferences: []Conference{c}}).Validate(); err != nil {
		return fmt.Errorf("meetingtest: add: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.knownLocked(c.ConfUUID) {
		return fmt.Errorf("meetingtest: add: conference %s exists", c.ConfUUID)
	}
	c = c.clone()
	s.confs[c.ConfUUID] = &c
	s.order = append(s.order, c.ConfUUID)
	s.completeHistoriesLocked()
	return nil
}

// AddMeeting puts a new meeting without a recording into the running
// simulator's history. It fails for an invalid meeting or a confUUID the
// simulator already knows.
func (s *Server) AddMeeting(m Meeting) error {
	if err := (Dataset{Meetings: []Meeting{m}}).Validate(); err != nil {
		return fmt.Errorf("meetingtest: add meeting: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.knownLocked(m.ConfUUID) {
		return fmt.Errorf("meetingtest: add meeting: conference %s exists", m.ConfUUID)
	}
	m = m.clone()
	s.meetings[m.ConfUUID] = &m
	s.meetingOrder = append(s.meetingOrder, m.ConfUUID)
	s.completeHistoriesLocked()
	return nil
}

func (s *Server) knownLocked(confUUID string) bool {
	_, c := s.confs[confUUID]
	_, m := s.meetings[confUUID]
	return c || m
}

// DeleteConference deletes a conference's recording as the delete API
// does (without counting in Counters.Deleted, which counts the API's
// deletions): from then on the recording APIs answer 400 MMC.111070005
// and the list leaves it out, while the meeting stays in the history with
// isHasRecordFile false. It fails for an unknown or already deleted
// conference.
func (s *Server) DeleteConference(confUUID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lookupLocked(confUUID) == nil {
		return fmt.Errorf("meetingtest: delete conference %s: unknown or already deleted", confUUID)
	}
	s.deleted[confUUID] = true
	return nil
}

// AddFile gives a conference one more file, as the platform may after a
// recording was archived (a late part, another stream): from then on
// downloadurls and record info list it and the media host serves it. It
// fails for an unknown or deleted conference, an invalid file, or a file
// type and name the conference has already. Safe for concurrent use with
// the server.
func (s *Server) AddFile(confUUID string, f File) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookupLocked(confUUID)
	if c == nil {
		return fmt.Errorf("meetingtest: add file to %s: unknown or deleted conference", confUUID)
	}
	if err := checkNewFile(c.Files, f); err != nil {
		return fmt.Errorf("meetingtest: add file to %s: %w", confUUID, err)
	}
	c.Files = append(c.Files, f)
	return nil
}

// checkNewFile checks a file to be added to a conference that has files:
// a file type of the downloadurls API, a name, a size, and no file of that
// type and name there already.
func checkNewFile(files []File, f File) error {
	switch f.FileType {
	case FileTypeAux, FileTypeHd, FileTypeSd:
	default:
		return fmt.Errorf("fileType %q: want Aux, Hd or Sd", f.FileType)
	}
	if f.Name == "" || strings.ContainsAny(f.Name, "/\x00") || f.Size < 0 {
		return fmt.Errorf("bad name %q or negative size %d", f.Name, f.Size)
	}
	for _, g := range files {
		if g.FileType == f.FileType && g.Name == f.Name {
			return fmt.Errorf("%s/%s exists already", f.FileType, f.Name)
		}
	}
	return nil
}

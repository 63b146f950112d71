package meetingtest

import "fmt"

// Add puts a new conference into the running simulator, as the platform
// lists a recording once it exists: from then on the list API returns it
// (by its startTime, which may lie in the past: a recording listed late)
// and the other APIs know it. It fails for an invalid conference or a
// confUUID the simulator already knows (deleted ones included). Update
// changes a conference already there.
func (s *Server) Add(c Conference) error {
	if err := (Dataset{Conferences: []Conference{c}}).Validate(); err != nil {
		return fmt.Errorf("meetingtest: add: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.confs[c.ConfUUID]; ok {
		return fmt.Errorf("meetingtest: add: conference %s exists", c.ConfUUID)
	}
	c = c.clone()
	s.confs[c.ConfUUID] = &c
	s.order = append(s.order, c.ConfUUID)
	return nil
}

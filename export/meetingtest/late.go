package meetingtest

import (
	"fmt"
	"strconv"
	"strings"
)

// LateFile is a file the platform lists for a conference only after a
// first run archived it (a late part, another stream), for a simulator
// run as a process (`meetarchive simulate --late-file`), where AddFile
// cannot be called between runs: it is added to its conference, as
// AddFile does, once the simulator has served a file of that conference
// in full. A run that fetched the conference's links before then archives
// it as it was; the next run that asks for its links finds the file.
type LateFile struct {
	ConfUUID string
	File     File
}

// validateLateFiles checks each late file against the dataset: a known
// conference, a file type of the downloadurls API, a name, a size, and no
// file of that type and name there already (nor twice).
func (c Config) validateLateFiles() error {
	seen := map[string]bool{}
	for i, l := range c.LateFiles {
		conf, ok := c.Dataset.Conference(l.ConfUUID)
		if !ok {
			return fmt.Errorf("meetingtest: config: late file %d: conference %q is not in the dataset", i, l.ConfUUID)
		}
		if err := checkNewFile(conf.Files, l.File); err != nil {
			return fmt.Errorf("meetingtest: config: late file %d (conference %s): %w", i, l.ConfUUID, err)
		}
		id := l.ConfUUID + " " + l.File.FileType + "/" + l.File.Name
		if seen[id] {
			return fmt.Errorf("meetingtest: config: late file %d: %s given twice", i, id)
		}
		seen[id] = true
	}
	return nil
}

func lateByConf(files []LateFile) map[string][]File {
	m := map[string][]File{}
	for _, l := range files {
		m[l.ConfUUID] = append(m[l.ConfUUID], l.File)
	}
	return m
}

// addLateFilesLocked adds confUUID's late files to it (once: the first
// file served in full of it calls it). s.mu is held.
func (s *Server) addLateFilesLocked(confUUID string) {
	files, ok := s.late[confUUID]
	if !ok {
		return
	}
	delete(s.late, confUUID)
	if c := s.lookupLocked(confUUID); c != nil {
		c.Files = append(c.Files, files...)
	}
}

// ParseLateFile reads a late file as `meetarchive simulate --late-file`
// gives it: CONFUUID:TYPE/NAME[:SIZE] (SIZE in bytes; default 1 MiB).
func ParseLateFile(s string) (LateFile, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return LateFile{}, fmt.Errorf("late file %q: want CONFUUID:TYPE/NAME[:SIZE]", s)
	}
	typ, name, ok := strings.Cut(parts[1], "/")
	if !ok {
		return LateFile{}, fmt.Errorf("late file %q: want TYPE/NAME after the confUUID", s)
	}
	l := LateFile{ConfUUID: parts[0], File: File{FileType: typ, Name: name, Size: 1 << 20}}
	if len(parts) == 3 {
		n, err := strconv.ParseInt(parts[2], 10, 64)
		if err != nil {
			return LateFile{}, fmt.Errorf("late file %q: size: want a number of bytes: %w", s, err)
		}
		l.File.Size = n
	}
	return l, nil
}

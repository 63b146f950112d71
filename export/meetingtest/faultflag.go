package meetingtest

import "fmt"

// FaultFlag is a repeatable flag of faults (flag.Value): each use adds one
// fault in the form ParseFault reads, for example media:truncate:times=1
// or details:throttle:retry-after=2s:times=3.
type FaultFlag []Fault

func (f *FaultFlag) String() string { return fmt.Sprintf("%d faults", len(*f)) }

// Set parses one fault (ParseFault) and adds it.
func (f *FaultFlag) Set(s string) error {
	fl, err := ParseFault(s)
	if err != nil {
		return err
	}
	*f = append(*f, fl)
	return nil
}

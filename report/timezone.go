package report

import (
	"fmt"
	"time"
)

// Times in the report. The platform's startTime ("2019-12-19 02:07")
// carries no zone; like every other time the platform gives (epoch
// milliseconds), it is taken as UTC, and the report says so
// (Summary.PlatformTimes, the Summary sheet, summary.html). A run given a
// time zone (RunInfo.TimeZone, an IANA name such as "Europe/Berlin") adds
// each row's start time in that zone (Row.StartTimeLocal, the
// startTimeLocal column), computed when the row is added; nothing stored
// or reported in UTC changes.

// PlatformTimesUTC is Summary.PlatformTimes: the zone the platform's times
// are read in.
const PlatformTimesUTC = "UTC"

// platformTimesNote is the Summary sheet's line about it.
const platformTimesNote = "UTC (the platform's startTime carries no zone; it is taken as UTC, as its epoch times are)"

// LoadZone is the location of an IANA time-zone name ("" is UTC), with an
// error naming it when it is unknown. "Local", which time.LoadLocation
// takes for the machine's own zone, is not such a name: the report would
// record a word, not the zone its times were rendered in.
func LoadZone(name string) (*time.Location, error) {
	switch name {
	case "":
		return time.UTC, nil
	case "Local":
		return nil, fmt.Errorf("time zone %q: not an IANA time-zone name but this machine's zone, which differs from machine to machine (give its name, such as Europe/Berlin or UTC)", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: not an IANA time-zone name (such as Europe/Berlin or UTC): %w", name, err)
	}
	return loc, nil
}

// LocalStartTime is the platform's startTime (UTC wall clock) on the wall
// clock of loc, in the platform's layout ("2006-01-02 15:04"); "" when
// startTime cannot be read or loc is nil.
func LocalStartTime(startTime string, loc *time.Location) string {
	t, ok := parseWallTime(startTime)
	if !ok || loc == nil {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

// zoneOrNone is the Summary sheet's value of the run's time zone.
func zoneOrNone(name string) string {
	if name == "" {
		return "none (no --time-zone)"
	}
	return name
}

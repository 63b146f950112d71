package main

import (
	"errors"
	"flag"
	"time"

	"meetarchive/archive"
	"meetarchive/report"
	_ "time/tzdata" // --time-zone names resolve in a container without a zoneinfo database
)

// updatedFlags are run's flags for files added later (--recheck) and time
// zones (--time-zone).
type updatedFlags struct {
	Recheck  bool
	TimeZone string
}

// register binds them.
func (u *updatedFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&u.Recheck, "recheck", false, "ask the platform for the files of every conference found archived (one links call each, plus a details call with --input) and archive the files it lists now that the archive lacks (status updated); without it, only conferences whose listed details changed, and those of a --since-last run, are asked")
	fs.Var((*zoneName)(&u.TimeZone), "time-zone", "IANA time-zone `name` (Europe/Berlin, UTC) for the startTimeLocal column and the key template's LocalYear, LocalMonth, LocalDay and LocalStart; not Local, which depends on the machine; platform times stay UTC (default UTC)")
}

// zoneName is --time-zone's value: an IANA name. "Local" (the machine's
// own zone, which another machine does not share, recorded as the word
// "Local") and an empty value are refused; the default (none) is UTC.
type zoneName string

func (z *zoneName) String() string { return string(*z) }

func (z *zoneName) Set(s string) error {
	switch s {
	case "":
		return errors.New("an IANA time-zone name is needed (such as Europe/Berlin or UTC)")
	case "Local":
		return errors.New("\"Local\" is this machine's zone, which differs from machine to machine: give its IANA name (such as Europe/Berlin or UTC)")
	}
	*z = zoneName(s)
	return nil
}

// updatedPlan is what the flags decide.
type updatedPlan struct {
	recheck string         // pipeline.Options.Recheck
	zone    string         // report.RunInfo.TimeZone ("" without --time-zone)
	loc     *time.Location // of the key template's Local fields
}

// plan validates them (a usage error names the bad flag) for a run that is
// --since-last or not and --force or not.
func (u updatedFlags) plan(sinceLast, force bool) (updatedPlan, error) {
	var p updatedPlan
	if u.Recheck && force {
		return p, usagef("run: --force archives everything again; --recheck conflicts with it")
	}
	loc, err := report.LoadZone(u.TimeZone)
	if err != nil {
		return p, usagef("run: invalid value for --time-zone: %v", err)
	}
	p.zone, p.loc = u.TimeZone, loc
	switch {
	case u.Recheck:
		p.recheck = "--recheck"
	case sinceLast:
		p.recheck = "--since-last re-checks the conferences its window lists"
	}
	return p, nil
}

// apply puts the plan into the run's: the pipeline's recheck, the key
// template's zone, the report's options.
func (p updatedPlan) apply(keys *archive.KeyTemplate, recheck *string, options map[string]string) *archive.KeyTemplate {
	*recheck = p.recheck
	if p.recheck != "" {
		options["recheck"] = p.recheck
	}
	if p.zone != "" {
		options["timeZone"] = p.zone
	}
	return keys.InZone(p.loc)
}

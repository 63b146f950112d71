package meetingtest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseFault reads a fault from its flag form
//
//	endpoint:kind[:key=value...]
//
// with keys status, code, retry-after, latency (Go durations; a bare number
// is seconds), conf (ConfUUID), times, p (Probability) and at (the Offset
// in bytes of a media truncate, reset, stall, chunked or close, or "random"
// for RandomOffset). Examples:
// "details:status:status=503:times=2", "media:latency:latency=2s",
// "downloadurls:throttle:retry-after=3", "media:flip:conf=<uuid>",
// "media:truncate:at=random:times=3", "media:stall:at=10",
// "media:stall:at=10:latency=500ms" (a trickle), "media:chunked",
// "media:close:at=1000"; answer faults (see the package
// documentation): "details:otherconf", "details:upperconf", "details:noconf",
// "list:noavailable", "details:nodecode", "recordinfo:badsha",
// "details:negsize", "downloadurls:endless", "history:nohasrecord"; and
// "list:omit:conf=<uuid>" (a recording the list leaves out).
func ParseFault(spec string) (Fault, error) {
	parts := strings.Split(strings.TrimSpace(spec), ":")
	if len(parts) < 2 {
		return Fault{}, fmt.Errorf("meetingtest: fault %q: want endpoint:kind[:key=value...]", spec)
	}
	f := Fault{Endpoint: strings.ToLower(parts[0]), Kind: strings.ToLower(parts[1])}
	for _, kv := range parts[2:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return Fault{}, fmt.Errorf("meetingtest: fault %q: option %q: want key=value", spec, kv)
		}
		var err error
		switch strings.ToLower(k) {
		case "status":
			f.Status, err = strconv.Atoi(v)
		case "code":
			f.Code = v
		case "retry-after", "retryafter":
			f.RetryAfter, err = parseSeconds(v)
		case "latency":
			f.Latency, err = parseSeconds(v)
		case "conf", "confuuid":
			f.ConfUUID = v
		case "times":
			f.Times, err = strconv.Atoi(v)
		case "p", "probability":
			f.Probability, err = strconv.ParseFloat(v, 64)
		case "at", "offset":
			if strings.EqualFold(v, "random") {
				f.RandomOffset = true
			} else {
				f.Offset, err = strconv.ParseInt(v, 10, 64)
			}
		default:
			err = fmt.Errorf("unknown option")
		}
		if err != nil {
			return Fault{}, fmt.Errorf("meetingtest: fault %q: option %q: %w", spec, kv, err)
		}
	}
	if err := (Config{Faults: []Fault{f}}).Validate(); err != nil {
		return Fault{}, fmt.Errorf("meetingtest: fault %q: %w", spec, err)
	}
	return f, nil
}

// ParseFaults reads comma-separated fault specs (see ParseFault); "" is none.
func ParseFaults(specs string) ([]Fault, error) {
	var out []Fault
	for _, sp := range strings.Split(specs, ",") {
		if strings.TrimSpace(sp) == "" {
			continue
		}
		f, err := ParseFault(sp)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// String is the fault's flag form (ParseFault reads it back; Message is not
// part of it).
func (f Fault) String() string {
	var b strings.Builder
	b.WriteString(f.Endpoint + ":" + f.Kind)
	if f.Status != 0 {
		fmt.Fprintf(&b, ":status=%d", f.Status)
	}
	if f.Code != "" {
		b.WriteString(":code=" + f.Code)
	}
	if f.RetryAfter != 0 {
		b.WriteString(":retry-after=" + f.RetryAfter.String())
	}
	if f.Latency != 0 {
		b.WriteString(":latency=" + f.Latency.String())
	}
	if f.ConfUUID != "" {
		b.WriteString(":conf=" + f.ConfUUID)
	}
	if f.Times != 0 {
		fmt.Fprintf(&b, ":times=%d", f.Times)
	}
	if f.Probability != 0 {
		b.WriteString(":p=" + strconv.FormatFloat(f.Probability, 'g', -1, 64))
	}
	if f.RandomOffset {
		b.WriteString(":at=random")
	} else if f.Offset != 0 {
		fmt.Fprintf(&b, ":at=%d", f.Offset)
	}
	return b.String()
}

func parseSeconds(v string) (time.Duration, error) {
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Duration(n * float64(time.Second)), nil
	}
	return time.ParseDuration(v)
}

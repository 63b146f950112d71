package report

import (
	"strconv"
	"strings"
	"testing"
)

// TestLoadZone: IANA names and "" (UTC) load; "Local" and unknown names
// are errors naming the value.
func TestLoadZone(t *testing.T) {
	tests := []struct {
		name, zone string
		want       string // the location's name; "" for an error
	}{
		{"empty is UTC", "", "UTC"},
		{"UTC", "UTC", "UTC"},
		{"Europe/Berlin", "Europe/Berlin", "Europe/Berlin"},
		{"Local is refused", "Local", ""},
		{"unknown", "Europe/Atlantis", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			loc, err := LoadZone(tc.zone)
			switch {
			case tc.want == "" && err == nil:
				t.Errorf("LoadZone(%q) = %v, want an error", tc.zone, loc)
			case tc.want != "" && err != nil:
				t.Errorf("LoadZone(%q): %v, want %s", tc.zone, err, tc.want)
			case tc.want != "" && loc.String() != tc.want:
				t.Errorf("LoadZone(%q) = %s, want %s", tc.zone, loc, tc.want)
			case err != nil && tc.zone != "" && !strings.Contains(err.Error(), strconv.Quote(tc.zone)):
				t.Errorf("LoadZone(%q): error %q does not name the value", tc.zone, err)
			}
		})
	}
}

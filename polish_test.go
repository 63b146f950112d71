package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// helpCommands are the commands `meetarchive help` lists (version aside),
// in its order: the help tests cover every command a user is shown,
// without a list of their own to keep up to date.
func helpCommands(t *testing.T) []string {
	t.Helper()
	res := runBin(t, nil, "help")
	if res.code != 0 {
		t.Fatalf("help: exit %d\n%s", res.code, res.stderr)
	}
	var cmds []string
	for _, line := range strings.Split(res.stdout, "\n") {
		rest, ok := strings.CutPrefix(line, "  meetarchive ")
		if !ok {
			continue
		}
		if cmd := strings.Fields(rest)[0]; cmd != "version" && !slices.Contains(cmds, cmd) {
			cmds = append(cmds, cmd)
		}
	}
	if len(cmds) == 0 {
		t.Fatalf("help lists no command:\n%s", res.stdout)
	}
	return cmds
}

var helpFlagLine = regexp.MustCompile(`^  --([a-z0-9-]+)`)

// flagsWithoutEnv are the flags of a command's --help whose description
// does not name their environment twin ([$MEETARCHIVE_<FLAG>]).
func flagsWithoutEnv(help string) []string {
	var missing []string
	lines := strings.Split(help, "\n")
	for i, line := range lines {
		m := helpFlagLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		desc := ""
		for _, l := range lines[i+1:] {
			if !strings.HasPrefix(l, "      ") {
				break
			}
			desc += l
		}
		if !strings.Contains(desc, "[$"+envName(m[1])+"]") {
			missing = append(missing, m[1])
		}
	}
	return missing
}

// TestHelpCommands: the command list the help tests take from `help`
// holds the commands added since the list was written by hand.
func TestHelpCommands(t *testing.T) {
	got := helpCommands(t)
	for _, want := range []string{"run", "list", "verify", "reconcile", "bag", "merge", "report", "keygen", "simulate", "demo"} {
		if !slices.Contains(got, want) {
			t.Errorf("help lists %v, want %s among them", got, want)
		}
	}
}

// TestFlagsWithoutEnv: the env-twin check finds a flag without its twin.
func TestFlagsWithoutEnv(t *testing.T) {
	tests := []struct {
		name, help string
		want       []string
	}{
		{"every twin", "  --dest string\n      destination [$MEETARCHIVE_DEST]\n  --all-users\n      all [$MEETARCHIVE_ALL_USERS]\n", nil},
		{"one missing", "  --dest string\n      destination\n  --all-users\n      all [$MEETARCHIVE_ALL_USERS]\n", []string{"dest"}},
		{"another flag's twin", "  --dest string\n      destination [$MEETARCHIVE_OUT]\n", []string{"dest"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := flagsWithoutEnv(tt.help); !slices.Equal(got, tt.want) {
				t.Errorf("flagsWithoutEnv = %v, want %v", got, tt.want)
			}
		})
	}
}

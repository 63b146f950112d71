//go:build race

package meetingtest

const raceEnabled = true

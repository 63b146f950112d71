//go:build !race

package meetingtest

const raceEnabled = false

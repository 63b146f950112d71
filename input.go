package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// inputItem is one line of the input CSV, in input order.
type inputItem struct {
	Seq      int    // 0-based position among the non-blank data rows
	Line     int    // 1-based line number in the file, for messages
	ConfUUID string // trimmed value as given
	Problem  string // "" (valid), "invalid-input" or "duplicate-input"
	Detail   string // why, for the report's errorMessage
}

const (
	problemInvalid   = "invalid-input"
	problemDuplicate = "duplicate-input"
)

// readInput parses the input CSV: with or without a header row (a confUUID
// column in any case, else the first column), a UTF-8 BOM, CRLF line ends,
// blank lines and surrounding spaces. Malformed and repeated UUIDs come back
// as items with a Problem; only an unreadable file is an error.
func readInput(r io.Reader) ([]inputItem, error) {
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true

	var (
		items  []inputItem
		col    = 0
		first  = true
		seen   = make(map[string]int) // normalised uuid -> seq of first occurrence
		seq    = 0
		record []string
		err    error
	)
	for {
		record, err = cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("input: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if isBlankRecord(record) {
			continue
		}
		if first {
			first = false
			if c, ok := headerColumn(record); ok {
				col = c
				continue
			}
		}
		value := ""
		if col < len(record) {
			value = strings.TrimSpace(record[col])
		}
		it := inputItem{Seq: seq, Line: line, ConfUUID: value}
		seq++
		switch norm := strings.ToLower(value); {
		case !validConfUUID(value):
			it.Problem = problemInvalid
			it.Detail = fmt.Sprintf("line %d: %q is not a conference UUID (32 hexadecimal characters)", line, clip(value, 80))
		case seen[norm] > 0:
			it.Problem = problemDuplicate
			it.Detail = fmt.Sprintf("line %d: repeats the conference of input row %d", line, seen[norm])
		default:
			seen[norm] = it.Seq + 1
		}
		items = append(items, it)
	}
	return items, nil
}

// headerColumn reports whether record is a header row and which column holds
// the UUIDs: a cell named confUUID (any case), or, when the first cell is a
// word rather than an identifier, the first column.
func headerColumn(record []string) (int, bool) {
	for i, cell := range record {
		if strings.EqualFold(strings.TrimSpace(cell), "confUUID") {
			return i, true
		}
	}
	first := strings.TrimSpace(record[0])
	if validConfUUID(first) || first == "" {
		return 0, false
	}
	for _, r := range first {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r == '_' || r == ' ' {
			continue
		}
		return 0, false
	}
	// Hex-only words ("face", "cafe") are not UUIDs either; a word is a header.
	return 0, true
}

func isBlankRecord(record []string) bool {
	for _, c := range record {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// validConfUUID accepts the API's form: 32 hexadecimal characters, or the
// same with the dashes of the 8-4-4-4-12 layout.
func validConfUUID(s string) bool {
	switch len(s) {
	case 32:
		return isHex(s)
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return false
		}
		return isHex(s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:])
	}
	return false
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// clip shortens s to at most n runes for messages.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

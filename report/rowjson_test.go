package report

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// fullRow returns a row with every field of Row set (by reflection, so a
// field added later is covered), its text fields set to text.
func fullRow(t *testing.T, text string) Row {
	t.Helper()
	var r Row
	v := reflect.ValueOf(&r).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(text + v.Type().Field(i).Name)
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(1000 + i))
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Pointer:
			e := reflect.New(f.Type().Elem())
			switch e.Elem().Kind() {
			case reflect.Int:
				e.Elem().SetInt(int64(i))
			case reflect.Bool:
				e.Elem().SetBool(i%2 == 0)
			default:
				t.Fatalf("field %s: pointer to %v not covered by this test", v.Type().Field(i).Name, e.Elem().Kind())
			}
			f.Set(e)
		case reflect.Struct:
			if f.Type() != reflect.TypeFor[time.Time]() {
				t.Fatalf("field %s: %v not covered by this test", v.Type().Field(i).Name, f.Type())
			}
			f.Set(reflect.ValueOf(time.Date(2026, 2, 27, 15, 59, 58, 123456789, time.UTC).Add(time.Duration(i) * time.Hour)))
		default:
			t.Fatalf("field %s: %v not covered by this test", v.Type().Field(i).Name, f.Kind())
		}
	}
	return r
}

// TestDecodeRowLine: the fast decoder reads every field of every journal
// row json.Marshal writes, exactly as encoding/json does, and lines it
// does not expect still decode (through encoding/json).
func TestDecodeRowLine(t *testing.T) {
	falseV, zero := false, 0
	rows := map[string]Row{
		"every field":         fullRow(t, "plain "),
		"escapes":             fullRow(t, "quote \" backslash \\ <tag> & amp\nLF\tTAB\r CR \x01 \u2028 日本語 😀 "),
		"empty":               {},
		"zero pointers":       {Seq: 3, RecordAuthType: &zero, IsDecodeFinish: &falseV, Available: &falseV, RcdSize: &zero},
		"negative and large":  {Seq: 1<<31 - 1, Bytes: -5, EstimatedBytes: 1 << 62},
		"cancelled, no start": {Seq: 12, ConfUUID: "1027c4d1c386bbc4cd613e30d8f16adf", Status: Cancelled, ErrorCode: "fatal", Hint: "rerun", FinishedAt: t0},
	}
	for name, r := range rows {
		t.Run(name, func(t *testing.T) {
			line, err := json.Marshal(record{Row: &r})
			if err != nil {
				t.Fatal(err)
			}
			var want record
			if err := json.Unmarshal(line, &want); err != nil {
				t.Fatal(err)
			}
			got, err := fastRow(line)
			if err != nil {
				t.Fatalf("fast path refused %s: %v", line, err)
			}
			if !reflect.DeepEqual(got, *want.Row) {
				t.Errorf("fast path = %+v\nwant %+v", got, *want.Row)
			}
		})
	}
	for _, tc := range []struct {
		name, line string
		want       Row
		ok         bool
	}{
		{"spaces", `{"row": {"seq": 4, "status": "failed"}}`, Row{Seq: 4, Status: Failed}, true},
		{"unknown field", `{"row":{"seq":5,"future":[1,{"a":2}],"status":"archived"}}`, Row{Seq: 5, Status: Archived}, true},
		{"null", `{"row":{"seq":6,"rcdSize":null}}`, Row{Seq: 6}, true},
		{"invalid UTF-8", "{\"row\":{\"seq\":7,\"subject\":\"a\xffb\"}}", Row{Seq: 7, Subject: "a\uFFFDb"}, true},
		{"lone surrogate", `{"row":{"seq":8,"subject":"a\ud800b"}}`, Row{Seq: 8, Subject: "a\uFFFDb"}, true},
		{"not a row", `{"plan":{"seq":1}}`, Row{}, false},
		{"torn", `{"row":{"seq":9,"subj`, Row{}, false},
		{"float seq", `{"row":{"seq":1.5}}`, Row{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeRowLine([]byte(tc.line))
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok %v", err, tc.ok)
			}
			if tc.ok && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestAppendRowLine: the journal's row encoder writes what json.Marshal
// writes (byte for byte when no text needs HTML escaping), and what it
// writes reads back to the same row, for every field of Row.
func TestAppendRowLine(t *testing.T) {
	falseV, zero := false, 0
	rows := map[string]struct {
		r         Row
		sameBytes bool
	}{
		"every field":   {fullRow(t, "plain "), true},
		"escapes":       {fullRow(t, "quote \" backslash \\ <tag> & amp\nLF\tTAB\r CR \x01 \u2028 日本語 😀 "), false},
		"empty":         {Row{}, true},
		"zero pointers": {Row{Seq: 3, RecordAuthType: &zero, IsDecodeFinish: &falseV, Available: &falseV, RcdSize: &zero}, true},
		"local time":    {Row{Seq: 4, FinishedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 3600))}, true},
		"fatal":         {Row{Seq: 12, ConfUUID: "1027c4d1c386bbc4cd613e30d8f16adf", Status: Cancelled, ErrorCode: "fatal", Hint: "rerun", FinishedAt: t0}, true},
	}
	for name, tc := range rows {
		t.Run(name, func(t *testing.T) {
			got, err := appendRowLine(nil, &tc.r)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(record{Row: &tc.r})
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, '\n')
			if tc.sameBytes && string(got) != string(want) {
				t.Errorf("line\n%s\nwant\n%s", got, want)
			}
			var a, b record
			if err := json.Unmarshal(got, &a); err != nil {
				t.Fatalf("%s: %v", got, err)
			}
			if err := json.Unmarshal(want, &b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(a, b) {
				t.Errorf("reads back as %+v\nwant %+v", *a.Row, *b.Row)
			}
			if _, err := fastRow(got[:len(got)-1]); err != nil {
				t.Errorf("fast decoder refused %s: %v", got, err)
			}
		})
	}
	t.Run("year out of range", func(t *testing.T) {
		r := Row{FinishedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
		if _, err := appendRowLine(nil, &r); err == nil {
			t.Error("no error for year 10000")
		}
	})
}

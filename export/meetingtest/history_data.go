package meetingtest

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// History is what the meeting-history APIs say of one meeting, besides what
// Conference (or Meeting) says already (confUUID, confID, subject,
// scheduserName, startTime, recordAuthType). Its JSON names are the API's.
//
// A conference or meeting without one gets one derived from its own fields
// and Config.Seed (deterministic: the same seed gives the same history): an
// end time after the recording, the scheduler as host among 2 to 6 invited
// participants, attendee records of most of them (one rejoins), and control
// records that start and stop the recording (when there is one), plus a few
// other operations. A History given in the dataset is served as it is,
// except that an empty ConferenceID is the confID and an empty EndTime is
// the start plus an hour.
type History struct {
	ConferenceID    string `json:"conferenceID,omitempty"` // meeting ID, shared by the runs of a recurring meeting; "" = confID
	EndTime         string `json:"endTime,omitempty"`      // StartTimeLayout, UTC
	UserUUID        string `json:"userUUID,omitempty"`     // the scheduler's UUID
	RecordType      int    `json:"recordType"`             // 0 none, 1 live, 2 recording, 3 live and recording
	IsAutoRecord    int    `json:"isAutoRecord"`           // 1: cloud recording started automatically
	RecordAuxStream int    `json:"recordAuxStream"`        // 1: the shared screen is recorded
	ConfMode        string `json:"confMode,omitempty"`     // COMMON or RTC
	ConfType        string `json:"confType,omitempty"`     // FUTURE, IMMEDIATELY or CYCLE
	MediaTypes      string `json:"mediaTypes,omitempty"`   // comma list of Voice, Video, HDVideo, Data
	TimeZoneID      string `json:"timeZoneID,omitempty"`   // the vendor's time-zone table id

	Participants []Participant    `json:"participants,omitempty"` // invited (history detail)
	Attendees    []AttendeeRecord `json:"attendees,omitempty"`    // who joined (attendee records)
	Controls     []ControlRecord  `json:"controls,omitempty"`     // conference control log
}

// Participant is one invited participant (history detail's data.data[]).
type Participant struct {
	ParticipantID string `json:"participantID"`
	Name          string `json:"name"`
	Role          int    `json:"role"`         // 1 host, 0 other
	AttendeeType  string `json:"attendeeType"` // normal, terminal, outside, mobile
	AccountID     string `json:"accountId"`
	Email         string `json:"email"`
	SMS           string `json:"sms"`
	DeptName      string `json:"deptName"`
	UserUUID      string `json:"userUUID"`
	AppID         string `json:"appId"`
	IsAutoInvite  int    `json:"isAutoInvite"`
}

// AttendeeRecord is one join of the meeting (attendee records' data[]).
// DeviceType and MediaType are kept in English; answers in zh-CN translate
// the values the simulator knows (see localize).
type AttendeeRecord struct {
	DisplayName string `json:"displayName"`
	CallNumber  string `json:"callNumber"`
	DeviceType  string `json:"deviceType"`
	JoinTime    int64  `json:"joinTime"` // UTC epoch ms
	LeftTime    int64  `json:"leftTime"` // UTC epoch ms
	MediaType   string `json:"mediaType"`
	DeptName    string `json:"deptName"`
}

// ControlRecord is one conference-control operation (control records'
// data[]). Its texts are kept in English; zh-CN answers translate the ones
// the simulator knows.
type ControlRecord struct {
	OperateTime     int64  `json:"operateTime"` // UTC epoch ms
	OperateSource   string `json:"operateSource"`
	Operator        string `json:"operator"`
	OperateCode     string `json:"operateCode"` // a description, e.g. OperateStartRecording
	OperationObject string `json:"operationObject"`
	OperateResult   string `json:"operateResult"`
	Detail          string `json:"detail"`
}

// The control records a derived history has around a recording (the
// vendor does not enumerate operateCode: these are the simulator's).
const (
	OperateStartRecording = "Start recording"
	OperateStopRecording  = "Stop recording"
)

// Attendee types of Participant.AttendeeType.
const (
	AttendeeNormal   = "normal"
	AttendeeTerminal = "terminal"
	AttendeeOutside  = "outside"
	AttendeeMobile   = "mobile"
)

func (h *History) validate() error {
	if h == nil {
		return nil
	}
	if h.EndTime != "" {
		if _, err := time.Parse(StartTimeLayout, h.EndTime); err != nil {
			return fmt.Errorf("endTime %q: want layout %q", h.EndTime, StartTimeLayout)
		}
	}
	return nil
}

func (h *History) clone() *History {
	if h == nil {
		return nil
	}
	c := *h
	c.Participants = slices.Clone(h.Participants)
	c.Attendees = slices.Clone(h.Attendees)
	c.Controls = slices.Clone(h.Controls)
	return &c
}

// hisBase is what a history is derived from.
type hisBase struct {
	confUUID, confID, subject, scheduser, startTime string
	rcdTime                                         int // seconds; 0 = no recording
	recorded, aux, recurring                        bool
}

// complete fills a given history's defaults (see History).
func (h *History) complete(b hisBase) {
	if h.ConferenceID == "" {
		h.ConferenceID = b.confID
	}
	if h.EndTime == "" {
		st, _ := time.Parse(StartTimeLayout, b.startTime)
		h.EndTime = st.Add(time.Hour).Format(StartTimeLayout)
	}
}

var (
	genDepts   = []string{"Sales", "R&D", "Legal", "Finance", "研发部"}
	genRooms   = []string{"Room 5F-A", "Board room", "会议室 3"}
	genMedia   = []string{"Voice,Video,Data", "Voice,HDVideo,Data", "Voice,Data"}
	genOtherOp = []string{"Mute all", "Lock conference", "Invite participant", "Unmute all"}
)

// deriveHistory builds the history of b from the seed (see History).
func deriveHistory(seed int64, b hisBase) History {
	h := sha256.Sum256([]byte(b.confUUID))
	rng := rand.New(rand.NewPCG(uint64(seed), binary.LittleEndian.Uint64(h[:8])))
	start, err := time.Parse(StartTimeLayout, b.startTime)
	if err != nil {
		start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	host := b.scheduser
	if host == "" {
		host = "Administrator"
	}
	hist := History{
		ConferenceID: b.confID,
		UserUUID:     userUUID(host),
		ConfMode:     []string{"COMMON", "RTC"}[rng.IntN(2)],
		ConfType:     []string{"FUTURE", "IMMEDIATELY"}[rng.IntN(2)],
		MediaTypes:   genMedia[rng.IntN(len(genMedia))],
		TimeZoneID:   "56",
	}
	if b.recurring {
		hist.ConfType = "CYCLE"
	}
	// The recording runs from recStart for rcdTime; the meeting ends a few
	// minutes after it (or lasts 15 to 120 minutes without one).
	recStart := start.Add(time.Duration(rng.IntN(120)) * time.Second)
	end := start.Add(time.Duration(15+rng.IntN(106)) * time.Minute)
	if b.recorded {
		hist.RecordType = 2
		if rng.IntN(5) == 0 {
			hist.RecordType = 3
		}
		hist.IsAutoRecord = rng.IntN(2)
		if hist.IsAutoRecord == 1 {
			recStart = start
		}
		if b.aux {
			hist.RecordAuxStream = 1
		}
		end = recStart.Add(time.Duration(b.rcdTime)*time.Second + time.Duration(rng.IntN(600))*time.Second)
	}
	if end.Truncate(time.Minute) != end {
		end = end.Truncate(time.Minute).Add(time.Minute)
	}
	hist.EndTime = end.Format(StartTimeLayout)

	hist.Participants = deriveParticipants(rng, host)
	hist.Attendees = deriveAttendees(rng, hist.Participants, start, end)
	hist.Controls = deriveControls(rng, b, hist, host, start, recStart, end)
	return hist
}

func userUUID(name string) string {
	h := sha256.Sum256([]byte("user:" + name))
	return hex.EncodeToString(h[:16])
}

func deriveParticipants(rng *rand.Rand, host string) []Participant {
	n := 1 + rng.IntN(5)
	out := []Participant{newParticipant(rng, host, 1, AttendeeNormal, 0)}
	for i := 1; i <= n; i++ {
		typ := []string{AttendeeNormal, AttendeeNormal, AttendeeTerminal, AttendeeOutside, AttendeeMobile}[rng.IntN(5)]
		name := genNames[rng.IntN(len(genNames))]
		if typ == AttendeeTerminal {
			name = genRooms[rng.IntN(len(genRooms))]
		}
		if name == host {
			name += " (2)"
		}
		out = append(out, newParticipant(rng, name, 0, typ, i))
	}
	return out
}

func newParticipant(rng *rand.Rand, name string, role int, typ string, i int) Participant {
	p := Participant{
		ParticipantID: fmt.Sprintf("+99111%07d", rng.IntN(10000000)),
		Name:          name, Role: role, AttendeeType: typ,
		IsAutoInvite: rng.IntN(2),
	}
	switch typ {
	case AttendeeNormal:
		p.AccountID = fmt.Sprintf("user%02d", i)
		p.Email = fmt.Sprintf("user%02d@meetarchive.example", i)
		p.DeptName = genDepts[rng.IntN(len(genDepts))]
		p.UserUUID = userUUID(name)
		p.AppID = DefaultAppID
	case AttendeeTerminal:
		p.AccountID = fmt.Sprintf("room%02d", i)
		p.DeptName = genDepts[rng.IntN(len(genDepts))]
	case AttendeeMobile:
		p.SMS = p.ParticipantID
	}
	return p
}

// deriveAttendees: the host and about four in five of the others join
// (within five minutes of the start) and leave (within five minutes of the
// end); one of them, if any, dropped out once and rejoined.
func deriveAttendees(rng *rand.Rand, parts []Participant, start, end time.Time) []AttendeeRecord {
	span := end.Sub(start)
	var out []AttendeeRecord
	for i, p := range parts {
		if i > 0 && rng.IntN(5) == 0 {
			continue
		}
		join := start.Add(time.Duration(rng.Int64N(int64(min(5*time.Minute, span/4) + 1))))
		left := end.Add(-time.Duration(rng.Int64N(int64(min(5*time.Minute, span/4) + 1))))
		dev, media := "PC", "Video"
		switch p.AttendeeType {
		case AttendeeTerminal:
			dev = "Room terminal"
		case AttendeeMobile:
			dev, media = "Mobile", "Voice"
		}
		rec := AttendeeRecord{DisplayName: p.Name, CallNumber: p.ParticipantID, DeviceType: dev,
			JoinTime: join.UnixMilli(), LeftTime: left.UnixMilli(), MediaType: media, DeptName: p.DeptName}
		if i == 1 && left.Sub(join) > 2*time.Minute {
			mid := join.Add(left.Sub(join) / 2)
			first := rec
			first.LeftTime = mid.UnixMilli()
			rec.JoinTime = mid.Add(time.Minute).UnixMilli()
			out = append(out, first)
		}
		out = append(out, rec)
	}
	slices.SortStableFunc(out, func(a, b AttendeeRecord) int { return cmp.Compare(a.JoinTime, b.JoinTime) })
	return out
}

// deriveControls: the recording started (by the host, or by the system
// when automatic) and stopped rcdTime later, a few other operations, and
// the end of the meeting.
func deriveControls(rng *rand.Rand, b hisBase, h History, host string, start, recStart, end time.Time) []ControlRecord {
	op := func(at time.Time, source, operator, code, object string) ControlRecord {
		return ControlRecord{OperateTime: at.UnixMilli(), OperateSource: source, Operator: operator,
			OperateCode: code, OperationObject: object, OperateResult: "Success"}
	}
	var out []ControlRecord
	if b.recorded {
		src, who := "PC client", host
		if h.IsAutoRecord == 1 {
			src, who = "Server", "System"
		}
		out = append(out, op(recStart, src, who, OperateStartRecording, b.subject))
		stop := recStart.Add(time.Duration(b.rcdTime) * time.Second)
		out = append(out, op(stop, "PC client", host, OperateStopRecording, b.subject))
	}
	for range 1 + rng.IntN(3) {
		at := start.Add(time.Duration(rng.Int64N(int64(end.Sub(start)) + 1)))
		code := genOtherOp[rng.IntN(len(genOtherOp))]
		object := b.subject
		if code == "Invite participant" && len(h.Participants) > 1 {
			object = h.Participants[1+rng.IntN(len(h.Participants)-1)].Name
		}
		out = append(out, op(at, []string{"PC client", "Web portal", "Mobile client"}[rng.IntN(3)], host, code, object))
	}
	out = append(out, op(end, "PC client", host, "End conference", b.subject))
	slices.SortStableFunc(out, func(a, b ControlRecord) int { return cmp.Compare(a.OperateTime, b.OperateTime) })
	return out
}

// zhCN translates the English texts of derived records (the language of
// answers without Accept-Language, or with zh-CN). Other texts pass as
// they are.
var zhCN = map[string]string{
	"PC": "PC", "Room terminal": "会议室终端", "Mobile": "手机",
	"Video": "视频", "Voice": "语音",
	OperateStartRecording: "开始录制", OperateStopRecording: "停止录制",
	"Mute all": "全场静音", "Unmute all": "取消全场静音", "Lock conference": "锁定会议",
	"Invite participant": "邀请与会者", "End conference": "结束会议",
	"Success": "成功", "Failure": "失败",
	"PC client": "PC客户端", "Web portal": "网页端", "Mobile client": "移动客户端", "Server": "服务端", "System": "系统",
}

func localize(s string, zh bool) string {
	if zh {
		if t, ok := zhCN[s]; ok {
			return t
		}
	}
	return s
}

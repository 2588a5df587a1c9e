package rackspace

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"cmdash/monitoring"
)

// The wire shapes of GET /views/overview. Every field the real service has
// been seen to omit or null is a tolerant type: a plain string where null,
// absent and "" mean the same to the dashboard (fewer allocations than a
// pointer per field), a pointer where they do not. Unknown fields are
// ignored. A page is {"values":[OverviewValue…],"metadata":PageMetadata};
// Reducer.Page reads it one value at a time.

// PageMetadata drives paging: next_marker is the authority, next_href may be
// null while next_marker is set.
type PageMetadata struct {
	Count      int     `json:"count"`
	Limit      int     `json:"limit"`
	Marker     *string `json:"marker"`
	NextMarker *string `json:"next_marker"`
	NextHref   *string `json:"next_href"`
}

// OverviewValue is one entity with its checks, alarms and latest states.
type OverviewValue struct {
	Entity            WireEntity       `json:"entity"`
	Checks            []WireCheck      `json:"checks"`
	Alarms            []WireAlarm      `json:"alarms"`
	LatestAlarmStates []WireAlarmState `json:"latest_alarm_states"`
}

// WireEntity is the entity as served. Like checks and alarms it may carry
// active_suppressions (see SuppressionIDs) and scheduled_suppressions; the
// latter is not decoded at all, so whatever it holds is skipped.
type WireEntity struct {
	ID                 string         `json:"id"`
	Label              string         `json:"label"`
	URI                string         `json:"uri"`
	AgentID            string         `json:"agent_id"`
	ActiveSuppressions SuppressionIDs `json:"active_suppressions"`
}

// WireCheck is a check as served.
type WireCheck struct {
	ID                 string         `json:"id"`
	Label              string         `json:"label"`
	Type               string         `json:"type"`
	Disabled           FlexBool       `json:"disabled"`
	ActiveSuppressions SuppressionIDs `json:"active_suppressions"`
}

// WireAlarm is an alarm as served; label and disabled are optional.
type WireAlarm struct {
	ID                 string         `json:"id"`
	Label              string         `json:"label"`
	CheckID            string         `json:"check_id"`
	Disabled           FlexBool       `json:"disabled"`
	NotificationPlanID PlanID         `json:"notification_plan_id"`
	ActiveSuppressions SuppressionIDs `json:"active_suppressions"`
	Criteria           Criteria       `json:"criteria"`
}

// PlanID is an alarm's notification_plan_id: a string, or null (none).
// Nearly every alarm names one of a few plans, most often Rackspace's
// built-in one, which is read without allocating. Anything but a string
// reads as none rather than failing the page: the plan only annotates
// the alarm.
type PlanID string

// UnmarshalJSON implements json.Unmarshaler.
func (p *PlanID) UnmarshalJSON(data []byte) error {
	*p = ""
	if len(data) < 2 || data[0] != '"' {
		return nil
	}
	if raw := data[1 : len(data)-1]; string(raw) == monitoring.TechnicalContactsPlan {
		*p = monitoring.TechnicalContactsPlan
	} else if bytes.IndexByte(raw, '\\') < 0 {
		*p = PlanID(raw)
	} else {
		var s string
		_ = json.Unmarshal(data, &s)
		*p = PlanID(s)
	}
	return nil
}

// SuppressionIDs is an active_suppressions list. Its element type is not
// documented and every captured sample is empty: it accepts suppression IDs
// as strings, objects with an "id" (their other fields are ignored), or a
// mix. null, a missing key and anything else (a number, a string, an
// object, elements of other types) read as no suppressions, never as a
// failed page: these lists only annotate an alarm. Empty IDs are dropped.
type SuppressionIDs []string

// UnmarshalJSON implements json.Unmarshaler.
func (s *SuppressionIDs) UnmarshalJSON(data []byte) error {
	*s = nil
	// The common case, an empty list (or null), without allocating. The
	// decoder hands over one whole, valid value, so "[" ends with "]".
	if len(data) < 3 || data[0] != '[' || len(bytes.TrimSpace(data[1:len(data)-1])) == 0 {
		return nil
	}
	var elems []json.RawMessage
	if json.Unmarshal(data, &elems) != nil {
		return nil
	}
	for _, e := range elems {
		var id string
		switch e = bytes.TrimSpace(e); {
		case len(e) > 0 && e[0] == '"':
			_ = json.Unmarshal(e, &id)
		case len(e) > 0 && e[0] == '{':
			var obj struct {
				ID json.RawMessage `json:"id"`
			}
			if json.Unmarshal(e, &obj) == nil && len(obj.ID) > 0 && obj.ID[0] == '"' {
				_ = json.Unmarshal(obj.ID, &id)
			}
		}
		if id = strings.TrimSpace(id); id != "" {
			*s = append(*s, id)
		}
	}
	return nil
}

// WireAlarmState is one entry of latest_alarm_states; status and
// previous_state may be missing. A state without an alarm_id is ignored and
// a missing previous_state is not UNKNOWN, so those two stay pointers.
// entity_id is not decoded: a state belongs to the value it is listed in.
type WireAlarmState struct {
	Timestamp     Millis  `json:"timestamp"`
	AlarmID       *string `json:"alarm_id"`
	CheckID       string  `json:"check_id"`
	Status        string  `json:"status"`
	State         string  `json:"state"`
	PreviousState *string `json:"previous_state"`
}

// FlexBool accepts true/false, "true"/"false", 1/0 and null (false).
type FlexBool bool

// UnmarshalJSON implements json.Unmarshaler.
func (b *FlexBool) UnmarshalJSON(data []byte) error {
	// The spellings the upstream really sends, without allocating.
	switch string(data) {
	case "false", "null":
		*b = false
		return nil
	case "true":
		*b = true
		return nil
	}
	switch s := strings.Trim(string(bytes.TrimSpace(data)), `"`); strings.ToLower(s) {
	case "true", "1":
		*b = true
	case "false", "0", "null", "":
		*b = false
	default:
		return fmt.Errorf("not a boolean: %.20q", s)
	}
	return nil
}

// Millis is an upstream timestamp: milliseconds since the epoch, except that a
// value below 1e11 is taken as seconds (one documented example uses seconds).
// It accepts a number, a numeric string or null (zero time).
type Millis struct{ time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (m *Millis) UnmarshalJSON(data []byte) error {
	b := bytes.Trim(bytes.TrimSpace(data), `"`)
	if string(b) == "null" || len(b) == 0 {
		m.Time = time.Time{}
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e16 {
		return fmt.Errorf("not a timestamp: %.30q", b)
	}
	m.Time = TimeFromEpoch(f)
	return nil
}

// TimeFromEpoch converts an upstream epoch value, milliseconds unless below
// 1e11, in which case seconds.
func TimeFromEpoch(v float64) time.Time {
	if v <= 0 {
		return time.Time{}
	}
	if v < 1e11 {
		return time.UnixMilli(int64(v * 1000)).UTC()
	}
	return time.UnixMilli(int64(v)).UTC()
}

// reset empties v for the next value but keeps its slices' storage.
// encoding/json does not zero reused slice elements, so they are cleared.
func (v *OverviewValue) reset() {
	checks, alarms, states := v.Checks[:cap(v.Checks)], v.Alarms[:cap(v.Alarms)], v.LatestAlarmStates[:cap(v.LatestAlarmStates)]
	clear(checks)
	clear(alarms)
	clear(states)
	*v = OverviewValue{Checks: checks[:0], Alarms: alarms[:0], LatestAlarmStates: states[:0]}
}

func isTypeError(err error) bool {
	var typ *json.UnmarshalTypeError
	return errors.As(err, &typ)
}

// badJSON wraps a decoding error; path is where the decoder stood (its
// field names are relative to the value it was decoding).
func badJSON(err error, path string) error {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return &BadResponseError{Reason: "unexpected field type for " + strings.TrimSuffix(path+typ.Field, "."), Err: err}
	}
	return &BadResponseError{Reason: describeJSONError(err), Err: err}
}

func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case strings.Contains(err.Error(), "unexpected EOF") || err.Error() == "EOF":
		return "body truncated"
	case errors.As(err, &syn):
		return "body is not JSON"
	case errors.As(err, &typ):
		return "unexpected field type for " + typ.Field
	}
	return "body could not be decoded"
}

// upstreamFault is the union of the Identity ({"name":{code,message,details}})
// and Monitoring ({type,code,message,details}) fault shapes.
type upstreamFault struct {
	Type    string
	Code    int
	Message string
	Details string
}

// parseFault reads either fault shape; code may be a number or a string and
// details a string or an object.
func parseFault(data []byte) upstreamFault {
	var f upstreamFault
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return f
	}
	body := top
	if _, ok := top["type"]; !ok && len(top) == 1 {
		for k, v := range top {
			var inner map[string]json.RawMessage
			if json.Unmarshal(v, &inner) == nil {
				f.Type = k
				body = inner
			}
		}
	}
	if v, ok := body["type"]; ok {
		_ = json.Unmarshal(v, &f.Type)
	}
	if v, ok := body["code"]; ok {
		f.Code = flexInt(v)
	}
	if v, ok := body["message"]; ok {
		_ = json.Unmarshal(v, &f.Message)
	}
	if v, ok := body["details"]; ok {
		var s string
		if json.Unmarshal(v, &s) == nil {
			f.Details = s
		} else {
			f.Details = string(v)
		}
	}
	return f
}

func flexInt(raw json.RawMessage) int {
	s := strings.Trim(string(bytes.TrimSpace(raw)), `"`)
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return n
}

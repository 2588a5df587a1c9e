package monitoring

import (
	"cmp"
	"slices"
)

// Blind spots: what the wall shows as calm though nobody would hear of a
// problem there. An alarm whose notification plan tells nobody on
// CRITICAL, a disabled alarm or check, a server without a single alarm.

// BlindReason says why something is not watched.
type BlindReason string

// The reasons.
const (
	BlindNoAlarms      BlindReason = "no_alarms"      // a server without a single alarm
	BlindAlarmDisabled BlindReason = "alarm_disabled" // the alarm is disabled
	BlindCheckDisabled BlindReason = "check_disabled" // its check is disabled
	BlindQuietPlan     BlindReason = "quiet_plan"     // its plan notifies nobody on CRITICAL
)

// BlindSpot is one thing not watched.
type BlindSpot struct {
	ServerID, ServerLabel string
	AlarmID, AlarmLabel   string // empty for BlindNoAlarms
	Reason                BlindReason
	Plan                  *NotificationPlan // for BlindQuietPlan
}

// Words says why, for a person.
func (b BlindSpot) Words() string {
	switch b.Reason {
	case BlindNoAlarms:
		return "no alarms: nothing is watched on this server"
	case BlindAlarmDisabled:
		return "the alarm is disabled"
	case BlindCheckDisabled:
		return "its check is disabled"
	case BlindQuietPlan:
		if b.Plan != nil {
			return "its notification plan " + b.Plan.Title() + " tells nobody when it goes CRITICAL"
		}
		return "its notification plan tells nobody when it goes CRITICAL"
	}
	return string(b.Reason)
}

// BlindSpots finds what is not watched among servers, with the account's
// notification plans (nil when not known: plans are then not judged). An
// alarm whose plan is not among plans is not judged either. Orphan states
// are not alarms and are left out. In server order, then alarm label.
func BlindSpots(servers []Server, plans []NotificationPlan) []BlindSpot {
	byID := make(map[string]*NotificationPlan, len(plans))
	for i := range plans {
		byID[plans[i].ID] = &plans[i]
	}
	var out []BlindSpot
	for i := range servers {
		srv := &servers[i]
		n := len(out)
		alarms := 0
		for j := range srv.Alarms {
			a := &srv.Alarms[j]
			if a.Orphan {
				continue
			}
			alarms++
			b := BlindSpot{ServerID: srv.ID, ServerLabel: srv.Label, AlarmID: a.ID, AlarmLabel: a.Label}
			switch p := byID[a.NotificationPlanID]; {
			case a.CheckDisabled:
				b.Reason = BlindCheckDisabled
			case a.Disabled:
				b.Reason = BlindAlarmDisabled
			case p != nil && !p.NotifiesOnCritical():
				b.Reason, b.Plan = BlindQuietPlan, p
			default:
				continue
			}
			out = append(out, b)
		}
		if alarms == 0 {
			out = append(out, BlindSpot{ServerID: srv.ID, ServerLabel: srv.Label, Reason: BlindNoAlarms})
		}
		slices.SortStableFunc(out[n:], func(a, b BlindSpot) int { return cmp.Compare(a.AlarmLabel, b.AlarmLabel) })
	}
	return out
}

// BlindSpotOf is why alarm a is not watched, or "" when it is (see
// BlindSpots).
func BlindSpotOf(a *Alarm, plans []NotificationPlan) (BlindReason, *NotificationPlan) {
	spots := BlindSpots([]Server{{Alarms: []Alarm{*a}}}, plans)
	if len(spots) == 0 || spots[0].Reason == BlindNoAlarms {
		return "", nil
	}
	return spots[0].Reason, spots[0].Plan
}

package sqlite

import (
	"reflect"
	"testing"
	"time"

	"cmdash/monitoring"
)

// TestContentHashCoversEveryField changes each field of Server, Alarm and
// Counts in turn and requires the sum to change: a field the sum missed
// would let a changed poll go unsaved.
//
// The sum is stored with each page, so it must also stay the same from one
// version to the next: the last case pins it.
func TestContentHashCoversEveryField(t *testing.T) {
	t.Parallel()
	base := func() monitoring.Snapshot {
		return monitoring.Snapshot{FetchedAt: time.Unix(1700000000, 0), Servers: []monitoring.Server{{
			ID: "en1", Label: "web", AgentID: "ag", URI: "u", Region: "DFW", TenantID: "1", ServerUUID: "x",
			Counts: monitoring.Counts{OK: 1, Total: 1}, Worst: monitoring.StateOK,
			Alarms: []monitoring.Alarm{{ID: "al1", Label: "cpu", CheckID: "ch1", CheckLabel: "c", CheckType: "agent.cpu", State: monitoring.StateOK,
				Status: "fine", Since: time.Unix(1700000000, 0), PreviousState: monitoring.StateWarning, Evaluated: true}},
		}}}
	}
	want := base()
	sum := hashServers(want.Servers)

	// change sets the i-th field of v (a struct) to a value it does not have.
	change := func(v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			v.SetString(v.String() + "!")
		case reflect.Int:
			v.SetInt(v.Int() + 1)
		case reflect.Bool:
			v.SetBool(!v.Bool())
		case reflect.Struct: // time.Time
			v.Set(reflect.ValueOf(v.Interface().(time.Time).Add(time.Second)))
		case reflect.Pointer:
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			} else {
				v.Set(reflect.Zero(v.Type()))
			}
		case reflect.Slice:
			n := 0
			if v.Len() == 0 {
				n = 1
			}
			v.Set(reflect.MakeSlice(v.Type(), n, n))
		default:
			t.Fatalf("no way to change a %s", v.Kind())
		}
	}
	for _, target := range []struct {
		name string
		get  func(*monitoring.Snapshot) reflect.Value
	}{
		{"Server", func(s *monitoring.Snapshot) reflect.Value { return reflect.ValueOf(&s.Servers[0]).Elem() }},
		{"Alarm", func(s *monitoring.Snapshot) reflect.Value { return reflect.ValueOf(&s.Servers[0].Alarms[0]).Elem() }},
		{"Counts", func(s *monitoring.Snapshot) reflect.Value { return reflect.ValueOf(&s.Servers[0].Counts).Elem() }},
	} {
		typ := target.get(&want).Type()
		for i := range typ.NumField() {
			snap := base()
			v := target.get(&snap).Field(i)
			if typ.Field(i).Type == reflect.TypeOf(monitoring.Counts{}) {
				continue // its fields are checked one by one
			}
			if typ.Field(i).Tag.Get("json") == "-" {
				continue // never stored: made from the fields that are
			}
			change(v)
			if hashServers(snap.Servers) == sum {
				t.Errorf("changing %s.%s does not change the sum", target.name, typ.Field(i).Name)
			}
		}
	}
	if sum != pinnedSum {
		t.Errorf("the sum of the same servers is %d, was %d: a changed sum rewrites every stored page once (change pinnedSum if that is intended)", sum, pinnedSum)
	}
}

const pinnedSum = 1679898172788136061

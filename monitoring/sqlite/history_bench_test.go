package sqlite_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"cmdash/monitoring"
	"cmdash/monitoring/sqlite/sqlitetest"
)

// BenchmarkSavePoll is what storing a poll costs (building the snapshot
// from its pages, comparing, storing), with one alarm changed per poll or
// none, with the history and without: the difference is the comparison's
// cost.
func BenchmarkSavePoll(b *testing.B) {
	for _, size := range []struct{ pages, servers, alarms int }{{1, 100, 10}, {5, 1000, 10}} {
		for _, c := range []struct {
			change, history bool
		}{{true, true}, {true, false}, {false, true}, {false, false}} {
			history := c.history
			name := fmt.Sprintf("%dx%d_servers_x%d_alarms/change=%v/history=%v", size.pages, size.servers, size.alarms, c.change, history)
			b.Run(name, func(b *testing.B) {
				store, _ := sqlitetest.Open(b)
				ctx := context.Background()
				a, err := store.CreateAccount(ctx, "u1", "", "k", nil)
				if err != nil {
					b.Fatal(err)
				}
				if !history {
					store.SetRetention(monitoring.Retention{})
				}
				pages := make([][]monitoring.Server, size.pages)
				for p := range pages {
					for i := range size.servers {
						srv := monitoring.Server{ID: fmt.Sprintf("en%d-%04d", p, i), Label: fmt.Sprintf("web-%d-%04d.example.com", p, i)}
						for j := range size.alarms {
							srv.Alarms = append(srv.Alarms, monitoring.Alarm{ID: fmt.Sprintf("al%04d%02d", i, j), Label: "CPU usage",
								CheckID: "ch", CheckLabel: "CPU", CheckType: "agent.cpu", State: monitoring.StateOK,
								Status: "CPU usage is 12.5%, below threshold 80%", Since: time.UnixMilli(1700000000000), Evaluated: true})
						}
						srv.Tally()
						pages[p] = append(pages[p], srv)
					}
				}
				poll := func(n int) {
					// One alarm of one server on the middle page flips.
					srv := &pages[size.pages/2][n%size.servers]
					if !c.change && n > 0 {
						srv = &monitoring.Server{Alarms: make([]monitoring.Alarm, 1)} // not on any page
					}
					if srv.Alarms[0].State == monitoring.StateOK {
						srv.Alarms[0].State = monitoring.StateCritical
					} else {
						srv.Alarms[0].State = monitoring.StateOK
					}
					srv.Alarms[0].Since = time.UnixMilli(1700000000000 + int64(n))
					srv.Tally()
					w, err := store.BeginPoll(ctx, a.ID)
					if err != nil {
						b.Fatal(err)
					}
					for _, p := range pages {
						w.Page(p)
					}
					now := time.Now()
					if _, err := w.Save(ctx, monitoring.PollSuccess{PolledAt: now, NextPoll: now}); err != nil {
						b.Fatal(err)
					}
				}
				poll(0)
				n := 1
				for b.Loop() {
					poll(n)
					n++
				}
				var rows int
				_ = store.DB().QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&rows)
				if history && c.change && rows != n-1 || (!history || !c.change) && rows != 0 {
					b.Fatalf("%d events after %d polls", rows, n)
				}
			})
		}
	}
}

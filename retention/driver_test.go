package retention_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/retention"
)

// The driver: two "processes" share the work, each due account runs once
// per interval, the global pause stops both, a paused account is skipped,
// and a rule whose backlog does not clear for BacklogAlertRuns runs raises
// an event. On every store.
func TestDriverRunsEachAccountOnceAcrossProcesses(t *testing.T) {
	for name, open := range retentionStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st1, st2 := open(t)
			e := newEnv(t, st1)
			tickets := newMemTarget()
			mk := func(st retention.Store, owner string) (*retention.Schedules, *retention.Driver) {
				s := newSchedules(t, e, 5, targets{retention.KindTicket: tickets}, func(c *retention.ScheduleConfig) {
					c.Store, c.Owner, c.Interval, c.BacklogAlertRuns = st, owner, day, 2
				})
				d, err := retention.NewDriver(retention.DriverConfig{Schedules: s, Batch: 3})
				if err != nil {
					t.Fatal(err)
				}
				return s, d
			}
			s1, d1 := mk(st1, "proc-1")
			_, d2 := mk(st2, "proc-2")
			n := 12
			var accts []gdprkit.AccountID
			for i := range n {
				a := gdprkit.AccountID(fmt.Sprintf("acct-%02d-%s", i, name))
				accts = append(accts, a)
				addRule(t, s1, a, retention.TrashedTickets(30))
				for j := range 3 {
					tickets.add(a, fmt.Sprint("t", j), "trash", "trashed_at", e.clock.Now().Add(-40*day))
				}
			}
			backlogged := accts[0]
			for j := range 20 { // more than a run's cap of 5, for three runs
				tickets.add(backlogged, fmt.Sprint("x", j), "trash", "trashed_at", e.clock.Now().Add(-50*day))
			}
			paused := accts[1]
			if err := s1.SetAccountPaused(e.ctx, paused, true, "ops-1"); err != nil {
				t.Fatal(err)
			}
			runs := func() map[gdprkit.AccountID]int {
				var wg sync.WaitGroup
				reps := make([]retention.DriverReport, 2)
				for i, d := range []*retention.Driver{d1, d2} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						var err error
						if reps[i], err = d.RunDue(e.ctx); err != nil {
							t.Error(err)
						}
					}()
				}
				wg.Wait()
				per := map[gdprkit.AccountID]int{}
				for _, ev := range e.audit.OfType(retention.EventTypeRuleRun) {
					per[ev.Account]++
				}
				return per
			}
			per := runs()
			for _, a := range accts {
				want := 1
				if a == paused {
					want = 0
				}
				if per[a] != want {
					t.Errorf("%s ran %d times, want %d", a, per[a], want)
				}
			}
			if per2 := runs(); fmt.Sprint(per2) != fmt.Sprint(per) {
				t.Fatalf("accounts ran again within the interval: %v", per2)
			}
			// The global pause stops every driver.
			if err := s1.SetPaused(e.ctx, true, "ops-1"); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(day)
			if rep, _ := d2.RunDue(e.ctx); !rep.Paused || rep.Accounts != 0 {
				t.Fatalf("paused driver ran: %+v", rep)
			}
			if _, err := s1.Run(e.ctx, accts[2]); !errors.Is(err, retention.ErrPaused) {
				t.Fatalf("Run while paused: %v", err)
			}
			if err := s1.SetPaused(e.ctx, false, "ops-1"); err != nil {
				t.Fatal(err)
			}
			runs()
			e.clock.Advance(day)
			per = runs()
			if per[accts[2]] != 3 || per[paused] != 0 {
				t.Fatalf("after the pause: %v", per)
			}
			if tickets.len(backlogged) != 23-3*5 {
				t.Fatalf("backlog left: %d, want 8 after three capped runs", tickets.len(backlogged))
			}
			alerts := 0
			for _, ev := range e.audit.OfType(retention.EventTypeRuleBacklog) {
				if ev.Account == backlogged && ev.Attrs["runs"] == "2" {
					alerts++
				}
			}
			if alerts != 1 {
				t.Fatalf("%d backlog alerts for the backlogged rule, want 1 (after 2 runs)", alerts)
			}
		})
	}
}

package retention_test

import (
	"testing"
	"time"

	"github.com/gdprkit/gdprkit/retention"
)

// Months are calendar months: when the target month lacks the day, the
// cutoff is the start of the month after it (every record of that month is
// old enough, none of the next), never a day in the next month as
// time.AddDate gives (March 31 - 1 month = "February 31" = March 3).
func TestCutoffMonthsClampToMonthEnd(t *testing.T) {
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 12, 30, 0, 0, time.UTC) }
	midnight := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		now          time.Time
		months, days int
		want         time.Time
	}{
		// No February 31, 30 or 29 (2026): every February record is a
		// month old, no March one is: the cutoff is March 1, 00:00.
		{d(2026, 3, 31), 1, 0, midnight(2026, 3, 1)},
		{d(2028, 3, 31), 1, 0, midnight(2028, 3, 1)}, // leap year: no February 31 either
		{d(2028, 3, 29), 1, 0, d(2028, 2, 29)},       // but a February 29
		{d(2026, 3, 30), 1, 0, midnight(2026, 3, 1)},
		{d(2026, 3, 28), 1, 0, d(2026, 2, 28)},
		{d(2026, 3, 15), 1, 0, d(2026, 2, 15)},
		{d(2026, 5, 31), 1, 0, midnight(2026, 5, 1)},
		{d(2026, 12, 31), 6, 0, midnight(2026, 7, 1)},
		{d(2026, 1, 31), 1, 0, d(2025, 12, 31)}, // across a year
		{d(2026, 8, 31), 18, 0, midnight(2025, 3, 1)},
		{d(2026, 3, 31), 1, 1, midnight(2026, 2, 28)}, // months first, then days
		{d(2026, 3, 31), 0, 30, d(2026, 3, 1)},
		{d(2026, 3, 31), 12, 0, d(2025, 3, 31)},
	} {
		cond := retention.Condition{Field: "closed_at", OlderThanMonths: c.months, OlderThanDays: c.days}
		if got := cond.Cutoff(c.now); !got.Equal(c.want) {
			t.Errorf("Cutoff(%s) with %d months %d days = %s, want %s", c.now.Format(time.DateOnly), c.months, c.days, got, c.want)
		}
	}
}

// On March 31 the rule "closed tickets older than 1 month" must not delete
// a ticket closed on March 2, 29 days earlier.
func TestMonthRuleKeepsRecordYoungerThanACalendarMonthAtMonthEnd(t *testing.T) {
	e := newEnv(t, nil)
	now := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	e.clock.Set(now)
	tickets := newMemTarget()
	s := newSchedules(t, e, 100, map[retention.TargetKind]retention.Target{retention.KindTicket: tickets})
	r := addRule(t, s, "acme", retention.ClosedTickets(1))
	tickets.add("acme", "closed-29-days-ago", "closed", "closed_at", time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
	tickets.add("acme", "closed-a-month-ago", "closed", "closed_at", time.Date(2026, 2, 27, 12, 0, 0, 0, time.UTC))
	if got, want := r.Condition.Cutoff(now), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("cutoff = %s, want %s", got, want)
	}
	rep, err := s.Run(e.ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rules) != 1 || rep.Removed != 1 || tickets.len("acme") != 1 {
		t.Fatalf("removed %+v, %d left; want only the ticket closed on Feb 27 removed", rep, tickets.len("acme"))
	}
}

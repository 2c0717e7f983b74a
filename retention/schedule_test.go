package retention_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/retention"
)

const admin gdprkit.ActorID = "admin-1"

type targets = map[retention.TargetKind]retention.Target

// newSchedules builds Schedules over e's store and clock with a cap of max
// records per run and batches of 7; tweak adjusts the config.
func newSchedules(t *testing.T, e *env, max int, ts targets, tweak ...func(*retention.ScheduleConfig)) *retention.Schedules {
	t.Helper()
	cfg := retention.ScheduleConfig{Store: e.store, Targets: ts, Clock: e.clock, Audit: e.audit, MaxPerRun: max, BatchSize: 7, MaxClockJump: -1}
	for _, f := range tweak {
		f(&cfg)
	}
	s, err := retention.NewSchedules(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func addRule(t *testing.T, s *retention.Schedules, a gdprkit.AccountID, r retention.Rule) retention.Rule {
	t.Helper()
	r, err := s.AddRule(context.Background(), a, r, admin)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// audited sums "removed" over the distinct batch events of the account
// (a batch event may be delivered twice after a crash, with one ID).
func audited(events []gdprkit.Event, a gdprkit.AccountID) int64 {
	seen := map[string]bool{}
	var n int64
	for _, ev := range events {
		if ev.Type != retention.EventTypeBatch || ev.Account != a || seen[ev.ID] {
			continue
		}
		seen[ev.ID] = true
		k, _ := strconv.ParseInt(ev.Attrs["removed"], 10, 64)
		n += k
	}
	return n
}

func TestTrashRulePreviewThenRunsInCappedBatches(t *testing.T) {
	onStores(t, testTrashRulePreviewThenRunsInCappedBatches)
}

func testTrashRulePreviewThenRunsInCappedBatches(t *testing.T, mk func(*testing.T) retention.Store) {
	e := newEnv(t, mk(t))
	tickets := newMemTarget()
	sch := newSchedules(t, e, 25, targets{retention.KindTicket: tickets})
	a, other := gdprkit.AccountID("acct-a"), gdprkit.AccountID("acct-b")
	now := e.clock.Now()
	for i := range 60 {
		tickets.add(a, fmt.Sprintf("old-%02d", i), "trash", "trashed_at", now.Add(-30*day-time.Duration(i)*time.Hour))
		tickets.add(other, fmt.Sprintf("old-%02d", i), "trash", "trashed_at", now.Add(-40*day))
	}
	tickets.add(a, "edge", "trash", "trashed_at", now.Add(-30*day)) // exactly 30 days: kept
	tickets.add(a, "recent", "trash", "trashed_at", now.Add(-29*day))
	tickets.add(a, "open", "open", "created_at", now.Add(-400*day))

	r := addRule(t, sch, a, retention.TrashedTickets(30))
	dry, err := sch.DryRun(e.ctx, a, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if dry.Removed != 25 || !dry.Backlog || len(dry.Sample) != 20 || dry.Sample[0] != "old-59" || !dry.Cutoff.Equal(now.Add(-30*day)) {
		t.Fatalf("dry run: removed %d backlog %v sample %v cutoff %v", dry.Removed, dry.Backlog, dry.Sample, dry.Cutoff)
	}
	if tickets.len(a) != 63 {
		t.Fatal("dry run removed records")
	}
	for run, want := range []struct {
		removed int64
		backlog bool
	}{{25, true}, {25, true}, {9, false}, {0, false}} {
		rep, err := sch.Run(e.ctx, a)
		if err != nil || len(rep.Rules) != 1 {
			t.Fatalf("run %d: %+v %v", run, rep, err)
		}
		if rep.Rules[0].Removed != want.removed || rep.Rules[0].Backlog != want.backlog {
			t.Fatalf("run %d: removed %d backlog %v, want %+v", run, rep.Rules[0].Removed, rep.Rules[0].Backlog, want)
		}
		got, _ := sch.Rule(e.ctx, a, r.ID)
		if got.LastRemoved != want.removed || got.Backlog != want.backlog || !got.LastRun.Equal(now) {
			t.Fatalf("run %d stored %+v", run, got)
		}
	}
	if tickets.len(a) != 4 || tickets.len(other) != 60 { // old-00 and edge are exactly 30 days old
		t.Fatalf("left %d in the account, %d in the other", tickets.len(a), tickets.len(other))
	}
	if got, _ := sch.Rule(e.ctx, a, r.ID); got.TotalRemoved != 59 {
		t.Fatalf("total removed %d", got.TotalRemoved)
	}
	if n := len(e.audit.OfType(retention.EventTypeRuleRun)); n != 4 {
		t.Fatalf("%d rule-run events", n)
	}
	if n := audited(e.audit.Events(), a); n != 59 {
		t.Fatalf("batch events count %d removed, want 59", n)
	}
}

// Issue 21.1: 150 held records at the head of the queue used to stall a
// rule forever and spend its budget. Whether the target shows holds to the
// selector or declines them at delete time, the 50 removable records go in
// the first run and the held ones are counted apart.
func TestHeldRecordsNeitherStallNorSpendTheBudget(t *testing.T) {
	onStores(t, testHeldRecordsNeitherStallNorSpendTheBudget)
}

func testHeldRecordsNeitherStallNorSpendTheBudget(t *testing.T, mk func(*testing.T) retention.Store) {
	for _, visible := range []bool{true, false} {
		t.Run(fmt.Sprintf("holds visible to the selector=%v", visible), func(t *testing.T) {
			e := newEnv(t, mk(t))
			tickets := newMemTarget()
			tickets.holdsVisible = visible
			sch := newSchedules(t, e, 100, targets{retention.KindTicket: tickets}, func(c *retention.ScheduleConfig) { c.BatchSize = 40 })
			a := gdprkit.AccountID("acme")
			now := e.clock.Now()
			for i := range 150 {
				id := fmt.Sprintf("held-%03d", i)
				tickets.add(a, id, "closed", "closed_at", now.AddDate(-2, 0, 0).Add(time.Duration(i)*time.Minute))
				tickets.hold(a, id, true)
			}
			for i := range 50 {
				tickets.add(a, fmt.Sprintf("free-%03d", i), "closed", "closed_at", now.AddDate(-1, -1, 0).Add(time.Duration(i)*time.Minute))
			}
			r := addRule(t, sch, a, retention.ClosedTickets(6))
			pre, _ := sch.Preview(e.ctx, a)
			rep, err := sch.Run(e.ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Removed != 50 || rep.Held != 150 || rep.Rules[0].Backlog || tickets.len(a) != 150 {
				t.Fatalf("run: removed %d held %d backlog %v, %d left; want 50, 150, false, 150", rep.Removed, rep.Held, rep.Rules[0].Backlog, tickets.len(a))
			}
			// A preview knows the holds the target shows it.
			if visible && (pre.Removed != rep.Removed || pre.Held != rep.Held) {
				t.Errorf("preview said removed %d held %d; the run did %d, %d", pre.Removed, pre.Held, rep.Removed, rep.Held)
			}
			got, _ := sch.Rule(e.ctx, a, r.ID)
			if got.LastHeld != 150 || got.TotalRemoved != 50 || !got.Cursor.IsZero() {
				t.Fatalf("stored %+v", got)
			}
			// Released holds are picked up by the next pass.
			for i := range 150 {
				tickets.hold(a, fmt.Sprintf("held-%03d", i), false)
			}
			rep, _ = sch.Run(e.ctx, a)
			rep2, _ := sch.Run(e.ctx, a)
			if rep.Removed+rep2.Removed != 150 || tickets.len(a) != 0 {
				t.Fatalf("after release: removed %d+%d, %d left", rep.Removed, rep2.Removed, tickets.len(a))
			}
		})
	}
}

// A stretch of held records longer than one run may look at costs a
// bounded scan per run, and the pass goes on from its stored cursor: the
// removable records behind it go within a few runs, not never.
func TestLongHeldStretchIsCrossedAcrossRuns(t *testing.T) {
	onStores(t, testLongHeldStretchIsCrossedAcrossRuns)
}

func testLongHeldStretchIsCrossedAcrossRuns(t *testing.T, mk func(*testing.T) retention.Store) {
	e := newEnv(t, mk(t))
	tickets := newMemTarget()
	tickets.holdsVisible = true
	sch := newSchedules(t, e, 50, targets{retention.KindTicket: tickets}, func(c *retention.ScheduleConfig) { c.MaxScanPerRun, c.BatchSize = 100, 25 })
	a := gdprkit.AccountID("acme")
	now := e.clock.Now()
	for i := range 300 {
		id := fmt.Sprintf("h-%03d", i)
		tickets.add(a, id, "trash", "trashed_at", now.Add(-100*day+time.Duration(i)*time.Minute))
		tickets.hold(a, id, true)
	}
	for i := range 20 {
		tickets.add(a, fmt.Sprintf("f-%03d", i), "trash", "trashed_at", now.Add(-50*day+time.Duration(i)*time.Minute))
	}
	addRule(t, sch, a, retention.TrashedTickets(30))
	var removed []int64
	for range 4 {
		rep, err := sch.Run(e.ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		removed = append(removed, rep.Removed)
		if rep.Held > 100 {
			t.Fatalf("a run looked at %d held records, more than MaxScanPerRun", rep.Held)
		}
	}
	if !reflect.DeepEqual(removed, []int64{0, 0, 0, 20}) || tickets.len(a) != 300 {
		t.Fatalf("removed per run %v, %d left; want [0 0 0 20] and the 300 held", removed, tickets.len(a))
	}
}

// failTarget fails every call.
type failTarget struct{ memTarget }

func (*failTarget) Find(context.Context, gdprkit.AccountID, retention.Selector, int) ([]retention.Candidate, error) {
	return nil, errors.New("target down")
}

// Issue 21.3: a failing rule, and a rule whose target is no longer
// configured, are reported, recorded and audited; every other rule runs.
func TestFailingRuleIsReportedAndTheOthersRun(t *testing.T) {
	onStores(t, testFailingRuleIsReportedAndTheOthersRun)
}

func testFailingRuleIsReportedAndTheOthersRun(t *testing.T, mk func(*testing.T) retention.Store) {
	e := newEnv(t, mk(t))
	tickets, spam := newMemTarget(), newMemTarget()
	users := &failTarget{}
	ts := targets{retention.KindTicket: tickets, retention.KindHeldSpam: spam, retention.KindEndUser: users}
	sch := newSchedules(t, e, 100, ts)
	a := gdprkit.AccountID("acme")
	now := e.clock.Now()
	for i := range 10 {
		tickets.add(a, fmt.Sprint("t", i), "trash", "trashed_at", now.Add(-40*day))
		spam.add(a, fmt.Sprint("s", i), "held", "held_at", now.Add(-40*day))
	}
	bad := addRule(t, sch, a, retention.InactiveEndUsers(1))
	gone := addRule(t, sch, a, retention.HeldSpam(14))
	addRule(t, sch, a, retention.TrashedTickets(30))
	// The spam target is dropped from the configuration after the rule was
	// added: its rule fails, the ticket rule still runs.
	sch2 := newSchedules(t, e, 100, targets{retention.KindTicket: tickets, retention.KindEndUser: users})
	rep, err := sch2.Run(e.ctx, a)
	if err == nil || !strings.Contains(err.Error(), "target down") || !errors.Is(err, gdprkit.ErrInvalid) {
		t.Fatalf("run error %v; want both rules' errors joined", err)
	}
	if rep.Removed != 10 || tickets.len(a) != 0 {
		t.Fatalf("ticket rule removed %d (%d left), want 10", rep.Removed, tickets.len(a))
	}
	for _, id := range []string{bad.ID, gone.ID} {
		r, _ := sch2.Rule(e.ctx, a, id)
		if r.LastError == "" || r.LastRun.IsZero() || !r.Backlog {
			t.Errorf("failed rule not recorded: %+v", r)
		}
	}
	if n := len(e.audit.OfType(retention.EventTypeRuleFailed)); n != 2 {
		t.Fatalf("%d rule_failed events, want 2", n)
	}
	if n := len(e.audit.OfType(retention.EventTypeRuleRun)); n != 3 {
		t.Fatalf("%d rule_run events, want 3", n)
	}
}

// Issue 21.4: a ticket rule with steady inflow must not starve a spam
// rule that shares the run's cap.
func TestNoRuleStarvesAnother(t *testing.T) { onStores(t, testNoRuleStarvesAnother) }

func testNoRuleStarvesAnother(t *testing.T, mk func(*testing.T) retention.Store) {
	e := newEnv(t, mk(t))
	tickets, spam := newMemTarget(), newMemTarget()
	sch := newSchedules(t, e, 10, targets{retention.KindTicket: tickets, retention.KindHeldSpam: spam}, func(c *retention.ScheduleConfig) { c.BatchSize = 10 })
	a := gdprkit.AccountID("acme")
	addRule(t, sch, a, retention.ClosedTickets(1)) // created first: first in ID order
	addRule(t, sch, a, retention.HeldSpam(14))
	for i := range 10 {
		spam.add(a, fmt.Sprint("s", i), "held", "held_at", e.clock.Now().Add(-20*day))
	}
	for run := range 7 {
		for i := range 100 { // steady inflow of old closed tickets
			tickets.add(a, fmt.Sprintf("t%d-%d", run, i), "closed", "closed_at", e.clock.Now().AddDate(0, -2, 0))
		}
		if _, err := sch.Run(e.ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if spam.len(a) != 0 {
		t.Fatalf("%d of 10 spam left after 7 runs: the ticket rule starved it", spam.len(a))
	}
}

// Issue 21.6: adding, editing, disabling and removing a rule are audited
// with the actor; editing and disabling keep the counters; typos are
// refused when the rule is written.
func TestRuleLifecycleIsAuditedAndKeepsCounters(t *testing.T) {
	onStores(t, testRuleLifecycleIsAuditedAndKeepsCounters)
}

func testRuleLifecycleIsAuditedAndKeepsCounters(t *testing.T, mk func(*testing.T) retention.Store) {
	e := newEnv(t, mk(t))
	tickets := newMemTarget()
	sch := newSchedules(t, e, 100, targets{retention.KindTicket: tickets})
	a := gdprkit.AccountID("acme")
	for name, r := range map[string]retention.Rule{
		"no target":    retention.InactiveEndUsers(3),
		"zero age":     retention.TrashedTickets(0),
		"negative age": retention.TrashedTickets(-1),
		"bad field":    {Name: "x", Target: retention.KindTicket, Condition: retention.Condition{Field: "closed at", OlderThanDays: 1}},
		"field typo":   {Name: "x", Target: retention.KindTicket, Condition: retention.Condition{Status: "closed", Field: "closd_at", OlderThanDays: 1}},
		"no name":      {Target: retention.KindTicket, Condition: retention.Condition{Field: "closed_at", OlderThanDays: 1}},
		"bad action":   {Name: "x", Action: "archive", Target: retention.KindTicket, Condition: retention.Condition{Field: "closed_at", OlderThanDays: 1}},
	} {
		if _, err := sch.AddRule(e.ctx, a, r, admin); !errors.Is(err, gdprkit.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := sch.AddRule(e.ctx, a, retention.TrashedTickets(1), ""); !errors.Is(err, gdprkit.ErrInvalid) {
		t.Errorf("no actor: %v", err)
	}
	if rules, _ := sch.Rules(e.ctx, a); len(rules) != 0 {
		t.Fatalf("invalid rules stored: %v", rules)
	}
	r := addRule(t, sch, a, retention.TrashedTickets(1))
	tickets.add(a, "x", "trash", "trashed_at", e.clock.Now().Add(-2*day))
	if _, err := sch.Run(e.ctx, a); err != nil {
		t.Fatal(err)
	}
	edit := r
	edit.Name, edit.Condition.OlderThanDays = "trash after 3 days", 3
	if _, err := sch.EditRule(e.ctx, a, edit, "admin-2"); err != nil {
		t.Fatal(err)
	}
	typo := edit
	typo.Condition.Field = "trashedat"
	if _, err := sch.EditRule(e.ctx, a, typo, "admin-2"); !errors.Is(err, gdprkit.ErrInvalid) {
		t.Fatalf("edit with a typo: %v", err)
	}
	if err := sch.SetDisabled(e.ctx, a, r.ID, true, "admin-3"); err != nil {
		t.Fatal(err)
	}
	got, _ := sch.Rule(e.ctx, a, r.ID)
	if got.TotalRemoved != 1 || got.LastRemoved != 1 || got.LastRun.IsZero() || !got.Disabled || got.Version != 3 ||
		got.Condition.OlderThanDays != 3 || got.UpdatedBy != "admin-3" || got.CreatedBy != admin {
		t.Fatalf("after edit and disable: %+v", got)
	}
	tickets.add(a, "y", "trash", "trashed_at", e.clock.Now().Add(-9*day))
	if rep, _ := sch.Run(e.ctx, a); rep.Removed != 0 || !tickets.has(a, "y") {
		t.Fatal("disabled rule ran")
	}
	if err := sch.SetDisabled(e.ctx, a, r.ID, false, "admin-3"); err != nil {
		t.Fatal(err)
	}
	if _, err := sch.Rule(e.ctx, "acct-b", r.ID); !errors.Is(err, gdprkit.ErrNotFound) {
		t.Fatalf("rule visible to another account: %v", err)
	}
	if err := sch.RemoveRule(e.ctx, a, r.ID, "admin-4"); err != nil {
		t.Fatal(err)
	}
	if err := sch.RemoveRule(e.ctx, a, r.ID, "admin-4"); !errors.Is(err, gdprkit.ErrNotFound) {
		t.Fatal(err)
	}
	var trail []string
	for _, ev := range e.audit.Events() {
		if strings.HasPrefix(string(ev.Type), "retention.rule_") && ev.Type != retention.EventTypeRuleRun {
			trail = append(trail, string(ev.Type)+" by "+string(ev.Actor))
			if ev.Attrs["rule"] != r.ID || ev.Attrs["definition"] == "" {
				t.Errorf("event %s lacks the rule: %v", ev.Type, ev.Attrs)
			}
		}
	}
	want := []string{"retention.rule_added by admin-1", "retention.rule_edited by admin-2", "retention.rule_disabled by admin-3",
		"retention.rule_enabled by admin-3", "retention.rule_removed by admin-4"}
	if !reflect.DeepEqual(trail, want) {
		t.Fatalf("audit trail %v, want %v", trail, want)
	}
}

// Issue 21.6: a rule disabled while a run is going stops before its next
// batch (50 were due before the disable; the run removed 300).
func TestDisablingTakesEffectAtTheNextBatch(t *testing.T) {
	onStores(t, testDisablingTakesEffectAtTheNextBatch)
}

func testDisablingTakesEffectAtTheNextBatch(t *testing.T, mk func(*testing.T) retention.Store) {
	e := newEnv(t, mk(t))
	tickets := newMemTarget()
	sch := newSchedules(t, e, 1000, targets{retention.KindTicket: tickets}, func(c *retention.ScheduleConfig) { c.BatchSize = 50 })
	a := gdprkit.AccountID("acme")
	for i := range 400 {
		tickets.add(a, fmt.Sprintf("t%03d", i), "trash", "trashed_at", e.clock.Now().Add(-40*day))
	}
	r := addRule(t, sch, a, retention.TrashedTickets(30))
	tickets.onDelete = func(ctx context.Context, _ []string) error {
		tickets.onDelete = nil
		return sch.SetDisabled(ctx, a, r.ID, true, admin) // while batch 1 deletes
	}
	rep, err := sch.Run(e.ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Removed != 50 || rep.Rules[0].Stopped != "disabled" || tickets.len(a) != 350 {
		t.Fatalf("removed %d (stopped %q), %d left; want 50 removed, then the rule stops", rep.Removed, rep.Rules[0].Stopped, tickets.len(a))
	}
	if got, _ := sch.Rule(e.ctx, a, r.ID); got.TotalRemoved != 50 {
		t.Fatalf("stored total %d", got.TotalRemoved)
	}
}

// Keep rules win over delete rules, the longest keep wins, and the
// preview shows what they keep.
func TestKeepRulesWinAndShowInThePreview(t *testing.T) {
	onStores(t, testKeepRulesWinAndShowInThePreview)
}

func testKeepRulesWinAndShowInThePreview(t *testing.T, mk func(*testing.T) retention.Store) {
	e := newEnv(t, mk(t))
	tickets := newMemTarget()
	sch := newSchedules(t, e, 100, targets{retention.KindTicket: tickets})
	a := gdprkit.AccountID("acme")
	now := e.clock.Now()
	add := func(id string, created, closed time.Time) {
		tickets.addTimes(a, id, "closed", map[string]time.Time{"created_at": created, "closed_at": closed})
	}
	add("invoice-2y", now.AddDate(-2, 0, 0), now.AddDate(0, -7, 0))   // kept by the 36-month rule
	add("invoice-4y", now.AddDate(-4, 0, 0), now.AddDate(0, -7, 0))   // kept by the 60-month rule
	add("invoice-6y", now.AddDate(-6, 0, 0), now.AddDate(0, -7, 0))   // older than both: deleted
	add("recent-close", now.AddDate(-6, 0, 0), now.AddDate(0, -1, 0)) // not due
	addRule(t, sch, a, retention.ClosedTickets(6))
	addRule(t, sch, a, retention.KeepAtLeast(retention.KindTicket, "closed", "created_at", 36))
	addRule(t, sch, a, retention.KeepAtLeast(retention.KindTicket, "", "created_at", 60))
	pre, err := sch.Preview(e.ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if pre.Removed != 1 || pre.Kept != 2 || len(pre.Rules) != 3 || pre.Rules[1].Rule.Action != retention.ActionKeep || pre.Rules[0].Sample[0] != "invoice-6y" {
		t.Fatalf("preview %+v", pre)
	}
	rep, err := sch.Run(e.ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Removed != 1 || rep.Kept != 2 || tickets.has(a, "invoice-6y") || !tickets.has(a, "invoice-2y") || !tickets.has(a, "invoice-4y") {
		t.Fatalf("run %+v", rep)
	}
}

// Issue 21.8: the preview of all of an account's rules is exactly what
// the next run does: holds, keep rules, overlapping rules, the cap and the
// rules' turns, run after run.
func TestPreviewIsExactlyTheNextRun(t *testing.T) { onStores(t, testPreviewIsExactlyTheNextRun) }

func testPreviewIsExactlyTheNextRun(t *testing.T, mk func(*testing.T) retention.Store) {
	e := newEnv(t, mk(t))
	tickets, spam := newMemTarget(), newMemTarget()
	tickets.holdsVisible = true
	sch := newSchedules(t, e, 37, targets{retention.KindTicket: tickets, retention.KindHeldSpam: spam})
	a := gdprkit.AccountID("acme")
	now := e.clock.Now()
	for i := range 120 {
		id := fmt.Sprintf("t%03d", i)
		status := []string{"closed", "trash"}[i%2]
		tickets.addTimes(a, id, status, map[string]time.Time{
			"closed_at": now.AddDate(0, -3, -i), "trashed_at": now.Add(-time.Duration(i) * day), "created_at": now.AddDate(0, 0, -i*20)})
		if i%7 == 0 {
			tickets.hold(a, id, true)
		}
		spam.add(a, fmt.Sprintf("s%03d", i), "held", "held_at", now.Add(-time.Duration(i)*day))
	}
	addRule(t, sch, a, retention.ClosedTickets(2))
	addRule(t, sch, a, retention.TrashedTickets(10))
	addRule(t, sch, a, retention.Rule{Name: "everything 90 days", Target: retention.KindTicket, Condition: retention.Condition{Field: "closed_at", OlderThanDays: 90}})
	addRule(t, sch, a, retention.HeldSpam(30))
	addRule(t, sch, a, retention.KeepAtLeast(retention.KindTicket, "", "created_at", 24))
	strip := func(r retention.RunReport) []string {
		var out []string
		for _, x := range r.Rules {
			out = append(out, fmt.Sprintf("%s removed=%d held=%d kept=%d backlog=%v sample=%v cutoff=%s", x.Rule.Name, x.Removed, x.Held, x.Kept, x.Backlog, x.Sample, x.Cutoff))
		}
		return out
	}
	for run := range 8 {
		pre, err := sch.Preview(e.ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := sch.Run(e.ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(strip(pre), strip(rep)) || pre.Removed != rep.Removed {
			t.Fatalf("run %d:\npreview %v\nrun     %v", run, strings.Join(strip(pre), "\n        "), strings.Join(strip(rep), "\n        "))
		}
		e.clock.Advance(day)
	}
}

// Issue 21.7: month cutoffs never move back while the clock moves forward,
// in any time zone, and a record goes at its exact anniversary.
func TestMonthCutoffsAreMonotoneInTheClock(t *testing.T) {
	for _, tz := range []string{"UTC", "Europe/Berlin", "America/New_York", "Pacific/Chatham"} {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []retention.Condition{{Field: "f", OlderThanMonths: 1}, {Field: "f", OlderThanMonths: 3, OlderThanDays: 2}, {Field: "f", OlderThanMonths: 13}} {
			prev := time.Time{}
			for now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); now.Year() < 2029; now = now.Add(37 * time.Minute) {
				cut := c.Cutoff(now.In(loc))
				if cut.Before(prev) {
					t.Fatalf("%s %+v: at %s the cutoff moved back from %s to %s", tz, c, now.In(loc), prev, cut)
				}
				prev = cut
			}
		}
	}
	at := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }
	c := retention.Condition{Field: "f", OlderThanMonths: 1}
	// The clock moving from March 30, 23:00 to March 31, 01:00 used to move
	// the cutoff back 22 hours; now both are March 1, 00:00.
	if a, b := c.Cutoff(at(2026, 3, 30, 23)), c.Cutoff(at(2026, 3, 31, 1)); !a.Equal(at(2026, 3, 1, 0)) || !b.Equal(a) {
		t.Fatalf("cutoffs %s and %s, want March 1 00:00 for both", a, b)
	}
	// A record closed February 28, 13:00 is a month old at March 28, 13:00.
	if cut := c.Cutoff(at(2026, 3, 28, 13).Add(time.Microsecond)); !at(2026, 2, 28, 13).Before(cut) {
		t.Fatalf("cutoff at March 28 13:00 is %s", cut)
	}
	if cut := c.Cutoff(at(2026, 3, 28, 13)); at(2026, 2, 28, 13).Before(cut) {
		t.Fatalf("record went before its anniversary: cutoff %s", cut)
	}
}

// Issue 21.7: boundaries are the account's time zone, not the clock's
// location.
func TestCutoffsFollowTheAccountsTimeZone(t *testing.T) {
	onStores(t, testCutoffsFollowTheAccountsTimeZone)
}

func testCutoffsFollowTheAccountsTimeZone(t *testing.T, mk func(*testing.T) retention.Store) {
	e := newEnv(t, mk(t))
	tickets := newMemTarget()
	// March 31, 00:30 in Berlin is March 30, 22:30 UTC.
	e.clock.Set(time.Date(2026, 3, 30, 22, 30, 0, 0, time.UTC))
	sch := newSchedules(t, e, 100, targets{retention.KindTicket: tickets})
	a, b := gdprkit.AccountID("berlin"), gdprkit.AccountID("utc")
	if err := sch.SetTimeZone(e.ctx, a, "Europe/Berlin", admin); err != nil {
		t.Fatal(err)
	}
	if err := sch.SetTimeZone(e.ctx, a, "Mars/Olympus", admin); !errors.Is(err, gdprkit.ErrInvalid) {
		t.Fatalf("unknown zone: %v", err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for _, acct := range []gdprkit.AccountID{a, b} {
		addRule(t, sch, acct, retention.Rule{Name: "closed after 1 month", Target: retention.KindTicket, Condition: retention.Condition{Status: "closed", Field: "closed_at", OlderThanMonths: 1}})
	}
	pa, _ := sch.Preview(e.ctx, a)
	pb, _ := sch.Preview(e.ctx, b)
	if want := time.Date(2026, 3, 1, 0, 0, 0, 0, berlin); !pa.Rules[0].Cutoff.Equal(want) || pa.TimeZone != "Europe/Berlin" {
		t.Errorf("Berlin account cutoff %s, want %s", pa.Rules[0].Cutoff, want)
	}
	if want := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC); !pb.Rules[0].Cutoff.Equal(want) {
		t.Errorf("UTC account cutoff %s, want %s", pb.Rules[0].Cutoff, want)
	}
	if d := pb.Rules[0].Cutoff.Sub(pa.Rules[0].Cutoff); d != time.Hour {
		t.Errorf("one instant gives cutoffs %s apart in Berlin and UTC, want the zones' 1h", d)
	}
	rep, _ := sch.Run(e.ctx, a)
	if !rep.Rules[0].Cutoff.Equal(pa.Rules[0].Cutoff) {
		t.Fatalf("run cutoff %s, preview %s", rep.Rules[0].Cutoff, pa.Rules[0].Cutoff)
	}
	for _, ev := range e.audit.OfType(retention.EventTypeRuleRun) {
		if ev.Attrs["cutoff"] != pa.Rules[0].Cutoff.UTC().Format(time.RFC3339Nano) {
			t.Fatalf("audited cutoff %q, want the exact one used", ev.Attrs["cutoff"])
		}
	}
}

// The clock-jump guard: after a jump larger than MaxClockJump a run
// refuses, removes nothing and says why, until an operator confirms.
func TestClockJumpGuardRefusesUntilConfirmed(t *testing.T) {
	onStores(t, testClockJumpGuardRefusesUntilConfirmed)
}

func testClockJumpGuardRefusesUntilConfirmed(t *testing.T, mk func(*testing.T) retention.Store) {
	for _, jump := range []time.Duration{10 * day, -2 * day} {
		t.Run(jump.String(), func(t *testing.T) {
			e := newEnv(t, mk(t))
			tickets := newMemTarget()
			sch := newSchedules(t, e, 100, targets{retention.KindTicket: tickets}, func(c *retention.ScheduleConfig) { c.MaxClockJump = day })
			a := gdprkit.AccountID("acme")
			addRule(t, sch, a, retention.TrashedTickets(30))
			if _, err := sch.Run(e.ctx, a); err != nil {
				t.Fatal(err)
			}
			tickets.add(a, "old", "trash", "trashed_at", e.clock.Now().Add(-100*day))
			e.clock.Advance(jump)
			if _, err := sch.Run(e.ctx, a); !errors.Is(err, retention.ErrClockJump) {
				t.Fatalf("run after a %s jump: %v, want ErrClockJump", jump, err)
			}
			if pre, _ := sch.Preview(e.ctx, a); !strings.Contains(pre.Blocked, "clock") {
				t.Fatalf("preview does not say the run is blocked: %+v", pre)
			}
			if !tickets.has(a, "old") || len(e.audit.OfType(retention.EventTypeClockJump)) != 1 {
				t.Fatal("refused run removed records or was not audited")
			}
			if err := sch.ConfirmClock(e.ctx, a, "ops-1"); err != nil {
				t.Fatal(err)
			}
			if rep, err := sch.Run(e.ctx, a); err != nil || rep.Removed != 1 {
				t.Fatalf("after confirming: %+v %v", rep, err)
			}
		})
	}
}

// Issue 21.2: cancelled after batch 1, 3 or 7 and resumed, the stored
// total and the audit equal the records actually removed.
func TestCancelledRunIsAccountedExactly(t *testing.T) {
	onStores(t, testCancelledRunIsAccountedExactly)
}

func testCancelledRunIsAccountedExactly(t *testing.T, mk func(*testing.T) retention.Store) {
	for _, after := range []int{1, 3, 7} {
		t.Run(fmt.Sprintf("cancel in batch %d", after), func(t *testing.T) {
			e := newEnv(t, mk(t))
			tickets := newMemTarget()
			sch := newSchedules(t, e, 1000, targets{retention.KindTicket: tickets}, func(c *retention.ScheduleConfig) { c.BatchSize = 50 })
			a := gdprkit.AccountID("acme")
			for i := range 500 {
				tickets.add(a, fmt.Sprintf("t%03d", i), "trash", "trashed_at", e.clock.Now().Add(-40*day))
			}
			r := addRule(t, sch, a, retention.TrashedTickets(30))
			ctx, cancel := context.WithCancel(e.ctx)
			n := 0
			tickets.onDelete = func(context.Context, []string) error {
				if n++; n == after {
					cancel() // the delete goes through; the run sees the cancel after it
				}
				return nil
			}
			if _, err := sch.Run(ctx, a); !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled run: %v", err)
			}
			gone := int64(500 - tickets.len(a))
			got, _ := sch.Rule(e.ctx, a, r.ID)
			if got.TotalRemoved != gone || audited(e.audit.Events(), a) != gone {
				t.Fatalf("after cancel: %d gone, total %d, audited %d", gone, got.TotalRemoved, audited(e.audit.Events(), a))
			}
			tickets.onDelete = nil
			if _, err := sch.Run(e.ctx, a); err != nil {
				t.Fatal(err)
			}
			got, _ = sch.Rule(e.ctx, a, r.ID)
			if tickets.len(a) != 0 || got.TotalRemoved != 500 || audited(e.audit.Events(), a) != 500 {
				t.Fatalf("after resume: %d left, total %d, audited %d", tickets.len(a), got.TotalRemoved, audited(e.audit.Events(), a))
			}
		})
	}
}

// A delete that fails half-way (the process dies, the database drops the
// connection) leaves its batch pending; the next run deletes it again and
// counts what is gone, once.
func TestInterruptedBatchIsRecoveredAndCountedOnce(t *testing.T) {
	onStores(t, testInterruptedBatchIsRecoveredAndCountedOnce)
}

func testInterruptedBatchIsRecoveredAndCountedOnce(t *testing.T, mk func(*testing.T) retention.Store) {
	e := newEnv(t, mk(t))
	tickets := newMemTarget()
	sch := newSchedules(t, e, 1000, targets{retention.KindTicket: tickets}, func(c *retention.ScheduleConfig) { c.BatchSize = 10 })
	a := gdprkit.AccountID("acme")
	for i := range 30 {
		tickets.add(a, fmt.Sprintf("t%02d", i), "trash", "trashed_at", e.clock.Now().Add(-40*day))
	}
	r := addRule(t, sch, a, retention.TrashedTickets(30))
	calls := 0
	tickets.onDelete = func(_ context.Context, ids []string) error {
		if calls++; calls == 2 {
			// Half the batch goes, then the connection drops.
			tickets.mu.Lock()
			for _, id := range ids[:5] {
				delete(tickets.recs[a], id)
			}
			tickets.mu.Unlock()
			return errors.New("connection reset")
		}
		return nil
	}
	rep, err := sch.Run(e.ctx, a)
	if err == nil || rep.Removed != 10 {
		t.Fatalf("first run: %+v %v", rep, err)
	}
	tickets.onDelete = nil
	rep, err = sch.Run(e.ctx, a)
	if err != nil || rep.Recovered != 10 || rep.Removed != 10 || tickets.len(a) != 0 {
		t.Fatalf("resumed run: recovered %d removed %d (%v), %d left", rep.Recovered, rep.Removed, err, tickets.len(a))
	}
	got, _ := sch.Rule(e.ctx, a, r.ID)
	if got.TotalRemoved != 30 || audited(e.audit.Events(), a) != 30 {
		t.Fatalf("total %d audited %d, want 30", got.TotalRemoved, audited(e.audit.Events(), a))
	}
}

// Proof of disposition: each batch's removed IDs, exportable, pruned after
// the configured period.
func TestProofOfDispositionIsExportableAndExpires(t *testing.T) {
	onStores(t, testProofOfDispositionIsExportableAndExpires)
}

func testProofOfDispositionIsExportableAndExpires(t *testing.T, mk func(*testing.T) retention.Store) {
	e := newEnv(t, mk(t))
	tickets := newMemTarget()
	sch := newSchedules(t, e, 1000, targets{retention.KindTicket: tickets}, func(c *retention.ScheduleConfig) { c.DispositionTTL = 90 * day })
	a := gdprkit.AccountID("acme")
	want := map[string]bool{}
	for i := range 25 {
		id := fmt.Sprintf("t%02d", i)
		tickets.add(a, id, "trash", "trashed_at", e.clock.Now().Add(-40*day))
		want[id] = true
	}
	r := addRule(t, sch, a, retention.TrashedTickets(30))
	if _, err := sch.Run(e.ctx, a); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := sch.ExportDispositions(e.ctx, a, &buf, time.Time{}, time.Time{})
	if err != nil || n != 25 {
		t.Fatalf("export: %d %v", n, err)
	}
	got := map[string]bool{}
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var rec retention.DispositionRecord
		if err := dec.Decode(&rec); err != nil {
			t.Fatal(err)
		}
		if rec.Rule != r.ID || rec.Account != a || !rec.Cutoff.Equal(e.clock.Now().Add(-30*day)) {
			t.Fatalf("record %+v", rec)
		}
		for _, id := range rec.Removed {
			got[id] = true
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("exported %v, want %v", got, want)
	}
	e.clock.Advance(91 * day)
	if _, err := sch.Run(e.ctx, a); err != nil {
		t.Fatal(err)
	}
	if bs, _ := sch.Dispositions(e.ctx, a, time.Time{}, time.Time{}); len(bs) != 0 {
		t.Fatalf("%d batches kept past DispositionTTL", len(bs))
	}
}

// Issue 21.5: two "processes" with two goroutines each run one account's
// rules at once; every record is counted once, in the totals and the audit.
func TestConcurrentRunsCountEachRecordOnce(t *testing.T) {
	for name, open := range retentionStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st1, st2 := open(t)
			e := newEnv(t, st1)
			tickets := newMemTarget()
			a := gdprkit.AccountID("acme")
			for i := range 200 {
				tickets.add(a, fmt.Sprintf("t%03d", i), "trash", "trashed_at", e.clock.Now().Add(-40*day))
			}
			procs := []*retention.Schedules{
				newSchedules(t, e, 30, targets{retention.KindTicket: tickets}, func(c *retention.ScheduleConfig) { c.Owner = "p1" }),
				newSchedules(t, e, 30, targets{retention.KindTicket: tickets}, func(c *retention.ScheduleConfig) { c.Owner, c.Store = "p2", st2 }),
			}
			r := addRule(t, procs[0], a, retention.TrashedTickets(30))
			var wg sync.WaitGroup
			var mu sync.Mutex
			var reported int64
			for _, p := range procs {
				for range 2 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range 5000 {
							rep, err := p.Run(e.ctx, a)
							if errors.Is(err, gdprkit.ErrLeaseLost) {
								time.Sleep(100 * time.Microsecond)
								continue
							}
							if err != nil {
								t.Error(err)
								return
							}
							mu.Lock()
							reported += rep.Removed
							mu.Unlock()
							if tickets.len(a) == 0 {
								return
							}
						}
					}()
				}
			}
			wg.Wait()
			got, _ := procs[0].Rule(e.ctx, a, r.ID)
			if tickets.len(a) != 0 || reported != 200 || got.TotalRemoved != 200 || audited(e.audit.Events(), a) != 200 {
				t.Fatalf("%d left; reported %d, stored %d, audited %d; want 200 each", tickets.len(a), reported, got.TotalRemoved, audited(e.audit.Events(), a))
			}
		})
	}
}

func TestDeletionRemovesTheAccountsRules(t *testing.T) {
	onStores(t, testDeletionRemovesTheAccountsRules)
}

func testDeletionRemovesTheAccountsRules(t *testing.T, mk func(*testing.T) retention.Store) {
	e := newEnv(t, mk(t))
	tickets := newMemTarget()
	sch := newSchedules(t, e, 0, targets{retention.KindTicket: tickets})
	a := e.start(retention.EventStartPaid)
	b := e.start(retention.EventStartPaid)
	for _, acct := range []gdprkit.AccountID{a, b} {
		addRule(t, sch, acct, retention.TrashedTickets(30))
		tickets.add(acct, "old", "trash", "trashed_at", e.clock.Now().Add(-40*day))
		if rep, err := sch.Run(e.ctx, acct); err != nil || rep.Removed != 1 {
			t.Fatalf("run: %+v %v", rep, err)
		}
	}
	e.apply(a, retention.EventRequestDeletion)
	e.sweep()
	if rules, _ := sch.Rules(e.ctx, a); len(rules) != 0 {
		t.Fatalf("deleted account keeps rules %v", rules)
	}
	if bs, _ := sch.Dispositions(e.ctx, a, time.Time{}, time.Time{}); len(bs) != 0 {
		t.Fatalf("deleted account keeps %d batches", len(bs))
	}
	if bs, _ := sch.Dispositions(e.ctx, b, time.Time{}, time.Time{}); len(bs) != 1 {
		t.Fatalf("other account lost its proof: %d batches", len(bs))
	}
	if rules, _ := sch.Rules(e.ctx, b); len(rules) != 1 {
		t.Fatalf("other account lost its rules")
	}
}

// onStores runs test on memory, SQLite, PostgreSQL and MariaDB (those
// configured); mk opens a fresh store of the kind for each env.
func onStores(t *testing.T, test func(t *testing.T, mk func(*testing.T) retention.Store)) {
	for name, open := range retentionStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, func(t *testing.T) retention.Store { st, _ := open(t); return st })
		})
	}
}

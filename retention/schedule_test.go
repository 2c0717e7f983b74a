package retention_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/retention"
)

// memTarget is a host's table of one kind of record, per account.
type memTarget struct {
	mu   sync.Mutex
	recs map[gdprkit.AccountID]map[string]memRec
}

type memRec struct {
	status string
	times  map[string]time.Time
}

func newMemTarget() *memTarget { return &memTarget{recs: map[gdprkit.AccountID]map[string]memRec{}} }

func (m *memTarget) add(a gdprkit.AccountID, id, status, field string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.recs[a] == nil {
		m.recs[a] = map[string]memRec{}
	}
	m.recs[a][id] = memRec{status: status, times: map[string]time.Time{field: at}}
}

func (m *memTarget) match(a gdprkit.AccountID, sel retention.Selector) []string {
	type kv struct {
		id string
		at time.Time
	}
	var out []kv
	for id, r := range m.recs[a] {
		at, ok := r.times[sel.Field]
		if ok && (sel.Status == "" || r.status == sel.Status) && at.Before(sel.Before) {
			out = append(out, kv{id, at})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].at.Before(out[j].at) || out[i].at.Equal(out[j].at) && out[i].id < out[j].id
	})
	ids := make([]string, len(out))
	for i, x := range out {
		ids[i] = x.id
	}
	return ids
}

func (m *memTarget) Count(_ context.Context, a gdprkit.AccountID, sel retention.Selector) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return int64(len(m.match(a, sel))), nil
}

func (m *memTarget) Find(_ context.Context, a gdprkit.AccountID, sel retention.Selector, limit int) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := m.match(a, sel)
	return ids[:min(limit, len(ids))], nil
}

func (m *memTarget) Delete(_ context.Context, a gdprkit.AccountID, ids []string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, id := range ids {
		if _, ok := m.recs[a][id]; ok {
			delete(m.recs[a], id)
			n++
		}
	}
	return n, nil
}

func (m *memTarget) len(a gdprkit.AccountID) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.recs[a])
}

func newSchedules(t *testing.T, e *env, max int, targets map[retention.TargetKind]retention.Target) *retention.Schedules {
	t.Helper()
	s, err := retention.NewSchedules(retention.ScheduleConfig{Store: e.store, Targets: targets, Clock: e.clock, Audit: e.audit, MaxPerRun: max, BatchSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTrashRuleDryRunThenRunsInCappedBatches(t *testing.T) {
	e := newEnv(t, nil)
	tickets := newMemTarget()
	sch := newSchedules(t, e, 25, map[retention.TargetKind]retention.Target{retention.KindTicket: tickets})
	a, other := gdprkit.AccountID("acct-a"), gdprkit.AccountID("acct-b")
	now := e.clock.Now()
	for i := range 60 {
		tickets.add(a, fmt.Sprintf("old-%02d", i), "trash", "trashed_at", now.Add(-30*day-time.Duration(i)*time.Hour))
		tickets.add(other, fmt.Sprintf("old-%02d", i), "trash", "trashed_at", now.Add(-40*day))
	}
	tickets.add(a, "edge", "trash", "trashed_at", now.Add(-30*day)) // exactly 30 days: kept
	tickets.add(a, "recent", "trash", "trashed_at", now.Add(-29*day))
	tickets.add(a, "open", "open", "created_at", now.Add(-400*day))

	r, err := sch.AddRule(e.ctx, a, retention.TrashedTickets(30))
	if err != nil {
		t.Fatal(err)
	}
	dry, err := sch.DryRun(e.ctx, a, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if dry.Matching != 59 || len(dry.Sample) != 20 || dry.Sample[0] != "old-59" || !dry.Cutoff.Equal(now.Add(-30*day)) {
		t.Fatalf("dry run: matching %d sample %v cutoff %v", dry.Matching, dry.Sample, dry.Cutoff)
	}
	if tickets.len(a) != 63 {
		t.Fatal("dry run removed records")
	}
	for run, want := range []struct {
		removed int64
		backlog bool
	}{{25, true}, {25, true}, {9, false}, {0, false}} {
		reps, err := sch.Run(e.ctx, a)
		if err != nil || len(reps) != 1 {
			t.Fatalf("run %d: %v %v", run, reps, err)
		}
		if reps[0].Removed != want.removed || reps[0].Backlog != want.backlog {
			t.Fatalf("run %d: removed %d backlog %v, want %+v", run, reps[0].Removed, reps[0].Backlog, want)
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
}

func TestRulesShareTheRunLimit(t *testing.T) {
	e := newEnv(t, nil)
	tickets, users, spam := newMemTarget(), newMemTarget(), newMemTarget()
	sch := newSchedules(t, e, 10, map[retention.TargetKind]retention.Target{
		retention.KindTicket: tickets, retention.KindEndUser: users, retention.KindHeldSpam: spam})
	a := gdprkit.AccountID("acct-a")
	now := e.clock.Now()
	for i := range 8 {
		tickets.add(a, fmt.Sprint("t", i), "closed", "closed_at", now.AddDate(0, -7, 0))
		users.add(a, fmt.Sprint("u", i), "", "last_active_at", now.AddDate(0, -25, 0))
		spam.add(a, fmt.Sprint("s", i), "held", "held_at", now.Add(-15*day))
	}
	spam.add(a, "fresh", "held", "held_at", now.Add(-13*day))
	for _, r := range []retention.Rule{retention.ClosedTickets(6), retention.InactiveEndUsers(24), retention.HeldSpam(14)} {
		if _, err := sch.AddRule(e.ctx, a, r); err != nil {
			t.Fatal(err)
		}
	}
	total := 0
	for range 3 {
		reps, err := sch.Run(e.ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		n := int64(0)
		for _, r := range reps {
			n += r.Removed
		}
		if n > 10 {
			t.Fatalf("one run removed %d > 10", n)
		}
		total += int(n)
	}
	if total != 24 || tickets.len(a)+users.len(a) != 0 || spam.len(a) != 1 {
		t.Fatalf("removed %d; left %d %d %d", total, tickets.len(a), users.len(a), spam.len(a))
	}
}

func TestRuleValidationAndDisabling(t *testing.T) {
	e := newEnv(t, nil)
	tickets := newMemTarget()
	sch := newSchedules(t, e, 0, map[retention.TargetKind]retention.Target{retention.KindTicket: tickets})
	a := gdprkit.AccountID("acct-a")
	for name, r := range map[string]retention.Rule{
		"no target":    retention.InactiveEndUsers(3),
		"zero age":     retention.TrashedTickets(0),
		"negative age": retention.TrashedTickets(-1),
		"bad field":    {Name: "x", Target: retention.KindTicket, Condition: retention.Condition{Field: "closed at", OlderThanDays: 1}},
		"no name":      {Target: retention.KindTicket, Condition: retention.Condition{Field: "closed_at", OlderThanDays: 1}},
	} {
		if _, err := sch.AddRule(e.ctx, a, r); !errors.Is(err, gdprkit.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if rules, _ := sch.Rules(e.ctx, a); len(rules) != 0 {
		t.Fatalf("invalid rules stored: %v", rules)
	}
	r, err := sch.AddRule(e.ctx, a, retention.TrashedTickets(1))
	if err != nil {
		t.Fatal(err)
	}
	tickets.add(a, "x", "trash", "trashed_at", e.clock.Now().Add(-2*day))
	if err := sch.SetDisabled(e.ctx, a, r.ID, true); err != nil {
		t.Fatal(err)
	}
	if reps, _ := sch.Run(e.ctx, a); len(reps) != 0 || tickets.len(a) != 1 {
		t.Fatal("disabled rule ran")
	}
	if _, err := sch.Rule(e.ctx, "acct-b", r.ID); !errors.Is(err, gdprkit.ErrNotFound) {
		t.Fatalf("rule visible to another account: %v", err)
	}
	if err := sch.RemoveRule(e.ctx, a, r.ID); err != nil {
		t.Fatal(err)
	}
	if err := sch.RemoveRule(e.ctx, a, r.ID); !errors.Is(err, gdprkit.ErrNotFound) {
		t.Fatal(err)
	}
}

func TestDeletionRemovesTheAccountsRules(t *testing.T) {
	e := newEnv(t, nil)
	sch := newSchedules(t, e, 0, map[retention.TargetKind]retention.Target{retention.KindTicket: newMemTarget()})
	a := e.start(retention.EventStartPaid)
	b := e.start(retention.EventStartPaid)
	for _, acct := range []gdprkit.AccountID{a, b} {
		if _, err := sch.AddRule(e.ctx, acct, retention.TrashedTickets(30)); err != nil {
			t.Fatal(err)
		}
	}
	e.apply(a, retention.EventRequestDeletion)
	e.sweep()
	if rules, _ := sch.Rules(e.ctx, a); len(rules) != 0 {
		t.Fatalf("deleted account keeps rules %v", rules)
	}
	if rules, _ := sch.Rules(e.ctx, b); len(rules) != 1 {
		t.Fatalf("other account lost its rules")
	}
}

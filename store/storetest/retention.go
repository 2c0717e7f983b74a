package storetest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/retention"
)

// runRetention checks retention.Store. ClaimDue is global, and the factory
// may share a database between tests, so the claim tests only judge the
// accounts they created, at times no other test uses.
func runRetention(t *testing.T, f func(*testing.T) retention.Store) {
	runRetentionSchedules(t, f)
	ctx := context.Background()
	at := T0.Add(123456789 * time.Microsecond) // not a whole second: checks precision

	newRec := func(a gdprkit.AccountID, state retention.State, nextDue time.Time) (retention.Record, retention.TransitionRecord) {
		tid := gdprkit.NewID()
		r := retention.Record{Account: a, State: state, Since: at, Version: 1, NextDue: nextDue,
			Pending: []retention.PendingStep{{Transition: tid, Step: retention.StepRemoveConfig}, {Transition: tid, Step: retention.StepEraseHostData}},
			StepsAt: at.Add(time.Second), Attempts: 2, Created: at, Updated: at.Add(time.Minute)}
		tr := retention.TransitionRecord{ID: tid, Account: a, Seq: 1, From: retention.StateNone, To: state,
			Cause: retention.Cause{Kind: retention.CauseEvent, Name: "start_trial"}, Actor: "owner-1",
			At: at, Recorded: at.Add(time.Millisecond), Policy: retention.DefaultPolicy().String(),
			Steps: []retention.Step{retention.StepRemoveConfig, retention.StepEraseHostData}}
		return r, tr
	}
	create := func(t *testing.T, st retention.Store, a gdprkit.AccountID, nextDue time.Time) retention.Record {
		t.Helper()
		r, tr := newRec(a, retention.StateTrial, nextDue)
		if err := st.CreateRecord(ctx, a, r, tr); err != nil {
			t.Fatalf("CreateRecord: %v", err)
		}
		return r
	}

	t.Run("record round-trips with microsecond times", func(t *testing.T) {
		t.Parallel()
		st := f(t)
		a := NewAccount(t)
		want, tr := newRec(a, retention.StateTrial, at.Add(14*24*time.Hour))
		want.LeaseOwner, want.LeaseUntil, want.NothingRemainsAt = "w1", at.Add(time.Hour), at.Add(2*time.Hour)
		if err := st.CreateRecord(ctx, a, want, tr); err != nil {
			t.Fatal(err)
		}
		got, err := st.Record(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Record =\n%+v\nwant\n%+v", got, want)
		}
		trs, err := st.Transitions(ctx, a)
		if err != nil || len(trs) != 1 || !reflect.DeepEqual(trs[0], tr) {
			t.Fatalf("Transitions = %+v, %v\nwant %+v", trs, err, tr)
		}
	})

	t.Run("zero times and empty queues stay zero", func(t *testing.T) {
		t.Parallel()
		st := f(t)
		a := NewAccount(t)
		r := retention.Record{Account: a, State: retention.StateActive, Since: at, Version: 1, Created: at, Updated: at}
		tr := retention.TransitionRecord{ID: gdprkit.NewID(), Account: a, Seq: 1, To: retention.StateActive,
			Cause: retention.Cause{Kind: retention.CauseEvent, Name: "start_paid"}, Actor: "o", At: at, Recorded: at, Policy: "p"}
		if err := st.CreateRecord(ctx, a, r, tr); err != nil {
			t.Fatal(err)
		}
		got, err := st.Record(ctx, a)
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Fatalf("Record = %+v, %v, want %+v", got, err, r)
		}
		trs, _ := st.Transitions(ctx, a)
		if len(trs) != 1 || len(trs[0].Steps) != 0 || trs[0].From != retention.StateNone {
			t.Fatalf("transition %+v", trs)
		}
	})

	t.Run("second create conflicts and changes nothing", func(t *testing.T) {
		t.Parallel()
		st := f(t)
		a := NewAccount(t)
		first := create(t, st, a, time.Time{})
		r, tr := newRec(a, retention.StateActive, time.Time{})
		if err := st.CreateRecord(ctx, a, r, tr); !errors.Is(err, gdprkit.ErrConflict) {
			t.Fatalf("second CreateRecord: %v, want ErrConflict", err)
		}
		got, _ := st.Record(ctx, a)
		trs, _ := st.Transitions(ctx, a)
		if got.State != first.State || len(trs) != 1 {
			t.Fatalf("changed: %+v, %d transitions", got, len(trs))
		}
		if _, err := st.Record(ctx, NewAccount(t)); !errors.Is(err, gdprkit.ErrNotFound) {
			t.Fatalf("Record of unknown account: %v", err)
		}
	})

	t.Run("save is a compare-and-set on the version", func(t *testing.T) {
		t.Parallel()
		st := f(t)
		a := NewAccount(t)
		r := create(t, st, a, at)
		next := r
		next.Version, next.State, next.Pending, next.NextDue, next.StepsAt = 2, retention.StateSuspended, nil, time.Time{}, time.Time{}
		tr := retention.TransitionRecord{ID: gdprkit.NewID(), Account: a, Seq: 2, From: retention.StateTrial, To: retention.StateSuspended,
			Cause: retention.Cause{Kind: retention.CauseTimer, Name: "trial_expired"}, Actor: retention.SystemActor, At: at, Recorded: at, Policy: "p"}
		if err := st.SaveRecord(ctx, a, 1, next, []retention.TransitionRecord{tr}); err != nil {
			t.Fatal(err)
		}
		stale := next
		stale.Version, stale.State = 2, retention.StateActive
		tr2 := tr
		tr2.ID, tr2.Seq, tr2.To = gdprkit.NewID(), 2, retention.StateActive
		if err := st.SaveRecord(ctx, a, 1, stale, []retention.TransitionRecord{tr2}); !errors.Is(err, gdprkit.ErrConflict) {
			t.Fatalf("stale save: %v, want ErrConflict", err)
		}
		bad := next
		bad.Version = 7
		if err := st.SaveRecord(ctx, a, 2, bad, nil); !errors.Is(err, gdprkit.ErrInvalid) {
			t.Fatalf("version not expect+1: %v, want ErrInvalid", err)
		}
		got, _ := st.Record(ctx, a)
		if !reflect.DeepEqual(got, next) {
			t.Fatalf("after failed saves: %+v, want %+v", got, next)
		}
		trs, _ := st.Transitions(ctx, a)
		if len(trs) != 2 || trs[1].To != retention.StateSuspended || trs[1].Seq != 2 {
			t.Fatalf("transitions %+v", trs)
		}
		ghost := next
		ghost.Account, ghost.Version = NewAccount(t), 1
		if err := st.SaveRecord(ctx, ghost.Account, 0, ghost, nil); !errors.Is(err, gdprkit.ErrNotFound) {
			t.Fatalf("save of unknown account: %v", err)
		}
	})

	t.Run("concurrent saves of one version: exactly one wins", func(t *testing.T) {
		t.Parallel()
		st := f(t)
		a := NewAccount(t)
		r := create(t, st, a, at)
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				next := r
				next.Version, next.Attempts = 2, 100+i
				tr := retention.TransitionRecord{ID: gdprkit.NewID(), Account: a, Seq: 2, To: retention.StateActive,
					Cause: retention.Cause{Kind: retention.CauseEvent, Name: "upgrade"}, Actor: "o", At: at, Recorded: at, Policy: "p"}
				err := st.SaveRecord(ctx, a, 1, next, []retention.TransitionRecord{tr})
				if err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				} else if !errors.Is(err, gdprkit.ErrConflict) && !errors.Is(err, gdprkit.ErrUnavailable) {
					t.Errorf("save: %v", err)
				}
			}()
		}
		wg.Wait()
		trs, _ := st.Transitions(ctx, a)
		if wins != 1 || len(trs) != 2 {
			t.Fatalf("%d saves won, %d transitions; want 1 and 2", wins, len(trs))
		}
	})

	// ClaimDue is global: a claim at a later time takes the due accounts of
	// a claim test at an earlier time, so these run one after another, each
	// in an era of its own (1979, 1985, 1991) and judging only its accounts.
	t.Run("ClaimDue", func(t *testing.T) {
		t.Parallel()
		t.Run("concurrent ClaimDue never hands one account to two owners", func(t *testing.T) {
			st := f(t)
			base := time.Date(1979, 1, 1, 0, 0, 0, 0, time.UTC) // only this test uses 1979
			mine := map[gdprkit.AccountID]bool{}
			for i := range 40 {
				a := NewAccount(t)
				mine[a] = true
				create(t, st, a, base.Add(time.Duration(i)*time.Second))
			}
			var mu sync.Mutex
			claimed := map[gdprkit.AccountID]string{}
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					owner := string(rune('A' + w))
					for range 200 { // bounded: a store that re-claims leased accounts fails, not hangs
						ids, err := st.ClaimDue(ctx, base.Add(time.Hour), 3, owner, time.Hour)
						if err != nil {
							if errors.Is(err, gdprkit.ErrUnavailable) {
								continue
							}
							t.Error(err)
							return
						}
						n := 0
						mu.Lock()
						for _, id := range ids {
							if !mine[id] {
								continue
							}
							n++
							if prev, ok := claimed[id]; ok {
								t.Errorf("%s claimed by %s and %s", id, prev, owner)
							}
							claimed[id] = owner
						}
						mu.Unlock()
						if len(ids) == 0 {
							return
						}
					}
				}()
			}
			wg.Wait()
			if len(claimed) != 40 {
				t.Fatalf("%d of 40 claimed", len(claimed))
			}
		})

		t.Run("ClaimDue respects its limit", func(t *testing.T) {
			st := f(t)
			base := time.Date(1985, 1, 1, 0, 0, 0, 0, time.UTC) // only this test uses 1985
			for range 3 {
				create(t, st, NewAccount(t), base)
			}
			ids, err := st.ClaimDue(ctx, base, 2, "w", time.Minute)
			if err != nil || len(ids) != 2 {
				t.Fatalf("claimed %d (%v), want 2", len(ids), err)
			}
		})

		t.Run("ClaimDue leases due accounts earliest first, once", func(t *testing.T) {
			st := f(t)
			base := time.Date(1991, 3, 4, 5, 6, 7, 0, time.UTC) // only this test uses 1991
			var due []gdprkit.AccountID
			mine := map[gdprkit.AccountID]bool{}
			for i := 4; i >= 0; i-- {
				a := NewAccount(t)
				create(t, st, a, base.Add(time.Duration(i)*time.Minute))
				due = append([]gdprkit.AccountID{a}, due...) // earliest first
				mine[a] = true
			}
			later := NewAccount(t)
			create(t, st, later, base.Add(time.Hour))
			never := NewAccount(t)
			create(t, st, never, time.Time{})
			mine[later], mine[never] = true, true
			now := base.Add(10 * time.Minute)

			claim := func(owner string, now time.Time) []gdprkit.AccountID {
				t.Helper()
				ids, err := st.ClaimDue(ctx, now, 1000, owner, time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				var out []gdprkit.AccountID
				for _, id := range ids {
					if mine[id] {
						out = append(out, id)
					}
				}
				return out
			}
			if got := claim("w1", now); !slices.Equal(got, due) {
				t.Fatalf("claimed %v, want the 5 due accounts earliest first %v", got, due)
			}
			r, _ := st.Record(ctx, due[0])
			if r.LeaseOwner != "w1" || !r.LeaseUntil.Equal(now.Add(time.Minute)) || r.Version != 2 {
				t.Fatalf("lease %q until %v, version %d; want w1 until %v, version 2 (a claim bumps the version)", r.LeaseOwner, r.LeaseUntil, r.Version, now.Add(time.Minute))
			}
			if got := claim("w2", now.Add(59*time.Second)); len(got) != 0 {
				t.Fatalf("leased accounts claimed again: %v", got)
			}
			if got := claim("w2", now.Add(time.Minute)); len(got) != 5 {
				t.Fatalf("expired leases not claimable: %v", got)
			}
			if r, _ := st.Record(ctx, due[0]); r.LeaseOwner != "w2" || r.Version != 3 {
				t.Fatalf("re-claimed lease %q, version %d; want w2, version 3", r.LeaseOwner, r.Version)
			}
			if got := claim("w3", base.Add(2*time.Hour)); !slices.Equal(got, append(due, later)) {
				t.Fatalf("claimed %v, want the expired leases then %s", got, later)
			}
			if _, err := st.ClaimDue(ctx, now, 0, "w", time.Minute); !errors.Is(err, gdprkit.ErrInvalid) {
				t.Fatalf("limit 0: %v", err)
			}
		})

		t.Run("a save prepared before a claim cannot erase the lease", func(t *testing.T) {
			st := f(t)
			base := time.Date(1997, 6, 7, 8, 9, 10, 0, time.UTC) // only this test uses 1997
			a := NewAccount(t)
			r := create(t, st, a, base)
			// An event read r, then a sweeper claimed the account, then the
			// event writes what it computed from r (lease fields included).
			ids, err := st.ClaimDue(ctx, base, 1000, "w1", time.Hour)
			if err != nil || !slices.Contains(ids, a) {
				t.Fatalf("claim: %v %v", ids, err)
			}
			stale := r
			stale.Version, stale.State, stale.Updated = r.Version+1, retention.StateActive, base
			tr := retention.TransitionRecord{ID: gdprkit.NewID(), Account: a, Seq: stale.Version, From: retention.StateTrial, To: retention.StateActive,
				Cause: retention.Cause{Kind: retention.CauseEvent, Name: "upgrade"}, Actor: "o", At: base, Recorded: base, Policy: "p"}
			if err := st.SaveRecord(ctx, a, r.Version, stale, []retention.TransitionRecord{tr}); !errors.Is(err, gdprkit.ErrConflict) {
				t.Fatalf("save from the record read before the claim: %v, want ErrConflict", err)
			}
			got, err := st.Record(ctx, a)
			if err != nil || got.LeaseOwner != "w1" || !got.LeaseUntil.Equal(base.Add(time.Hour)) || got.State != retention.StateTrial {
				t.Fatalf("after the stale save: %+v, %v; want w1's lease and the state unchanged", got, err)
			}
			if trs, _ := st.Transitions(ctx, a); len(trs) != 1 {
				t.Fatalf("stale save stored %d transitions", len(trs))
			}
			// Retried from the fresh record, the event keeps the lease.
			next := got
			next.Version, next.State = got.Version+1, retention.StateActive
			tr.Seq = next.Version
			if err := st.SaveRecord(ctx, a, got.Version, next, []retention.TransitionRecord{tr}); err != nil {
				t.Fatalf("save from the fresh record: %v", err)
			}
			if ids, err := st.ClaimDue(ctx, base.Add(time.Minute), 1000, "w2", time.Hour); err != nil || slices.Contains(ids, a) {
				t.Fatalf("w2 claimed %v (%v) while w1's lease runs", ids, err)
			}
		})
	})

	newRule := func(a gdprkit.AccountID, r retention.Rule) retention.Rule {
		r.ID, r.Account, r.Created, r.CreatedBy, r.Updated, r.UpdatedBy, r.Version = gdprkit.NewID(), a, at, "admin-1", at, "admin-1", 1
		if r.Action == "" {
			r.Action = retention.ActionDelete
		}
		return r
	}

	t.Run("rules round-trip, update keeps counters, record runs and delete", func(t *testing.T) {
		t.Parallel()
		st := f(t)
		a := NewAccount(t)
		r := newRule(a, retention.TrashedTickets(30))
		r2 := newRule(a, retention.KeepAtLeast(retention.KindTicket, "closed", "closed_at", 120))
		r2.Disabled = true
		for _, x := range []retention.Rule{r2, r} {
			if err := st.CreateRule(ctx, a, x); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.CreateRule(ctx, a, r); !errors.Is(err, gdprkit.ErrConflict) {
			t.Fatalf("second CreateRule: %v, want ErrConflict", err)
		}
		got, err := st.Rule(ctx, a, r.ID)
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Fatalf("Rule = %+v, %v, want %+v", got, err, r)
		}
		all, _ := st.Rules(ctx, a)
		want := []retention.Rule{r, r2}
		slices.SortFunc(want, func(x, y retention.Rule) int { return strings.Compare(x.ID, y.ID) })
		if !reflect.DeepEqual(all, want) {
			t.Fatalf("Rules = %+v, want %+v (by ID)", all, want)
		}
		// A batch: journalled, committed once, counted in the rule.
		b := retention.Batch{ID: gdprkit.NewID(), Account: a, Run: "run-1", Rule: r.ID, RuleVersion: 1, Target: r.Target,
			Cutoff: at.Add(-time.Hour), Started: at, IDs: []string{"t1", "t,2", "t3"}, State: retention.BatchPending}
		if err := st.BeginBatch(ctx, a, b); err != nil {
			t.Fatal(err)
		}
		if open, _ := st.OpenBatches(ctx, a); len(open) != 1 || !reflect.DeepEqual(open[0], b) {
			t.Fatalf("OpenBatches = %+v, want %+v", open, b)
		}
		cur := retention.Cursor{At: at.Add(-2 * time.Hour), ID: "t3"}
		out := retention.BatchOutcome{Removed: []string{"t1", "t3"}, Held: 1, Committed: at.Add(time.Second), Expires: at.Add(48 * time.Hour), Cursor: cur}
		if err := st.CommitBatch(ctx, a, b.ID, out); err != nil {
			t.Fatal(err)
		}
		if err := st.CommitBatch(ctx, a, b.ID, out); !errors.Is(err, gdprkit.ErrConflict) {
			t.Fatalf("second CommitBatch: %v, want ErrConflict (a batch counts once)", err)
		}
		if err := st.CommitBatch(ctx, a, "no-such-batch", out); !errors.Is(err, gdprkit.ErrNotFound) {
			t.Fatalf("CommitBatch of unknown batch: %v", err)
		}
		got, _ = st.Rule(ctx, a, r.ID)
		if got.TotalRemoved != 2 || got.Cursor != cur {
			t.Fatalf("after commit: total %d cursor %+v, want 2 and %+v", got.TotalRemoved, got.Cursor, cur)
		}
		open, _ := st.OpenBatches(ctx, a)
		if len(open) != 1 || open[0].State != retention.BatchCommitted || !slices.Equal(open[0].Removed, out.Removed) || open[0].Held != 1 {
			t.Fatalf("committed, unaudited batch: %+v", open)
		}
		if err := st.MarkBatchAudited(ctx, a, b.ID); err != nil {
			t.Fatal(err)
		}
		if open, _ := st.OpenBatches(ctx, a); len(open) != 0 {
			t.Fatalf("audited batch still open: %+v", open)
		}
		proof, err := st.Batches(ctx, a, at, at.Add(time.Hour), 0)
		if err != nil || len(proof) != 1 || !proof[0].Committed.Equal(out.Committed) || !proof[0].Audited {
			t.Fatalf("Batches = %+v, %v", proof, err)
		}
		if proof, _ := st.Batches(ctx, a, at.Add(2*time.Second), time.Time{}, 0); len(proof) != 0 {
			t.Fatalf("Batches after the commit time: %+v", proof)
		}
		// Editing keeps the counters; a stale edit conflicts.
		edit := got
		edit.Name, edit.Condition.OlderThanDays, edit.Version, edit.Updated, edit.UpdatedBy, edit.Cursor = "renamed", 45, 2, at.Add(time.Minute), "admin-2", retention.Cursor{}
		edit.TotalRemoved, edit.LastRemoved = 0, 0 // must be ignored
		if err := st.UpdateRule(ctx, a, 1, edit); err != nil {
			t.Fatal(err)
		}
		if err := st.UpdateRule(ctx, a, 1, edit); !errors.Is(err, gdprkit.ErrConflict) {
			t.Fatalf("stale UpdateRule: %v, want ErrConflict", err)
		}
		got, _ = st.Rule(ctx, a, r.ID)
		if got.Name != "renamed" || got.Condition.OlderThanDays != 45 || got.TotalRemoved != 2 || got.Version != 2 || got.UpdatedBy != "admin-2" || !got.Cursor.IsZero() {
			t.Fatalf("after edit: %+v", got)
		}
		// A run's outcome; the cursor only for the rule version it ran.
		o := retention.RuleRunOutcome{RuleVersion: 2, At: at.Add(time.Hour), Removed: 5, Held: 2, Kept: 1, Backlog: true, BacklogRuns: 3,
			Error: "boom", Cursor: retention.Cursor{At: at, ID: "x"}}
		if err := st.FinishRuleRun(ctx, a, r.ID, o); err != nil {
			t.Fatal(err)
		}
		got, _ = st.Rule(ctx, a, r.ID)
		if got.LastRemoved != 5 || got.LastHeld != 2 || got.LastKept != 1 || !got.Backlog || got.BacklogRuns != 3 || got.LastError != "boom" ||
			got.TotalRemoved != 2 || got.Cursor != o.Cursor || !got.LastRun.Equal(o.At) {
			t.Fatalf("after FinishRuleRun: %+v", got)
		}
		o.RuleVersion, o.Cursor = 1, retention.Cursor{At: at, ID: "stale"}
		if err := st.FinishRuleRun(ctx, a, r.ID, o); err != nil {
			t.Fatal(err)
		}
		if got, _ = st.Rule(ctx, a, r.ID); got.Cursor.ID != "x" {
			t.Fatalf("a run of an old version moved the cursor: %+v", got.Cursor)
		}
		// Prune: only expired, committed and audited batches go.
		pending := retention.Batch{ID: gdprkit.NewID(), Account: a, Run: "run-2", Rule: r.ID, RuleVersion: 2, Target: r.Target, Cutoff: at, Started: at, IDs: []string{"p"}, State: retention.BatchPending}
		if err := st.BeginBatch(ctx, a, pending); err != nil {
			t.Fatal(err)
		}
		if n, err := st.PruneBatches(ctx, a, at.Add(47*time.Hour)); err != nil || n != 0 {
			t.Fatalf("prune before expiry: %d %v", n, err)
		}
		if n, err := st.PruneBatches(ctx, a, at.Add(48*time.Hour)); err != nil || n != 1 {
			t.Fatalf("prune at expiry: %d %v", n, err)
		}
		if open, _ := st.OpenBatches(ctx, a); len(open) != 1 || open[0].ID != pending.ID {
			t.Fatalf("pending batch pruned: %+v", open)
		}
		if err := st.DeleteRule(ctx, a, r.ID); err != nil {
			t.Fatal(err)
		}
		got.Version = 3
		for _, err := range []error{st.DeleteRule(ctx, a, r.ID), st.FinishRuleRun(ctx, a, r.ID, o), st.UpdateRule(ctx, a, 2, got)} {
			if !errors.Is(err, gdprkit.ErrNotFound) {
				t.Fatalf("on a deleted rule: %v, want ErrNotFound", err)
			}
		}
		// A batch of a removed rule still commits (its records are gone).
		if err := st.CommitBatch(ctx, a, pending.ID, retention.BatchOutcome{Removed: []string{"p"}, Committed: at, Expires: at}); err != nil {
			t.Fatalf("commit of a removed rule's batch: %v", err)
		}
	})

	// TenantIsolation: nothing written under one account is visible to,
	// changed by or deleted through another.
	t.Run("TenantIsolation", func(t *testing.T) {
		t.Parallel()
		t.Run("padded IDs name other records, never these (#15)", func(t *testing.T) { t.Parallel(); paddedRetention(t, f(t)) })
		t.Run("another account reads, changes and deletes nothing of this one", func(t *testing.T) {
			t.Parallel()
			st := f(t)
			a, b := NewAccount(t), NewAccount(t)
			ra := create(t, st, a, at)
			rule := newRule(a, retention.HeldSpam(14))
			if err := st.CreateRule(ctx, a, rule); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Record(ctx, b); !errors.Is(err, gdprkit.ErrNotFound) {
				t.Errorf("b reads a's record: %v", err)
			}
			if trs, _ := st.Transitions(ctx, b); len(trs) != 0 {
				t.Errorf("b sees a's transitions")
			}
			if rules, _ := st.Rules(ctx, b); len(rules) != 0 {
				t.Errorf("b sees a's rules")
			}
			if _, err := st.Rule(ctx, b, rule.ID); !errors.Is(err, gdprkit.ErrNotFound) {
				t.Errorf("b reads a's rule: %v", err)
			}
			if err := st.DeleteRule(ctx, b, rule.ID); !errors.Is(err, gdprkit.ErrNotFound) {
				t.Errorf("b deletes a's rule: %v", err)
			}
			if err := st.FinishRuleRun(ctx, b, rule.ID, retention.RuleRunOutcome{RuleVersion: 1, At: at, Removed: 9}); !errors.Is(err, gdprkit.ErrNotFound) {
				t.Errorf("b records a run of a's rule: %v", err)
			}
			batch := retention.Batch{ID: gdprkit.NewID(), Account: a, Run: "r", Rule: rule.ID, RuleVersion: 1, Target: rule.Target, Cutoff: at, Started: at, IDs: []string{"x"}, State: retention.BatchPending}
			if err := st.BeginBatch(ctx, a, batch); err != nil {
				t.Fatal(err)
			}
			if open, _ := st.OpenBatches(ctx, b); len(open) != 0 {
				t.Errorf("b sees a's batches")
			}
			if err := st.CommitBatch(ctx, b, batch.ID, retention.BatchOutcome{Removed: []string{"x"}, Committed: at, Expires: at}); !errors.Is(err, gdprkit.ErrNotFound) {
				t.Errorf("b commits a's batch: %v", err)
			}
			if err := st.UpdateRule(ctx, b, 1, rule); err == nil {
				t.Errorf("b updated a's rule")
			}
			hijack := ra
			hijack.Version, hijack.State = 2, retention.StatePurged
			if err := st.SaveRecord(ctx, b, 1, hijack, nil); err == nil {
				t.Errorf("b saved a's record")
			}
			rb := ra
			rb.Account = b
			trB := retention.TransitionRecord{ID: gdprkit.NewID(), Account: a, Seq: 1, To: retention.StateTrial, Cause: retention.Cause{Kind: retention.CauseEvent, Name: "start_trial"}, At: at, Recorded: at}
			if err := st.CreateRecord(ctx, b, rb, trB); !errors.Is(err, gdprkit.ErrInvalid) {
				t.Errorf("b's record with a's transition: %v, want ErrInvalid", err)
			}
			stolen := rule
			stolen.Name = "stolen"
			if err := st.CreateRule(ctx, b, stolen); err == nil {
				t.Errorf("b wrote a rule carrying a's account")
			}
			if got, _ := st.Record(ctx, a); !reflect.DeepEqual(got, ra) {
				t.Errorf("a's record changed: %+v", got)
			}
			if got, _ := st.Rule(ctx, a, rule.ID); got.Name != rule.Name || got.TotalRemoved != 0 {
				t.Errorf("a's rule changed: %+v", got)
			}
		})
	})
}

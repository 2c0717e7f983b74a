package retention_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit"
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

// SweepAccount must refuse an account its own Sweeper's background Sweep
// holds (mid-hook): otherwise the step in progress runs twice at once.
func TestSweepAccountRefusesAccountItsOwnSweepHolds(t *testing.T) {
	e := newEnv(t, nil)
	a := e.start(retention.EventStartPaid)
	e.apply(a, retention.EventRequestDeletion)

	var inFlight, maxInFlight, calls atomic.Int32
	entered := make(chan struct{}, 2)
	release := make(chan struct{})
	cfg := e.hooks.config()
	cfg.Owner = "host-1"
	cfg.ConfigRemover = retention.ConfigRemoverFunc(func(ctx context.Context, _ gdprkit.AccountID) error {
		calls.Add(1)
		n := inFlight.Add(1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		entered <- struct{}{}
		<-release
		inFlight.Add(-1)
		return nil
	})
	sw, err := retention.NewSweeper(e.svc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _, _ = sw.Sweep(e.ctx) }()
	<-entered // the background sweep holds the lease and runs remove_config

	done := make(chan error, 1)
	go func() { _, err := sw.SweepAccount(e.ctx, a); done <- err }()
	var accountErr error
	select {
	case <-entered:
		t.Error("SweepAccount started remove_config while the Sweep was running it")
		close(release)
		accountErr = <-done
	case accountErr = <-done:
		close(release)
	case <-time.After(5 * time.Second):
		close(release)
		accountErr = <-done
	}
	wg.Wait()
	if maxInFlight.Load() > 1 || calls.Load() != 1 {
		t.Fatalf("remove_config ran %d times concurrently (%d calls) for one account", maxInFlight.Load(), calls.Load())
	}
	if !errors.Is(accountErr, gdprkit.ErrLeaseLost) {
		t.Fatalf("SweepAccount on an account its Sweep holds: %v, want ErrLeaseLost", accountErr)
	}
	// The Sweep finished the account; once its lease is released,
	// SweepAccount works again (nothing left to do).
	if r := e.record(a); len(r.Pending) != 0 || r.LeaseOwner != "" {
		t.Fatalf("after the sweep: %+v", r)
	}
	if _, err := sw.SweepAccount(e.ctx, a); err != nil {
		t.Fatalf("SweepAccount on a free account: %v", err)
	}
}

// staleReadStore lets a sweeper claim the account between Service.Apply's
// read and its compare-and-set write.
type staleReadStore struct {
	retention.Store
	between func()
}

func (s *staleReadStore) Record(ctx context.Context, a gdprkit.AccountID) (retention.Record, error) {
	r, err := s.Store.Record(ctx, a)
	if s.between != nil {
		f := s.between
		s.between = nil
		f()
	}
	return r, err
}

// An event applied around a claim must not erase the claim: the write
// prepared from the record read before the claim loses its compare-and-set,
// Apply retries from the fresh record, and the lease stays the sweeper's.
func TestApplyAroundAClaimKeepsTheLease(t *testing.T) {
	e := newEnv(t, nil)
	b := e.start(retention.EventStartTrial)
	e.hooks.failOn[string(retention.StepRemoveConfig)] = 1
	e.clock.Set(t0.Add(80 * day)) // terminated on day 74; remove_config fails once
	e.sweep()
	e.clock.Advance(time.Hour) // its retry is due
	wrap := &staleReadStore{Store: e.store}
	svc, err := retention.New(retention.Config{Store: wrap, Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	wrap.between = func() {
		ids, err := e.store.ClaimDue(e.ctx, e.clock.Now(), 10, "sweeper-A", time.Minute)
		if err != nil || len(ids) != 1 || ids[0] != b {
			t.Fatalf("claim: %v %v", ids, err)
		}
	}
	rec, err := svc.Apply(e.ctx, b, retention.EventRequestDeletion, "owner-1")
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != retention.StateDeleted || rec.LeaseOwner != "sweeper-A" {
		t.Errorf("Apply returned %s leased by %q, want deleted leased by sweeper-A", rec.State, rec.LeaseOwner)
	}
	if r := e.record(b); r.LeaseOwner != "sweeper-A" || r.State != retention.StateDeleted {
		t.Errorf("stored: %s leased by %q; sweeper-A's lease was overwritten", r.State, r.LeaseOwner)
	}
	ids, _ := e.store.ClaimDue(e.ctx, e.clock.Now(), 10, "sweeper-B", time.Minute)
	if len(ids) != 0 {
		t.Fatalf("sweeper-B leased %v while sweeper-A's lease runs", ids)
	}
}

// A sweeper whose lease ran out while a hook was running must not write the
// account back over the sweeper that claimed it since: its write fails, and
// the new holder keeps the lease.
func TestExpiredSweeperCannotOverwriteANewClaim(t *testing.T) {
	e := newEnv(t, nil)
	a := e.start(retention.EventStartPaid)
	e.apply(a, retention.EventRequestDeletion)
	entered, release := make(chan struct{}), make(chan struct{})
	cfg := e.hooks.config()
	cfg.Owner, cfg.LeaseFor = "sweeper-A", time.Minute
	cfg.ConfigRemover = retention.ConfigRemoverFunc(func(context.Context, gdprkit.AccountID) error {
		close(entered)
		<-release
		return nil
	})
	sw, err := retention.NewSweeper(e.svc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	repc := make(chan retention.SweepReport, 1)
	go func() { rep, _ := sw.Sweep(e.ctx); repc <- rep }()
	<-entered
	e.clock.Advance(2 * time.Minute) // A's lease expires mid-hook
	ids, err := e.store.ClaimDue(e.ctx, e.clock.Now(), 10, "sweeper-B", time.Minute)
	if err != nil || len(ids) != 1 {
		t.Fatalf("B's claim: %v %v", ids, err)
	}
	close(release)
	if rep := <-repc; rep.Lost != 1 || rep.Steps != 0 {
		t.Errorf("A's sweep: %+v, want the account lost and no step recorded", rep)
	}
	if r := e.record(a); r.LeaseOwner != "sweeper-B" || len(r.Pending) != 3 {
		t.Fatalf("after A's late write: lease %q, %d pending; want B's lease and 3 pending", r.LeaseOwner, len(r.Pending))
	}
}

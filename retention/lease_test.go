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
	cfg.Service = e.svc
	sw, err := retention.NewSweeper(cfg)
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
	cfg.Service = e.svc
	sw, err := retention.NewSweeper(cfg)
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

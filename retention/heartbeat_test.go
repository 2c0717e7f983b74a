package retention_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/store/memstore"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// retentionStores returns, per store kind, a function that opens two
// handles onto one fresh store, as two processes would: memory (one
// handle shared), SQLite, PostgreSQL and MariaDB.
func retentionStores(t *testing.T) map[string]func(t *testing.T) (retention.Store, retention.Store) {
	out := map[string]func(t *testing.T) (retention.Store, retention.Store){
		"memory": func(t *testing.T) (retention.Store, retention.Store) {
			st := memstore.New().Retention()
			return st, st
		},
	}
	for _, d := range testdb.Dialects(t) {
		out[string(d)] = func(t *testing.T) (retention.Store, retention.Store) {
			st, db := testdb.OpenStore(t, d)
			st2, err := sqlstore.New(testdb.Reopen(t, db), d)
			if err != nil {
				t.Fatal(err)
			}
			return st.Retention(), st2.Retention()
		}
	}
	return out
}

// Issue 14.7: with a lease shorter than the host erasure hook, account
// steps ran twice (81 of 240). The sweeper now renews its lease while a
// hook runs: two sweepers in two "processes", a lease of 60 ms and hooks of
// 200 ms, and no account step runs twice.
func TestLongHookNeverRunsTwice(t *testing.T) {
	for name, open := range retentionStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st1, st2 := open(t)
			ctx := context.Background()
			var mu sync.Mutex
			calls := map[string]int{}
			inFlight := map[gdprkit.AccountID]int{}
			overlap := 0
			hook := func(step string) func(context.Context, gdprkit.AccountID) error {
				return func(ctx context.Context, a gdprkit.AccountID) error {
					mu.Lock()
					calls[step+"/"+string(a)]++
					if inFlight[a]++; inFlight[a] > 1 {
						overlap++
					}
					mu.Unlock()
					time.Sleep(600 * time.Millisecond) // longer than the lease
					mu.Lock()
					inFlight[a]--
					mu.Unlock()
					return nil
				}
			}
			mk := func(st retention.Store, owner string) *retention.Sweeper {
				svc, err := retention.New(retention.Config{Store: st})
				if err != nil {
					t.Fatal(err)
				}
				sw, err := retention.NewSweeper(retention.SweeperConfig{Service: svc, Owner: owner, Batch: 1, LeaseFor: 250 * time.Millisecond, // loose enough for a loaded 2-core CI machine
					Heartbeat:     40 * time.Millisecond,
					ConfigRemover: retention.ConfigRemoverFunc(hook("remove_config")),
					Eraser:        retention.DataEraserFunc(hook("erase_host_data"))})
				if err != nil {
					t.Fatal(err)
				}
				return sw
			}
			svc, _ := retention.New(retention.Config{Store: st1})
			n := 4
			if testing.Short() {
				n = 2
			}
			var accts []gdprkit.AccountID
			for i := range n {
				a := gdprkit.AccountID(fmt.Sprintf("acct-%d-%s", i, gdprkit.NewID()))
				if _, err := svc.Start(ctx, a, retention.EventStartPaid, "owner-1"); err != nil {
					t.Fatal(err)
				}
				if _, err := svc.Apply(ctx, a, retention.EventRequestDeletion, "owner-1"); err != nil {
					t.Fatal(err)
				}
				accts = append(accts, a)
			}
			sweepers := []*retention.Sweeper{mk(st1, "A"), mk(st2, "B")}
			var wg sync.WaitGroup
			deadline := time.Now().Add(30 * time.Second)
			for _, sw := range sweepers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for time.Now().Before(deadline) {
						rep, err := sw.Sweep(ctx)
						if err != nil {
							t.Error(err)
							return
						}
						if rep.Accounts == 0 {
							// Nothing claimable: done, or leased by the other.
							done := true
							for _, a := range accts {
								if r, _ := st1.Record(ctx, a); len(r.Pending) > 0 {
									done = false
								}
							}
							if done {
								return
							}
							time.Sleep(10 * time.Millisecond)
						}
					}
				}()
			}
			wg.Wait()
			twice := 0
			for _, a := range accts {
				r, _ := st1.Record(ctx, a)
				if len(r.Pending) != 0 {
					t.Errorf("%s: steps left %v", a, r.Pending)
				}
				for _, step := range []string{"remove_config", "erase_host_data"} {
					if c := calls[step+"/"+string(a)]; c > 1 {
						twice++
					} else if c == 0 {
						t.Errorf("%s %s never ran", a, step)
					}
				}
			}
			if twice != 0 || overlap != 0 {
				t.Fatalf("%d of %d account-steps ran twice, %d at once in two sweepers", twice, 2*n, overlap)
			}
		})
	}
}

// The same for a schedules run: a run slower than its lease keeps the
// account (renewed), so a second process's Run is refused instead of
// running the same rules at once.
func TestLongScheduleRunKeepsItsLease(t *testing.T) {
	st := memstore.New().Retention()
	tickets := newMemTarget()
	a := gdprkit.AccountID("acme")
	ctx := context.Background()
	for i := range 30 {
		tickets.add(a, fmt.Sprintf("t%02d", i), "trash", "trashed_at", time.Now().Add(-40*day))
	}
	mk := func(owner string) *retention.Schedules {
		s, err := retention.NewSchedules(retention.ScheduleConfig{Store: st, Targets: targets{retention.KindTicket: tickets}, Owner: owner,
			BatchSize: 10, LeaseFor: 60 * time.Millisecond, Heartbeat: 15 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	p1, p2 := mk("p1"), mk("p2")
	if _, err := p1.AddRule(ctx, a, retention.TrashedTickets(30), admin); err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{}, 3)
	tickets.onDelete = func(context.Context, []string) error {
		entered <- struct{}{}
		time.Sleep(150 * time.Millisecond)
		return nil
	}
	done := make(chan retention.RunReport, 1)
	go func() { rep, _ := p1.Run(ctx, a); done <- rep }()
	<-entered
	time.Sleep(100 * time.Millisecond) // past the unrenewed lease
	if _, err := p2.Run(ctx, a); err == nil {
		t.Fatal("a second run started while the first was deleting")
	}
	if rep := <-done; rep.Removed != 30 {
		t.Fatalf("first run removed %d, want 30", rep.Removed)
	}
}

package retention_test

import (
	"sync"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// The lifecycle over every SQL dialect: the 100-day catch-up, then a crash
// and resume.
func TestLifecycleOnSQL(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			st, _ := testdb.OpenStore(t, d)
			e := newEnv(t, st.Retention())
			a := e.start(retention.EventStartTrial)
			b := e.start(retention.EventStartPaid)
			e.apply(b, retention.EventBillingFailed)
			e.clock.Set(t0.Add(100 * day))
			e.hooks.failOn[string(retention.StepRemoveConfig)+"/"+string(b)] = 1
			e.sweep()
			e.wantPath(a, step{retention.StateTrial, t0}, step{retention.StateSuspended, t0.Add(14 * day)},
				step{retention.StateTerminated, t0.Add(74 * day)})
			e.wantPath(b, step{retention.StateActive, t0}, step{retention.StateBillingFailing, t0},
				step{retention.StateSuspended, t0.Add(7*day + time.Microsecond)}, step{retention.StateTerminated, t0.Add(67*day + time.Microsecond)},
				step{retention.StateDeleted, t0.Add(97*day + time.Microsecond)})
			if r := e.record(b); r.Attempts != 1 || len(r.Pending) != 3 || r.Pending[0].Step != retention.StepRemoveConfig {
				t.Fatalf("failed step not recorded: %+v", r)
			}
			e.clock.Set(t0.Add(300 * day))
			e.sweep()
			for _, acct := range []gdprkit.AccountID{a, b} {
				r := e.record(acct)
				if r.State != retention.StatePurged || r.NothingRemainsAt.IsZero() || r.LeaseOwner != "" || !r.NextDue.IsZero() {
					t.Fatalf("%s: %+v", acct, r)
				}
				for _, s := range []retention.Step{retention.StepRemoveConfig, retention.StepEraseHostData, retention.StepExpireBackups} {
					if e.hooks.Effects(s, acct) != 1 {
						t.Errorf("%s %s applied %d times", acct, s, e.hooks.Effects(s, acct))
					}
				}
			}
			trs := e.history(a)
			if trs[4].Policy != retention.DefaultPolicy().String() || trs[4].Cause.String() != "timer:backups_expired" ||
				trs[4].Actor != retention.SystemActor || len(trs[4].Steps) != 1 {
				t.Fatalf("stored transition %+v", trs[4])
			}
		})
	}
}

// A sweep killed mid-way and a failing hook, on every SQL dialect.
func TestCrashAndResumeOnSQL(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			st, _ := testdb.OpenStore(t, d)
			testCrashAndResume(t, st.Retention())
		})
	}
}

// Two sweepers in two "processes" against one database perform each
// transition, and call each hook, exactly once.
func TestConcurrentSweepersTransitionOnce(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			st, db := testdb.OpenStore(t, d)
			st2, err := sqlstore.New(testdb.Reopen(t, db), d)
			if err != nil {
				t.Fatal(err)
			}
			e := newEnv(t, st.Retention())
			n := 60
			if testing.Short() {
				n = 20
			}
			accts := make([]gdprkit.AccountID, n)
			for i := range accts {
				accts[i] = e.start(retention.EventStartTrial)
			}
			svc2, _ := retention.New(retention.Config{Store: st2.Retention(), Clock: e.clock, Audit: e.audit})
			cfg := e.hooks.config()
			cfg.Owner, cfg.Batch, cfg.Service = "sweeper-B", 3, svc2
			swB, _ := retention.NewSweeper(cfg)
			cfg.Owner, cfg.Service = "sweeper-A", e.svc
			swA, _ := retention.NewSweeper(cfg)

			e.clock.Set(t0.Add(200 * day))
			var wg sync.WaitGroup
			reps := make([]retention.SweepReport, 2)
			errs := make([]error, 2)
			for i, sw := range []*retention.Sweeper{swA, swB} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					reps[i], errs[i] = sw.Sweep(e.ctx)
				}()
			}
			wg.Wait()
			for i := range errs {
				if errs[i] != nil {
					t.Fatalf("sweeper %d: %v", i, errs[i])
				}
			}
			if got := reps[0].Transitions + reps[1].Transitions; got != 4*n {
				t.Errorf("transitions %d, want %d (A %+v, B %+v)", got, 4*n, reps[0], reps[1])
			}
			t.Logf("A %+v, B %+v", reps[0], reps[1])
			for _, a := range accts {
				trs := e.history(a)
				if len(trs) != 5 {
					t.Errorf("%s: %d transitions, want 5", a, len(trs))
				}
				for _, s := range []retention.Step{retention.StepRemoveConfig, retention.StepEraseHostData, retention.StepExpireBackups} {
					if c := e.hooks.Calls(s, a); c != 1 {
						t.Errorf("%s: %s called %d times", a, s, c)
					}
				}
			}
			if got := len(e.audit.OfType(retention.EventTypeTransition)); got != 5*n {
				t.Errorf("%d audited transitions, want %d", got, 5*n)
			}
		})
	}
}

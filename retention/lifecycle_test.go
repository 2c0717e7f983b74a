package retention_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/retention"
)

func TestTrialIsSuspendedAtDay14Exactly(t *testing.T) {
	e := newEnv(t, nil)
	a := e.start(retention.EventStartTrial)

	e.clock.Set(t0.Add(14*day - time.Microsecond))
	if rep := e.sweep(); rep.Transitions != 0 {
		t.Fatalf("swept %+v before day 14", rep)
	}
	if err := e.svc.AllowLogin(e.ctx, a); err != nil {
		t.Fatalf("login just before day 14: %v", err)
	}
	e.wantState(a, retention.StateTrial)

	e.clock.Set(t0.Add(14 * day))
	if err := e.svc.AllowLogin(e.ctx, a); !errors.Is(err, gdprkit.ErrAccountSuspended) {
		t.Fatalf("login at day 14 exactly, before any sweep: %v, want ErrAccountSuspended", err)
	}
	if rep := e.sweep(); rep.Transitions != 1 {
		t.Fatalf("sweep at day 14: %+v", rep)
	}
	e.wantState(a, retention.StateSuspended)
	e.wantPath(a, step{retention.StateTrial, t0}, step{retention.StateSuspended, t0.Add(14 * day)})
}

func TestUpgradedTrialIsNotSuspended(t *testing.T) {
	e := newEnv(t, nil)
	a := e.start(retention.EventStartTrial)
	e.clock.Set(t0.Add(14*day - time.Microsecond))
	e.apply(a, retention.EventUpgrade)
	e.clock.Set(t0.Add(400 * day))
	e.sweep()
	e.wantState(a, retention.StateActive)
	if err := e.svc.AllowLogin(e.ctx, a); err != nil {
		t.Fatal(err)
	}
}

func TestUpgradeAfterTrialExpiredIsNotAllowed(t *testing.T) {
	e := newEnv(t, nil)
	a := e.start(retention.EventStartTrial)
	e.clock.Set(t0.Add(15 * day)) // no sweep ran
	_, err := e.svc.Apply(e.ctx, a, retention.EventUpgrade, "owner-1")
	if !errors.Is(err, retention.ErrNotAllowed) || !errors.Is(err, gdprkit.ErrConflict) {
		t.Fatalf("upgrade on day 15: %v, want ErrNotAllowed", err)
	}
	// The schedule's suspension was recorded, stamped day 14; nothing else.
	e.wantPath(a, step{retention.StateTrial, t0}, step{retention.StateSuspended, t0.Add(14 * day)})
}

func TestBillingFailingSevenDaysVersusMoreThanSeven(t *testing.T) {
	e := newEnv(t, nil)
	a := e.start(retention.EventStartPaid)
	failed := t0.Add(3 * day)
	e.clock.Set(failed)
	e.apply(a, retention.EventBillingFailed)

	e.clock.Set(failed.Add(7 * day)) // failing for exactly 7 days
	if rep := e.sweep(); rep.Transitions != 0 {
		t.Fatalf("suspended after exactly 7 days: %+v", rep)
	}
	if err := e.svc.Check(e.ctx, a, retention.AccessAgent); err != nil {
		t.Fatalf("agent access at exactly 7 days: %v", err)
	}

	e.clock.Set(failed.Add(7*day + time.Microsecond)) // more than 7 days
	if err := e.svc.Check(e.ctx, a, retention.AccessAgent); !errors.Is(err, gdprkit.ErrAccountSuspended) {
		t.Fatalf("agent access after more than 7 days: %v", err)
	}
	e.sweep()
	e.wantPath(a, step{retention.StateActive, t0}, step{retention.StateBillingFailing, failed},
		step{retention.StateSuspended, failed.Add(7*day + time.Microsecond)})
}

func TestBillingRecoveredStopsTheGraceTimer(t *testing.T) {
	e := newEnv(t, nil)
	a := e.start(retention.EventStartPaid)
	e.apply(a, retention.EventBillingFailed)
	e.clock.Advance(7 * day)
	e.apply(a, retention.EventBillingRecovered)
	e.clock.Advance(100 * day)
	e.sweep()
	e.wantState(a, retention.StateActive)
	if r := e.record(a); !r.NextDue.IsZero() {
		t.Fatalf("active account has NextDue %v", r.NextDue)
	}
}

func TestLateBillingWebhookCountsFromWhenBillingFailed(t *testing.T) {
	e := newEnv(t, nil)
	a := e.start(retention.EventStartPaid)
	e.clock.Set(t0.Add(20 * day))
	failed := t0.Add(10 * day)
	if _, err := e.svc.ApplyAt(e.ctx, a, retention.EventBillingFailed, "billing", failed); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AllowLogin(e.ctx, a); !errors.Is(err, gdprkit.ErrAccountSuspended) {
		t.Fatalf("failing since day 10, now day 20: %v", err)
	}
	if _, err := e.svc.ApplyAt(e.ctx, a, retention.EventBillingRecovered, "billing", t0.Add(30*day)); !errors.Is(err, gdprkit.ErrInvalid) {
		t.Fatalf("event in the future: %v", err)
	}
}

// The issue: "an account whose sweeper did not run for 100 days moves
// through every due state in order, each stamped with the time it was due".
func TestSweeperCatchesUpEveryDueStateInOrder(t *testing.T) {
	e := newEnv(t, nil)
	a := e.start(retention.EventStartTrial)
	e.clock.Set(t0.Add(100 * day))
	rep := e.sweep()
	if rep.Transitions != 2 || rep.Steps != 1 {
		t.Fatalf("report %+v, want 2 transitions and 1 step", rep)
	}
	susp, term := t0.Add(14*day), t0.Add(74*day)
	e.wantPath(a, step{retention.StateTrial, t0}, step{retention.StateSuspended, susp}, step{retention.StateTerminated, term})
	if e.hooks.Effects(retention.StepRemoveConfig, a) != 1 || e.hooks.Calls(retention.StepEraseHostData, a) != 0 {
		t.Fatalf("hooks: %v", e.hooks.calls)
	}
	// Data is kept while terminated.
	if r := e.record(a); !r.NextDue.Equal(term.Add(30 * day)) {
		t.Fatalf("next due %v, want deletion at %v", r.NextDue, term.Add(30*day))
	}

	e.clock.Set(t0.Add(400 * day))
	e.sweep()
	del, purged := term.Add(30*day), term.Add(60*day)
	e.wantPath(a, step{retention.StateTrial, t0}, step{retention.StateSuspended, susp}, step{retention.StateTerminated, term},
		step{retention.StateDeleted, del}, step{retention.StatePurged, purged})
	for _, s := range []retention.Step{retention.StepRemoveConfig, retention.StepEraseHostData, retention.StepExpireBackups} {
		if n := e.hooks.Calls(s, a); n != 1 {
			t.Errorf("%s called %d times", s, n)
		}
	}
	wantOrder := []string{"remove_config/", "erase_host_data/", "expire_backups/"}
	for i, k := range e.hooks.order {
		if !strings.HasPrefix(k, wantOrder[i]) {
			t.Errorf("hook %d = %s, want %s", i, k, wantOrder[i])
		}
	}
	r := e.record(a)
	if r.NothingRemainsAt.IsZero() || len(r.Pending) != 0 || !r.NextDue.IsZero() || r.LeaseOwner != "" {
		t.Fatalf("final record %+v", r)
	}
	if n := len(e.audit.OfType(retention.EventTypeNothingRemains)); n != 1 {
		t.Fatalf("%d nothing-remains events", n)
	}
	// Nothing more to do, ever.
	e.clock.Set(t0.Add(4000 * day))
	if rep := e.sweep(); rep.Accounts != 0 {
		t.Fatalf("swept a purged account: %+v", rep)
	}
}

func TestEveryTransitionIsStoredAndAudited(t *testing.T) {
	e := newEnv(t, nil)
	a := e.start(retention.EventStartTrial)
	e.clock.Advance(2 * day)
	e.apply(a, retention.EventUpgrade)
	e.clock.Set(t0.Add(300 * day))
	e.apply(a, retention.EventBillingFailed)
	e.clock.Advance(30 * day)
	e.sweep()
	trs := e.history(a)
	evs := e.audit.OfType(retention.EventTypeTransition)
	// trial, active, billing_failing, suspended (day 307; the lift window
	// ends on day 367).
	if len(trs) != len(evs) || len(trs) != 4 {
		t.Fatalf("%d transitions, %d audit events, want 4", len(trs), len(evs))
	}
	for i, tr := range trs {
		ev := evs[i]
		if ev.Account != a || ev.Attrs["to"] != string(tr.To) || ev.Attrs["cause"] != tr.Cause.String() || ev.Attrs["transition"] != tr.ID {
			t.Errorf("audit %d = %+v for %+v", i, ev, tr)
		}
		if tr.Policy != retention.DefaultPolicy().String() || ev.Attrs["policy"] != tr.Policy {
			t.Errorf("policy %q", tr.Policy)
		}
	}
	if trs[1].Cause != (retention.Cause{Kind: retention.CauseEvent, Name: "upgrade"}) || trs[1].Actor != "owner-1" {
		t.Errorf("upgrade transition %+v", trs[1])
	}
	if trs[3].Cause != (retention.Cause{Kind: retention.CauseTimer, Name: "billing_grace_expired"}) || trs[3].Actor != retention.SystemActor {
		t.Errorf("grace transition %+v", trs[3])
	}
}

func TestEventNotAllowedChangesNothing(t *testing.T) {
	e := newEnv(t, nil)
	a := e.start(retention.EventStartPaid)
	before := e.record(a)
	for _, ev := range []retention.Event{retention.EventUpgrade, retention.EventBillingRecovered,
		retention.EventRequestLift, retention.EventReinstate, retention.EventDenyLift} {
		_, err := e.svc.Apply(e.ctx, a, ev, "owner-1")
		if !errors.Is(err, retention.ErrNotAllowed) || !errors.Is(err, gdprkit.ErrConflict) {
			t.Errorf("%s on active: %v", ev, err)
		}
		if !strings.Contains(err.Error(), string(ev)) || !strings.Contains(err.Error(), "active") {
			t.Errorf("error does not say which event and state: %v", err)
		}
	}
	if _, err := e.svc.Apply(e.ctx, a, "explode", "owner-1"); !errors.Is(err, gdprkit.ErrInvalid) {
		t.Errorf("unknown event: %v", err)
	}
	if _, err := e.svc.Start(e.ctx, a, retention.EventStartTrial, "owner-1"); !errors.Is(err, gdprkit.ErrConflict) {
		t.Errorf("second start: %v", err)
	}
	if after := e.record(a); after.Version != before.Version || len(e.history(a)) != 1 {
		t.Fatalf("record changed: %+v -> %+v", before, after)
	}
	if _, err := e.svc.Apply(e.ctx, "nobody", retention.EventUpgrade, "owner-1"); !errors.Is(err, gdprkit.ErrNotFound) {
		t.Errorf("unknown account: %v", err)
	}
}

func TestSuspendedAccountAllowsNoAccessOfAnyKind(t *testing.T) {
	e := newEnv(t, nil)
	trial := e.start(retention.EventStartTrial)
	paid := e.start(retention.EventStartPaid)
	all := []retention.Access{retention.AccessLogin, retention.AccessOwner, retention.AccessAgent, retention.AccessPortal, retention.AccessAPI}
	for _, acc := range all {
		if err := e.svc.Check(e.ctx, trial, acc); err != nil {
			t.Fatalf("trial %s: %v", acc, err)
		}
	}
	e.clock.Set(t0.Add(20 * day))
	for _, acc := range all {
		err := e.svc.Check(e.ctx, trial, acc)
		var de *retention.DeniedError
		if !errors.Is(err, gdprkit.ErrAccountSuspended) || !errors.As(err, &de) || de.State != retention.StateSuspended || de.Access != acc {
			t.Errorf("suspended %s: %v", acc, err)
		}
		if err := e.svc.Check(e.ctx, paid, acc); err != nil {
			t.Errorf("paid %s: %v", acc, err)
		}
	}
	e.apply(trial, retention.EventRequestLift)
	if err := e.svc.CheckSurface(e.ctx, trial, gdprkit.SurfacePortal); !errors.Is(err, gdprkit.ErrAccountSuspended) {
		t.Errorf("lift requested: %v", err)
	}
	e.clock.Set(t0.Add(400 * day))
	e.apply(trial, retention.EventDenyLift) // lift window restarts now
	e.clock.Advance(60 * day)
	for _, acc := range all {
		if err := e.svc.Check(e.ctx, trial, acc); !errors.Is(err, gdprkit.ErrAccountTerminated) {
			t.Errorf("terminated %s: %v", acc, err)
		}
	}
	if err := e.svc.Check(e.ctx, "nobody", retention.AccessLogin); !errors.Is(err, gdprkit.ErrNotFound) {
		t.Errorf("unknown account: %v", err)
	}
	if err := e.svc.Check(e.ctx, paid, "root"); !errors.Is(err, gdprkit.ErrInvalid) {
		t.Errorf("unknown access: %v", err)
	}
	open, _ := retention.New(retention.Config{Store: e.store, Clock: e.clock, AllowUnknown: true})
	if err := open.AllowLogin(e.ctx, "nobody"); err != nil {
		t.Errorf("AllowUnknown: %v", err)
	}
}

func TestLiftRequestStopsTermination(t *testing.T) {
	e := newEnv(t, nil)
	a := e.start(retention.EventStartTrial)
	e.clock.Set(t0.Add(14*day + 59*day))
	e.apply(a, retention.EventRequestLift)
	e.clock.Set(t0.Add(500 * day))
	e.sweep()
	e.wantState(a, retention.StateLiftRequested)
	if e.hooks.Calls(retention.StepRemoveConfig, a) != 0 {
		t.Fatal("config removed although the owner asked to lift")
	}
	e.apply(a, retention.EventReinstate)
	if err := e.svc.AllowLogin(e.ctx, a); err != nil {
		t.Fatal(err)
	}
}

func TestLiftWindowEndsAtDay60(t *testing.T) {
	e := newEnv(t, nil)
	a := e.start(retention.EventStartTrial)
	susp := t0.Add(14 * day)
	e.clock.Set(susp.Add(60*day - time.Microsecond))
	e.sweep()
	e.wantState(a, retention.StateSuspended)
	e.clock.Set(susp.Add(60 * day))
	_, err := e.svc.Apply(e.ctx, a, retention.EventRequestLift, "owner-1")
	if !errors.Is(err, retention.ErrNotAllowed) {
		t.Fatalf("lift request at day 60 of suspension: %v", err)
	}
	e.wantState(a, retention.StateTerminated)
}

func TestOwnerCanAskForDeletionAtAnyTime(t *testing.T) {
	for _, setup := range []struct {
		name string
		do   func(e *env) gdprkit.AccountID
		want []retention.Step
	}{
		{"trial", func(e *env) gdprkit.AccountID { return e.start(retention.EventStartTrial) },
			[]retention.Step{retention.StepRemoveConfig, retention.StepEraseHostData}},
		{"billing failing", func(e *env) gdprkit.AccountID {
			a := e.start(retention.EventStartPaid)
			e.apply(a, retention.EventBillingFailed)
			return a
		}, []retention.Step{retention.StepRemoveConfig, retention.StepEraseHostData}},
		{"terminated", func(e *env) gdprkit.AccountID {
			a := e.start(retention.EventStartTrial)
			e.clock.Advance(80 * day)
			e.sweep()
			return a
		}, []retention.Step{retention.StepRemoveConfig, retention.StepEraseHostData}},
	} {
		t.Run(setup.name, func(t *testing.T) {
			e := newEnv(t, nil)
			a := setup.do(e)
			at := e.clock.Now()
			e.apply(a, retention.EventRequestDeletion)
			e.sweep()
			e.wantState(a, retention.StateDeleted)
			for _, s := range setup.want {
				if e.hooks.Calls(s, a) != 1 {
					t.Errorf("%s called %d times", s, e.hooks.Calls(s, a))
				}
			}
			if e.hooks.Calls(retention.StepExpireBackups, a) != 0 {
				t.Fatal("backups expired at once")
			}
			e.clock.Set(at.Add(30*day - time.Microsecond))
			e.sweep()
			e.wantState(a, retention.StateDeleted)
			e.clock.Set(at.Add(30 * day))
			e.sweep()
			e.wantState(a, retention.StatePurged)
			if e.hooks.Calls(retention.StepExpireBackups, a) != 1 {
				t.Fatal("backups not expired")
			}
			if _, err := e.svc.Apply(e.ctx, a, retention.EventRequestDeletion, "owner-1"); !errors.Is(err, retention.ErrNotAllowed) {
				t.Fatalf("deletion of purged account: %v", err)
			}
		})
	}
}

// A sweep killed mid-way (a hook that panics once, as a killed process
// would stop) and a hook that fails once: the next runs finish the job,
// each step's effect applied once, no completed step called again.
func TestSweepResumesAfterCrashAndFailure(t *testing.T) { testCrashAndResume(t, nil) }

func testCrashAndResume(t *testing.T, st retention.Store) {
	e := newEnv(t, st)
	var accts []gdprkit.AccountID
	for range 5 {
		accts = append(accts, e.start(retention.EventStartTrial))
	}
	e.clock.Set(t0.Add(200 * day))
	e.hooks.panicOn[string(retention.StepEraseHostData)] = 1
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the crash did not happen")
			}
		}()
		_, _ = e.sw.Sweep(e.ctx)
	}()
	crashed := ""
	for _, k := range e.hooks.order {
		if strings.HasPrefix(k, "erase_host_data/") {
			crashed = strings.TrimPrefix(k, "erase_host_data/")
		}
	}
	if crashed == "" {
		t.Fatal("no crash recorded")
	}
	// A second process sweeps while the dead one's lease is held: the
	// crashed account is left alone until the lease expires.
	e.hooks.failOn[string(retention.StepExpireBackups)] = 1
	sw2 := e.sweeper("sweeper-2")
	if _, err := sw2.Sweep(e.ctx); err != nil {
		t.Fatal(err)
	}
	if e.hooks.Effects(retention.StepEraseHostData, gdprkit.AccountID(crashed)) != 0 {
		t.Fatal("leased account touched by another sweeper")
	}
	e.clock.Advance(10 * time.Minute) // the dead sweeper's lease expires
	if _, err := sw2.Sweep(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Minute) // the failed step's retry delay passes
	if _, err := sw2.Sweep(e.ctx); err != nil {
		t.Fatal(err)
	}
	expireCalls := 0
	for _, a := range accts {
		e.wantState(a, retention.StatePurged)
		r := e.record(a)
		if len(r.Pending) != 0 || r.NothingRemainsAt.IsZero() {
			t.Errorf("%s: %+v", a, r)
		}
		for _, s := range []retention.Step{retention.StepRemoveConfig, retention.StepEraseHostData, retention.StepExpireBackups} {
			if n := e.hooks.Effects(s, a); n != 1 {
				t.Errorf("%s: %s applied %d times", a, s, n)
			}
			if s == retention.StepExpireBackups {
				expireCalls += e.hooks.Calls(s, a)
				continue
			}
			want := 1
			if s == retention.StepEraseHostData && string(a) == crashed {
				want = 2 // the interrupted call and its retry
			}
			if n := e.hooks.Calls(s, a); n != want {
				t.Errorf("%s: %s called %d times, want %d", a, s, n, want)
			}
		}
		if n := len(e.history(a)); n != 5 {
			t.Errorf("%s: %d transitions, want 5", a, n)
		}
	}
	if expireCalls != len(accts)+1 {
		t.Errorf("expire_backups called %d times, want %d (one failed once)", expireCalls, len(accts)+1)
	}
	failed := 0
	for _, ev := range e.audit.OfType(retention.EventTypeStep) {
		if ev.Attrs["status"] == "failed" {
			failed++
		}
	}
	if failed != 1 {
		t.Fatalf("%d failed-step events, want 1", failed)
	}
}

func TestStepFailureBacksOffAndReportsProgress(t *testing.T) {
	e := newEnv(t, nil)
	a := e.start(retention.EventStartPaid)
	var got []retention.Progress
	cfg := e.hooks.config()
	cfg.Progress = func(p retention.Progress) { got = append(got, p) }
	cfg.RetryDelay = time.Hour
	cfg.Service = e.svc
	sw, _ := retention.NewSweeper(cfg)
	e.hooks.failOn[string(retention.StepRemoveConfig)] = 2
	e.apply(a, retention.EventRequestDeletion)
	rep, err := sw.Sweep(e.ctx)
	if err != nil || rep.Failures != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	if r := e.record(a); r.Attempts != 1 || !r.NextDue.Equal(e.clock.Now().Add(time.Hour)) {
		t.Fatalf("after 1 failure: attempts %d next %v", r.Attempts, r.NextDue)
	}
	e.clock.Advance(time.Hour)
	_, _ = sw.Sweep(e.ctx)
	if r := e.record(a); r.Attempts != 2 || !r.NextDue.Equal(e.clock.Now().Add(2*time.Hour)) {
		t.Fatalf("after 2 failures: attempts %d next %v", r.Attempts, r.NextDue)
	}
	e.clock.Advance(2 * time.Hour)
	_, _ = sw.Sweep(e.ctx)
	if r := e.record(a); len(r.Pending) != 0 || r.Attempts != 0 {
		t.Fatalf("not finished: %+v", r)
	}
	var statuses []string
	for _, p := range got {
		statuses = append(statuses, string(p.Step)+":"+string(p.Status))
	}
	want := "remove_config:started remove_config:failed remove_config:started remove_config:failed remove_config:started remove_config:done " +
		"erase_store_data:started erase_store_data:done erase_host_data:started erase_host_data:done"
	if strings.Join(statuses, " ") != want {
		t.Fatalf("progress:\n%s\nwant\n%s", strings.Join(statuses, " "), want)
	}
}

func TestMissingHooksAreSkippedAndReported(t *testing.T) {
	e := newEnv(t, nil)
	sw, _ := retention.NewSweeper(retention.SweeperConfig{Service: e.svc})
	a := e.start(retention.EventStartPaid)
	e.apply(a, retention.EventRequestDeletion)
	rep, err := sw.Sweep(e.ctx)
	if err != nil || rep.Steps != 3 {
		t.Fatalf("%+v %v", rep, err)
	}
	for _, ev := range e.audit.OfType(retention.EventTypeStep) {
		want := "skipped"
		if ev.Attrs["step"] == string(retention.StepEraseStoreData) {
			want = "done" // the sweeper's own: the account's retention rules
		}
		if ev.Attrs["status"] != want {
			t.Fatalf("%+v", ev)
		}
	}
}

func TestCustomPolicy(t *testing.T) {
	st := newEnv(t, nil).store
	e := newEnv(t, st)
	p := retention.Policy{Name: "enterprise", TrialPeriod: 30 * day}
	svc, err := retention.New(retention.Config{Store: st, Clock: e.clock, Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	a := gdprkit.AccountID("acct-ent")
	if _, err := svc.Start(e.ctx, a, retention.EventStartTrial, "owner"); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(t0.Add(20 * day))
	if err := svc.AllowLogin(e.ctx, a); err != nil {
		t.Fatalf("30-day trial on day 20: %v", err)
	}
	e.clock.Set(t0.Add(30 * day))
	if err := svc.AllowLogin(e.ctx, a); !errors.Is(err, gdprkit.ErrAccountSuspended) {
		t.Fatalf("30-day trial on day 30: %v", err)
	}
	if _, err := retention.New(retention.Config{Store: st, Policy: retention.Policy{LiftWindow: -1}}); !errors.Is(err, gdprkit.ErrInvalid) {
		t.Fatalf("negative policy: %v", err)
	}
	if want := "enterprise trial=30d billing_grace=7d lift_window=60d deletion=30d backups=30d"; svc.Policy().String() != want {
		t.Fatalf("policy %q", svc.Policy().String())
	}
}

func TestTableIsConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range retention.Table() {
		if (e.Event == "") == (e.Timer == "") {
			t.Errorf("edge %+v must have exactly one of event and timer", e)
		}
		if e.From != retention.StateNone && !e.From.Valid() || !e.To.Valid() {
			t.Errorf("edge %+v has an unknown state", e)
		}
		k := string(e.From) + "/" + string(e.Event) + string(e.Timer)
		if seen[k] {
			t.Errorf("duplicate edge %s", k)
		}
		seen[k] = true
	}
	for _, s := range retention.States() {
		if _, ok := retention.TimerEdge(s); !ok && s != retention.StateActive && s != retention.StateLiftRequested && s != retention.StatePurged {
			t.Errorf("state %s has no timer", s)
		}
	}
	tab := retention.Table()
	tab[0].To = "mutated"
	if retention.Table()[0].To == "mutated" {
		t.Fatal("Table shares its slice")
	}
}

// An owner's request that lands while a sweeper is running a hook makes the
// sweeper's write lose its compare-and-set; the sweeper reads the new record
// and finishes both transitions' steps in the same sweep.
func TestEventDuringSweepIsMergedNotLost(t *testing.T) {
	e := newEnv(t, nil)
	a := e.start(retention.EventStartTrial)
	calls := 0
	cfg := e.hooks.config()
	cfg.ConfigRemover = retention.ConfigRemoverFunc(func(ctx context.Context, acct gdprkit.AccountID) error {
		calls++
		if calls == 1 {
			if _, err := e.svc.Apply(ctx, acct, retention.EventRequestDeletion, "owner-1"); err != nil {
				t.Errorf("owner's request mid-sweep: %v", err)
			}
		}
		return nil
	})
	cfg.Service = e.svc
	sw, _ := retention.NewSweeper(cfg)
	e.clock.Set(t0.Add(80 * day)) // terminated on day 74
	rep, err := sw.Sweep(e.ctx)
	if err != nil || rep.Lost != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	r := e.record(a)
	if r.State != retention.StateDeleted || len(r.Pending) != 0 || r.LeaseOwner != "" {
		t.Fatalf("record %+v", r)
	}
	// The completion is recorded on the fresh record (the lease is still
	// this sweeper's), so the hook is not run a second time.
	if calls != 1 || e.hooks.Calls(retention.StepEraseHostData, a) != 1 {
		t.Fatalf("remove_config %d calls (want 1: completed once), erasures %v", calls, e.hooks.calls)
	}
}

// Every timer, at one microsecond before its due time and at it, with the
// sweeper run at both instants.
func TestEveryTimerFiresAtItsBoundary(t *testing.T) {
	e := newEnv(t, nil)
	trial := e.start(retention.EventStartTrial)
	paid := e.start(retention.EventStartPaid)
	e.apply(paid, retention.EventBillingFailed)
	for _, c := range []struct {
		acct     gdprkit.AccountID
		timer    retention.Timer
		from, to State
		due      time.Time
	}{
		{paid, retention.TimerBillingGraceExpired, retention.StateBillingFailing, retention.StateSuspended, t0.Add(7*day + time.Microsecond)},
		{trial, retention.TimerTrialExpired, retention.StateTrial, retention.StateSuspended, t0.Add(14 * day)},
		{trial, retention.TimerLiftWindowExpired, retention.StateSuspended, retention.StateTerminated, t0.Add(74 * day)},
		{trial, retention.TimerDeletionDue, retention.StateTerminated, retention.StateDeleted, t0.Add(104 * day)},
		{trial, retention.TimerBackupsExpired, retention.StateDeleted, retention.StatePurged, t0.Add(134 * day)},
	} {
		e.clock.Set(c.due.Add(-time.Microsecond))
		e.sweep()
		if st, _, _ := e.svc.State(e.ctx, c.acct); st != c.from || e.record(c.acct).State != c.from {
			t.Fatalf("%s: 1µs before due: state %s / stored %s, want %s", c.timer, st, e.record(c.acct).State, c.from)
		}
		e.clock.Set(c.due)
		if st, since, _ := e.svc.State(e.ctx, c.acct); st != c.to || !since.Equal(c.due) {
			t.Fatalf("%s: at due, before the sweep: %s since %v, want %s", c.timer, st, since, c.to)
		}
		e.sweep()
		trs := e.history(c.acct)
		last := trs[len(trs)-1]
		if last.To != c.to || !last.At.Equal(c.due) || last.Cause.Name != string(c.timer) {
			t.Fatalf("%s: stored %+v, want %s at %v", c.timer, last, c.to, c.due)
		}
	}
}

func TestSweepAccountRunsOneAccountNow(t *testing.T) {
	e := newEnv(t, nil)
	a := e.start(retention.EventStartPaid)
	other := e.start(retention.EventStartPaid)
	e.apply(a, retention.EventRequestDeletion)
	e.apply(other, retention.EventRequestDeletion)
	rep, err := e.sw.SweepAccount(e.ctx, a)
	if err != nil || rep.Steps != 3 {
		t.Fatalf("%+v %v", rep, err)
	}
	if e.hooks.Calls(retention.StepEraseHostData, a) != 1 || e.hooks.Calls(retention.StepEraseHostData, other) != 0 {
		t.Fatalf("hooks %v", e.hooks.calls)
	}
	// A sweeper holding the other account's lease keeps it.
	if _, err := e.store.ClaimDue(e.ctx, e.clock.Now(), 10, "sweeper-X", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sw.SweepAccount(e.ctx, other); !errors.Is(err, gdprkit.ErrLeaseLost) {
		t.Fatalf("leased account: %v", err)
	}
	if e.hooks.Calls(retention.StepEraseHostData, other) != 0 {
		t.Fatal("leased account swept")
	}
}

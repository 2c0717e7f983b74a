package retention

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gdprkit/gdprkit"
)

// RuleReport is what a run or a preview reports for one rule.
type RuleReport struct {
	// Rule is the rule as the run read it.
	Rule Rule
	// Cutoff is the exact cutoff used: records whose field is before it
	// match.
	Cutoff time.Time
	// Removed: records removed (a preview: that the run will remove).
	// Held: records passed over because they are held. Kept: records
	// passed over because a keep rule covers them.
	Removed int64
	Held    int64
	Kept    int64
	// Backlog: matching records are left for the next run (the run hit its
	// cap, or the rule failed).
	Backlog bool
	// Sample lists the first SampleSize IDs removed (a preview: to be
	// removed), oldest first.
	Sample []string
	// Stopped tells why a rule stopped before its pass ended: "disabled",
	// "removed" or "edited" mid-run; empty otherwise.
	Stopped string
	// Err is the error that stopped the rule; the other rules ran.
	Err error
}

// RunReport is what Run, Preview and the Driver report for one account.
type RunReport struct {
	// Run is the run's ID (its batches and audit events carry it).
	Run string
	// Account run, and the clock reading the cutoffs were taken from.
	Account gdprkit.AccountID
	At      time.Time
	// TimeZone the cutoffs were taken in ("" is UTC).
	TimeZone string
	// Preview: a preview, nothing was removed or written.
	Preview bool
	// Rules: the delete rules, then the keep rules (which only report
	// their cutoff), each in ID order.
	Rules []RuleReport
	// Removed, Held and Kept add up the rules'.
	Removed int64
	Held    int64
	Kept    int64
	// Recovered counts the records of batches a crashed or cancelled run
	// left uncommitted, counted by this run (not in Removed).
	Recovered int64
	// Capped: the run stopped at MaxPerRun or MaxScanPerRun with matching
	// records left.
	Capped bool
	// Blocked (previews only) tells why the next run will refuse to start:
	// the account or all schedules are paused, or the clock jumped.
	Blocked string
}

// ruleRun is one delete rule during a run.
type ruleRun struct {
	rule     Rule
	t        Target
	sel      Selector
	cursor   Cursor
	rep      RuleReport
	finished bool // pass ended, stopped or failed
	passEnd  bool
}

func (rr *ruleRun) fail(err error) {
	rr.rep.Err = err
	rr.finished = true
}

// Run runs the account's enabled delete rules now, removing at most
// MaxPerRun records in all. It takes the account's run lease (renewed
// while it works), so one account's rules never run in two places at
// once: it returns an error wrapping gdprkit.ErrLeaseLost when another
// run holds it, ErrPaused when the account or all schedules are paused
// and ErrClockJump when the clock moved more than MaxClockJump since the
// last run.
//
// A failing rule is reported in its RuleReport (and audited) and the
// other rules run; the error returned then joins the rules' errors, with
// the full report. Each batch is journalled before its delete and
// committed (counted, audited) right after it, so what a cancelled or
// killed run removed is counted exactly once: by the run itself or, after
// a crash, by the account's next run (RunReport.Recovered).
func (s *Schedules) Run(ctx context.Context, account gdprkit.AccountID) (RunReport, error) {
	if err := account.Validate(); err != nil {
		return RunReport{}, err
	}
	st, err := s.acquire(ctx, account)
	if err != nil {
		return RunReport{Account: account}, err
	}
	return s.runLeased(ctx, account, st)
}

// Preview reports what the account's next run will do, removing nothing
// and writing nothing: the same walk over the same rules, with holds,
// keep rules, the cap and the rules' turn order, so its counts and sample
// are the run's as long as the data does not change in between. Blocked
// says when the next run would refuse to start.
func (s *Schedules) Preview(ctx context.Context, account gdprkit.AccountID) (RunReport, error) {
	if err := account.Validate(); err != nil {
		return RunReport{}, err
	}
	st, err := s.state(ctx, account)
	if err != nil {
		return RunReport{}, err
	}
	rep, err := s.execute(ctx, account, st, true)
	if err != nil {
		return rep, err
	}
	if p, perr := s.store.SchedulesPaused(ctx); perr == nil && p.Paused {
		rep.Blocked = "all schedules are paused"
	}
	if st.Paused {
		rep.Blocked = "the account's schedules are paused"
	}
	if jump, bad := s.jumped(st, rep.At); bad {
		rep.Blocked = fmt.Sprintf("the clock moved %s since the last run; an operator must confirm it", jump)
	}
	return rep, nil
}

// DryRun is the part of Preview about one rule.
func (s *Schedules) DryRun(ctx context.Context, account gdprkit.AccountID, id string) (RuleReport, error) {
	rep, err := s.Preview(ctx, account)
	if err != nil {
		return RuleReport{}, err
	}
	for _, r := range rep.Rules {
		if r.Rule.ID == id {
			return r, nil
		}
	}
	if _, err := s.Rule(ctx, account, id); err != nil {
		return RuleReport{}, err
	}
	return RuleReport{}, fmt.Errorf("%w: retention: rule %s is disabled", gdprkit.ErrConflict, id)
}

func (s *Schedules) jumped(st ScheduleState, now time.Time) (time.Duration, bool) {
	if s.cfg.MaxClockJump < 0 || st.LastClock.IsZero() {
		return 0, false
	}
	jump := now.Sub(st.LastClock)
	return jump, jump > s.cfg.MaxClockJump || -jump > s.cfg.MaxClockJump
}

// acquire takes the account's run lease.
func (s *Schedules) acquire(ctx context.Context, account gdprkit.AccountID) (ScheduleState, error) {
	if p, err := s.store.SchedulesPaused(ctx); err != nil {
		return ScheduleState{}, err
	} else if p.Paused {
		return ScheduleState{}, ErrPaused
	}
	for attempt := 0; ; attempt++ {
		cur, err := s.state(ctx, account)
		if err != nil {
			return ScheduleState{}, err
		}
		if cur.Paused {
			return ScheduleState{}, ErrPaused
		}
		now := s.clock.Now()
		if cur.LeaseOwner != "" && cur.LeaseUntil.After(now) {
			return ScheduleState{}, fmt.Errorf("%w: retention: account's rules are running elsewhere (%s)", gdprkit.ErrLeaseLost, cur.LeaseOwner)
		}
		next := cur
		next.LeaseOwner, next.LeaseUntil, next.Fence, next.Version = s.cfg.Owner, now.Add(s.cfg.LeaseFor), cur.Fence+1, cur.Version+1
		err = s.store.SaveScheduleState(ctx, account, cur.Version, next)
		if err == nil {
			return next, nil
		}
		if !errors.Is(err, gdprkit.ErrConflict) || attempt >= 8 {
			return ScheduleState{}, err
		}
	}
}

// heartbeat renews the lease (owner, fence) every Heartbeat until stop is
// closed; when the lease is found taken it calls lost and returns.
func (s *Schedules) heartbeat(ctx context.Context, account gdprkit.AccountID, fence int64, stop <-chan struct{}, lost func()) {
	tick := time.NewTicker(s.cfg.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		err := s.touchState(ctx, account, func(st *ScheduleState) bool {
			if st.LeaseOwner != s.cfg.Owner || st.Fence != fence {
				return false
			}
			st.LeaseUntil = s.clock.Now().Add(s.cfg.LeaseFor)
			return true
		})
		if cur, rerr := s.state(ctx, account); err == nil && rerr == nil && (cur.LeaseOwner != s.cfg.Owner || cur.Fence != fence) {
			s.log.Warn("retention: run lease lost", "account", string(account))
			lost()
			return
		}
	}
}

// runLeased runs the account under the lease st holds and releases it.
func (s *Schedules) runLeased(ctx context.Context, account gdprkit.AccountID, st ScheduleState) (RunReport, error) {
	now := s.clock.Now()
	release := func(update func(*ScheduleState)) {
		bctx, cancel := bookkeeping(ctx)
		defer cancel()
		if err := s.touchState(bctx, account, func(cur *ScheduleState) bool {
			if cur.LeaseOwner != s.cfg.Owner || cur.Fence != st.Fence {
				return false
			}
			cur.LeaseOwner, cur.LeaseUntil = "", time.Time{}
			if update != nil {
				update(cur)
			}
			return true
		}); err != nil {
			s.log.Warn("retention: run lease not released", "account", string(account), "err", err)
		}
	}
	if jump, bad := s.jumped(st, now); bad {
		release(func(cur *ScheduleState) { cur.NextRun = now.Add(s.cfg.Interval) })
		s.emit(ctx, gdprkit.Event{ID: gdprkit.NewID(), Account: account, Type: EventTypeClockJump, Time: now, Actor: SystemActor,
			Attrs: map[string]string{"jump": jump.String(), "last_clock": st.LastClock.UTC().Format(time.RFC3339Nano), "clock": now.UTC().Format(time.RFC3339Nano)}})
		return RunReport{Account: account, At: now}, fmt.Errorf("%w (moved %s)", ErrClockJump, jump)
	}
	workCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.heartbeat(workCtx, account, st.Fence, stop, cancel) }()
	rep, err := s.execute(workCtx, account, st, false)
	close(stop)
	wg.Wait()
	if err == nil && workCtx.Err() != nil && ctx.Err() == nil {
		err = fmt.Errorf("%w: retention: run lease lost mid-run", gdprkit.ErrLeaseLost)
	}
	end := s.clock.Now()
	rules := len(rep.Rules)
	release(func(cur *ScheduleState) {
		cur.LastRun, cur.LastClock, cur.Turn = end, now, cur.Turn+1
		cur.NextRun = time.Time{}
		if rules > 0 {
			cur.NextRun = now.Add(s.cfg.Interval)
		}
	})
	return rep, err
}

// execute is the run (dry false) and the preview (dry true): one walk.
func (s *Schedules) execute(ctx context.Context, account gdprkit.AccountID, st ScheduleState, dry bool) (RunReport, error) {
	now := s.clock.Now()
	loc, err := loadZone(st.TimeZone)
	if err != nil {
		s.log.Warn("retention: bad stored time zone; using UTC", "account", string(account))
		loc = time.UTC
	}
	local := now.In(loc)
	rep := RunReport{Run: gdprkit.NewID(), Account: account, At: now, TimeZone: st.TimeZone, Preview: dry}
	var runErrs []error
	if !dry {
		n, err := s.recoverBatches(ctx, account, &rep)
		rep.Recovered = n
		if err != nil {
			if ctx.Err() != nil {
				return rep, err
			}
			runErrs = append(runErrs, err)
		}
	}
	rules, err := s.store.Rules(ctx, account)
	if err != nil {
		return rep, fmt.Errorf("retention: rules: %w", err)
	}
	keeps := map[TargetKind][]KeepClause{}
	var keepReps []RuleReport
	for _, r := range rules {
		if r.Action == ActionKeep && !r.Disabled {
			cut := r.Condition.Cutoff(local).UTC()
			keeps[r.Target] = append(keeps[r.Target], KeepClause{Status: r.Condition.Status, Field: r.Condition.Field, Since: cut})
			keepReps = append(keepReps, RuleReport{Rule: r, Cutoff: cut})
		}
	}
	var runs []*ruleRun
	for _, r := range rules {
		if r.Action == ActionKeep || r.Disabled {
			continue
		}
		rr := &ruleRun{rule: r, cursor: r.Cursor}
		rr.rep.Rule = r
		rr.rep.Cutoff = r.Condition.Cutoff(local).UTC()
		rr.sel = Selector{Status: r.Condition.Status, Field: r.Condition.Field, Before: rr.rep.Cutoff, Keep: keeps[r.Target]}
		if t, ok := s.cfg.Targets[r.Target]; ok {
			rr.t = t
		} else {
			rr.fail(fmt.Errorf("%w: retention: no target for kind %q", gdprkit.ErrInvalid, r.Target))
		}
		runs = append(runs, rr)
	}
	var gone map[TargetKind]map[string]bool // a preview's "already removed"
	if dry {
		gone = map[TargetKind]map[string]bool{}
	}
	// Round-robin batches: each round gives every rule with work left an
	// equal share of the budget left, starting at a rule that turns with
	// every run, so no rule starves another.
	order := make([]*ruleRun, len(runs))
	for i := range runs {
		order[i] = runs[(i+int(st.Turn%int64(max(len(runs), 1))))%len(runs)]
	}
	budget, scan := s.cfg.MaxPerRun, s.cfg.MaxScanPerRun
	var stopErr error
rounds:
	for budget > 0 && scan > 0 {
		active := 0
		for _, rr := range order {
			if !rr.finished {
				active++
			}
		}
		if active == 0 {
			break
		}
		chunk := max(1, min(s.cfg.BatchSize, budget/active))
		for _, rr := range order {
			if rr.finished {
				continue
			}
			if budget <= 0 || scan <= 0 {
				break
			}
			if err := ctx.Err(); err != nil {
				stopErr = err
				break rounds
			}
			s.batch(ctx, account, &rep, rr, min(chunk, scan), &budget, &scan, gone, now)
			if rr.rep.Err != nil && ctx.Err() != nil {
				stopErr = ctx.Err()
				break rounds
			}
		}
	}
	// Close each rule: is anything left, record, audit.
	for _, rr := range runs {
		if !rr.finished && stopErr == nil {
			cs, err := s.find(ctx, account, rr, 1, gone)
			switch {
			case err != nil:
				rr.fail(fmt.Errorf("retention: rule %s find: %w", rr.rule.ID, err))
			case len(cs) == 0:
				rr.passEnd = true
			}
		}
		rr.rep.Backlog = !rr.passEnd && rr.rep.Stopped == ""
		if rr.passEnd {
			rr.cursor = Cursor{}
		}
		if rr.rep.Backlog {
			rep.Capped = true
		}
		if rr.rep.Err != nil {
			runErrs = append(runErrs, rr.rep.Err)
		}
		rep.Removed += rr.rep.Removed
		rep.Held += rr.rep.Held
		rep.Kept += rr.rep.Kept
		rep.Rules = append(rep.Rules, rr.rep)
		if !dry {
			s.finishRule(ctx, account, &rep, rr, now)
		}
	}
	rep.Rules = append(rep.Rules, keepReps...)
	if !dry {
		bctx, cancel := bookkeeping(ctx)
		if _, err := s.store.PruneBatches(bctx, account, now); err != nil {
			s.log.Warn("retention: prune batches", "err", err)
		}
		cancel()
	}
	if stopErr != nil {
		return rep, stopErr
	}
	return rep, errors.Join(runErrs...)
}

package retention

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gdprkit/gdprkit"
)

// find returns up to limit candidates after the rule's cursor. In a
// preview, records an earlier rule would have removed are skipped as the
// run would not see them.
func (s *Schedules) find(ctx context.Context, account gdprkit.AccountID, rr *ruleRun, limit int, gone map[TargetKind]map[string]bool) ([]Candidate, error) {
	sel := rr.sel
	sel.After = rr.cursor
	if gone == nil {
		return rr.t.Find(ctx, account, sel, limit)
	}
	var out []Candidate
	for {
		want := limit - len(out)
		cs, err := rr.t.Find(ctx, account, sel, want)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			sel.After = Cursor{At: c.At, ID: c.ID}
			if !gone[rr.rule.Target][c.ID] {
				out = append(out, c)
			}
		}
		if len(cs) < want || len(out) == limit {
			return out, nil
		}
	}
}

// batch runs one Find/Delete round of a rule.
func (s *Schedules) batch(ctx context.Context, account gdprkit.AccountID, rep *RunReport, rr *ruleRun, limit int, budget, scan *int, gone map[TargetKind]map[string]bool, now time.Time) {
	dry := gone != nil
	if !dry {
		// A rule disabled, removed or edited since the run read it stops
		// here, before its next batch.
		cur, err := s.store.Rule(ctx, account, rr.rule.ID)
		switch {
		case errors.Is(err, gdprkit.ErrNotFound):
			rr.rep.Stopped, rr.finished = "removed", true
			return
		case err != nil:
			rr.fail(fmt.Errorf("retention: rule %s: %w", rr.rule.ID, err))
			return
		case cur.Disabled:
			rr.rep.Stopped, rr.finished = "disabled", true
			return
		case cur.Version != rr.rule.Version:
			rr.rep.Stopped, rr.finished = "edited", true
			return
		}
	}
	cs, err := s.find(ctx, account, rr, limit, gone)
	if err != nil {
		rr.fail(fmt.Errorf("retention: rule %s find: %w", rr.rule.ID, err))
		return
	}
	*scan -= len(cs)
	if len(cs) < limit {
		rr.passEnd = true
	}
	var del []string
	for _, c := range cs {
		rr.cursor = Cursor{At: c.At, ID: c.ID}
		switch {
		case c.Held:
			rr.rep.Held++
		case c.Kept:
			rr.rep.Kept++
		default:
			del = append(del, c.ID)
		}
	}
	if len(del) > 0 {
		var removed []string
		if dry {
			if gone[rr.rule.Target] == nil {
				gone[rr.rule.Target] = map[string]bool{}
			}
			for _, id := range del {
				gone[rr.rule.Target][id] = true
			}
			removed = del
		} else {
			removed = s.deleteBatch(ctx, account, rep, rr, del, now)
		}
		rr.rep.Removed += int64(len(removed))
		*budget -= len(removed)
		for _, id := range removed {
			if len(rr.rep.Sample) >= s.cfg.SampleSize {
				break
			}
			rr.rep.Sample = append(rr.rep.Sample, id)
		}
	}
	if rr.passEnd {
		rr.finished = true
	}
}

// deleteBatch journals, deletes, commits and audits one batch; it returns
// the IDs it removed and counted.
func (s *Schedules) deleteBatch(ctx context.Context, account gdprkit.AccountID, rep *RunReport, rr *ruleRun, del []string, now time.Time) []string {
	b := Batch{ID: gdprkit.NewID(), Account: account, Run: rep.Run, Rule: rr.rule.ID, RuleVersion: rr.rule.Version,
		Target: rr.rule.Target, Cutoff: rr.sel.Before, Started: s.clock.Now(), IDs: del, State: BatchPending}
	if err := s.store.BeginBatch(ctx, account, b); err != nil {
		rr.fail(fmt.Errorf("retention: rule %s journal: %w", rr.rule.ID, err))
		return nil
	}
	res, err := rr.t.Delete(ctx, account, del)
	if err != nil {
		// Left pending: the next run finishes and counts it.
		rr.fail(fmt.Errorf("retention: rule %s delete: %w", rr.rule.ID, err))
		return nil
	}
	rr.rep.Held += int64(len(res.Held))
	b.Removed, b.Held = onlyOf(res.Removed, del), int64(len(res.Held))
	b.Committed = s.clock.Now()
	b.Expires = b.Committed.Add(s.cfg.DispositionTTL)
	bctx, cancel := bookkeeping(ctx)
	defer cancel()
	err = s.store.CommitBatch(bctx, account, b.ID, BatchOutcome{Removed: b.Removed, Held: b.Held, Committed: b.Committed, Expires: b.Expires, Cursor: rr.cursor})
	if errors.Is(err, gdprkit.ErrConflict) {
		return nil // another run recovered and counted it
	}
	if err != nil {
		rr.fail(fmt.Errorf("retention: rule %s commit: %w", rr.rule.ID, err))
		return nil
	}
	b.State = BatchCommitted
	s.auditBatch(bctx, b)
	return b.Removed
}

// onlyOf returns the IDs of xs that are in of (a target cannot report more
// than it was asked to delete).
func onlyOf(xs, of []string) []string {
	if len(xs) == 0 {
		return nil
	}
	set := make(map[string]bool, len(of))
	for _, id := range of {
		set[id] = true
	}
	out := make([]string, 0, len(xs))
	for _, id := range xs {
		if set[id] {
			out = append(out, id)
			delete(set, id)
		}
	}
	return out
}

// auditBatch sends a committed batch's event (ID = batch ID) and marks it
// delivered.
func (s *Schedules) auditBatch(bctx context.Context, b Batch) {
	ev := gdprkit.Event{ID: b.ID, Account: b.Account, Type: EventTypeBatch, Time: b.Committed, Actor: SystemActor,
		Attrs: map[string]string{"rule": b.Rule, "run": b.Run, "target": string(b.Target), "removed": strconv.Itoa(len(b.Removed)),
			"held": strconv.FormatInt(b.Held, 10), "cutoff": b.Cutoff.UTC().Format(time.RFC3339Nano), "recovered": strconv.FormatBool(b.Recovered)}}
	if err := s.audit.Record(bctx, ev); err != nil {
		s.log.Warn("retention: audit sink failed; the batch is audited again next run", "err", err)
		return
	}
	if err := s.store.MarkBatchAudited(bctx, b.Account, b.ID); err != nil {
		s.log.Warn("retention: mark batch audited", "err", err)
	}
}

// recoverBatches finishes what a crashed or cancelled run left: a pending
// batch is deleted again (idempotent) and committed with the IDs found
// gone; a committed batch not yet audited is audited.
func (s *Schedules) recoverBatches(ctx context.Context, account gdprkit.AccountID, rep *RunReport) (int64, error) {
	open, err := s.store.OpenBatches(ctx, account)
	if err != nil {
		return 0, fmt.Errorf("retention: open batches: %w", err)
	}
	var n int64
	var errs []error
	for _, b := range open {
		bctx, cancel := bookkeeping(ctx)
		if b.State == BatchPending {
			t, ok := s.cfg.Targets[b.Target]
			if !ok {
				cancel()
				errs = append(errs, fmt.Errorf("%w: retention: batch %s: no target for kind %q", gdprkit.ErrInvalid, b.ID, b.Target))
				continue
			}
			res, err := t.Delete(ctx, account, b.IDs)
			if err != nil {
				cancel()
				errs = append(errs, fmt.Errorf("retention: recover batch %s: %w", b.ID, err))
				if ctx.Err() != nil {
					return n, errors.Join(errs...)
				}
				continue
			}
			held := map[string]bool{}
			for _, id := range res.Held {
				held[id] = true
			}
			var goneIDs []string
			for _, id := range b.IDs {
				if !held[id] {
					goneIDs = append(goneIDs, id)
				}
			}
			b.Removed, b.Held, b.Recovered = goneIDs, int64(len(res.Held)), true
			b.Committed = s.clock.Now()
			b.Expires = b.Committed.Add(s.cfg.DispositionTTL)
			err = s.store.CommitBatch(bctx, account, b.ID, BatchOutcome{Removed: b.Removed, Held: b.Held, Recovered: true, Committed: b.Committed, Expires: b.Expires})
			if errors.Is(err, gdprkit.ErrConflict) {
				cancel()
				continue // its own run committed it meanwhile
			}
			if err != nil {
				cancel()
				errs = append(errs, fmt.Errorf("retention: recover batch %s: %w", b.ID, err))
				continue
			}
			n += int64(len(goneIDs))
			s.log.Info("retention: recovered a batch", "account", string(account), "batch", b.ID, "removed", len(goneIDs))
		}
		s.auditBatch(bctx, b)
		cancel()
	}
	return n, errors.Join(errs...)
}

// finishRule stores a rule's outcome and audits it.
func (s *Schedules) finishRule(ctx context.Context, account gdprkit.AccountID, rep *RunReport, rr *ruleRun, now time.Time) {
	bctx, cancel := bookkeeping(ctx)
	defer cancel()
	backlogRuns := int64(0)
	if rr.rep.Backlog {
		backlogRuns = rr.rule.BacklogRuns + 1
	}
	errText := ""
	if rr.rep.Err != nil {
		errText = rr.rep.Err.Error()
		if len(errText) > 500 {
			errText = errText[:500]
		}
	}
	o := RuleRunOutcome{RuleVersion: rr.rule.Version, At: now, Removed: rr.rep.Removed, Held: rr.rep.Held, Kept: rr.rep.Kept,
		Backlog: rr.rep.Backlog, BacklogRuns: backlogRuns, Error: errText, Cursor: rr.cursor}
	if rr.rep.Stopped == "" || rr.rep.Stopped == "disabled" {
		if err := s.store.FinishRuleRun(bctx, account, rr.rule.ID, o); err != nil && !errors.Is(err, gdprkit.ErrNotFound) {
			s.log.Warn("retention: record rule run", "rule", rr.rule.ID, "err", err)
		}
	}
	attrs := map[string]string{"rule": rr.rule.ID, "run": rep.Run, "target": string(rr.rule.Target),
		"removed": strconv.FormatInt(rr.rep.Removed, 10), "held": strconv.FormatInt(rr.rep.Held, 10), "kept": strconv.FormatInt(rr.rep.Kept, 10),
		"backlog": strconv.FormatBool(rr.rep.Backlog), "cutoff": rr.rep.Cutoff.UTC().Format(time.RFC3339Nano)}
	if rr.rep.Stopped != "" {
		attrs["stopped"] = rr.rep.Stopped
	}
	s.emit(bctx, gdprkit.Event{ID: gdprkit.NewID(), Account: account, Type: EventTypeRuleRun, Time: now, Actor: SystemActor, Attrs: attrs})
	if rr.rep.Err != nil {
		s.log.Warn("retention: rule failed", "account", string(account), "rule", rr.rule.ID, "err", rr.rep.Err)
		s.emit(bctx, gdprkit.Event{ID: gdprkit.NewID(), Account: account, Type: EventTypeRuleFailed, Time: now, Actor: SystemActor,
			Attrs: map[string]string{"rule": rr.rule.ID, "run": rep.Run, "error": errText}})
	}
	if backlogRuns > 0 && backlogRuns%int64(s.cfg.BacklogAlertRuns) == 0 {
		s.emit(bctx, gdprkit.Event{ID: gdprkit.NewID(), Account: account, Type: EventTypeRuleBacklog, Time: now, Actor: SystemActor,
			Attrs: map[string]string{"rule": rr.rule.ID, "runs": strconv.FormatInt(backlogRuns, 10)}})
	}
}

package sqlstore

// Retention schedules: rules, their runs' batches (proof of disposition),
// each account's schedule state and the driver's claim and pause.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/retention"
)

func retBool(b bool) int {
	if b {
		return 1
	}
	return 0
}

func retValidRule(account gdprkit.AccountID, r retention.Rule) error {
	if r.ID == "" || len(r.ID) > 64 || r.Account != account || len(r.Cursor.ID) > 255 {
		return fmt.Errorf("%w: retention: rule needs an ID of at most 64 bytes and the account", gdprkit.ErrInvalid)
	}
	return nil
}

func (s retentionSQL) CreateRule(ctx context.Context, account gdprkit.AccountID, r retention.Rule) error {
	if err := checkAccount(account); err != nil {
		return err
	}
	if err := retValidRule(account, r); err != nil {
		return err
	}
	c := r.Condition
	_, err := s.db.ExecContext(ctx, s.q("INSERT INTO gdpr_retention_rules ("+retRuleCols+") VALUES "+placeholders(25)),
		string(account), r.ID, r.Name, string(r.Target), c.Status, c.Field, c.OlderThanDays, c.OlderThanMonths, string(r.Action),
		retBool(r.Disabled), s.ts(r.Created), string(r.CreatedBy), s.nts(r.Updated), string(r.UpdatedBy), r.Version,
		s.nts(r.LastRun), r.LastRemoved, r.LastHeld, r.LastKept, r.LastError, retBool(r.Backlog), r.BacklogRuns, r.TotalRemoved,
		s.nts(r.Cursor.At), r.Cursor.ID)
	return mapErr(err, "retention create rule")
}

func (s retentionSQL) UpdateRule(ctx context.Context, account gdprkit.AccountID, expect int64, r retention.Rule) error {
	if err := checkAccount(account); err != nil {
		return err
	}
	if err := retValidRule(account, r); err != nil {
		return err
	}
	if r.Version != expect+1 {
		return fmt.Errorf("%w: retention: rule update must be at version expect+1", gdprkit.ErrInvalid)
	}
	c := r.Condition
	return s.tx(ctx, "retention update rule", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE gdpr_retention_rules SET name = ?, target = ?, status = ?, field = ?, older_days = ?, older_months = ?,
	action = ?, disabled = ?, updated_at = ?, updated_by = ?, version = ?, cursor_at = ?, cursor_id = ? WHERE account_id = ? AND id = ? AND version = ?`),
			r.Name, string(r.Target), c.Status, c.Field, c.OlderThanDays, c.OlderThanMonths, string(r.Action), retBool(r.Disabled),
			s.nts(r.Updated), string(r.UpdatedBy), r.Version, s.nts(r.Cursor.At), r.Cursor.ID, string(account), r.ID, expect)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			return nil
		}
		var v int64
		if err := tx.QueryRowContext(ctx, s.q("SELECT version FROM gdpr_retention_rules WHERE account_id = ? AND id = ?"), string(account), r.ID).Scan(&v); err != nil {
			return err
		}
		return fmt.Errorf("retention: rule changed (version %d, expected %d): %w", v, expect, gdprkit.ErrConflict)
	})
}

type retScanner interface{ Scan(...any) error }

func (s retentionSQL) scanRule(sc retScanner) (retention.Rule, error) {
	var r retention.Rule
	var acct, target, action, createdBy, updatedBy string
	var disabled, backlog int
	err := sc.Scan(&acct, &r.ID, &r.Name, &target, &r.Condition.Status, &r.Condition.Field,
		&r.Condition.OlderThanDays, &r.Condition.OlderThanMonths, &action, &disabled, tscan(&r.Created), &createdBy,
		tscan(&r.Updated), &updatedBy, &r.Version, tscan(&r.LastRun), &r.LastRemoved, &r.LastHeld, &r.LastKept, &r.LastError,
		&backlog, &r.BacklogRuns, &r.TotalRemoved, tscan(&r.Cursor.At), &r.Cursor.ID)
	r.Account, r.Target, r.Action, r.Disabled, r.Backlog = gdprkit.AccountID(acct), retention.TargetKind(target), retention.RuleAction(action), disabled != 0, backlog != 0
	r.CreatedBy, r.UpdatedBy = gdprkit.ActorID(createdBy), gdprkit.ActorID(updatedBy)
	return r, err
}

func (s retentionSQL) Rule(ctx context.Context, account gdprkit.AccountID, id string) (retention.Rule, error) {
	if err := checkAccount(account); err != nil {
		return retention.Rule{}, err
	}
	r, err := s.scanRule(s.db.QueryRowContext(ctx, s.q("SELECT "+retRuleCols+" FROM gdpr_retention_rules WHERE account_id = ? AND id = ?"), string(account), id))
	if err != nil {
		return retention.Rule{}, mapErr(err, "retention rule")
	}
	return r, nil
}

func (s retentionSQL) Rules(ctx context.Context, account gdprkit.AccountID) ([]retention.Rule, error) {
	if err := checkAccount(account); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.q("SELECT "+retRuleCols+" FROM gdpr_retention_rules WHERE account_id = ? ORDER BY id"), string(account))
	if err != nil {
		return nil, mapErr(err, "retention rules")
	}
	defer rows.Close()
	var out []retention.Rule
	for rows.Next() {
		r, err := s.scanRule(rows)
		if err != nil {
			return nil, mapErr(err, "retention rules")
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err(), "retention rules")
}

func (s retentionSQL) DeleteRule(ctx context.Context, account gdprkit.AccountID, id string) error {
	if err := checkAccount(account); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, s.q("DELETE FROM gdpr_retention_rules WHERE account_id = ? AND id = ?"), string(account), id)
	if err != nil {
		return mapErr(err, "retention delete rule")
	}
	if n, err := res.RowsAffected(); err != nil {
		return mapErr(err, "retention delete rule")
	} else if n == 0 {
		return fmt.Errorf("retention rule: %w", gdprkit.ErrNotFound)
	}
	return nil
}

func (s retentionSQL) FinishRuleRun(ctx context.Context, account gdprkit.AccountID, id string, o retention.RuleRunOutcome) error {
	if err := checkAccount(account); err != nil {
		return err
	}
	if len(o.Error) > 500 {
		o.Error = o.Error[:500]
	}
	return s.tx(ctx, "retention finish rule run", func(tx *sql.Tx) error {
		var version int64
		if err := tx.QueryRowContext(ctx, s.q("SELECT version FROM gdpr_retention_rules WHERE account_id = ? AND id = ?"+s.d.forUpdate()),
			string(account), id).Scan(&version); err != nil {
			return err
		}
		q := `UPDATE gdpr_retention_rules SET last_run_at = ?, last_removed = ?, last_held = ?, last_kept = ?, backlog = ?, backlog_runs = ?, last_error = ?`
		args := []any{s.ts(o.At), o.Removed, o.Held, o.Kept, retBool(o.Backlog), o.BacklogRuns, o.Error}
		if version == o.RuleVersion {
			q += ", cursor_at = ?, cursor_id = ?"
			args = append(args, s.nts(o.Cursor.At), o.Cursor.ID)
		}
		_, err := tx.ExecContext(ctx, s.q(q+" WHERE account_id = ? AND id = ?"), append(args, string(account), id)...)
		return err
	})
}

func retEncodeIDs(ids []string) (string, error) {
	if ids == nil {
		ids = []string{}
	}
	b, err := json.Marshal(ids)
	return string(b), err
}

func retDecodeIDs(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("sqlstore: bad batch id list: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

const retBatchCols = "account_id, id, run_id, rule_id, rule_version, target, cutoff, started_at, ids, state, removed_ids, held, recovered, committed_at, audited, expires_at"

func (s retentionSQL) BeginBatch(ctx context.Context, account gdprkit.AccountID, b retention.Batch) error {
	if err := checkAccount(account); err != nil {
		return err
	}
	if b.ID == "" || len(b.ID) > 64 || b.Account != account || b.State != retention.BatchPending {
		return fmt.Errorf("%w: retention: a batch needs an ID, the account and state pending", gdprkit.ErrInvalid)
	}
	ids, err := retEncodeIDs(b.IDs)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, s.q("INSERT INTO gdpr_retention_batches ("+retBatchCols+") VALUES "+placeholders(16)),
		string(account), b.ID, b.Run, b.Rule, b.RuleVersion, string(b.Target), s.ts(b.Cutoff), s.ts(b.Started), ids,
		string(retention.BatchPending), nil, 0, 0, nil, 0, nil)
	return mapErr(err, "retention begin batch")
}

func (s retentionSQL) CommitBatch(ctx context.Context, account gdprkit.AccountID, id string, o retention.BatchOutcome) error {
	if err := checkAccount(account); err != nil {
		return err
	}
	removed, err := retEncodeIDs(o.Removed)
	if err != nil {
		return err
	}
	return s.tx(ctx, "retention commit batch", func(tx *sql.Tx) error {
		var state, rule string
		var ruleVersion int64
		if err := tx.QueryRowContext(ctx, s.q("SELECT state, rule_id, rule_version FROM gdpr_retention_batches WHERE account_id = ? AND id = ?"+s.d.forUpdate()),
			string(account), id).Scan(&state, &rule, &ruleVersion); err != nil {
			return err
		}
		if state != string(retention.BatchPending) {
			return fmt.Errorf("retention: batch already committed: %w", gdprkit.ErrConflict)
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE gdpr_retention_batches SET state = ?, removed_ids = ?, held = ?, recovered = ?, committed_at = ?, expires_at = ?
	WHERE account_id = ? AND id = ? AND state = ?`), string(retention.BatchCommitted), removed, o.Held, retBool(o.Recovered),
			s.ts(o.Committed), s.ts(o.Expires), string(account), id, string(retention.BatchPending))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return fmt.Errorf("retention: batch already committed: %w", gdprkit.ErrConflict)
		}
		q := "UPDATE gdpr_retention_rules SET total_removed = total_removed + ?"
		args := []any{int64(len(o.Removed))}
		if !o.Cursor.IsZero() {
			// The cursor moves only for the rule version the batch ran:
			// an edited rule starts its pass anew.
			q += ", cursor_at = CASE WHEN version = ? THEN ? ELSE cursor_at END, cursor_id = CASE WHEN version = ? THEN ? ELSE cursor_id END"
			args = append(args, ruleVersion, s.ts(o.Cursor.At), ruleVersion, o.Cursor.ID)
		}
		_, err = tx.ExecContext(ctx, s.q(q+" WHERE account_id = ? AND id = ?"), append(args, string(account), rule)...)
		return err
	})
}

func (s retentionSQL) MarkBatchAudited(ctx context.Context, account gdprkit.AccountID, id string) error {
	if err := checkAccount(account); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, s.q("UPDATE gdpr_retention_batches SET audited = 1 WHERE account_id = ? AND id = ?"), string(account), id)
	if err != nil {
		return mapErr(err, "retention mark batch audited")
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		var one int
		if err := s.db.QueryRowContext(ctx, s.q("SELECT 1 FROM gdpr_retention_batches WHERE account_id = ? AND id = ?"), string(account), id).Scan(&one); err != nil {
			return mapErr(err, "retention batch")
		}
	}
	return nil
}

func (s retentionSQL) queryBatches(ctx context.Context, where string, args ...any) ([]retention.Batch, error) {
	rows, err := s.db.QueryContext(ctx, s.q("SELECT "+retBatchCols+" FROM gdpr_retention_batches WHERE "+where), args...)
	if err != nil {
		return nil, mapErr(err, "retention batches")
	}
	defer rows.Close()
	var out []retention.Batch
	for rows.Next() {
		var b retention.Batch
		var acct, target, ids, state string
		var removed sql.NullString
		var recovered, audited int
		if err := rows.Scan(&acct, &b.ID, &b.Run, &b.Rule, &b.RuleVersion, &target, tscan(&b.Cutoff), tscan(&b.Started), &ids, &state,
			&removed, &b.Held, &recovered, tscan(&b.Committed), &audited, tscan(&b.Expires)); err != nil {
			return nil, mapErr(err, "retention batches")
		}
		b.Account, b.Target, b.State, b.Recovered, b.Audited = gdprkit.AccountID(acct), retention.TargetKind(target), retention.BatchState(state), recovered != 0, audited != 0
		if b.IDs, err = retDecodeIDs(ids); err != nil {
			return nil, err
		}
		if b.Removed, err = retDecodeIDs(removed.String); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, mapErr(rows.Err(), "retention batches")
}

func (s retentionSQL) OpenBatches(ctx context.Context, account gdprkit.AccountID) ([]retention.Batch, error) {
	if err := checkAccount(account); err != nil {
		return nil, err
	}
	return s.queryBatches(ctx, "account_id = ? AND audited = 0 ORDER BY started_at, id", string(account))
}

func (s retentionSQL) Batches(ctx context.Context, account gdprkit.AccountID, from, to time.Time, limit int) ([]retention.Batch, error) {
	if err := checkAccount(account); err != nil {
		return nil, err
	}
	if limit < 0 {
		return nil, fmt.Errorf("%w: retention: negative limit", gdprkit.ErrInvalid)
	}
	where := "account_id = ? AND state = ?"
	args := []any{string(account), string(retention.BatchCommitted)}
	if !from.IsZero() {
		where += " AND committed_at >= ?"
		args = append(args, s.ts(from))
	}
	if !to.IsZero() {
		where += " AND committed_at < ?"
		args = append(args, s.ts(to))
	}
	where += " ORDER BY committed_at, id"
	if limit > 0 {
		where += " LIMIT ?"
		args = append(args, limit)
	}
	return s.queryBatches(ctx, where, args...)
}

func (s retentionSQL) PruneBatches(ctx context.Context, account gdprkit.AccountID, now time.Time) (int64, error) {
	if err := checkAccount(account); err != nil {
		return 0, err
	}
	res, err := s.db.ExecContext(ctx, s.q("DELETE FROM gdpr_retention_batches WHERE account_id = ? AND expires_at <= ? AND state = ? AND audited = 1"),
		string(account), s.ts(now), string(retention.BatchCommitted))
	if err != nil {
		return 0, mapErr(err, "retention prune batches")
	}
	n, err := res.RowsAffected()
	return n, mapErr(err, "retention prune batches")
}

const retSchedCols = "account_id, time_zone, next_run, last_run, last_clock, paused, lease_owner, lease_until, fence, turn, version"

func (s retentionSQL) ScheduleState(ctx context.Context, account gdprkit.AccountID) (retention.ScheduleState, error) {
	if err := checkAccount(account); err != nil {
		return retention.ScheduleState{}, err
	}
	var st retention.ScheduleState
	var acct string
	var paused int
	err := s.db.QueryRowContext(ctx, s.q("SELECT "+retSchedCols+" FROM gdpr_retention_schedules WHERE account_id = ?"), string(account)).Scan(
		&acct, &st.TimeZone, tscan(&st.NextRun), tscan(&st.LastRun), tscan(&st.LastClock), &paused, &st.LeaseOwner, tscan(&st.LeaseUntil),
		&st.Fence, &st.Turn, &st.Version)
	if err != nil {
		return retention.ScheduleState{}, mapErr(err, "retention schedule state")
	}
	st.Account, st.Paused = gdprkit.AccountID(acct), paused != 0
	return st, nil
}

func (s retentionSQL) DeleteScheduleState(ctx context.Context, account gdprkit.AccountID) error {
	if err := checkAccount(account); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, s.q("DELETE FROM gdpr_retention_schedules WHERE account_id = ?"), string(account))
	return mapErr(err, "delete retention schedule state")
}

func (s retentionSQL) SaveScheduleState(ctx context.Context, account gdprkit.AccountID, expect int64, st retention.ScheduleState) error {
	if err := checkAccount(account); err != nil {
		return err
	}
	if st.Account != account || st.Version != expect+1 || len(st.TimeZone) > 64 || len(st.LeaseOwner) > 128 {
		return fmt.Errorf("%w: retention: schedule state must be of the account at version expect+1", gdprkit.ErrInvalid)
	}
	args := []any{st.TimeZone, s.nts(st.NextRun), s.nts(st.LastRun), s.nts(st.LastClock), retBool(st.Paused), st.LeaseOwner,
		s.nts(st.LeaseUntil), st.Fence, st.Turn, st.Version}
	if expect == 0 {
		_, err := s.db.ExecContext(ctx, s.q("INSERT INTO gdpr_retention_schedules ("+retSchedCols+") VALUES "+placeholders(11)),
			append([]any{string(account)}, args...)...)
		return mapErr(err, "retention create schedule state")
	}
	return s.tx(ctx, "retention save schedule state", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE gdpr_retention_schedules SET time_zone = ?, next_run = ?, last_run = ?, last_clock = ?, paused = ?,
	lease_owner = ?, lease_until = ?, fence = ?, turn = ?, version = ? WHERE account_id = ? AND version = ?`), append(args, string(account), expect)...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			return nil
		}
		var v int64
		if err := tx.QueryRowContext(ctx, s.q("SELECT version FROM gdpr_retention_schedules WHERE account_id = ?"), string(account)).Scan(&v); err != nil {
			return err
		}
		return fmt.Errorf("retention: schedule state changed (version %d, expected %d): %w", v, expect, gdprkit.ErrConflict)
	})
}

func (s retentionSQL) ClaimSchedulesDue(ctx context.Context, now time.Time, limit int, owner string, leaseFor time.Duration) ([]gdprkit.AccountID, error) {
	if limit <= 0 || owner == "" || len(owner) > 128 || leaseFor <= 0 {
		return nil, fmt.Errorf("%w: retention: ClaimSchedulesDue needs a positive limit and lease and an owner of at most 128 bytes", gdprkit.ErrInvalid)
	}
	var out []gdprkit.AccountID
	err := s.tx(ctx, "retention claim due schedules", func(tx *sql.Tx) error {
		out = out[:0]
		hint := ""
		if s.d.Dialect == MySQL {
			hint = " FORCE INDEX (gdpr_retention_schedules_due)"
		}
		rows, err := tx.QueryContext(ctx, s.q(`SELECT account_id FROM gdpr_retention_schedules`+hint+`
	WHERE next_run <= ? AND paused = 0 AND (lease_until IS NULL OR lease_until <= ?)
	ORDER BY next_run, account_id LIMIT ?`+s.d.skipLocked()), s.ts(now), s.ts(now), limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			out = append(out, gdprkit.AccountID(id))
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(out) == 0 {
			return nil
		}
		args := []any{owner, s.ts(now.Add(leaseFor))}
		for _, id := range out {
			args = append(args, string(id))
		}
		_, err = tx.ExecContext(ctx, s.q("UPDATE gdpr_retention_schedules SET lease_owner = ?, lease_until = ?, fence = fence + 1, version = version + 1 WHERE account_id IN "+placeholders(len(out))), args...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

const retPauseName = "schedules"

func (s retentionSQL) SchedulesPaused(ctx context.Context) (retention.Pause, error) {
	var p retention.Pause
	var paused int
	var actor string
	err := s.db.QueryRowContext(ctx, s.q("SELECT paused, changed_at, actor FROM gdpr_retention_control WHERE name = ?"), retPauseName).Scan(&paused, tscan(&p.At), &actor)
	if errors.Is(err, sql.ErrNoRows) {
		return retention.Pause{}, nil
	}
	if err != nil {
		return retention.Pause{}, mapErr(err, "retention pause")
	}
	p.Paused, p.By = paused != 0, gdprkit.ActorID(actor)
	return p, nil
}

func (s retentionSQL) SetSchedulesPaused(ctx context.Context, p retention.Pause) error {
	q := s.d.upsert("gdpr_retention_control", "(name, paused, changed_at, actor)", "(?, ?, ?, ?)", "(name)", []string{"paused", "changed_at", "actor"})
	_, err := s.db.ExecContext(ctx, s.q(q), retPauseName, retBool(p.Paused), s.nts(p.At), string(p.By))
	return mapErr(err, "retention set pause")
}

package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/retention"
)

// Retention returns the store of the retention package.
func (s *Store) Retention() retention.Store { return retentionSQL{s} }

// retentionSQL implements retention.Store over gdpr_retention_accounts,
// gdpr_retention_transitions and gdpr_retention_rules. Every write to a
// lifecycle record is a compare-and-set on its version; ClaimDue walks the
// (next_due, account_id) index with FOR UPDATE SKIP LOCKED where the
// dialect has it (SQLite serialises writers instead).
type retentionSQL struct{ *Store }

const retRecordCols = "account_id, state, since, version, next_due, pending, steps_at, attempts, lease_owner, lease_until, nothing_remains_at, created_at, updated_at"

func retEncodePending(ps []retention.PendingStep) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Transition + ":" + string(p.Step)
	}
	return strings.Join(parts, ",")
}

func retDecodePending(s string) ([]retention.PendingStep, error) {
	if s == "" {
		return nil, nil
	}
	var out []retention.PendingStep
	for _, part := range strings.Split(s, ",") {
		tid, st, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("sqlstore: bad pending step %q", part)
		}
		out = append(out, retention.PendingStep{Transition: tid, Step: retention.Step(st)})
	}
	return out, nil
}

func retJoinSteps(ss []retention.Step) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}

func retSplitSteps(s string) []retention.Step {
	if s == "" {
		return nil
	}
	var out []retention.Step
	for _, p := range strings.Split(s, ",") {
		out = append(out, retention.Step(p))
	}
	return out
}

func (s retentionSQL) recordArgs(r retention.Record) []any {
	return []any{string(r.Account), string(r.State), s.ts(r.Since), r.Version, s.nts(r.NextDue),
		retEncodePending(r.Pending), s.nts(r.StepsAt), r.Attempts, r.LeaseOwner, s.nts(r.LeaseUntil),
		s.nts(r.NothingRemainsAt), s.ts(r.Created), s.ts(r.Updated)}
}

func retValidTransitions(account gdprkit.AccountID, trs []retention.TransitionRecord) error {
	for _, t := range trs {
		if t.Account != account {
			return fmt.Errorf("%w: retention: transition for another account", gdprkit.ErrInvalid)
		}
	}
	return nil
}

// insertTransitions writes trs in one multi-row INSERT.
func (s retentionSQL) insertTransitions(ctx context.Context, tx *sql.Tx, trs []retention.TransitionRecord) error {
	if len(trs) == 0 {
		return nil
	}
	args := make([]any, 0, 12*len(trs))
	for _, t := range trs {
		args = append(args, string(t.Account), t.Seq, t.ID, string(t.From), string(t.To), string(t.Cause.Kind),
			t.Cause.Name, string(t.Actor), s.ts(t.At), s.ts(t.Recorded), t.Policy, retJoinSteps(t.Steps))
	}
	_, err := tx.ExecContext(ctx, s.q("INSERT INTO gdpr_retention_transitions (account_id, seq, id, from_state, to_state, cause_kind, cause, actor, due_at, recorded_at, policy, steps) VALUES "+valueRows(len(trs), 12)), args...)
	return err
}

func (s retentionSQL) CreateRecord(ctx context.Context, account gdprkit.AccountID, rec retention.Record, first retention.TransitionRecord) error {
	if err := checkAccount(account); err != nil {
		return err
	}
	if rec.Account != account || rec.Version != 1 {
		return fmt.Errorf("%w: retention: record must be of the account and at version 1", gdprkit.ErrInvalid)
	}
	if err := retValidTransitions(account, []retention.TransitionRecord{first}); err != nil {
		return err
	}
	return s.tx(ctx, "retention create record", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q("INSERT INTO gdpr_retention_accounts ("+retRecordCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
			s.recordArgs(rec)...); err != nil {
			return err
		}
		return s.insertTransitions(ctx, tx, []retention.TransitionRecord{first})
	})
}

func (s retentionSQL) Record(ctx context.Context, account gdprkit.AccountID) (retention.Record, error) {
	if err := checkAccount(account); err != nil {
		return retention.Record{}, err
	}
	var r retention.Record
	var acct, state, pending string
	err := s.db.QueryRowContext(ctx, s.q("SELECT "+retRecordCols+" FROM gdpr_retention_accounts WHERE account_id = ?"), string(account)).Scan(
		&acct, &state, tscan(&r.Since), &r.Version, tscan(&r.NextDue), &pending, tscan(&r.StepsAt), &r.Attempts,
		&r.LeaseOwner, tscan(&r.LeaseUntil), tscan(&r.NothingRemainsAt), tscan(&r.Created), tscan(&r.Updated))
	if err != nil {
		return retention.Record{}, mapErr(err, "retention lifecycle record")
	}
	r.Account, r.State = gdprkit.AccountID(acct), retention.State(state)
	if r.Pending, err = retDecodePending(pending); err != nil {
		return retention.Record{}, err
	}
	return r, nil
}

func (s retentionSQL) SaveRecord(ctx context.Context, account gdprkit.AccountID, expect int64, rec retention.Record, trs []retention.TransitionRecord) error {
	if err := checkAccount(account); err != nil {
		return err
	}
	if rec.Account != account || rec.Version != expect+1 {
		return fmt.Errorf("%w: retention: record must be of the account at version expect+1", gdprkit.ErrInvalid)
	}
	if err := retValidTransitions(account, trs); err != nil {
		return err
	}
	return s.tx(ctx, "retention save record", func(tx *sql.Tx) error {
		args := s.recordArgs(rec)[1:] // every column but account_id
		args = append(args, string(account), expect)
		res, err := tx.ExecContext(ctx, s.q(`UPDATE gdpr_retention_accounts SET state = ?, since = ?, version = ?, next_due = ?,
	pending = ?, steps_at = ?, attempts = ?, lease_owner = ?, lease_until = ?, nothing_remains_at = ?, created_at = ?, updated_at = ?
	WHERE account_id = ? AND version = ?`), args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			var v int64
			if err := tx.QueryRowContext(ctx, s.q("SELECT version FROM gdpr_retention_accounts WHERE account_id = ?"), string(account)).Scan(&v); err != nil {
				return err // sql.ErrNoRows maps to ErrNotFound
			}
			return fmt.Errorf("retention: lifecycle record changed (version %d, expected %d): %w", v, expect, gdprkit.ErrConflict)
		}
		return s.insertTransitions(ctx, tx, trs)
	})
}

func (s retentionSQL) Transitions(ctx context.Context, account gdprkit.AccountID) ([]retention.TransitionRecord, error) {
	if err := checkAccount(account); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT account_id, seq, id, from_state, to_state, cause_kind, cause, actor, due_at, recorded_at, policy, steps
	FROM gdpr_retention_transitions WHERE account_id = ? ORDER BY seq`), string(account))
	if err != nil {
		return nil, mapErr(err, "retention transitions")
	}
	defer rows.Close()
	var out []retention.TransitionRecord
	for rows.Next() {
		var t retention.TransitionRecord
		var acct, from, to, kind, actor, steps string
		if err := rows.Scan(&acct, &t.Seq, &t.ID, &from, &to, &kind, &t.Cause.Name, &actor,
			tscan(&t.At), tscan(&t.Recorded), &t.Policy, &steps); err != nil {
			return nil, mapErr(err, "retention transitions")
		}
		t.Account, t.From, t.To, t.Actor = gdprkit.AccountID(acct), retention.State(from), retention.State(to), gdprkit.ActorID(actor)
		t.Cause.Kind, t.Steps = retention.CauseKind(kind), retSplitSteps(steps)
		out = append(out, t)
	}
	return out, mapErr(rows.Err(), "retention transitions")
}

func (s retentionSQL) ClaimDue(ctx context.Context, now time.Time, limit int, owner string, leaseFor time.Duration) ([]gdprkit.AccountID, error) {
	if limit <= 0 || owner == "" || len(owner) > 128 || leaseFor <= 0 {
		return nil, fmt.Errorf("%w: retention: ClaimDue needs a positive limit and lease and an owner of at most 128 bytes", gdprkit.ErrInvalid)
	}
	var out []gdprkit.AccountID
	err := s.tx(ctx, "retention claim due", func(tx *sql.Tx) error {
		out = out[:0]
		// MySQL's optimizer picks a full scan when many rows are due, which
		// would lock (and make other sweepers skip) every row: force the
		// due index so the scan stops after limit rows.
		hint := ""
		if s.d.Dialect == MySQL {
			hint = " FORCE INDEX (gdpr_retention_accounts_due)"
		}
		rows, err := tx.QueryContext(ctx, s.q(`SELECT account_id FROM gdpr_retention_accounts`+hint+`
	WHERE next_due <= ? AND (lease_until IS NULL OR lease_until <= ?)
	ORDER BY next_due, account_id LIMIT ?`+s.d.skipLocked()), s.ts(now), s.ts(now), limit)
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
		// The claim bumps the version, so a write prepared from the record
		// as it was before the claim (an event applied around it, a sweeper
		// whose lease expired) loses its compare-and-set instead of
		// overwriting the lease.
		_, err = tx.ExecContext(ctx, s.q("UPDATE gdpr_retention_accounts SET lease_owner = ?, lease_until = ?, version = version + 1 WHERE account_id IN "+placeholders(len(out))), args...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

const retRuleCols = "account_id, id, name, target, status, field, older_days, older_months, action, disabled, created_at, created_by, updated_at, updated_by, version, " +
	"last_run_at, last_removed, last_held, last_kept, last_error, backlog, backlog_runs, total_removed, cursor_at, cursor_id"

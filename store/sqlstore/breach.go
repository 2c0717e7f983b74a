package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/breach"
)

// Breach returns the breach register store.
func (s *Store) Breach() breach.Store { return breachSQL{s} }

type breachSQL struct{ *Store }

// breachBatch is the most rows written by one INSERT.
const breachBatch = 400

// lockHead locks the account's row of a heads table, creating it first only
// when missing, and returns the head.
func (s *Store) lockHead(ctx context.Context, tx *sql.Tx, table string, a gdprkit.AccountID) (seq int64, hash string, err error) {
	lock := s.q("SELECT seq, hash FROM " + table + " WHERE account_id = ?" + s.d.forUpdate())
	err = tx.QueryRowContext(ctx, lock, string(a)).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err = tx.ExecContext(ctx, s.q(s.d.insertIgnore(table, "(account_id, seq, hash)", "(?, 0, '')", "(account_id)")), string(a)); err != nil {
			return 0, "", err
		}
		err = tx.QueryRowContext(ctx, lock, string(a)).Scan(&seq, &hash)
	}
	return seq, hash, err
}

func scanBreach(sc interface{ Scan(...any) error }) (breach.Breach, error) {
	var body []byte
	if err := sc.Scan(&body); err != nil {
		return breach.Breach{}, err
	}
	var b breach.Breach
	if err := json.Unmarshal(body, &b); err != nil {
		return breach.Breach{}, fmt.Errorf("sqlstore: stored breach is not JSON: %w", gdprkit.ErrInvalid)
	}
	return b, nil
}

const breachNoticeCols = "account_id, id, state, next_at, lease_owner, lease_token, lease_until, body"

func scanNotice(sc interface{ Scan(...any) error }) (breach.Notice, error) {
	var acct, id, state, owner, token string
	var next, until time.Time
	var body []byte
	if err := sc.Scan(&acct, &id, &state, tscan(&next), &owner, &token, tscan(&until), &body); err != nil {
		return breach.Notice{}, err
	}
	var n breach.Notice
	if err := json.Unmarshal(body, &n); err != nil {
		return breach.Notice{}, fmt.Errorf("sqlstore: stored notice is not JSON: %w", gdprkit.ErrInvalid)
	}
	// The columns the workers change win over the body.
	n.Account, n.ID, n.State, n.NextAt = gdprkit.AccountID(acct), id, breach.NoticeState(state), next
	n.LeaseOwner, n.LeaseToken, n.LeaseUntil = owner, token, until
	return n, nil
}

func noticeDedupe(n breach.Notice) string {
	if n.To == breach.ToSubject {
		return string(n.Subject)
	}
	return n.ID
}

func (b breachSQL) Mutate(ctx context.Context, a gdprkit.AccountID, id string, fn func(breach.Breach, bool) (breach.Write, error), seal func(breach.Head, *breach.Entry) error) ([]breach.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, mapErr(err, "breach mutate")
	}
	if err := checkAccount(a); err != nil {
		return nil, err
	}
	var out []breach.Entry
	err := b.tx(ctx, "breach mutate", func(tx *sql.Tx) error {
		seq, hash, err := b.lockHead(ctx, tx, "gdpr_breach_heads", a)
		if err != nil {
			return err
		}
		head := breach.Head{Seq: seq, Hash: hash}
		cur, err := scanBreach(tx.QueryRowContext(ctx, b.q("SELECT body FROM gdpr_breaches WHERE account_id = ? AND id = ?"+b.d.forUpdate()), string(a), id))
		found := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		w, err := fn(cur, found)
		if err != nil {
			return err
		}
		if w.Breach != nil {
			if w.Breach.ID != id || id == "" {
				return fmt.Errorf("breach write: ID %q is not %q: %w", w.Breach.ID, id, gdprkit.ErrInvalid)
			}
			nb := *w.Breach
			nb.By = ""
			body, err := json.Marshal(nb)
			if err != nil {
				return err
			}
			if found {
				_, err = tx.ExecContext(ctx, b.q("UPDATE gdpr_breaches SET incident = ?, aware_at = ?, body = ? WHERE account_id = ? AND id = ?"),
					nullStr(nb.Incident), b.ts(nb.AwareAt), string(body), string(a), id)
			} else {
				_, err = tx.ExecContext(ctx, b.q("INSERT INTO gdpr_breaches (account_id, id, incident, aware_at, body) VALUES (?, ?, ?, ?, ?)"),
					string(a), id, nullStr(nb.Incident), b.ts(nb.AwareAt), string(body))
			}
			if err != nil {
				return err
			}
		} else if !found && (len(w.Subjects) > 0 || len(w.Notices) > 0 || w.Settle != nil) {
			return fmt.Errorf("breach %q: %w", id, gdprkit.ErrNotFound)
		}
		for rest := w.Subjects; len(rest) > 0; {
			n := min(len(rest), breachBatch)
			args := make([]any, 0, 3*n)
			for _, p := range rest[:n] {
				args = append(args, string(a), id, string(p))
			}
			if _, err := tx.ExecContext(ctx, b.q("INSERT INTO gdpr_breach_subjects (account_id, breach_id, subject_ps) VALUES "+valueRows(n, 3)), args...); err != nil {
				return err
			}
			rest = rest[n:]
		}
		for rest := w.Notices; len(rest) > 0; {
			n := min(len(rest), breachBatch)
			args := make([]any, 0, 10*n)
			for _, x := range rest[:n] {
				x.Account, x.Breach = a, id
				body, err := json.Marshal(x)
				if err != nil {
					return err
				}
				args = append(args, string(a), x.ID, id, noticeDedupe(x), string(x.State), b.nts(x.NextAt), x.LeaseOwner, x.LeaseToken, b.nts(x.LeaseUntil), string(body))
			}
			if _, err := tx.ExecContext(ctx, b.q("INSERT INTO gdpr_breach_notices (account_id, id, breach_id, dedupe, state, next_at, lease_owner, lease_token, lease_until, body) VALUES "+valueRows(n, 10)), args...); err != nil {
				return err
			}
			rest = rest[n:]
		}
		if x := w.Settle; x != nil {
			x.Account, x.Breach = a, id
			body, err := json.Marshal(x)
			if err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, b.q(`UPDATE gdpr_breach_notices SET state = ?, next_at = ?, lease_owner = '', lease_token = '', lease_until = NULL, body = ?
WHERE account_id = ? AND id = ? AND breach_id = ? AND state = ? AND lease_token = ? AND lease_token <> ''`),
				string(x.State), b.nts(x.NextAt), string(body), string(a), x.ID, id, string(breach.NoticeSending), w.Token)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n != 1 {
				return fmt.Errorf("breach notice %q: %w", x.ID, gdprkit.ErrLeaseLost)
			}
		}
		out = make([]breach.Entry, 0, len(w.Entries))
		for _, e := range w.Entries {
			e.Data = append(json.RawMessage(nil), e.Data...)
			if err := seal(head, &e); err != nil {
				return err
			}
			if e.Seq != head.Seq+1 {
				return fmt.Errorf("seal returned seq %d after head %d: %w", e.Seq, head.Seq, gdprkit.ErrConflict)
			}
			out = append(out, e)
			head = breach.Head{Seq: e.Seq, Hash: e.Hash}
		}
		for rest := out; len(rest) > 0; {
			n := min(len(rest), breachBatch)
			args := make([]any, 0, 10*n)
			for _, e := range rest[:n] {
				args = append(args, string(a), e.Seq, e.ID, e.Breach, string(e.Type), b.ts(e.At), string(e.Actor), string(e.Data), e.PrevHash, e.Hash)
			}
			if _, err := tx.ExecContext(ctx, b.q("INSERT INTO gdpr_breach_history (account_id, seq, id, breach_id, type, at, actor, data, prev_hash, hash) VALUES "+valueRows(n, 10)), args...); err != nil {
				return err
			}
			rest = rest[n:]
		}
		if len(out) > 0 {
			_, err = tx.ExecContext(ctx, b.q("UPDATE gdpr_breach_heads SET seq = ?, hash = ? WHERE account_id = ?"), head.Seq, head.Hash, string(a))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (b breachSQL) Breach(ctx context.Context, a gdprkit.AccountID, id string) (breach.Breach, error) {
	if err := checkAccount(a); err != nil {
		return breach.Breach{}, err
	}
	x, err := scanBreach(b.db.QueryRowContext(ctx, b.q("SELECT body FROM gdpr_breaches WHERE account_id = ? AND id = ?"), string(a), id))
	return x, mapErr(err, fmt.Sprintf("breach %q", id))
}

func (b breachSQL) Breaches(ctx context.Context, a gdprkit.AccountID) ([]breach.Breach, error) {
	if err := checkAccount(a); err != nil {
		return nil, err
	}
	rows, err := b.db.QueryContext(ctx, b.q("SELECT body FROM gdpr_breaches WHERE account_id = ? ORDER BY aware_at DESC, id"), string(a))
	if err != nil {
		return nil, mapErr(err, "breaches")
	}
	defer rows.Close()
	var out []breach.Breach
	for rows.Next() {
		x, err := scanBreach(rows)
		if err != nil {
			return nil, mapErr(err, "breaches")
		}
		out = append(out, x)
	}
	return out, mapErr(rows.Err(), "breaches")
}

func (b breachSQL) Subjects(ctx context.Context, a gdprkit.AccountID, id string, after gdprkit.Pseudonym, limit int) ([]gdprkit.Pseudonym, error) {
	if err := checkAccount(a); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 1000
	}
	rows, err := b.db.QueryContext(ctx, b.q("SELECT subject_ps FROM gdpr_breach_subjects WHERE account_id = ? AND breach_id = ? AND subject_ps > ? ORDER BY subject_ps LIMIT ?"),
		string(a), id, string(after), limit)
	if err != nil {
		return nil, mapErr(err, "breach subjects")
	}
	defer rows.Close()
	var out []gdprkit.Pseudonym
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, mapErr(err, "breach subjects")
		}
		out = append(out, gdprkit.Pseudonym(p))
	}
	return out, mapErr(rows.Err(), "breach subjects")
}

func (b breachSQL) Notices(ctx context.Context, a gdprkit.AccountID, id string) ([]breach.Notice, error) {
	if err := checkAccount(a); err != nil {
		return nil, err
	}
	rows, err := b.db.QueryContext(ctx, b.q("SELECT "+breachNoticeCols+" FROM gdpr_breach_notices WHERE account_id = ? AND breach_id = ? ORDER BY id"), string(a), id)
	if err != nil {
		return nil, mapErr(err, "breach notices")
	}
	defer rows.Close()
	var out []breach.Notice
	for rows.Next() {
		n, err := scanNotice(rows)
		if err != nil {
			return nil, mapErr(err, "breach notices")
		}
		out = append(out, n)
	}
	return out, mapErr(rows.Err(), "breach notices")
}

func (b breachSQL) ClaimNotice(ctx context.Context, now time.Time, owner, token string, until time.Time) (breach.Notice, error) {
	if err := ctx.Err(); err != nil {
		return breach.Notice{}, mapErr(err, "claim breach notice")
	}
	if owner == "" || token == "" {
		return breach.Notice{}, fmt.Errorf("claim breach notice: empty owner or token: %w", gdprkit.ErrInvalid)
	}
	var n breach.Notice
	err := b.tx(ctx, "claim breach notice", func(tx *sql.Tx) error {
		// Two index range scans (pending by next_at, sending by
		// lease_until), each taking the first row no other worker holds.
		pick := func(q string, args ...any) (string, string, time.Time, error) {
			var acct, id string
			var at time.Time
			err := tx.QueryRowContext(ctx, b.q(q+b.d.skipLocked()), args...).Scan(&acct, &id, tscan(&at))
			return acct, id, at, err
		}
		a1, id1, t1, err1 := pick("SELECT account_id, id, next_at FROM gdpr_breach_notices WHERE state = ? AND next_at <= ? ORDER BY next_at, id LIMIT 1",
			string(breach.NoticePending), b.ts(now))
		if err1 != nil && !errors.Is(err1, sql.ErrNoRows) {
			return err1
		}
		a2, id2, t2, err2 := pick("SELECT account_id, id, lease_until FROM gdpr_breach_notices WHERE state = ? AND lease_until <= ? ORDER BY lease_until, id LIMIT 1",
			string(breach.NoticeSending), b.ts(now))
		if err2 != nil && !errors.Is(err2, sql.ErrNoRows) {
			return err2
		}
		acct, id := a1, id1
		switch {
		case err1 != nil && err2 != nil:
			return fmt.Errorf("no breach notice due: %w", gdprkit.ErrNotFound)
		case err1 != nil || (err2 == nil && t2.Before(t1)):
			acct, id = a2, id2
		}
		if _, err := tx.ExecContext(ctx, b.q("UPDATE gdpr_breach_notices SET state = ?, lease_owner = ?, lease_token = ?, lease_until = ? WHERE account_id = ? AND id = ?"),
			string(breach.NoticeSending), owner, token, b.ts(until), acct, id); err != nil {
			return err
		}
		x, err := scanNotice(tx.QueryRowContext(ctx, b.q("SELECT "+breachNoticeCols+" FROM gdpr_breach_notices WHERE account_id = ? AND id = ?"), acct, id))
		n = x
		return err
	})
	return n, err
}

func (b breachSQL) History(ctx context.Context, a gdprkit.AccountID, afterSeq int64, limit int) ([]breach.Entry, error) {
	if err := checkAccount(a); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 1000
	}
	rows, err := b.db.QueryContext(ctx, b.q("SELECT seq, id, breach_id, type, at, actor, data, prev_hash, hash FROM gdpr_breach_history WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?"),
		string(a), afterSeq, limit)
	if err != nil {
		return nil, mapErr(err, "breach history")
	}
	defer rows.Close()
	var out []breach.Entry
	for rows.Next() {
		var e breach.Entry
		var typ, actor string
		var data []byte
		if err := rows.Scan(&e.Seq, &e.ID, &e.Breach, &typ, tscan(&e.At), &actor, &data, &e.PrevHash, &e.Hash); err != nil {
			return nil, mapErr(err, "breach history")
		}
		e.Type, e.Actor, e.Data = breach.EntryType(typ), gdprkit.ActorID(actor), json.RawMessage(data)
		out = append(out, e)
	}
	return out, mapErr(rows.Err(), "breach history")
}

func (b breachSQL) Head(ctx context.Context, a gdprkit.AccountID) (breach.Head, error) {
	if err := checkAccount(a); err != nil {
		return breach.Head{}, err
	}
	var h breach.Head
	err := b.db.QueryRowContext(ctx, b.q("SELECT seq, hash FROM gdpr_breach_heads WHERE account_id = ?"), string(a)).Scan(&h.Seq, &h.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return breach.Head{}, nil
	}
	return h, mapErr(err, "breach head")
}

func (b breachSQL) DeleteAccount(ctx context.Context, a gdprkit.AccountID) (int, error) {
	if err := checkAccount(a); err != nil {
		return 0, err
	}
	var n int64
	err := b.tx(ctx, "delete breach account", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, b.q("DELETE FROM gdpr_breaches WHERE account_id = ?"), string(a))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		for _, t := range []string{"gdpr_breach_subjects", "gdpr_breach_notices", "gdpr_breach_history", "gdpr_breach_heads"} {
			if _, err := tx.ExecContext(ctx, b.q("DELETE FROM "+t+" WHERE account_id = ?"), string(a)); err != nil {
				return err
			}
		}
		return nil
	})
	return int(n), err
}

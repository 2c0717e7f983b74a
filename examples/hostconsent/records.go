package hostconsent

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/sqldb"
)

// The chain: records as JSON documents in crm_consent_log, the head in
// crm_consent_tip.

// lockTip locks the account's tip row, creating it first when missing, and
// returns the chain head it holds.
func (s *Store) lockTip(ctx context.Context, tx *sql.Tx, a gdprkit.AccountID) (consent.ChainHead, error) {
	var h consent.ChainHead
	lock := s.q("SELECT position, hash FROM crm_consent_tip WHERE tenant_id = ?" + s.forUpdate())
	err := tx.QueryRowContext(ctx, lock, string(a)).Scan(&h.Seq, &h.Hash)
	if err == sql.ErrNoRows {
		ins := "INSERT INTO crm_consent_tip (tenant_id, position, hash) VALUES (?, 0, '') ON CONFLICT (tenant_id) DO NOTHING"
		if s.d == sqldb.MySQL {
			ins = "INSERT IGNORE INTO crm_consent_tip (tenant_id, position, hash) VALUES (?, 0, '')"
		}
		if _, err := tx.ExecContext(ctx, s.q(ins), string(a)); err != nil {
			return h, err
		}
		err = tx.QueryRowContext(ctx, lock, string(a)).Scan(&h.Seq, &h.Hash)
	}
	return h, err
}

func (s *Store) setTip(ctx context.Context, tx *sql.Tx, a gdprkit.AccountID, h consent.ChainHead) error {
	_, err := tx.ExecContext(ctx, s.q("UPDATE crm_consent_tip SET position = ?, hash = ? WHERE tenant_id = ?"), h.Seq, h.Hash, string(a))
	return err
}

// insertLog stores rs, up to 100 rows per INSERT.
func (s *Store) insertLog(ctx context.Context, tx *sql.Tx, a gdprkit.AccountID, rs []consent.Record) error {
	for len(rs) > 0 {
		n := min(100, len(rs))
		args := make([]any, 0, 7*n)
		for i := range rs[:n] {
			body, err := json.Marshal(&rs[i])
			if err != nil {
				return err
			}
			args = append(args, string(a), rs[i].Seq, rs[i].ID, string(rs[i].SubjectPS), rs[i].Purpose, rs[i].Pseudonymized, string(body))
		}
		rows := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?), ", n), ", ")
		if _, err := tx.ExecContext(ctx, s.q("INSERT INTO crm_consent_log (tenant_id, position, record_id, person_ref, topic_key, scrubbed, payload) VALUES "+rows), args...); err != nil {
			return err
		}
		rs = rs[n:]
	}
	return nil
}

// Append implements consent.Store. The current state needs no write: it is
// the subject's latest record, which the new rows are.
func (s *Store) Append(ctx context.Context, a gdprkit.AccountID, drafts []consent.Record, seal func(consent.ChainHead, *consent.Record) error) ([]consent.Record, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	var out []consent.Record
	err := s.tx(ctx, "append consent", func(tx *sql.Tx) error {
		head, err := s.lockTip(ctx, tx, a)
		if err != nil {
			return err
		}
		out = make([]consent.Record, len(drafts))
		for i := range drafts {
			r := drafts[i]
			if err := seal(head, &r); err != nil {
				return err
			}
			if r.Seq != head.Seq+1 {
				return fmt.Errorf("seal returned seq %d after head %d: %w", r.Seq, head.Seq, gdprkit.ErrConflict)
			}
			out[i], head = r, consent.ChainHead{Seq: r.Seq, Hash: r.Hash}
		}
		if err := s.insertLog(ctx, tx, a, out); err != nil {
			return err
		}
		return s.setTip(ctx, tx, a, head)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Lookup implements consent.Store in one statement: the purpose's row and,
// through the person index, the subject's latest record for it.
func (s *Store) Lookup(ctx context.Context, a gdprkit.AccountID, subject gdprkit.Pseudonym, purpose string) (consent.Lookup, error) {
	var l consent.Lookup
	var life, created int64
	var pos sql.NullInt64
	var payload sql.NullString
	err := s.db.QueryRowContext(ctx, s.q(`SELECT t.topic_key, t.title, t.label, t.description, t.lifetime_us, t.current_version, t.material_version, t.created_us,
	l.position, l.payload
FROM crm_consent_topics t
LEFT JOIN crm_consent_log l ON l.tenant_id = t.tenant_id AND l.position = (
	SELECT MAX(m.position) FROM crm_consent_log m WHERE m.tenant_id = t.tenant_id AND m.person_ref = ? AND m.topic_key = t.topic_key)
WHERE t.tenant_id = ? AND t.topic_key = ?`), string(subject), string(a), purpose).Scan(
		&l.Purpose.Key, &l.Purpose.Name, &l.Purpose.Label, &l.Purpose.Description, &life, &l.Purpose.CurrentVersion, &l.Purpose.MaterialVersion, &created,
		&pos, &payload)
	if err != nil {
		return consent.Lookup{}, wrap(err, fmt.Sprintf("purpose %q", purpose))
	}
	l.Purpose.Lifetime, l.Purpose.CreatedAt = fromUSDur(life), fromUS(created)
	if pos.Valid {
		l.Found, l.Seq = true, pos.Int64
		if err := json.Unmarshal([]byte(payload.String), &l.Record); err != nil {
			return consent.Lookup{}, fmt.Errorf("hostconsent: record %d: %w", pos.Int64, err)
		}
	}
	return l, nil
}

// States implements consent.Store: the latest record of each (subject,
// purpose), page by page.
func (s *Store) States(ctx context.Context, a gdprkit.AccountID, after consent.StateKey, limit int) ([]consent.State, error) {
	if limit <= 0 {
		return nil, nil
	}
	rs, err := s.records(ctx, s.db, "consent state", `SELECT l.payload FROM crm_consent_log l JOIN (
	SELECT person_ref, topic_key, MAX(position) AS position FROM crm_consent_log
	WHERE tenant_id = ? AND (person_ref > ? OR (person_ref = ? AND topic_key > ?))
	GROUP BY person_ref, topic_key ORDER BY person_ref, topic_key LIMIT ?) latest ON l.position = latest.position
WHERE l.tenant_id = ? ORDER BY latest.person_ref, latest.topic_key`,
		string(a), string(after.SubjectPS), string(after.SubjectPS), after.Purpose, limit, string(a))
	if err != nil {
		return nil, err
	}
	out := make([]consent.State, len(rs))
	for i, r := range rs {
		out[i] = consent.State{StateKey: consent.StateKey{SubjectPS: r.SubjectPS, Purpose: r.Purpose}, Seq: r.Seq,
			Action: r.Action, PolicyVersion: r.PolicyVersion, At: r.At}
	}
	return out, nil
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

// records runs a query whose one column is payload and decodes each row.
func (s *Store) records(ctx context.Context, q querier, what, query string, args ...any) ([]consent.Record, error) {
	rows, err := q.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, wrap(err, what)
	}
	defer rows.Close()
	var out []consent.Record
	for rows.Next() {
		var payload string
		if err := rows.Scan(&payload); err != nil {
			return nil, wrap(err, what)
		}
		var r consent.Record
		if err := json.Unmarshal([]byte(payload), &r); err != nil {
			return nil, fmt.Errorf("hostconsent: %s: %w", what, err)
		}
		out = append(out, r)
	}
	return out, wrap(rows.Err(), what)
}

// in returns "(?, ?, …)" for n values and the values after head.
func in(head []any, ids []string) (string, []any) {
	for _, id := range ids {
		head = append(head, id)
	}
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + ")", head
}

// SubjectRecords implements consent.Store.
func (s *Store) SubjectRecords(ctx context.Context, a gdprkit.AccountID, subject gdprkit.Pseudonym) ([]consent.Record, error) {
	return s.records(ctx, s.db, "subject records", "SELECT payload FROM crm_consent_log WHERE tenant_id = ? AND person_ref = ? ORDER BY position",
		string(a), string(subject))
}

// RecordsByID implements consent.Store.
func (s *Store) RecordsByID(ctx context.Context, a gdprkit.AccountID, subject gdprkit.Pseudonym, ids []string) ([]consent.Record, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list, args := in([]any{string(a), string(subject)}, ids)
	return s.records(ctx, s.db, "records by ID", "SELECT payload FROM crm_consent_log WHERE tenant_id = ? AND person_ref = ? AND record_id IN "+list+" ORDER BY position", args...)
}

// LiveRecordIDs implements consent.Store.
func (s *Store) LiveRecordIDs(ctx context.Context, a gdprkit.AccountID, subject gdprkit.Pseudonym, afterID string, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, s.q("SELECT record_id FROM crm_consent_log WHERE tenant_id = ? AND person_ref = ? AND scrubbed = ? AND record_id > ? ORDER BY record_id LIMIT ?"),
		string(a), string(subject), false, afterID, limit)
	if err != nil {
		return nil, wrap(err, "live consent records")
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap(err, "live consent records")
		}
		out = append(out, id)
	}
	return out, wrap(rows.Err(), "live consent records")
}

// Records implements consent.Store.
func (s *Store) Records(ctx context.Context, a gdprkit.AccountID, afterSeq int64, limit int) ([]consent.Record, error) {
	if limit <= 0 {
		return nil, nil
	}
	return s.records(ctx, s.db, "records", "SELECT payload FROM crm_consent_log WHERE tenant_id = ? AND position > ? ORDER BY position LIMIT ?", string(a), afterSeq, limit)
}

// Head implements consent.Store.
func (s *Store) Head(ctx context.Context, a gdprkit.AccountID) (consent.ChainHead, error) {
	var h consent.ChainHead
	err := s.db.QueryRowContext(ctx, s.q("SELECT position, hash FROM crm_consent_tip WHERE tenant_id = ?"), string(a)).Scan(&h.Seq, &h.Hash)
	if err == sql.ErrNoRows {
		return consent.ChainHead{}, nil
	}
	return h, wrap(err, "consent head")
}

// PseudonymizeRecords implements consent.Store: the listed live records
// are read, stripped with consent.StripIdentifiers and written back in one
// transaction.
func (s *Store) PseudonymizeRecords(ctx context.Context, a gdprkit.AccountID, subject gdprkit.Pseudonym, ids []string) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var n int
	err := s.tx(ctx, "pseudonymize consent records", func(tx *sql.Tx) error {
		n = 0
		list, args := in([]any{string(a), string(subject), false}, ids)
		rs, err := s.records(ctx, tx, "pseudonymize consent records",
			"SELECT payload FROM crm_consent_log WHERE tenant_id = ? AND person_ref = ? AND scrubbed = ? AND record_id IN "+list+" ORDER BY position"+s.forUpdate(), args...)
		if err != nil {
			return err
		}
		for _, r := range rs {
			r = consent.StripIdentifiers(r)
			body, err := json.Marshal(&r)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.q("UPDATE crm_consent_log SET scrubbed = ?, payload = ? WHERE tenant_id = ? AND position = ?"),
				true, string(body), string(a), r.Seq); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// Rewrite implements consent.Store: under the tip lock, page by page, each
// record is rewritten and its row's payload replaced.
func (s *Store) Rewrite(ctx context.Context, a gdprkit.AccountID, fromSeq int64, rewrite func(consent.ChainHead, *consent.Record) error) (int, error) {
	if err := a.Validate(); err != nil {
		return 0, err
	}
	var n int
	err := s.tx(ctx, "rewrite consent chain", func(tx *sql.Tx) error {
		n = 0
		end, err := s.lockTip(ctx, tx, a)
		if err != nil || fromSeq < 1 || fromSeq > end.Seq {
			return err
		}
		var head consent.ChainHead
		if fromSeq > 1 {
			prev, err := s.records(ctx, tx, "rewrite consent chain", "SELECT payload FROM crm_consent_log WHERE tenant_id = ? AND position = ?", string(a), fromSeq-1)
			if err != nil {
				return err
			}
			if len(prev) != 1 {
				return fmt.Errorf("record %d before the rewrite: %w", fromSeq-1, gdprkit.ErrNotFound)
			}
			head = consent.ChainHead{Seq: prev[0].Seq, Hash: prev[0].Hash}
		}
		for cursor := fromSeq - 1; cursor < end.Seq; {
			rs, err := s.records(ctx, tx, "rewrite consent chain", "SELECT payload FROM crm_consent_log WHERE tenant_id = ? AND position > ? AND position <= ? ORDER BY position LIMIT 200",
				string(a), cursor, end.Seq)
			if err != nil || len(rs) == 0 {
				return err
			}
			for _, old := range rs {
				r := old
				if err := rewrite(head, &r); err != nil {
					return err
				}
				if r.Seq != old.Seq || r.ID != old.ID || r.SubjectPS != old.SubjectPS || r.Purpose != old.Purpose ||
					r.Action != old.Action || r.PolicyVersion != old.PolicyVersion || !r.At.Equal(old.At) {
					return fmt.Errorf("rewrite changed the identity of record %d: %w", old.Seq, gdprkit.ErrConflict)
				}
				body, err := json.Marshal(&r)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, s.q("UPDATE crm_consent_log SET scrubbed = ?, payload = ? WHERE tenant_id = ? AND position = ?"),
					r.Pseudonymized, string(body), string(a), r.Seq); err != nil {
					return err
				}
				head, cursor = consent.ChainHead{Seq: r.Seq, Hash: r.Hash}, r.Seq
				n++
			}
		}
		return s.setTip(ctx, tx, a, head)
	})
	return n, err
}

// DeleteAccount implements consent.Store.
func (s *Store) DeleteAccount(ctx context.Context, a gdprkit.AccountID) (int, error) {
	var n int64
	err := s.tx(ctx, "delete consent account", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q("DELETE FROM crm_consent_log WHERE tenant_id = ?"), string(a))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		for _, table := range []string{"crm_consent_tip", "crm_consent_texts", "crm_consent_topics"} {
			if _, err := tx.ExecContext(ctx, s.q("DELETE FROM "+table+" WHERE tenant_id = ?"), string(a)); err != nil {
				return err
			}
		}
		return nil
	})
	return int(n), err
}

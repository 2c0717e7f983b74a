package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/staffaccess"
)

// StaffAccess returns the support access grants and trail store.
func (s *Store) StaffAccess() staffaccess.Store { return staffSQL{s} }

type staffSQL struct{ *Store }

func scanGrant(sc interface{ Scan(...any) error }) (staffaccess.Grant, error) {
	var body []byte
	if err := sc.Scan(&body); err != nil {
		return staffaccess.Grant{}, err
	}
	var g staffaccess.Grant
	if err := json.Unmarshal(body, &g); err != nil {
		return staffaccess.Grant{}, fmt.Errorf("sqlstore: stored grant is not JSON: %w", gdprkit.ErrInvalid)
	}
	return g, nil
}

// Mutate locks the account's trail head, then reads the grant with a
// locking read: under MySQL's REPEATABLE READ a plain read could return
// the snapshot from before a revocation that committed while this step
// waited for the lock; a locking read always sees the latest.
func (s staffSQL) Mutate(ctx context.Context, a gdprkit.AccountID, id string, fn func(staffaccess.Grant, bool) (staffaccess.Write, error), seal func(staffaccess.Head, *staffaccess.Entry) error) ([]staffaccess.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, mapErr(err, "staff access mutate")
	}
	if err := checkAccount(a); err != nil {
		return nil, err
	}
	var out []staffaccess.Entry
	err := s.tx(ctx, "staff access mutate", func(tx *sql.Tx) error {
		seq, hash, err := s.lockHead(ctx, tx, "gdpr_staff_heads", a)
		if err != nil {
			return err
		}
		head := staffaccess.Head{Seq: seq, Hash: hash}
		cur, err := scanGrant(tx.QueryRowContext(ctx, s.q("SELECT body FROM gdpr_staff_grants WHERE account_id = ? AND id = ?"+s.d.forUpdate()), string(a), id))
		found := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		w, err := fn(cur, found)
		if err != nil {
			return err
		}
		if g := w.Grant; g != nil {
			if g.ID != id || id == "" {
				return fmt.Errorf("grant write: ID %q is not %q: %w", g.ID, id, gdprkit.ErrInvalid)
			}
			ng := *g
			ng.Account = a
			body, err := json.Marshal(ng)
			if err != nil {
				return err
			}
			if found {
				_, err = tx.ExecContext(ctx, s.q("UPDATE gdpr_staff_grants SET staff = ?, requested_at = ?, body = ? WHERE account_id = ? AND id = ?"),
					string(ng.Staff), s.ts(ng.RequestedAt), string(body), string(a), id)
			} else {
				_, err = tx.ExecContext(ctx, s.q("INSERT INTO gdpr_staff_grants (account_id, id, staff, requested_at, body) VALUES (?, ?, ?, ?, ?)"),
					string(a), id, string(ng.Staff), s.ts(ng.RequestedAt), string(body))
			}
			if err != nil {
				return err
			}
		}
		out = make([]staffaccess.Entry, 0, len(w.Entries))
		for _, e := range w.Entries {
			e.Data = append(json.RawMessage(nil), e.Data...)
			if err := seal(head, &e); err != nil {
				return err
			}
			if e.Seq != head.Seq+1 {
				return fmt.Errorf("seal returned seq %d after head %d: %w", e.Seq, head.Seq, gdprkit.ErrConflict)
			}
			out = append(out, e)
			head = staffaccess.Head{Seq: e.Seq, Hash: e.Hash}
		}
		if len(out) == 0 {
			return nil
		}
		args := make([]any, 0, 11*len(out))
		for _, e := range out {
			args = append(args, string(a), e.Seq, e.ID, e.Grant, string(e.Type), s.ts(e.At), string(e.Actor), e.What, string(e.Data), e.PrevHash, e.Hash)
		}
		if _, err := tx.ExecContext(ctx, s.q("INSERT INTO gdpr_staff_trail (account_id, seq, id, grant_id, type, at, actor, what, data, prev_hash, hash) VALUES "+valueRows(len(out), 11)), args...); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q("UPDATE gdpr_staff_heads SET seq = ?, hash = ? WHERE account_id = ?"), head.Seq, head.Hash, string(a))
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s staffSQL) Grant(ctx context.Context, a gdprkit.AccountID, id string) (staffaccess.Grant, error) {
	if err := checkAccount(a); err != nil {
		return staffaccess.Grant{}, err
	}
	g, err := scanGrant(s.db.QueryRowContext(ctx, s.q("SELECT body FROM gdpr_staff_grants WHERE account_id = ? AND id = ?"), string(a), id))
	return g, mapErr(err, fmt.Sprintf("grant %q", id))
}

func (s staffSQL) Grants(ctx context.Context, a gdprkit.AccountID, staff gdprkit.ActorID) ([]staffaccess.Grant, error) {
	if err := checkAccount(a); err != nil {
		return nil, err
	}
	q, args := "SELECT body FROM gdpr_staff_grants WHERE account_id = ?", []any{string(a)}
	if staff != "" {
		q, args = q+" AND staff = ?", append(args, string(staff))
	}
	rows, err := s.db.QueryContext(ctx, s.q(q+" ORDER BY requested_at DESC, id DESC"), args...)
	if err != nil {
		return nil, mapErr(err, "grants")
	}
	defer rows.Close()
	var out []staffaccess.Grant
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, mapErr(err, "grants")
		}
		out = append(out, g)
	}
	return out, mapErr(rows.Err(), "grants")
}

func (s staffSQL) Trail(ctx context.Context, a gdprkit.AccountID, afterSeq int64, limit int) ([]staffaccess.Entry, error) {
	if err := checkAccount(a); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.db.QueryContext(ctx, s.q("SELECT seq, id, grant_id, type, at, actor, what, data, prev_hash, hash FROM gdpr_staff_trail WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?"),
		string(a), afterSeq, limit)
	if err != nil {
		return nil, mapErr(err, "staff access trail")
	}
	defer rows.Close()
	var out []staffaccess.Entry
	for rows.Next() {
		var e staffaccess.Entry
		var typ, actor string
		var data []byte
		if err := rows.Scan(&e.Seq, &e.ID, &e.Grant, &typ, tscan(&e.At), &actor, &e.What, &data, &e.PrevHash, &e.Hash); err != nil {
			return nil, mapErr(err, "staff access trail")
		}
		e.Type, e.Actor = staffaccess.EntryType(typ), gdprkit.ActorID(actor)
		if len(data) > 0 {
			e.Data = json.RawMessage(data)
		}
		out = append(out, e)
	}
	return out, mapErr(rows.Err(), "staff access trail")
}

func (s staffSQL) Head(ctx context.Context, a gdprkit.AccountID) (staffaccess.Head, error) {
	if err := checkAccount(a); err != nil {
		return staffaccess.Head{}, err
	}
	var h staffaccess.Head
	err := s.db.QueryRowContext(ctx, s.q("SELECT seq, hash FROM gdpr_staff_heads WHERE account_id = ?"), string(a)).Scan(&h.Seq, &h.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return staffaccess.Head{}, nil
	}
	return h, mapErr(err, "staff access head")
}

func (s staffSQL) DeleteAccount(ctx context.Context, a gdprkit.AccountID) (int, error) {
	if err := checkAccount(a); err != nil {
		return 0, err
	}
	var n int64
	err := s.tx(ctx, "delete staff access account", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q("DELETE FROM gdpr_staff_grants WHERE account_id = ?"), string(a))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		for _, t := range []string{"gdpr_staff_trail", "gdpr_staff_heads"} {
			if _, err := tx.ExecContext(ctx, s.q("DELETE FROM "+t+" WHERE account_id = ?"), string(a)); err != nil {
				return err
			}
		}
		return nil
	})
	return int(n), err
}

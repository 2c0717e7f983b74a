package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
)

// The data-subject rights other than erasure keep their requests and
// receipts in the erasure tables, and their restriction marks in
// gdpr_erasure_restrictions (migration 0011).

// restrictionChunk is how many marks one INSERT writes (8 parameters
// each) and how many pseudonyms one IN list holds.
const restrictionChunk = 500

func (e erasureSQL) CompleteRequest(ctx context.Context, a gdprkit.AccountID, id string, f erasure.Finish) (erasure.Receipt, error) {
	if err := checkAccount(a); err != nil {
		return erasure.Receipt{}, err
	}
	var out erasure.Receipt
	err := e.tx(ctx, "complete erasure request", func(tx *sql.Tx) error {
		req, err := e.openRequest(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if req.JobID != "" {
			return fmt.Errorf("erasure request %q has a job: %w", id, gdprkit.ErrConflict)
		}
		if f.Receipt.RequestID != id {
			return fmt.Errorf("the receipt is for another request: %w", gdprkit.ErrInvalid)
		}
		var n int
		if err := tx.QueryRowContext(ctx, e.q("SELECT COUNT(*) FROM gdpr_erasure_receipts WHERE account_id = ? AND request_id = ?"), string(a), id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("erasure request %q has a receipt: %w", id, gdprkit.ErrConflict)
		}
		r, err := e.appendReceipt(ctx, tx, a, f)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, e.q("UPDATE gdpr_erasure_requests SET status = ?, closed_at = ?, subject = NULL WHERE account_id = ? AND id = ?"),
			string(erasure.StatusCompleted), e.ts(f.At), string(a), id); err != nil {
			return err
		}
		out = r
		return nil
	})
	return out, err
}

// appendReceipt locks the account's receipt chain head inside tx, seals
// f.Receipt on it, appends the receipt and advances the head.
func (e erasureSQL) appendReceipt(ctx context.Context, tx *sql.Tx, a gdprkit.AccountID, f erasure.Finish) (erasure.Receipt, error) {
	var head erasure.ChainHead
	lockHead := e.q("SELECT seq, hash FROM gdpr_erasure_heads WHERE account_id = ?" + e.d.forUpdate())
	err := tx.QueryRowContext(ctx, lockHead, string(a)).Scan(&head.Seq, &head.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := tx.ExecContext(ctx, e.q(e.d.insertIgnore("gdpr_erasure_heads", "(account_id, seq, hash)", "(?, 0, '')", "(account_id)")), string(a)); err != nil {
			return erasure.Receipt{}, err
		}
		err = tx.QueryRowContext(ctx, lockHead, string(a)).Scan(&head.Seq, &head.Hash)
	}
	if err != nil {
		return erasure.Receipt{}, err
	}
	r := f.Receipt
	if err := f.Seal(head, &r); err != nil {
		return erasure.Receipt{}, err
	}
	if r.Seq != head.Seq+1 {
		return erasure.Receipt{}, fmt.Errorf("seal returned seq %d after head %d: %w", r.Seq, head.Seq, gdprkit.ErrConflict)
	}
	body, err := json.Marshal(r)
	if err != nil {
		return erasure.Receipt{}, err
	}
	if _, err := tx.ExecContext(ctx, e.q("INSERT INTO gdpr_erasure_receipts (account_id, seq, id, request_id, subject_ps, body, prev_hash, hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
		string(a), r.Seq, r.ID, r.RequestID, string(r.SubjectPS), string(body), r.PrevHash, r.Hash, e.ts(f.At)); err != nil {
		return erasure.Receipt{}, err
	}
	if _, err := tx.ExecContext(ctx, e.q("UPDATE gdpr_erasure_heads SET seq = ?, hash = ? WHERE account_id = ?"), r.Seq, r.Hash, string(a)); err != nil {
		return erasure.Receipt{}, err
	}
	return r, nil
}

func (e erasureSQL) PutRestrictions(ctx context.Context, a gdprkit.AccountID, marks []erasure.Restriction) error {
	if err := ctx.Err(); err != nil {
		return mapErr(err, "put restrictions")
	}
	if err := checkAccount(a); err != nil {
		return err
	}
	for _, x := range marks {
		if x.RequestID == "" || x.SubjectPS == "" || (x.Kind == "") != (x.RecordPS == "") {
			return fmt.Errorf("sqlstore: a restriction mark needs a request, a subject, and a kind with a record or neither: %w", gdprkit.ErrInvalid)
		}
	}
	if len(marks) == 0 {
		return nil
	}
	return e.tx(ctx, "put restrictions", func(tx *sql.Tx) error {
		for start := 0; start < len(marks); start += restrictionChunk {
			chunk := marks[start:min(start+restrictionChunk, len(marks))]
			args := make([]any, 0, 9*len(chunk))
			for _, x := range chunk {
				args = append(args, string(a), x.RequestID, string(x.RecordPS), x.Kind, string(x.SubjectPS), e.ts(x.At), e.nts(x.LiftedAt),
					string(x.LiftedBy), x.LiftReason)
			}
			ins := e.d.insertIgnore("gdpr_erasure_restrictions",
				"(account_id, request_id, record_ps, kind, subject_ps, restricted_at, lifted_at, lifted_by, lift_reason)",
				valueRows(len(chunk), 9), "(account_id, request_id, record_ps)")
			if _, err := tx.ExecContext(ctx, e.q(ins), args...); err != nil {
				return err
			}
		}
		return nil
	})
}

func (e erasureSQL) RestrictedRecords(ctx context.Context, a gdprkit.AccountID, records []gdprkit.Pseudonym) ([]gdprkit.Pseudonym, error) {
	if err := ctx.Err(); err != nil {
		return nil, mapErr(err, "restricted records")
	}
	var ps []any
	for _, r := range records {
		if r != "" {
			ps = append(ps, string(r))
		}
	}
	var out []gdprkit.Pseudonym
	for start := 0; start < len(ps); start += restrictionChunk {
		chunk := ps[start:min(start+restrictionChunk, len(ps))]
		rows, err := e.db.QueryContext(ctx, e.q("SELECT DISTINCT record_ps FROM gdpr_erasure_restrictions WHERE account_id = ? AND record_ps IN "+
			placeholders(len(chunk))+" AND lifted_at IS NULL"), append([]any{string(a)}, chunk...)...)
		if err != nil {
			return nil, mapErr(err, "restricted records")
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return nil, mapErr(err, "restricted records")
			}
			out = append(out, gdprkit.Pseudonym(s))
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, mapErr(err, "restricted records")
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

func (e erasureSQL) SubjectRestrictions(ctx context.Context, a gdprkit.AccountID, ps gdprkit.Pseudonym) ([]erasure.Restriction, error) {
	rows, err := e.db.QueryContext(ctx, e.q("SELECT request_id, kind, record_ps, subject_ps, restricted_at, lifted_at, lifted_by, lift_reason FROM gdpr_erasure_restrictions WHERE account_id = ? AND subject_ps = ? AND record_ps = '' ORDER BY restricted_at, request_id"),
		string(a), string(ps))
	if err != nil {
		return nil, mapErr(err, "subject restrictions")
	}
	defer rows.Close()
	var out []erasure.Restriction
	for rows.Next() {
		var x erasure.Restriction
		var rps, sps, by string
		if err := rows.Scan(&x.RequestID, &x.Kind, &rps, &sps, tscan(&x.At), tscan(&x.LiftedAt), &by, &x.LiftReason); err != nil {
			return nil, mapErr(err, "subject restrictions")
		}
		x.RecordPS, x.SubjectPS, x.LiftedBy = gdprkit.Pseudonym(rps), gdprkit.Pseudonym(sps), gdprkit.ActorID(by)
		out = append(out, x)
	}
	return out, mapErr(rows.Err(), "subject restrictions")
}

func (e erasureSQL) LiftRestrictions(ctx context.Context, a gdprkit.AccountID, requestID string, l erasure.Lift) (int, error) {
	var n int64
	err := e.tx(ctx, "lift restrictions", func(tx *sql.Tx) error {
		var total int
		if err := tx.QueryRowContext(ctx, e.q("SELECT COUNT(*) FROM gdpr_erasure_restrictions WHERE account_id = ? AND request_id = ?"), string(a), requestID).Scan(&total); err != nil {
			return err
		}
		if total == 0 {
			return fmt.Errorf("restriction %q: %w", requestID, gdprkit.ErrNotFound)
		}
		res, err := tx.ExecContext(ctx, e.q("UPDATE gdpr_erasure_restrictions SET lifted_at = ?, lifted_by = ?, lift_reason = ? WHERE account_id = ? AND request_id = ? AND lifted_at IS NULL"),
			e.ts(l.At), string(l.By), l.Reason, string(a), requestID)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("restriction %q was already lifted: %w", requestID, gdprkit.ErrConflict)
		}
		return nil
	})
	return int(n), err
}

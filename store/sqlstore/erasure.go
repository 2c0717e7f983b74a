package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/sqldb"
)

// Erasure returns the store of the erasure package.
func (s *Store) Erasure() erasure.Store { return erasureSQL{s} }

type erasureSQL struct{ *Store }

const erReqCols = "id, type, subject, subject_ps, subject_role, scope, requested_by, received_at, verified, verified_at, due_at, extended, extension_reason, status, closed_at, job_id, " +
	"channel, channel_note, identity_method, identity_note, identity_by"

func scanErReq(sc interface{ Scan(...any) error }) (erasure.Request, error) {
	var r erasure.Request
	var subject sql.NullString
	var typ, ps, scope, by, status, channel, method, checker string
	var role int
	err := sc.Scan(&r.ID, &typ, &subject, &ps, &role, &scope, &by, tscan(&r.ReceivedAt), &r.Verified, tscan(&r.VerifiedAt),
		tscan(&r.DueAt), &r.Extended, &r.ExtensionReason, &status, tscan(&r.ClosedAt), &r.JobID,
		&channel, &r.ChannelNote, &method, &r.Identity.Note, &checker)
	r.Channel, r.Identity.Method, r.Identity.By = erasure.Channel(channel), erasure.IdentityMethod(method), gdprkit.ActorID(checker)
	r.Type, r.Subject, r.SubjectPS, r.SubjectRole = erasure.RequestType(typ), gdprkit.SubjectID(subject.String), gdprkit.Pseudonym(ps), gdprkit.Role(role)
	r.Scope, r.RequestedBy, r.Status = erasure.Scope(scope), gdprkit.ActorID(by), erasure.RequestStatus(status)
	return r, err
}

const erJobCols = "account_id, id, request_id, status, attempts, next_run_at, lease_owner, lease_token, lease_until, state, last_error, created_at, updated_at"

func scanErJob(sc interface{ Scan(...any) error }) (erasure.Job, error) {
	var j erasure.Job
	var acct, status, state string
	err := sc.Scan(&acct, &j.ID, &j.RequestID, &status, &j.Attempts, tscan(&j.NextRunAt), &j.LeaseOwner, &j.LeaseToken,
		tscan(&j.LeaseUntil), &state, &j.LastError, tscan(&j.CreatedAt), tscan(&j.UpdatedAt))
	j.Account, j.Status, j.State = gdprkit.AccountID(acct), erasure.JobStatus(status), []byte(state)
	return j, err
}

func (e erasureSQL) CreateRequest(ctx context.Context, a gdprkit.AccountID, r erasure.Request, job *erasure.Job) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	return e.tx(ctx, "create erasure request", func(tx *sql.Tx) error { return e.insertRequest(ctx, tx, a, r, job) })
}

// insertRequest inserts a request and, when job is not nil, its job.
func (e erasureSQL) insertRequest(ctx context.Context, tx *sql.Tx, a gdprkit.AccountID, r erasure.Request, job *erasure.Job) error {
	if _, err := tx.ExecContext(ctx, e.q("INSERT INTO gdpr_erasure_requests (account_id, "+erReqCols+") VALUES "+placeholders(22)),
		string(a), r.ID, string(r.Type), nullStr(string(r.Subject)), string(r.SubjectPS), int(r.SubjectRole), string(r.Scope), string(r.RequestedBy),
		e.ts(r.ReceivedAt), r.Verified, e.nts(r.VerifiedAt), e.ts(r.DueAt), r.Extended, r.ExtensionReason, string(r.Status), e.nts(r.ClosedAt), r.JobID,
		string(r.Channel), r.ChannelNote, string(r.Identity.Method), r.Identity.Note, string(r.Identity.By)); err != nil {
		return err
	}
	if job == nil {
		return nil
	}
	_, err := tx.ExecContext(ctx, e.q("INSERT INTO gdpr_erasure_jobs ("+erJobCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
		string(a), job.ID, job.RequestID, string(job.Status), job.Attempts, e.ts(job.NextRunAt), job.LeaseOwner, job.LeaseToken,
		e.nts(job.LeaseUntil), string(job.State), job.LastError, e.ts(job.CreatedAt), e.ts(job.UpdatedAt))
	return err
}

func (e erasureSQL) Request(ctx context.Context, a gdprkit.AccountID, id string) (erasure.Request, error) {
	r, err := scanErReq(e.db.QueryRowContext(ctx, e.q("SELECT "+erReqCols+" FROM gdpr_erasure_requests WHERE account_id = ? AND id = ?"), string(a), id))
	return r, mapErr(err, fmt.Sprintf("erasure request %q", id))
}

func (e erasureSQL) Requests(ctx context.Context, a gdprkit.AccountID, f erasure.RequestFilter) ([]erasure.Request, error) {
	q := "SELECT " + erReqCols + " FROM gdpr_erasure_requests WHERE account_id = ?"
	args := []any{string(a)}
	if f.OpenOnly {
		q += " AND status = ?"
		args = append(args, string(erasure.StatusOpen))
	}
	if !f.DueBefore.IsZero() {
		q += " AND due_at < ?"
		args = append(args, e.ts(f.DueBefore))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	q += " ORDER BY due_at, id LIMIT ?"
	args = append(args, limit)
	rows, err := e.db.QueryContext(ctx, e.q(q), args...)
	if err != nil {
		return nil, mapErr(err, "erasure requests")
	}
	defer rows.Close()
	var out []erasure.Request
	for rows.Next() {
		r, err := scanErReq(rows)
		if err != nil {
			return nil, mapErr(err, "erasure requests")
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err(), "erasure requests")
}

// openRequest locks and returns an open request inside tx.
func (e erasureSQL) openRequest(ctx context.Context, tx *sql.Tx, a gdprkit.AccountID, id string) (erasure.Request, error) {
	r, err := scanErReq(tx.QueryRowContext(ctx, e.q("SELECT "+erReqCols+" FROM gdpr_erasure_requests WHERE account_id = ? AND id = ?"+e.d.forUpdate()), string(a), id))
	if err != nil {
		return r, mapErr(err, fmt.Sprintf("erasure request %q", id))
	}
	if r.Status != erasure.StatusOpen {
		return r, fmt.Errorf("erasure request %q is %s: %w", id, r.Status, gdprkit.ErrConflict)
	}
	return r, nil
}

func (e erasureSQL) VerifyRequest(ctx context.Context, a gdprkit.AccountID, id string, at time.Time, ev erasure.Evidence) error {
	return e.tx(ctx, "verify erasure request", func(tx *sql.Tx) error {
		r, err := e.openRequest(ctx, tx, a, id)
		if err != nil || r.Verified {
			return err
		}
		if _, err := tx.ExecContext(ctx, e.q("UPDATE gdpr_erasure_requests SET verified = ?, verified_at = ?, identity_method = ?, identity_note = ?, identity_by = ? WHERE account_id = ? AND id = ?"),
			true, e.ts(at), string(ev.Method), ev.Note, string(ev.By), string(a), id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, e.q("UPDATE gdpr_erasure_jobs SET status = ?, next_run_at = ?, updated_at = ? WHERE account_id = ? AND id = ? AND status = ?"),
			string(erasure.JobQueued), e.ts(at), e.ts(at), string(a), r.JobID, string(erasure.JobWaiting))
		return err
	})
}

func (e erasureSQL) ExtendRequest(ctx context.Context, a gdprkit.AccountID, id string, due time.Time, reason string) error {
	return e.tx(ctx, "extend erasure request", func(tx *sql.Tx) error {
		r, err := e.openRequest(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if r.Extended {
			return fmt.Errorf("erasure request %q was already extended: %w", id, gdprkit.ErrConflict)
		}
		_, err = tx.ExecContext(ctx, e.q("UPDATE gdpr_erasure_requests SET due_at = ?, extended = ?, extension_reason = ? WHERE account_id = ? AND id = ?"),
			e.ts(due), true, reason, string(a), id)
		return err
	})
}

var erUnfinished = []any{string(erasure.JobWaiting), string(erasure.JobQueued), string(erasure.JobRunning)}

func (e erasureSQL) CloseRequest(ctx context.Context, a gdprkit.AccountID, id string, status erasure.RequestStatus, at time.Time) error {
	return e.tx(ctx, "close erasure request", func(tx *sql.Tx) error {
		r, err := e.openRequest(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, e.q("UPDATE gdpr_erasure_requests SET status = ?, closed_at = ?, subject = NULL WHERE account_id = ? AND id = ?"),
			string(status), e.ts(at), string(a), id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, e.q("UPDATE gdpr_erasure_jobs SET status = ?, lease_owner = '', lease_token = '', updated_at = ? WHERE account_id = ? AND id = ? AND status IN (?, ?, ?)"),
			append([]any{string(erasure.JobCancelled), e.ts(at), string(a), r.JobID}, erUnfinished...)...)
		return err
	})
}

func (e erasureSQL) ClaimJob(ctx context.Context, now time.Time, owner, token string, until time.Time) (erasure.Job, error) {
	var job erasure.Job
	err := e.tx(ctx, "claim erasure job", func(tx *sql.Tx) error {
		// Two index range scans (queued by next_run_at, running by
		// lease_until), each taking the first row no other worker holds.
		pick := func(q string, args ...any) (string, string, time.Time, error) {
			var acct, id string
			var at time.Time
			err := tx.QueryRowContext(ctx, e.q(q+e.d.skipLocked()), args...).Scan(&acct, &id, tscan(&at))
			return acct, id, at, err
		}
		a1, id1, t1, err1 := pick("SELECT account_id, id, next_run_at FROM gdpr_erasure_jobs WHERE status = ? AND next_run_at <= ? ORDER BY next_run_at, id LIMIT 1",
			string(erasure.JobQueued), e.ts(now))
		if err1 != nil && !errors.Is(err1, sql.ErrNoRows) {
			return err1
		}
		a2, id2, t2, err2 := pick("SELECT account_id, id, lease_until FROM gdpr_erasure_jobs WHERE status = ? AND lease_until <= ? ORDER BY lease_until, id LIMIT 1",
			string(erasure.JobRunning), e.ts(now))
		if err2 != nil && !errors.Is(err2, sql.ErrNoRows) {
			return err2
		}
		acct, id := a1, id1
		switch {
		case err1 != nil && err2 != nil:
			return fmt.Errorf("no erasure job due: %w", gdprkit.ErrNotFound)
		case err1 != nil || (err2 == nil && t2.Before(t1)):
			acct, id = a2, id2
		}
		if _, err := tx.ExecContext(ctx, e.q("UPDATE gdpr_erasure_jobs SET status = ?, lease_owner = ?, lease_token = ?, lease_until = ?, updated_at = ? WHERE account_id = ? AND id = ?"),
			string(erasure.JobRunning), owner, token, e.ts(until), e.ts(now), acct, id); err != nil {
			return err
		}
		j, err := scanErJob(tx.QueryRowContext(ctx, e.q("SELECT "+erJobCols+" FROM gdpr_erasure_jobs WHERE account_id = ? AND id = ?"), acct, id))
		job = j
		return err
	})
	return job, err
}

func (e erasureSQL) Job(ctx context.Context, a gdprkit.AccountID, id string) (erasure.Job, error) {
	j, err := scanErJob(e.db.QueryRowContext(ctx, e.q("SELECT "+erJobCols+" FROM gdpr_erasure_jobs WHERE account_id = ? AND id = ?"), string(a), id))
	return j, mapErr(err, fmt.Sprintf("erasure job %q", id))
}

func (e erasureSQL) SaveJob(ctx context.Context, a gdprkit.AccountID, id, token string, state []byte, until time.Time) error {
	if token == "" {
		return fmt.Errorf("erasure job %q: %w", id, gdprkit.ErrLeaseLost)
	}
	res, err := e.db.ExecContext(ctx, e.q("UPDATE gdpr_erasure_jobs SET state = ?, lease_until = ? WHERE account_id = ? AND id = ? AND lease_token = ? AND status = ?"),
		string(state), e.ts(until), string(a), id, token, string(erasure.JobRunning))
	if err != nil {
		return mapErr(err, "save erasure job")
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		if err != nil {
			return mapErr(err, "save erasure job")
		}
		// MySQL counts only changed rows: a save that changes nothing (the
		// same state and lease end, as a clock that did not move gives)
		// still holds the lease if the token matches.
		var one int
		err := e.db.QueryRowContext(ctx, e.q("SELECT 1 FROM gdpr_erasure_jobs WHERE account_id = ? AND id = ? AND lease_token = ? AND status = ?"),
			string(a), id, token, string(erasure.JobRunning)).Scan(&one)
		if n == 0 && e.d.Dialect == sqldb.MySQL && err == nil {
			return nil
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return mapErr(err, "save erasure job")
		}
		return fmt.Errorf("erasure job %q: %w", id, gdprkit.ErrLeaseLost)
	}
	return nil
}

// lockLeased locks a running job held by token inside tx.
func (e erasureSQL) lockLeased(ctx context.Context, tx *sql.Tx, a gdprkit.AccountID, id, token string) (erasure.Job, error) {
	j, err := scanErJob(tx.QueryRowContext(ctx, e.q("SELECT "+erJobCols+" FROM gdpr_erasure_jobs WHERE account_id = ? AND id = ?"+e.d.forUpdate()), string(a), id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (j.Status != erasure.JobRunning || j.LeaseToken != token || token == "")) {
		return j, fmt.Errorf("erasure job %q: %w", id, gdprkit.ErrLeaseLost)
	}
	return j, err
}

func (e erasureSQL) RetryJob(ctx context.Context, a gdprkit.AccountID, id, token string, f erasure.Retry) error {
	return e.tx(ctx, "retry erasure job", func(tx *sql.Tx) error {
		j, err := e.lockLeased(ctx, tx, a, id, token)
		if err != nil {
			return err
		}
		status := erasure.JobQueued
		if f.Failed {
			status = erasure.JobFailed
		}
		if _, err := tx.ExecContext(ctx, e.q("UPDATE gdpr_erasure_jobs SET status = ?, state = ?, attempts = ?, last_error = ?, next_run_at = ?, updated_at = ?, lease_owner = '', lease_token = '', lease_until = NULL WHERE account_id = ? AND id = ?"),
			string(status), string(f.State), f.Attempts, f.LastError, e.ts(f.Next), e.ts(f.At), string(a), id); err != nil {
			return err
		}
		if !f.Failed {
			return nil
		}
		_, err = tx.ExecContext(ctx, e.q("UPDATE gdpr_erasure_requests SET status = ?, closed_at = ? WHERE account_id = ? AND id = ? AND status = ?"),
			string(erasure.StatusFailed), e.ts(f.At), string(a), j.RequestID, string(erasure.StatusOpen))
		return err
	})
}

func (e erasureSQL) RequeueJob(ctx context.Context, a gdprkit.AccountID, id string, at time.Time) error {
	return e.tx(ctx, "requeue erasure job", func(tx *sql.Tx) error {
		var status, request string
		err := tx.QueryRowContext(ctx, e.q("SELECT status, request_id FROM gdpr_erasure_jobs WHERE account_id = ? AND id = ?"+e.d.forUpdate()), string(a), id).Scan(&status, &request)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("erasure job %q: %w", id, gdprkit.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if erasure.JobStatus(status) != erasure.JobFailed {
			return fmt.Errorf("erasure job %q is %s, not failed: %w", id, status, gdprkit.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, e.q("UPDATE gdpr_erasure_jobs SET status = ?, attempts = 0, next_run_at = ?, updated_at = ? WHERE account_id = ? AND id = ?"),
			string(erasure.JobQueued), e.ts(at), e.ts(at), string(a), id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, e.q("UPDATE gdpr_erasure_requests SET status = ?, closed_at = NULL WHERE account_id = ? AND id = ? AND status = ?"),
			string(erasure.StatusOpen), string(a), request, string(erasure.StatusFailed))
		return err
	})
}

func (e erasureSQL) WakeJob(ctx context.Context, a gdprkit.AccountID, id string, at time.Time) error {
	return e.tx(ctx, "wake erasure job", func(tx *sql.Tx) error {
		var status string
		err := tx.QueryRowContext(ctx, e.q("SELECT status FROM gdpr_erasure_jobs WHERE account_id = ? AND id = ?"+e.d.forUpdate()), string(a), id).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("erasure job %q: %w", id, gdprkit.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if erasure.JobStatus(status) != erasure.JobQueued {
			return fmt.Errorf("erasure job %q is %s, not queued: %w", id, status, gdprkit.ErrConflict)
		}
		_, err = tx.ExecContext(ctx, e.q("UPDATE gdpr_erasure_jobs SET next_run_at = ?, updated_at = ? WHERE account_id = ? AND id = ?"), e.ts(at), e.ts(at), string(a), id)
		return err
	})
}

// tombstoneChunk is how many tombstones one INSERT writes (5 parameters
// each, well under every dialect's parameter limit).
const tombstoneChunk = 500

func (e erasureSQL) FinishJob(ctx context.Context, a gdprkit.AccountID, id, token string, f erasure.Finish) (erasure.Receipt, error) {
	var out erasure.Receipt
	err := e.tx(ctx, "finish erasure job", func(tx *sql.Tx) error {
		j, err := e.lockLeased(ctx, tx, a, id, token)
		if err != nil {
			return err
		}
		var head erasure.ChainHead
		lockHead := e.q("SELECT seq, hash FROM gdpr_erasure_heads WHERE account_id = ?" + e.d.forUpdate())
		err = tx.QueryRowContext(ctx, lockHead, string(a)).Scan(&head.Seq, &head.Hash)
		if errors.Is(err, sql.ErrNoRows) {
			if _, err := tx.ExecContext(ctx, e.q(e.d.insertIgnore("gdpr_erasure_heads", "(account_id, seq, hash)", "(?, 0, '')", "(account_id)")), string(a)); err != nil {
				return err
			}
			err = tx.QueryRowContext(ctx, lockHead, string(a)).Scan(&head.Seq, &head.Hash)
		}
		if err != nil {
			return err
		}
		r := f.Receipt
		if err := f.Seal(head, &r); err != nil {
			return err
		}
		if r.Seq != head.Seq+1 {
			return fmt.Errorf("seal returned seq %d after head %d: %w", r.Seq, head.Seq, gdprkit.ErrConflict)
		}
		body, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, e.q("INSERT INTO gdpr_erasure_receipts (account_id, seq, id, request_id, subject_ps, body, prev_hash, hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
			string(a), r.Seq, r.ID, r.RequestID, string(r.SubjectPS), string(body), r.PrevHash, r.Hash, e.ts(f.At)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, e.q("UPDATE gdpr_erasure_heads SET seq = ?, hash = ? WHERE account_id = ?"), r.Seq, r.Hash, string(a)); err != nil {
			return err
		}
		// Tombstones go in multi-row statements, not one round trip each.
		for start := 0; start < len(f.Tombstones); start += tombstoneChunk {
			chunk := f.Tombstones[start:min(start+tombstoneChunk, len(f.Tombstones))]
			args := make([]any, 0, 5*len(chunk))
			for _, t := range chunk {
				args = append(args, string(a), t.Kind, string(t.Pseudonym), e.ts(t.ErasedAt), t.RequestID)
			}
			ins := e.d.insertIgnore("gdpr_erasure_tombstones", "(account_id, kind, pseudonym, erased_at, request_id)", valueRows(len(chunk), 5), "(account_id, kind, pseudonym)")
			if _, err := tx.ExecContext(ctx, e.q(ins), args...); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, e.q("UPDATE gdpr_erasure_requests SET status = ?, closed_at = ?, subject = NULL WHERE account_id = ? AND id = ?"),
			string(erasure.StatusCompleted), e.ts(f.At), string(a), j.RequestID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, e.q("UPDATE gdpr_erasure_jobs SET status = ?, state = ?, updated_at = ?, lease_owner = '', lease_token = '', lease_until = NULL WHERE account_id = ? AND id = ?"),
			string(erasure.JobDone), string(f.State), e.ts(f.At), string(a), id); err != nil {
			return err
		}
		if f.FollowUp != nil {
			if err := e.insertRequest(ctx, tx, a, *f.FollowUp, f.FollowUpJob); err != nil {
				return err
			}
		}
		out = r
		return nil
	})
	return out, err
}

func (e erasureSQL) ReceiptHead(ctx context.Context, a gdprkit.AccountID) (erasure.ChainHead, error) {
	var h erasure.ChainHead
	err := e.db.QueryRowContext(ctx, e.q("SELECT seq, hash FROM gdpr_erasure_heads WHERE account_id = ?"), string(a)).Scan(&h.Seq, &h.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return erasure.ChainHead{}, nil
	}
	return h, mapErr(err, "erasure receipt head")
}

func (e erasureSQL) receipts(ctx context.Context, q string, args ...any) ([]erasure.Receipt, error) {
	rows, err := e.db.QueryContext(ctx, e.q(q), args...)
	if err != nil {
		return nil, mapErr(err, "erasure receipts")
	}
	defer rows.Close()
	var out []erasure.Receipt
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, mapErr(err, "erasure receipts")
		}
		var r erasure.Receipt
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			return nil, fmt.Errorf("sqlstore: erasure receipt: %w", err)
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err(), "erasure receipts")
}

func (e erasureSQL) Receipts(ctx context.Context, a gdprkit.AccountID, afterSeq int64, limit int) ([]erasure.Receipt, error) {
	if limit <= 0 {
		return nil, nil
	}
	return e.receipts(ctx, "SELECT body FROM gdpr_erasure_receipts WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?", string(a), afterSeq, limit)
}

func (e erasureSQL) ReceiptFor(ctx context.Context, a gdprkit.AccountID, requestID string) (erasure.Receipt, error) {
	rs, err := e.receipts(ctx, "SELECT body FROM gdpr_erasure_receipts WHERE account_id = ? AND request_id = ?", string(a), requestID)
	if err != nil {
		return erasure.Receipt{}, err
	}
	if len(rs) == 0 {
		return erasure.Receipt{}, fmt.Errorf("receipt of %q: %w", requestID, gdprkit.ErrNotFound)
	}
	return rs[0], nil
}

func (e erasureSQL) Tombstones(ctx context.Context, a gdprkit.AccountID, since time.Time) ([]erasure.Tombstone, error) {
	rows, err := e.db.QueryContext(ctx, e.q("SELECT kind, pseudonym, erased_at, request_id FROM gdpr_erasure_tombstones WHERE account_id = ? AND erased_at >= ? ORDER BY erased_at, kind, pseudonym"),
		string(a), e.ts(since))
	if err != nil {
		return nil, mapErr(err, "tombstones")
	}
	defer rows.Close()
	var out []erasure.Tombstone
	for rows.Next() {
		var t erasure.Tombstone
		var ps string
		if err := rows.Scan(&t.Kind, &ps, tscan(&t.ErasedAt), &t.RequestID); err != nil {
			return nil, mapErr(err, "tombstones")
		}
		t.Pseudonym = gdprkit.Pseudonym(ps)
		out = append(out, t)
	}
	return out, mapErr(rows.Err(), "tombstones")
}

func (e erasureSQL) PutHold(ctx context.Context, a gdprkit.AccountID, h erasure.Hold) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	_, err := e.db.ExecContext(ctx, e.q("INSERT INTO gdpr_erasure_holds (account_id, id, subject_ps, kind, record_id, ground, reason, created_by, created_at, expires_at, released_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
		string(a), h.ID, string(h.SubjectPS), string(h.Kind), h.RecordID, h.Ground, h.Reason, string(h.CreatedBy), e.ts(h.CreatedAt), e.nts(h.ExpiresAt), e.nts(h.ReleasedAt))
	return mapErr(err, "put hold")
}

func (e erasureSQL) ReleaseHold(ctx context.Context, a gdprkit.AccountID, id string, at time.Time) error {
	return e.tx(ctx, "release hold", func(tx *sql.Tx) error {
		var rel time.Time
		err := tx.QueryRowContext(ctx, e.q("SELECT released_at FROM gdpr_erasure_holds WHERE account_id = ? AND id = ?"+e.d.forUpdate()), string(a), id).Scan(tscan(&rel))
		if err != nil {
			return mapErr(err, fmt.Sprintf("hold %q", id))
		}
		if !rel.IsZero() {
			return fmt.Errorf("hold %q already released: %w", id, gdprkit.ErrConflict)
		}
		_, err = tx.ExecContext(ctx, e.q("UPDATE gdpr_erasure_holds SET released_at = ? WHERE account_id = ? AND id = ?"), e.ts(at), string(a), id)
		return err
	})
}

func (e erasureSQL) Holds(ctx context.Context, a gdprkit.AccountID) ([]erasure.Hold, error) {
	rows, err := e.db.QueryContext(ctx, e.q("SELECT id, subject_ps, kind, record_id, ground, reason, created_by, created_at, expires_at, released_at FROM gdpr_erasure_holds WHERE account_id = ? AND released_at IS NULL ORDER BY created_at, id"), string(a))
	if err != nil {
		return nil, mapErr(err, "holds")
	}
	defer rows.Close()
	var out []erasure.Hold
	for rows.Next() {
		var h erasure.Hold
		var ps, kind, by string
		if err := rows.Scan(&h.ID, &ps, &kind, &h.RecordID, &h.Ground, &h.Reason, &by, tscan(&h.CreatedAt), tscan(&h.ExpiresAt), tscan(&h.ReleasedAt)); err != nil {
			return nil, mapErr(err, "holds")
		}
		h.SubjectPS, h.Kind, h.CreatedBy = gdprkit.Pseudonym(ps), erasure.Kind(kind), gdprkit.ActorID(by)
		out = append(out, h)
	}
	return out, mapErr(rows.Err(), "holds")
}

func (e erasureSQL) ScrubAccount(ctx context.Context, a gdprkit.AccountID, at time.Time) (int, error) {
	var n int64
	err := e.tx(ctx, "scrub erasure requests", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, e.q("UPDATE gdpr_erasure_requests SET status = ?, closed_at = ?, subject = NULL WHERE account_id = ? AND status = ?"),
			string(erasure.StatusCancelled), e.ts(at), string(a), string(erasure.StatusOpen))
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		res, err = tx.ExecContext(ctx, e.q("UPDATE gdpr_erasure_requests SET subject = NULL WHERE account_id = ? AND subject IS NOT NULL"), string(a))
		if err != nil {
			return err
		}
		m, _ := res.RowsAffected()
		n += m
		if _, err = tx.ExecContext(ctx, e.q("UPDATE gdpr_erasure_jobs SET status = ?, lease_owner = '', lease_token = '', updated_at = ? WHERE account_id = ? AND status IN (?, ?, ?)"),
			append([]any{string(erasure.JobCancelled), e.ts(at), string(a)}, erUnfinished...)...); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, e.q("DELETE FROM gdpr_erasure_restrictions WHERE account_id = ?"), string(a))
		return err
	})
	return int(n), err
}

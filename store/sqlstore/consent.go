package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
)

// Consent returns the consent store.
func (s *Store) Consent() consent.Store { return consentSQL{s} }

type consentSQL struct{ *Store }

const purposeCols = "purpose, name, label, description, lifetime_seconds, current_version, material_version, created_at"

func scanPurpose(sc interface{ Scan(...any) error }, p *consent.Purpose) error {
	var secs int64
	if err := sc.Scan(&p.Key, &p.Name, &p.Label, &p.Description, &secs, &p.CurrentVersion, &p.MaterialVersion, tscan(&p.CreatedAt)); err != nil {
		return err
	}
	p.Lifetime = time.Duration(secs) * time.Second
	return nil
}

func (c consentSQL) CreatePurpose(ctx context.Context, a gdprkit.AccountID, p consent.Purpose) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	_, err := c.db.ExecContext(ctx, c.q("INSERT INTO gdpr_consent_purposes (account_id, "+purposeCols+") VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?)"),
		string(a), p.Key, p.Name, p.Label, p.Description, int64(p.Lifetime/time.Second), c.ts(p.CreatedAt))
	return mapErr(err, "create purpose")
}

func (c consentSQL) Purpose(ctx context.Context, a gdprkit.AccountID, key string) (consent.Purpose, error) {
	var p consent.Purpose
	err := scanPurpose(c.db.QueryRowContext(ctx, c.q("SELECT "+purposeCols+" FROM gdpr_consent_purposes WHERE account_id = ? AND purpose = ?"), string(a), key), &p)
	return p, mapErr(err, fmt.Sprintf("purpose %q", key))
}

func (c consentSQL) Purposes(ctx context.Context, a gdprkit.AccountID) ([]consent.Purpose, error) {
	rows, err := c.db.QueryContext(ctx, c.q("SELECT "+purposeCols+" FROM gdpr_consent_purposes WHERE account_id = ? ORDER BY purpose"), string(a))
	if err != nil {
		return nil, mapErr(err, "purposes")
	}
	defer rows.Close()
	var out []consent.Purpose
	for rows.Next() {
		var p consent.Purpose
		if err := scanPurpose(rows, &p); err != nil {
			return nil, mapErr(err, "purposes")
		}
		out = append(out, p)
	}
	return out, mapErr(rows.Err(), "purposes")
}

func (c consentSQL) PublishPolicy(ctx context.Context, a gdprkit.AccountID, p consent.Policy) (consent.Policy, error) {
	err := c.tx(ctx, "publish policy", func(tx *sql.Tx) error {
		var cur, mat int
		if err := tx.QueryRowContext(ctx, c.q("SELECT current_version, material_version FROM gdpr_consent_purposes WHERE account_id = ? AND purpose = ?"+c.d.forUpdate()),
			string(a), p.Purpose).Scan(&cur, &mat); err != nil {
			return mapErr(err, fmt.Sprintf("purpose %q", p.Purpose))
		}
		p.Version = cur + 1
		if p.Material {
			mat = p.Version
		}
		if _, err := tx.ExecContext(ctx, c.q("INSERT INTO gdpr_consent_policies (account_id, purpose, version, body, text_hash, material, published_at, published_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
			string(a), p.Purpose, p.Version, p.Text, p.TextHash, p.Material, c.ts(p.PublishedAt), string(p.PublishedBy)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, c.q("UPDATE gdpr_consent_purposes SET current_version = ?, material_version = ? WHERE account_id = ? AND purpose = ?"),
			p.Version, mat, string(a), p.Purpose)
		return err
	})
	if err != nil {
		return consent.Policy{}, err
	}
	return p, nil
}

func (c consentSQL) Policy(ctx context.Context, a gdprkit.AccountID, purpose string, version int) (consent.Policy, error) {
	p := consent.Policy{Purpose: purpose, Version: version}
	var by string
	err := c.db.QueryRowContext(ctx, c.q("SELECT body, text_hash, material, published_at, published_by FROM gdpr_consent_policies WHERE account_id = ? AND purpose = ? AND version = ?"),
		string(a), purpose, version).Scan(&p.Text, &p.TextHash, &p.Material, tscan(&p.PublishedAt), &by)
	p.PublishedBy = gdprkit.ActorID(by)
	return p, mapErr(err, fmt.Sprintf("policy %q version %d", purpose, version))
}

// recordCols are the columns of a record, in the order scanRecord and
// recordArgs use.
const recordCols = "seq, id, version, subject, subject_ps, purpose, policy_version, policy_hash, action, source, ip, user_agent, wording, recorded_by, at, " +
	"salt_subject, salt_recorded_by, salt_ip, salt_user_agent, salt_wording, " +
	"commit_subject, commit_recorded_by, commit_ip, commit_user_agent, commit_wording, " +
	"salt, subject_commit, evidence_commit, prior_hash, prev_hash, hash, pseudonymized"

const recordColCount = 32

// recordScan holds nullable destinations for every record column, so a
// record can be scanned from a LEFT JOIN that found none.
type recordScan struct {
	seq, version, policyVersion                                    sql.NullInt64
	id, subject, ps, purpose, policyHash, action, source, ip, ua   sql.NullString
	wording, by                                                    sql.NullString
	at                                                             time.Time
	salts, commits                                                 [5]sql.NullString
	salt, subjectCommit, evidenceCommit, priorHash, prevHash, hash sql.NullString
	pseudonymized                                                  sql.NullBool
}

func (x *recordScan) dest() []any {
	return []any{&x.seq, &x.id, &x.version, &x.subject, &x.ps, &x.purpose, &x.policyVersion, &x.policyHash, &x.action, &x.source,
		&x.ip, &x.ua, &x.wording, &x.by, tscan(&x.at),
		&x.salts[0], &x.salts[1], &x.salts[2], &x.salts[3], &x.salts[4],
		&x.commits[0], &x.commits[1], &x.commits[2], &x.commits[3], &x.commits[4],
		&x.salt, &x.subjectCommit, &x.evidenceCommit, &x.priorHash, &x.prevHash, &x.hash, &x.pseudonymized}
}

func fields(v [5]sql.NullString) consent.Fields {
	return consent.Fields{Subject: v[0].String, RecordedBy: v[1].String, IP: v[2].String, UserAgent: v[3].String, Wording: v[4].String}
}

func (x *recordScan) record() consent.Record {
	return consent.Record{
		ID: x.id.String, Seq: x.seq.Int64, Version: int(x.version.Int64),
		Subject: gdprkit.SubjectID(x.subject.String), SubjectPS: gdprkit.Pseudonym(x.ps.String), Purpose: x.purpose.String,
		PolicyVersion: int(x.policyVersion.Int64), PolicyHash: x.policyHash.String,
		Action: consent.Action(x.action.String), Source: consent.Source(x.source.String),
		Evidence:   consent.Evidence{IP: x.ip.String, UserAgent: x.ua.String, Wording: x.wording.String},
		RecordedBy: gdprkit.ActorID(x.by.String), At: x.at,
		Salts: fields(x.salts), Commits: fields(x.commits),
		Salt: x.salt.String, SubjectCommit: x.subjectCommit.String, EvidenceCommit: x.evidenceCommit.String,
		PriorHash: x.priorHash.String, PrevHash: x.prevHash.String, Hash: x.hash.String, Pseudonymized: x.pseudonymized.Bool,
	}
}

func scanRecord(sc interface{ Scan(...any) error }) (consent.Record, error) {
	var x recordScan
	err := sc.Scan(x.dest()...)
	return x.record(), err
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// recordArgs appends the account and r's columns, in recordCols order.
func (c consentSQL) recordArgs(args []any, a gdprkit.AccountID, r *consent.Record) []any {
	return append(args, string(a), r.Seq, r.ID, r.Version, nullStr(string(r.Subject)), string(r.SubjectPS), r.Purpose, r.PolicyVersion,
		r.PolicyHash, string(r.Action), string(r.Source), nullStr(r.Evidence.IP), nullStr(r.Evidence.UserAgent), r.Evidence.Wording,
		string(r.RecordedBy), c.ts(r.At),
		nullStr(r.Salts.Subject), nullStr(r.Salts.RecordedBy), nullStr(r.Salts.IP), nullStr(r.Salts.UserAgent), nullStr(r.Salts.Wording),
		r.Commits.Subject, r.Commits.RecordedBy, r.Commits.IP, r.Commits.UserAgent, r.Commits.Wording,
		nullStr(r.Salt), r.SubjectCommit, r.EvidenceCommit, r.PriorHash, r.PrevHash, r.Hash, r.Pseudonymized)
}

// recordsPerInsert is the most records one INSERT stores.
const recordsPerInsert = 100

// insertRecordsSQL is the INSERT of n records, with placeholders for
// recordArgs.
func insertRecordsSQL(n int) string {
	return "INSERT INTO gdpr_consent_records (account_id, " + recordCols + ") VALUES " + valueRows(n, recordColCount+1)
}

// insertRecords stores rs with multi-row INSERTs of at most
// recordsPerInsert rows.
func (c consentSQL) insertRecords(ctx context.Context, tx *sql.Tx, a gdprkit.AccountID, rs []consent.Record) error {
	for len(rs) > 0 {
		n := min(recordsPerInsert, len(rs))
		args := make([]any, 0, n*(recordColCount+1))
		for i := range rs[:n] {
			args = c.recordArgs(args, a, &rs[i])
		}
		if _, err := tx.ExecContext(ctx, c.q(insertRecordsSQL(n)), args...); err != nil {
			return err
		}
		rs = rs[n:]
	}
	return nil
}

// lockHead locks the account's chain head row, creating it first only
// when missing, so the common path takes one exclusive lock and nothing
// that could deadlock.
func (c consentSQL) lockHead(ctx context.Context, tx *sql.Tx, a gdprkit.AccountID) (consent.ChainHead, error) {
	var head consent.ChainHead
	lock := c.q("SELECT seq, hash FROM gdpr_consent_heads WHERE account_id = ?" + c.d.forUpdate())
	err := tx.QueryRowContext(ctx, lock, string(a)).Scan(&head.Seq, &head.Hash)
	if err == sql.ErrNoRows {
		if _, err := tx.ExecContext(ctx, c.q(c.d.insertIgnore("gdpr_consent_heads", "(account_id, seq, hash)", "(?, 0, '')", "(account_id)")), string(a)); err != nil {
			return head, err
		}
		err = tx.QueryRowContext(ctx, lock, string(a)).Scan(&head.Seq, &head.Hash)
	}
	return head, err
}

func (c consentSQL) Append(ctx context.Context, a gdprkit.AccountID, drafts []consent.Record, seal func(consent.ChainHead, *consent.Record) error) ([]consent.Record, error) {
	if err := checkAccount(a); err != nil {
		return nil, err
	}
	var out []consent.Record
	err := c.tx(ctx, "append consent", func(tx *sql.Tx) error {
		head, err := c.lockHead(ctx, tx, a)
		if err != nil {
			return err
		}
		out = make([]consent.Record, len(drafts))
		// The latest record per (subject, purpose) of this batch: one
		// state row each, so the upsert never meets its own key twice.
		last := map[consent.StateKey]int{}
		var order []consent.StateKey
		for i := range drafts {
			r := drafts[i]
			if err := seal(head, &r); err != nil {
				return err
			}
			if r.Seq != head.Seq+1 {
				return fmt.Errorf("seal returned seq %d after head %d: %w", r.Seq, head.Seq, gdprkit.ErrConflict)
			}
			out[i] = r
			head = consent.ChainHead{Seq: r.Seq, Hash: r.Hash}
			k := consent.StateKey{SubjectPS: r.SubjectPS, Purpose: r.Purpose}
			if _, ok := last[k]; !ok {
				order = append(order, k)
			}
			last[k] = i
		}
		stateArgs := make([]any, 0, len(order)*7)
		for _, k := range order {
			r := &out[last[k]]
			stateArgs = append(stateArgs, string(a), string(r.SubjectPS), r.Purpose, string(r.Action), r.PolicyVersion, c.ts(r.At), r.Seq)
		}
		upState := ""
		if len(order) > 0 {
			upState = c.d.upsert("gdpr_consent_state", "(account_id, subject_ps, purpose, action, policy_version, at, seq)", valueRows(len(order), 7),
				"(account_id, subject_ps, purpose)", []string{"action", "policy_version", "at", "seq"})
		}
		const upHead = "UPDATE gdpr_consent_heads SET seq = ?, hash = ? WHERE account_id = ?"
		headArgs := []any{head.Seq, head.Hash, string(a)}
		if c.d.Dialect == Postgres && len(out) <= recordsPerInsert && upState != "" {
			// One statement, one round trip: the head stays locked
			// from lockHead until the transaction ends, and every
			// appender of the account waits for it, so each round
			// trip in between (three statements, on a busy machine a
			// few milliseconds each) is paid by all of them in turn.
			args := make([]any, 0, len(out)*(recordColCount+1)+len(stateArgs)+len(headArgs))
			for i := range out {
				args = c.recordArgs(args, a, &out[i])
			}
			args = append(append(args, stateArgs...), headArgs...)
			_, err := tx.ExecContext(ctx, c.q("WITH r AS ("+insertRecordsSQL(len(out))+"), s AS ("+upState+") "+upHead), args...)
			return err
		}
		if err := c.insertRecords(ctx, tx, a, out); err != nil {
			return err
		}
		if upState != "" {
			if _, err := tx.ExecContext(ctx, c.q(upState), stateArgs...); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, c.q(upHead), headArgs...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Lookup reads the purpose, the state entry and the record it points to in
// one statement over three primary keys.
func (c consentSQL) Lookup(ctx context.Context, a gdprkit.AccountID, subject gdprkit.Pseudonym, purpose string) (consent.Lookup, error) {
	var l consent.Lookup
	var secs int64
	var stateSeq sql.NullInt64
	var x recordScan
	dest := append([]any{&l.Purpose.Key, &l.Purpose.Name, &l.Purpose.Label, &l.Purpose.Description, &secs, &l.Purpose.CurrentVersion,
		&l.Purpose.MaterialVersion, tscan(&l.Purpose.CreatedAt), &stateSeq}, x.hashedDest()...)
	err := c.db.QueryRowContext(ctx, c.q(`SELECT p.purpose, p.name, p.label, p.description, p.lifetime_seconds, p.current_version, p.material_version, p.created_at,
	s.seq, `+lookupRecordCols+`
FROM gdpr_consent_purposes p
LEFT JOIN gdpr_consent_state s ON s.account_id = p.account_id AND s.purpose = p.purpose AND s.subject_ps = ?
LEFT JOIN gdpr_consent_records r ON r.account_id = s.account_id AND r.seq = s.seq
WHERE p.account_id = ? AND p.purpose = ?`), string(subject), string(a), purpose).Scan(dest...)
	if err != nil {
		return consent.Lookup{}, mapErr(err, fmt.Sprintf("purpose %q", purpose))
	}
	l.Purpose.Lifetime = time.Duration(secs) * time.Second
	if stateSeq.Valid {
		l.Found, l.Seq = true, stateSeq.Int64
		if x.seq.Valid {
			l.Record = x.record()
		}
	}
	return l, nil
}

// lookupRecordCols are the record columns Lookup reads: those the record's
// hash covers (consent.Lookup allows leaving out the identifying values and
// salts), in hashedDest order. Fewer columns keep the statement, which
// SQLite parses on every call, short.
const lookupRecordCols = "r.seq, r.id, r.version, r.subject_ps, r.purpose, r.policy_version, r.policy_hash, r.action, r.source, r.wording, r.recorded_by, r.at, " +
	"r.commit_subject, r.commit_recorded_by, r.commit_ip, r.commit_user_agent, r.commit_wording, r.subject_commit, r.evidence_commit, r.prior_hash, r.prev_hash, r.hash"

func (x *recordScan) hashedDest() []any {
	return []any{&x.seq, &x.id, &x.version, &x.ps, &x.purpose, &x.policyVersion, &x.policyHash, &x.action, &x.source,
		&x.wording, &x.by, tscan(&x.at),
		&x.commits[0], &x.commits[1], &x.commits[2], &x.commits[3], &x.commits[4],
		&x.subjectCommit, &x.evidenceCommit, &x.priorHash, &x.prevHash, &x.hash}
}

func (c consentSQL) States(ctx context.Context, a gdprkit.AccountID, after consent.StateKey, limit int) ([]consent.State, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := c.db.QueryContext(ctx, c.q(`SELECT subject_ps, purpose, seq, action, policy_version, at FROM gdpr_consent_state
WHERE account_id = ? AND (subject_ps > ? OR (subject_ps = ? AND purpose > ?)) ORDER BY subject_ps, purpose LIMIT ?`),
		string(a), string(after.SubjectPS), string(after.SubjectPS), after.Purpose, limit)
	if err != nil {
		return nil, mapErr(err, "consent state")
	}
	defer rows.Close()
	var out []consent.State
	for rows.Next() {
		var st consent.State
		var ps, action string
		if err := rows.Scan(&ps, &st.Purpose, &st.Seq, &action, &st.PolicyVersion, tscan(&st.At)); err != nil {
			return nil, mapErr(err, "consent state")
		}
		st.SubjectPS, st.Action = gdprkit.Pseudonym(ps), consent.Action(action)
		out = append(out, st)
	}
	return out, mapErr(rows.Err(), "consent state")
}

func (c consentSQL) records(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, what, query string, args ...any) ([]consent.Record, error) {
	rows, err := q.QueryContext(ctx, c.q(query), args...)
	if err != nil {
		return nil, mapErr(err, what)
	}
	defer rows.Close()
	var out []consent.Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, mapErr(err, what)
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err(), what)
}

func (c consentSQL) SubjectRecords(ctx context.Context, a gdprkit.AccountID, subject gdprkit.Pseudonym) ([]consent.Record, error) {
	return c.records(ctx, c.db, "subject records", "SELECT "+recordCols+" FROM gdpr_consent_records WHERE account_id = ? AND subject_ps = ? ORDER BY seq", string(a), string(subject))
}

func idArgs(head []any, ids []string) []any {
	for _, id := range ids {
		head = append(head, id)
	}
	return head
}

func (c consentSQL) RecordsByID(ctx context.Context, a gdprkit.AccountID, subject gdprkit.Pseudonym, ids []string) ([]consent.Record, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return c.records(ctx, c.db, "records by ID", "SELECT "+recordCols+" FROM gdpr_consent_records WHERE account_id = ? AND subject_ps = ? AND id IN "+placeholders(len(ids))+" ORDER BY seq",
		idArgs([]any{string(a), string(subject)}, ids)...)
}

func (c consentSQL) LiveRecordIDs(ctx context.Context, a gdprkit.AccountID, subject gdprkit.Pseudonym, afterID string, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := c.db.QueryContext(ctx, c.q("SELECT id FROM gdpr_consent_records WHERE account_id = ? AND subject_ps = ? AND pseudonymized = ? AND id > ? ORDER BY id LIMIT ?"),
		string(a), string(subject), false, afterID, limit)
	if err != nil {
		return nil, mapErr(err, "live consent records")
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, mapErr(err, "live consent records")
		}
		out = append(out, id)
	}
	return out, mapErr(rows.Err(), "live consent records")
}

func (c consentSQL) Records(ctx context.Context, a gdprkit.AccountID, afterSeq int64, limit int) ([]consent.Record, error) {
	if limit <= 0 {
		return nil, nil
	}
	return c.records(ctx, c.db, "records", "SELECT "+recordCols+" FROM gdpr_consent_records WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?", string(a), afterSeq, limit)
}

func (c consentSQL) Head(ctx context.Context, a gdprkit.AccountID) (consent.ChainHead, error) {
	var h consent.ChainHead
	err := c.db.QueryRowContext(ctx, c.q("SELECT seq, hash FROM gdpr_consent_heads WHERE account_id = ?"), string(a)).Scan(&h.Seq, &h.Hash)
	if err == sql.ErrNoRows {
		return consent.ChainHead{}, nil
	}
	return h, mapErr(err, "consent head")
}

// PseudonymizeRecords is consent.StripIdentifiers in one UPDATE: version-1
// rows keep recorded_by and wording, which their hash holds as they are.
func (c consentSQL) PseudonymizeRecords(ctx context.Context, a gdprkit.AccountID, subject gdprkit.Pseudonym, ids []string) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	res, err := c.db.ExecContext(ctx, c.q(`UPDATE gdpr_consent_records SET subject = NULL, ip = NULL, user_agent = NULL, salt = NULL,
	salt_subject = NULL, salt_recorded_by = NULL, salt_ip = NULL, salt_user_agent = NULL, salt_wording = NULL,
	recorded_by = CASE WHEN version <= 1 THEN recorded_by ELSE '' END,
	wording = CASE WHEN version <= 1 THEN wording ELSE '' END,
	pseudonymized = ?
WHERE account_id = ? AND subject_ps = ? AND pseudonymized = ? AND id IN `+placeholders(len(ids))),
		idArgs([]any{true, string(a), string(subject), false}, ids)...)
	if err != nil {
		return 0, mapErr(err, "pseudonymize consent records")
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err, "pseudonymize consent records")
}

// Rewrite replaces the records from fromSeq on page by page inside one
// transaction that holds the head lock: each page is read, rewritten,
// deleted and inserted again with multi-row statements.
func (c consentSQL) Rewrite(ctx context.Context, a gdprkit.AccountID, fromSeq int64, rewrite func(consent.ChainHead, *consent.Record) error) (int, error) {
	if err := checkAccount(a); err != nil {
		return 0, err
	}
	var n int
	err := c.tx(ctx, "rewrite consent chain", func(tx *sql.Tx) error {
		n = 0
		end, err := c.lockHead(ctx, tx, a)
		if err != nil {
			return err
		}
		if fromSeq < 1 || fromSeq > end.Seq {
			return nil
		}
		var head consent.ChainHead
		if fromSeq > 1 {
			if err := tx.QueryRowContext(ctx, c.q("SELECT seq, hash FROM gdpr_consent_records WHERE account_id = ? AND seq = ?"), string(a), fromSeq-1).
				Scan(&head.Seq, &head.Hash); err != nil {
				return fmt.Errorf("record %d before the rewrite: %w", fromSeq-1, err)
			}
		}
		const page = 200
		for cursor := fromSeq - 1; cursor < end.Seq; {
			rs, err := c.records(ctx, tx, "rewrite consent chain", "SELECT "+recordCols+" FROM gdpr_consent_records WHERE account_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
				string(a), cursor, end.Seq, page)
			if err != nil {
				return err
			}
			if len(rs) == 0 {
				break
			}
			for i := range rs {
				old := rs[i]
				r := &rs[i]
				if err := rewrite(head, r); err != nil {
					return err
				}
				if r.Seq != old.Seq || r.ID != old.ID || r.SubjectPS != old.SubjectPS || r.Purpose != old.Purpose ||
					r.Action != old.Action || r.PolicyVersion != old.PolicyVersion || !r.At.Equal(old.At) {
					return fmt.Errorf("rewrite changed the identity of record %d: %w", old.Seq, gdprkit.ErrConflict)
				}
				head = consent.ChainHead{Seq: r.Seq, Hash: r.Hash}
			}
			if _, err := tx.ExecContext(ctx, c.q("DELETE FROM gdpr_consent_records WHERE account_id = ? AND seq >= ? AND seq <= ?"),
				string(a), rs[0].Seq, rs[len(rs)-1].Seq); err != nil {
				return err
			}
			if err := c.insertRecords(ctx, tx, a, rs); err != nil {
				return err
			}
			n += len(rs)
			cursor = rs[len(rs)-1].Seq
		}
		_, err = tx.ExecContext(ctx, c.q("UPDATE gdpr_consent_heads SET seq = ?, hash = ? WHERE account_id = ?"), head.Seq, head.Hash, string(a))
		return err
	})
	return n, err
}

func (c consentSQL) DeleteAccount(ctx context.Context, a gdprkit.AccountID) (int, error) {
	var n int64
	err := c.tx(ctx, "delete consent account", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, c.q("DELETE FROM gdpr_consent_records WHERE account_id = ?"), string(a))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		for _, t := range []string{"gdpr_consent_state", "gdpr_consent_heads", "gdpr_consent_policies", "gdpr_consent_purposes"} {
			if _, err := tx.ExecContext(ctx, c.q("DELETE FROM "+t+" WHERE account_id = ?"), string(a)); err != nil {
				return err
			}
		}
		return nil
	})
	return int(n), err
}

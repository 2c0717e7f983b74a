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

const recordCols = "seq, id, subject, subject_ps, purpose, policy_version, policy_hash, action, source, ip, user_agent, wording, recorded_by, at, salt, subject_commit, evidence_commit, prev_hash, hash, pseudonymized"

func scanRecord(sc interface{ Scan(...any) error }) (consent.Record, error) {
	var r consent.Record
	var subject, ip, ua, salt sql.NullString
	var ps, action, source, by string
	err := sc.Scan(&r.Seq, &r.ID, &subject, &ps, &r.Purpose, &r.PolicyVersion, &r.PolicyHash, &action, &source,
		&ip, &ua, &r.Evidence.Wording, &by, tscan(&r.At), &salt, &r.SubjectCommit, &r.EvidenceCommit, &r.PrevHash, &r.Hash, &r.Pseudonymized)
	r.Subject, r.SubjectPS, r.Action, r.Source, r.RecordedBy = gdprkit.SubjectID(subject.String), gdprkit.Pseudonym(ps), consent.Action(action), consent.Source(source), gdprkit.ActorID(by)
	r.Evidence.IP, r.Evidence.UserAgent, r.Salt = ip.String, ua.String, salt.String
	return r, err
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (c consentSQL) Append(ctx context.Context, a gdprkit.AccountID, drafts []consent.Record, seal func(consent.ChainHead, *consent.Record) error) ([]consent.Record, error) {
	if err := checkAccount(a); err != nil {
		return nil, err
	}
	out := make([]consent.Record, len(drafts))
	err := c.tx(ctx, "append consent", func(tx *sql.Tx) error {
		// Lock the head row; create it first only when missing, so the common
		// path takes one exclusive lock and nothing that could deadlock.
		var head consent.ChainHead
		lockHead := c.q("SELECT seq, hash FROM gdpr_consent_heads WHERE account_id = ?" + c.d.forUpdate())
		err := tx.QueryRowContext(ctx, lockHead, string(a)).Scan(&head.Seq, &head.Hash)
		if err == sql.ErrNoRows {
			if _, err := tx.ExecContext(ctx, c.q(c.d.insertIgnore("gdpr_consent_heads", "(account_id, seq, hash)", "(?, 0, '')", "(account_id)")), string(a)); err != nil {
				return err
			}
			err = tx.QueryRowContext(ctx, lockHead, string(a)).Scan(&head.Seq, &head.Hash)
		}
		if err != nil {
			return err
		}
		insRec := c.q("INSERT INTO gdpr_consent_records (account_id, " + recordCols + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		upState := c.q(c.d.upsert("gdpr_consent_state", "(account_id, subject_ps, purpose, action, policy_version, at, seq)", "(?, ?, ?, ?, ?, ?, ?)",
			"(account_id, subject_ps, purpose)", []string{"action", "policy_version", "at", "seq"}))
		for i := range drafts {
			r := drafts[i]
			if err := seal(head, &r); err != nil {
				return err
			}
			if r.Seq != head.Seq+1 {
				return fmt.Errorf("seal returned seq %d after head %d: %w", r.Seq, head.Seq, gdprkit.ErrConflict)
			}
			if _, err := tx.ExecContext(ctx, insRec, string(a), r.Seq, r.ID, nullStr(string(r.Subject)), string(r.SubjectPS), r.Purpose, r.PolicyVersion,
				r.PolicyHash, string(r.Action), string(r.Source), nullStr(r.Evidence.IP), nullStr(r.Evidence.UserAgent), r.Evidence.Wording,
				string(r.RecordedBy), c.ts(r.At), nullStr(r.Salt), r.SubjectCommit, r.EvidenceCommit, r.PrevHash, r.Hash, r.Pseudonymized); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, upState, string(a), string(r.SubjectPS), r.Purpose, string(r.Action), r.PolicyVersion, c.ts(r.At), r.Seq); err != nil {
				return err
			}
			out[i] = r
			head = consent.ChainHead{Seq: r.Seq, Hash: r.Hash}
		}
		_, err = tx.ExecContext(ctx, c.q("UPDATE gdpr_consent_heads SET seq = ?, hash = ? WHERE account_id = ?"), head.Seq, head.Hash, string(a))
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (c consentSQL) Lookup(ctx context.Context, a gdprkit.AccountID, subject gdprkit.Pseudonym, purpose string) (consent.Lookup, error) {
	var l consent.Lookup
	var secs int64
	var action sql.NullString
	var version sql.NullInt64
	var at time.Time
	err := c.db.QueryRowContext(ctx, c.q(`SELECT p.purpose, p.name, p.label, p.description, p.lifetime_seconds, p.current_version, p.material_version, p.created_at,
	s.action, s.policy_version, s.at
FROM gdpr_consent_purposes p LEFT JOIN gdpr_consent_state s
	ON s.account_id = p.account_id AND s.purpose = p.purpose AND s.subject_ps = ?
WHERE p.account_id = ? AND p.purpose = ?`), string(subject), string(a), purpose).Scan(
		&l.Purpose.Key, &l.Purpose.Name, &l.Purpose.Label, &l.Purpose.Description, &secs, &l.Purpose.CurrentVersion,
		&l.Purpose.MaterialVersion, tscan(&l.Purpose.CreatedAt), &action, &version, tscan(&at))
	if err != nil {
		return consent.Lookup{}, mapErr(err, fmt.Sprintf("purpose %q", purpose))
	}
	l.Purpose.Lifetime = time.Duration(secs) * time.Second
	if action.Valid {
		l.Found, l.Action, l.PolicyVersion, l.At = true, consent.Action(action.String), int(version.Int64), at
	}
	return l, nil
}

func (c consentSQL) records(ctx context.Context, what, query string, args ...any) ([]consent.Record, error) {
	rows, err := c.db.QueryContext(ctx, c.q(query), args...)
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
	return c.records(ctx, "subject records", "SELECT "+recordCols+" FROM gdpr_consent_records WHERE account_id = ? AND subject_ps = ? ORDER BY seq", string(a), string(subject))
}

func (c consentSQL) Records(ctx context.Context, a gdprkit.AccountID, afterSeq int64, limit int) ([]consent.Record, error) {
	if limit <= 0 {
		return nil, nil
	}
	return c.records(ctx, "records", "SELECT "+recordCols+" FROM gdpr_consent_records WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?", string(a), afterSeq, limit)
}

func (c consentSQL) Head(ctx context.Context, a gdprkit.AccountID) (consent.ChainHead, error) {
	var h consent.ChainHead
	err := c.db.QueryRowContext(ctx, c.q("SELECT seq, hash FROM gdpr_consent_heads WHERE account_id = ?"), string(a)).Scan(&h.Seq, &h.Hash)
	if err == sql.ErrNoRows {
		return consent.ChainHead{}, nil
	}
	return h, mapErr(err, "consent head")
}

func (c consentSQL) Pseudonymize(ctx context.Context, a gdprkit.AccountID, subject gdprkit.Pseudonym) (int, error) {
	res, err := c.db.ExecContext(ctx, c.q("UPDATE gdpr_consent_records SET subject = NULL, ip = NULL, user_agent = NULL, salt = NULL, pseudonymized = ? WHERE account_id = ? AND subject_ps = ? AND pseudonymized = ?"),
		true, string(a), string(subject), false)
	if err != nil {
		return 0, mapErr(err, "pseudonymize consent")
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err, "pseudonymize consent")
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

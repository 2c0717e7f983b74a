package hostdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
)

// AuditEntry is a row of hd_audit_log: one gdprkit event as the host keeps
// it. Like the event, it holds no direct identifier of a data subject.
type AuditEntry struct {
	ID        int64
	At        time.Time
	Type      string
	Actor     string
	SubjectPS string
	Attrs     map[string]string
}

// auditBatch is how many events one INSERT writes.
const auditBatch = 100

// AppendAudit stores events (of any account: each row keeps its own), in
// batches of one statement each, in one transaction.
func (s *DB) AppendAudit(ctx context.Context, events []gdprkit.Event) error {
	return s.InTx(ctx, func(tx *DB) error {
		for len(events) > 0 {
			n := min(len(events), auditBatch)
			var b strings.Builder
			b.WriteString("INSERT INTO hd_audit_log (account_id, at, event_type, actor, subject_ps, attrs) VALUES ")
			args := make([]any, 0, 6*n)
			for i, e := range events[:n] {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString("(?, ?, ?, ?, ?, ?)")
				attrs := sql.NullString{}
				if len(e.Attrs) > 0 {
					j, _ := json.Marshal(e.Attrs)
					attrs = sql.NullString{String: string(j), Valid: true}
				}
				args = append(args, string(e.Account), ts(e.Time), string(e.Type), nullStr(string(e.Actor)), nullStr(string(e.Subject)), attrs)
			}
			if _, err := tx.c.ExecContext(ctx, tx.q(b.String()), args...); err != nil {
				return classify(err, "append audit")
			}
			events = events[n:]
		}
		return nil
	})
}

// AuditFilter selects audit entries.
type AuditFilter struct {
	// Type keeps entries of this type, or of this package when it ends
	// in "." ("authn.").
	Type string
	// Actor keeps the entries one person acted in or is the subject of
	// (SubjectPS their pseudonym).
	Actor, SubjectPS string
	// Before is the last ID of the previous page (0 for the first): pages
	// run newest first.
	Before int64
	// Limit caps the page (0: 50).
	Limit int
}

// Audit returns a page of the account's audit entries, newest first, and
// the Before of the next page (0 when this is the last).
func (s *DB) Audit(ctx context.Context, acct gdprkit.AccountID, f AuditFilter) ([]AuditEntry, int64, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	query := "SELECT id, at, event_type, actor, subject_ps, attrs FROM hd_audit_log WHERE account_id = ?"
	args := []any{string(acct)}
	switch {
	case strings.HasSuffix(f.Type, "."):
		query += " AND event_type LIKE ? ESCAPE '!'"
		args = append(args, strings.TrimSuffix(likePattern(f.Type), "%")[1:]+"%")
	case f.Type != "":
		query += " AND event_type = ?"
		args = append(args, f.Type)
	}
	if f.Actor != "" {
		query += " AND (actor = ? OR subject_ps = ?)"
		args = append(args, f.Actor, f.SubjectPS)
	}
	if f.Before > 0 {
		query += " AND id < ?"
		args = append(args, f.Before)
	}
	rows, err := s.c.QueryContext(ctx, s.q(query+" ORDER BY id DESC LIMIT ?"), append(args, f.Limit+1)...)
	if err != nil {
		return nil, 0, classify(err, "audit")
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at string
		var actor, sub, attrs sql.NullString
		if err := rows.Scan(&e.ID, &at, &e.Type, &actor, &sub, &attrs); err != nil {
			return nil, 0, classify(err, "audit")
		}
		e.At, e.Actor, e.SubjectPS = parseTS(at), actor.String, sub.String
		if attrs.Valid {
			_ = json.Unmarshal([]byte(attrs.String), &e.Attrs)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, classify(err, "audit")
	}
	var next int64
	if len(out) > f.Limit {
		out = out[:f.Limit]
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

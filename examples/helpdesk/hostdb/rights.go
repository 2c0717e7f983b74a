package hostdb

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
)

// Rectifier returns the helpdesk's erasure.Rectifier: it corrects the
// name and e-mail address of a person in hd_users. Other fields and free
// statements are declined (the helpdesk keeps no supplementary
// statements). It counts the rows whose value changed, so a repeated call
// changes nothing more.
func (s *DB) Rectifier() erasure.Rectifier { return rectifier{s} }

type rectifier struct{ s *DB }

func (u rectifier) Rectify(ctx context.Context, acct gdprkit.AccountID, r erasure.Rectification) ([]erasure.Rectified, error) {
	out := make([]erasure.Rectified, len(r.Items))
	for i, it := range r.Items {
		c := it.Correction
		col := map[string]string{"name": "name", "email": "email"}[c.Field]
		if c.Kind != erasure.KindEndUser || col == "" {
			out[i] = erasure.Rectified{Outcome: erasure.Declined, Ground: "this helpdesk corrects only a person's name and e-mail"}
			continue
		}
		out[i].Outcome = erasure.Corrected
		for _, id := range it.Records {
			res, err := u.s.c.ExecContext(ctx, u.s.q("UPDATE hd_users SET "+col+" = ? WHERE account_id = ? AND id = ? AND ("+col+" IS NULL OR "+col+" <> ?)"),
				c.Value, string(acct), id, c.Value)
			if err != nil {
				return nil, classify(err, "rectify")
			}
			n, err := res.RowsAffected()
			if err != nil {
				return nil, classify(err, "rectify")
			}
			out[i].Records += n
		}
	}
	return out, nil
}

// AffectedPeople returns the people a breach of one kind of record may
// have reached: the requesters and authors of the attachments (whose file
// key starts with blobPrefix, when set), messages or tickets written
// between from and until (zero: unbounded), each once.
func (s *DB) AffectedPeople(ctx context.Context, acct gdprkit.AccountID, kind, blobPrefix string, from, until time.Time) ([]string, error) {
	var q string
	args := []any{string(acct)}
	timeCol := "m.created_at"
	switch kind {
	case "attachment":
		q = `SELECT t.requester_id, m.author_id FROM hd_attachments x JOIN hd_messages m ON m.id = x.message_id
			JOIN hd_tickets t ON t.id = m.ticket_id WHERE x.account_id = ?`
		if blobPrefix != "" {
			q += " AND x.blob_key LIKE ? ESCAPE '!'"
			args = append(args, strings.TrimPrefix(likePattern(blobPrefix), "%"))
		}
	case "message":
		q = `SELECT t.requester_id, m.author_id FROM hd_messages m JOIN hd_tickets t ON t.id = m.ticket_id WHERE m.account_id = ?`
	case "ticket":
		q, timeCol = `SELECT t.requester_id, t.requester_id FROM hd_tickets t WHERE t.account_id = ?`, "t.created_at"
	default:
		return nil, fmt.Errorf("hostdb: this helpdesk cannot search kind %q (attachment, message or ticket): %w", kind, gdprkit.ErrInvalid)
	}
	if !from.IsZero() {
		q += " AND " + timeCol + " >= ?"
		args = append(args, ts(from))
	}
	if !until.IsZero() {
		q += " AND " + timeCol + " <= ?"
		args = append(args, ts(until))
	}
	rows, err := s.c.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, classify(err, "affected people")
	}
	defer rows.Close()
	seen := map[string]bool{}
	var out []string
	for rows.Next() {
		var req, author *string
		if err := rows.Scan(&req, &author); err != nil {
			return nil, classify(err, "affected people")
		}
		for _, p := range []*string{req, author} {
			if p != nil && *p != "" && !seen[*p] {
				seen[*p] = true
				out = append(out, *p)
			}
		}
	}
	return out, classify(rows.Err(), "affected people")
}

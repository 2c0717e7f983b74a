package hostdb

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/kitdata"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/spam"
)

// The views of the host's data that gdprkit asks for through interfaces of
// its own: who is who (erasure.Directory), which tickets are old enough
// for a retention rule (retention.Target), what the spam filter learned
// from (kitdata.SpamTrainedFunc). They only read; the wiring decides what
// deleting means.

// Directory returns erasure's view of hd_users: a subject is a user, with
// the role of their row. retention's system actor is an admin.
func (s *DB) Directory() erasure.Directory { return directory{s} }

type directory struct{ s *DB }

func (d directory) Lookup(ctx context.Context, acct gdprkit.AccountID, id gdprkit.SubjectID) (erasure.Subject, error) {
	if id == gdprkit.SubjectID(retention.SystemActor) {
		return erasure.Subject{ID: id, Role: gdprkit.RoleAdmin}, nil
	}
	u, err := d.s.User(ctx, acct, string(id))
	return erasure.Subject{ID: id, Role: u.GRole()}, err
}

func (d directory) Subjects(ctx context.Context, acct gdprkit.AccountID, after string, limit int) ([]gdprkit.SubjectID, string, error) {
	ids, err := d.s.UserIDs(ctx, acct, after, limit)
	if err != nil {
		return nil, "", err
	}
	out := make([]gdprkit.SubjectID, len(ids))
	for i, id := range ids {
		out[i] = gdprkit.SubjectID(id)
	}
	if len(ids) < limit {
		return out, "", nil
	}
	return out, ids[len(ids)-1], nil
}

// AgedTickets returns retention's view of the tickets in statuses (any of
// them; a rule may name one): it finds them by a rule's status and time
// field (created_at or closed_at) in (field, id) order from the rule's
// cursor, reports which a keep rule covers, and leaves deleting to del,
// which reports what it removed and what a legal hold kept.
func (s *DB) AgedTickets(statuses []string, del func(ctx context.Context, acct gdprkit.AccountID, ids []string) (retention.DeleteResult, error)) retention.Target {
	return aged{s, statuses, del}
}

type aged struct {
	s        *DB
	statuses []string
	del      func(ctx context.Context, acct gdprkit.AccountID, ids []string) (retention.DeleteResult, error)
}

// ticketTimeFields are hd_tickets' time columns a rule may age from.
var ticketTimeFields = []string{"created_at", "closed_at"}

func (t aged) Schema() retention.TargetSchema {
	return retention.TargetSchema{Statuses: t.statuses, Fields: ticketTimeFields}
}

func (t aged) Find(ctx context.Context, acct gdprkit.AccountID, sel retention.Selector, limit int) ([]retention.Candidate, error) {
	if !slices.Contains(ticketTimeFields, sel.Field) {
		return nil, fmt.Errorf("hostdb: tickets have no time field %q: %w", sel.Field, gdprkit.ErrInvalid)
	}
	f := sel.Field // a listed column name from here on
	where := " FROM hd_tickets WHERE account_id = ? AND " + f + " IS NOT NULL AND " + f + " < ?"
	args := []any{string(acct), ts(sel.Before)}
	switch {
	case sel.Status != "":
		where += " AND status = ?"
		args = append(args, sel.Status)
	case len(t.statuses) > 0:
		where += " AND status IN (" + placeholders(len(t.statuses)) + ")"
		for _, st := range t.statuses {
			args = append(args, st)
		}
	}
	if !sel.After.IsZero() {
		after, err := strconv.ParseInt(sel.After.ID, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("hostdb: bad cursor %q: %w", sel.After.ID, gdprkit.ErrInvalid)
		}
		// The redundant "f >= ?" gives the index scan its start.
		where += " AND " + f + " >= ? AND (" + f + " > ? OR (" + f + " = ? AND id > ?))"
		args = append(args, ts(sel.After.At), ts(sel.After.At), ts(sel.After.At), after)
	}
	kept := "0"
	var keepArgs []any
	for _, k := range sel.Keep {
		if !slices.Contains(ticketTimeFields, k.Field) {
			continue
		}
		if kept == "0" {
			kept = "CASE WHEN "
		} else {
			kept += " OR "
		}
		kept += "(" + k.Field + " >= ?"
		keepArgs = append(keepArgs, ts(k.Since))
		if k.Status != "" {
			kept += " AND status = ?"
			keepArgs = append(keepArgs, k.Status)
		}
		kept += ")"
	}
	if kept != "0" {
		kept += " THEN 1 ELSE 0 END"
	}
	rows, err := t.s.c.QueryContext(ctx, t.s.q("SELECT id, "+f+", "+kept+where+" ORDER BY "+f+", id LIMIT ?"), append(append(keepArgs, args...), limit)...)
	if err != nil {
		return nil, classify(err, "find aged tickets")
	}
	defer rows.Close()
	var out []retention.Candidate
	for rows.Next() {
		var id, k int64
		var at string
		if err := rows.Scan(&id, &at, &k); err != nil {
			return nil, classify(err, "find aged tickets")
		}
		out = append(out, retention.Candidate{ID: strconv.FormatInt(id, 10), At: parseTS(at), Kept: k != 0})
	}
	return out, classify(rows.Err(), "find aged tickets")
}

func (t aged) Delete(ctx context.Context, acct gdprkit.AccountID, ids []string) (retention.DeleteResult, error) {
	return t.del(ctx, acct, ids)
}

// SpamExample is how the helpdesk shows a ticket to the spam filter: its
// subject and first message, under a training ID of its own. The inbox
// classifies and trains with it, and erasure untrains with it.
func SpamExample(ticket int64, subject, body string) spam.Example {
	return spam.Example{ID: "ticket-" + strconv.FormatInt(ticket, 10), Message: spam.Message{Subject: subject, Text: body}}
}

// SpamTrained tells erasure what the inbox trained the spam filter on: of
// the given message IDs, those that opened their ticket, as SpamExample
// builds them (kitdata.SpamLessonTarget untrains them).
func (s *DB) SpamTrained(ctx context.Context, acct gdprkit.AccountID, records []string) ([]kitdata.SpamTrained, error) {
	var ids []int64
	for _, r := range records {
		if id, err := strconv.ParseInt(r, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	firsts, err := s.FirstMessages(ctx, acct, ids)
	out := make([]kitdata.SpamTrained, len(firsts))
	for i, f := range firsts {
		out[i] = kitdata.SpamTrained{Record: strconv.FormatInt(f.MessageID, 10), Example: SpamExample(f.TicketID, f.Subject, f.Body)}
	}
	return out, err
}

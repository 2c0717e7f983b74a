package hostdb

import (
	"context"
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

// AgedTickets returns retention's view of the tickets in status, aged by
// field ("closed_at" or "created_at"); del deletes tickets by number.
func (s *DB) AgedTickets(status, field string, del func(ctx context.Context, acct gdprkit.AccountID, ids []string) (int, error)) retention.Target {
	return aged{s, status, field, del}
}

type aged struct {
	s             *DB
	status, field string
	del           func(ctx context.Context, acct gdprkit.AccountID, ids []string) (int, error)
}

func (t aged) Count(ctx context.Context, acct gdprkit.AccountID, sel retention.Selector) (int64, error) {
	return t.s.CountAged(ctx, acct, t.status, t.field, sel.Before)
}

func (t aged) Find(ctx context.Context, acct gdprkit.AccountID, sel retention.Selector, limit int) ([]string, error) {
	ids, err := t.s.FindAged(ctx, acct, t.status, t.field, sel.Before, limit)
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strconv.FormatInt(id, 10)
	}
	return out, err
}

func (t aged) Delete(ctx context.Context, acct gdprkit.AccountID, ids []string) (int, error) {
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

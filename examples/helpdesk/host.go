package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/kitdata"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/spam"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// The host's own tables. Times are fixed-width RFC 3339 text in UTC so one
// schema serves SQLite, PostgreSQL and MySQL and sorts correctly.
var hostTables = []struct{ name, cols, index string }{
	{"hd_users", `account_id VARCHAR(64) NOT NULL, id VARCHAR(64) NOT NULL, role VARCHAR(16) NOT NULL, name VARCHAR(200) NULL,
		email VARCHAR(200) NULL, created_at VARCHAR(32) NOT NULL, PRIMARY KEY (account_id, id)`, ""},
	{"hd_portal_profiles", `account_id VARCHAR(64) NOT NULL, user_id VARCHAR(64) NOT NULL, language VARCHAR(16) NOT NULL,
		created_at VARCHAR(32) NOT NULL, PRIMARY KEY (account_id, user_id)`, ""},
	{"hd_agent_profiles", `account_id VARCHAR(64) NOT NULL, user_id VARCHAR(64) NOT NULL, signature VARCHAR(500) NULL, PRIMARY KEY (account_id, user_id)`, ""},
	{"hd_tickets", `account_id VARCHAR(64) NOT NULL, id BIGINT NOT NULL, requester_id VARCHAR(64) NULL, requester_name VARCHAR(200) NULL,
		assignee_id VARCHAR(64) NULL, subject VARCHAR(200) NOT NULL, status VARCHAR(16) NOT NULL, spam_label VARCHAR(8) NOT NULL,
		created_at VARCHAR(32) NOT NULL, closed_at VARCHAR(32) NULL, PRIMARY KEY (account_id, id)`, "requester_id, id"},
	{"hd_messages", `account_id VARCHAR(64) NOT NULL, id BIGINT NOT NULL, ticket_id BIGINT NOT NULL, author_id VARCHAR(64) NULL,
		author_name VARCHAR(200) NULL, body TEXT NOT NULL, created_at VARCHAR(32) NOT NULL, PRIMARY KEY (account_id, id)`, "ticket_id, id"},
	{"hd_attachments", `account_id VARCHAR(64) NOT NULL, id BIGINT NOT NULL, message_id BIGINT NOT NULL, blob_key VARCHAR(200) NULL,
		filename VARCHAR(200) NOT NULL, size BIGINT NOT NULL, PRIMARY KEY (account_id, id)`, "message_id, id"},
}

func (a *App) createHostTables(ctx context.Context) error {
	for _, t := range hostTables {
		cols := t.cols
		if t.index != "" && a.dialect == sqlstore.MySQL {
			cols += ", INDEX " + t.name + "_parent (account_id, " + t.index + ")"
		}
		ddl := "CREATE TABLE IF NOT EXISTS " + t.name + " (" + cols + ")"
		if a.dialect == sqlstore.MySQL {
			ddl += " ENGINE=InnoDB"
		}
		if _, err := a.db.ExecContext(ctx, ddl); err != nil {
			return err
		}
		if t.index != "" && a.dialect != sqlstore.MySQL {
			if _, err := a.db.ExecContext(ctx, "CREATE INDEX IF NOT EXISTS "+t.name+"_parent ON "+t.name+" (account_id, "+t.index+")"); err != nil {
				return err
			}
		}
	}
	return nil
}

// q rebinds ? placeholders for PostgreSQL.
func (a *App) q(s string) string {
	if a.dialect != sqlstore.Postgres {
		return s
	}
	var b strings.Builder
	n := 0
	for _, c := range s {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

const tsFormat = "2006-01-02T15:04:05.000000Z"

func ts(t time.Time) string { return t.UTC().Format(tsFormat) }

func parseTS(s string) time.Time { t, _ := time.Parse(tsFormat, s); return t }

// User is a row of hd_users: the owner, agents and customers.
type User struct {
	ID, Role, Name, Email string
	CreatedAt             time.Time
}

// The roles of hd_users.
const (
	roleOwner    = "owner"
	roleAgent    = "agent"
	roleCustomer = "customer"
)

// GRole maps the host's role to gdprkit's hierarchy.
func (u User) GRole() gdprkit.Role {
	switch u.Role {
	case roleOwner:
		return gdprkit.RoleOwner
	case roleAgent:
		return gdprkit.RoleAgent
	}
	return gdprkit.RoleEndUser
}

// IsStaff reports whether the user works in the agent panel.
func (u User) IsStaff() bool { return u.Role == roleOwner || u.Role == roleAgent }

func (a *App) user(ctx context.Context, acct gdprkit.AccountID, id string) (User, error) {
	var u User
	var name, email sql.NullString
	var created string
	err := a.db.QueryRowContext(ctx, a.q("SELECT id, role, name, email, created_at FROM hd_users WHERE account_id = ? AND id = ?"), string(acct), id).
		Scan(&u.ID, &u.Role, &name, &email, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user: %w", gdprkit.ErrNotFound)
	}
	u.Name, u.Email, u.CreatedAt = name.String, email.String, parseTS(created)
	return u, err
}

func (a *App) users(ctx context.Context, role string) ([]User, error) {
	query := "SELECT id, role, name, email, created_at FROM hd_users WHERE account_id = ?"
	args := []any{string(a.acct)}
	if role != "" {
		query += " AND role = ?"
		args = append(args, role)
	}
	rows, err := a.db.QueryContext(ctx, a.q(query+" ORDER BY role, name"), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		var name, email sql.NullString
		var created string
		if err := rows.Scan(&u.ID, &u.Role, &name, &email, &created); err != nil {
			return nil, err
		}
		u.Name, u.Email, u.CreatedAt = name.String, email.String, parseTS(created)
		out = append(out, u)
	}
	return out, rows.Err()
}

func (a *App) customerByEmail(ctx context.Context, email string) (User, error) {
	var id string
	err := a.db.QueryRowContext(ctx, a.q("SELECT id FROM hd_users WHERE account_id = ? AND role = ? AND email = ?"), string(a.acct), roleCustomer, email).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("customer: %w", gdprkit.ErrNotFound)
	}
	if err != nil {
		return User{}, err
	}
	return a.user(ctx, a.acct, id)
}

func (a *App) addUser(ctx context.Context, u User) error {
	_, err := a.db.ExecContext(ctx, a.q("INSERT INTO hd_users (account_id, id, role, name, email, created_at) VALUES (?, ?, ?, ?, ?, ?)"),
		string(a.acct), u.ID, u.Role, u.Name, u.Email, ts(a.now()))
	if err == nil && u.IsStaff() {
		_, err = a.db.ExecContext(ctx, a.q("INSERT INTO hd_agent_profiles (account_id, user_id, signature) VALUES (?, ?, ?)"),
			string(a.acct), u.ID, "Best regards, "+u.Name)
	}
	if err == nil && u.Role == roleCustomer {
		_, err = a.db.ExecContext(ctx, a.q("INSERT INTO hd_portal_profiles (account_id, user_id, language, created_at) VALUES (?, ?, ?, ?)"),
			string(a.acct), u.ID, "en", ts(a.now()))
	}
	return err
}

// Ticket is a row of hd_tickets with its first message.
type Ticket struct {
	ID                                 int64
	RequesterID, RequesterName         string
	AssigneeID, Subject, Status, Label string
	CreatedAt, ClosedAt                time.Time
	Messages                           []Message
}

// Message is a row of hd_messages with its attachments.
type Message struct {
	ID                   int64
	AuthorID, AuthorName string
	Body                 string
	CreatedAt            time.Time
	Attachments          []Attachment
}

// Attachment is a row of hd_attachments.
type Attachment struct {
	ID       int64
	BlobKey  string
	Filename string
	Size     int64
}

// nextID returns the next key of an hd_ table.
func (a *App) nextID(ctx context.Context, tx *sql.Tx, table string) (int64, error) {
	var n int64
	err := tx.QueryRowContext(ctx, a.q("SELECT COALESCE(MAX(id), 0) + 1 FROM "+table+" WHERE account_id = ?"), string(a.acct)).Scan(&n)
	return n, err
}

// NewTicket is what the contact form or the API opens.
type NewTicket struct {
	Requester User
	Subject   string
	Body      string
	Filename  string
	File      []byte
}

// createTicket stores a ticket with its first message and, if any, its
// attachment file.
func (a *App) createTicket(ctx context.Context, nt NewTicket) (int64, error) {
	a.idMu.Lock()
	defer a.idMu.Unlock()
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	tid, err := a.nextID(ctx, tx, "hd_tickets")
	if err != nil {
		return 0, err
	}
	mid, err := a.nextID(ctx, tx, "hd_messages")
	if err != nil {
		return 0, err
	}
	now := ts(a.now())
	acct := string(a.acct)
	if _, err := tx.ExecContext(ctx, a.q(`INSERT INTO hd_tickets (account_id, id, requester_id, requester_name, assignee_id, subject, status, spam_label, created_at)
		VALUES (?, ?, ?, ?, NULL, ?, 'open', '', ?)`), acct, tid, nt.Requester.ID, nt.Requester.Name, nt.Subject, now); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, a.q("INSERT INTO hd_messages (account_id, id, ticket_id, author_id, author_name, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"),
		acct, mid, tid, nt.Requester.ID, nt.Requester.Name, nt.Body, now); err != nil {
		return 0, err
	}
	if nt.Filename != "" {
		aid, err := a.nextID(ctx, tx, "hd_attachments")
		if err != nil {
			return 0, err
		}
		key := fmt.Sprintf("attachments/%d/%s", aid, safeName(nt.Filename))
		if err := a.Blobs.Put(ctx, a.acct, key, nt.File); err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, a.q("INSERT INTO hd_attachments (account_id, id, message_id, blob_key, filename, size) VALUES (?, ?, ?, ?, ?, ?)"),
			acct, aid, mid, key, nt.Filename, len(nt.File)); err != nil {
			return 0, err
		}
	}
	return tid, tx.Commit()
}

// addReply appends an agent's message to a ticket and assigns it to them.
func (a *App) addReply(ctx context.Context, tid int64, author User, body string) error {
	a.idMu.Lock()
	defer a.idMu.Unlock()
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	mid, err := a.nextID(ctx, tx, "hd_messages")
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, a.q("INSERT INTO hd_messages (account_id, id, ticket_id, author_id, author_name, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"),
		string(a.acct), mid, tid, author.ID, author.Name, body, ts(a.now())); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, a.q("UPDATE hd_tickets SET assignee_id = ? WHERE account_id = ? AND id = ?"), author.ID, string(a.acct), tid); err != nil {
		return err
	}
	return tx.Commit()
}

func safeName(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
			b.WriteRune(c)
		default:
			b.WriteRune('_')
		}
	}
	out := strings.Trim(b.String(), ".")
	if out == "" {
		out = "file"
	}
	return out
}

const ticketCols = "id, requester_id, requester_name, assignee_id, subject, status, spam_label, created_at, closed_at"

func scanTicket(sc interface{ Scan(...any) error }) (Ticket, error) {
	var t Ticket
	var req, reqName, assignee, closed sql.NullString
	var created string
	err := sc.Scan(&t.ID, &req, &reqName, &assignee, &t.Subject, &t.Status, &t.Label, &created, &closed)
	t.RequesterID, t.RequesterName, t.AssigneeID = req.String, reqName.String, assignee.String
	t.CreatedAt, t.ClosedAt = parseTS(created), parseTS(closed.String)
	return t, err
}

// tickets lists tickets, newest first; requester filters by customer.
func (a *App) tickets(ctx context.Context, requester string) ([]Ticket, error) {
	query := "SELECT " + ticketCols + " FROM hd_tickets WHERE account_id = ?"
	args := []any{string(a.acct)}
	if requester != "" {
		query += " AND requester_id = ?"
		args = append(args, requester)
	}
	rows, err := a.db.QueryContext(ctx, a.q(query+" ORDER BY id DESC"), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Ticket
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Messages, err = a.messages(ctx, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (a *App) ticket(ctx context.Context, id int64) (Ticket, error) {
	t, err := scanTicket(a.db.QueryRowContext(ctx, a.q("SELECT "+ticketCols+" FROM hd_tickets WHERE account_id = ? AND id = ?"), string(a.acct), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, fmt.Errorf("ticket: %w", gdprkit.ErrNotFound)
	}
	if err != nil {
		return Ticket{}, err
	}
	t.Messages, err = a.messages(ctx, id)
	return t, err
}

func (a *App) messages(ctx context.Context, tid int64) ([]Message, error) {
	rows, err := a.db.QueryContext(ctx, a.q(`SELECT m.id, m.author_id, m.author_name, m.body, m.created_at, x.id, x.blob_key, x.filename, x.size
		FROM hd_messages m LEFT JOIN hd_attachments x ON x.account_id = m.account_id AND x.message_id = m.id
		WHERE m.account_id = ? AND m.ticket_id = ? ORDER BY m.id, x.id`), string(a.acct), tid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		var author, authorName, key, fname sql.NullString
		var created string
		var aid, size sql.NullInt64
		if err := rows.Scan(&m.ID, &author, &authorName, &m.Body, &created, &aid, &key, &fname, &size); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].ID != m.ID {
			m.AuthorID, m.AuthorName, m.CreatedAt = author.String, authorName.String, parseTS(created)
			out = append(out, m)
		}
		if aid.Valid {
			last := &out[len(out)-1]
			last.Attachments = append(last.Attachments, Attachment{ID: aid.Int64, BlobKey: key.String, Filename: fname.String, Size: size.Int64})
		}
	}
	return out, rows.Err()
}

func (a *App) setTicketStatus(ctx context.Context, id int64, status, label string) error {
	closed := sql.NullString{}
	if status == "closed" {
		closed = sql.NullString{String: ts(a.now()), Valid: true}
	}
	_, err := a.db.ExecContext(ctx, a.q("UPDATE hd_tickets SET status = ?, spam_label = ?, closed_at = ? WHERE account_id = ? AND id = ?"),
		status, label, closed, string(a.acct), id)
	return err
}

// ticketRetention is retention's view of hd_tickets: it selects by the
// rule's own status and time field (among those its schema lists), walks
// them in (field, id) order from the rule's cursor, reports which tickets
// the keep rules cover, and deletes through erasure.DeleteRecord so
// messages, attachments and files go too and legal holds are honoured
// (a held ticket is declined, not deleted, and the rule moves past it).
type ticketRetention struct {
	a *App
	// statuses a rule of this kind may name (a kind may be narrower than
	// the table, as held spam is).
	statuses []string
}

// ticketTimeFields are hd_tickets' time columns a rule may age from.
var ticketTimeFields = []string{"created_at", "closed_at"}

func (t ticketRetention) Schema() retention.TargetSchema {
	return retention.TargetSchema{Statuses: t.statuses, Fields: ticketTimeFields}
}

func (t ticketRetention) Find(ctx context.Context, acct gdprkit.AccountID, sel retention.Selector, limit int) ([]retention.Candidate, error) {
	if !slices.Contains(ticketTimeFields, sel.Field) {
		return nil, fmt.Errorf("%w: hd_tickets has no time field %q", gdprkit.ErrInvalid, sel.Field)
	}
	f := sel.Field // a whitelisted column name from here on
	where := " FROM hd_tickets WHERE account_id = ? AND " + f + " IS NOT NULL AND " + f + " < ?"
	args := []any{string(acct), ts(sel.Before)}
	switch {
	case sel.Status != "":
		where += " AND status = ?"
		args = append(args, sel.Status)
	case len(t.statuses) > 0:
		where += " AND status IN (?" + strings.Repeat(", ?", len(t.statuses)-1) + ")"
		for _, st := range t.statuses {
			args = append(args, st)
		}
	}
	if !sel.After.IsZero() {
		after, err := strconv.ParseInt(sel.After.ID, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: bad cursor %q", gdprkit.ErrInvalid, sel.After.ID)
		}
		// The redundant "f >= ?" gives the index scan its start: the OR
		// alone is only a filter, and every Find would walk the index
		// from the oldest entry, dead ones of deleted rows included.
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
	rows, err := t.a.db.QueryContext(ctx, t.a.q("SELECT id, "+f+", "+kept+where+" ORDER BY "+f+", id LIMIT ?"),
		append(append(keepArgs, args...), limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []retention.Candidate
	for rows.Next() {
		var id, k int64
		var at string
		if err := rows.Scan(&id, &at, &k); err != nil {
			return nil, err
		}
		out = append(out, retention.Candidate{ID: strconv.FormatInt(id, 10), At: parseTS(at), Kept: k != 0})
	}
	return out, rows.Err()
}

func (t ticketRetention) Delete(ctx context.Context, acct gdprkit.AccountID, ids []string) (retention.DeleteResult, error) {
	var res retention.DeleteResult
	for _, id := range ids {
		got, err := t.a.Erasure.DeleteRecord(ctx, acct, erasure.KindTicket, id, systemActor)
		if errors.Is(err, erasure.ErrHeld) {
			res.Held = append(res.Held, id)
			continue
		}
		if err != nil {
			return res, err
		}
		if got[erasure.KindTicket] > 0 { // this call removed the ticket row
			res.Removed = append(res.Removed, id)
		}
	}
	return res, nil
}

// spamTrained is erasure's view of how the inbox trains the spam filter: on
// a ticket's first message, as ticketMessage builds it, under trainingID.
// Of the given hd_messages IDs it returns those that are the first message
// of their ticket, in one query.
func (a *App) spamTrained(ctx context.Context, acct gdprkit.AccountID, records []string) ([]kitdata.SpamTrained, error) {
	args := []any{string(acct)}
	for _, r := range records {
		id, err := strconv.ParseInt(r, 10, 64)
		if err != nil {
			continue // not a message ID of ours
		}
		args = append(args, id)
	}
	if len(args) == 1 {
		return nil, nil
	}
	rows, err := a.db.QueryContext(ctx, a.q(`SELECT m.id, t.id, t.subject, m.body
		FROM hd_messages m JOIN hd_tickets t ON t.account_id = m.account_id AND t.id = m.ticket_id
		WHERE m.account_id = ? AND m.id IN (?`+strings.Repeat(", ?", len(args)-2)+`)
		AND m.id = (SELECT MIN(f.id) FROM hd_messages f WHERE f.account_id = m.account_id AND f.ticket_id = m.ticket_id)`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []kitdata.SpamTrained
	for rows.Next() {
		var mid int64
		var t Ticket
		var body string
		if err := rows.Scan(&mid, &t.ID, &t.Subject, &body); err != nil {
			return nil, err
		}
		t.Messages = []Message{{Body: body}}
		out = append(out, kitdata.SpamTrained{Record: strconv.FormatInt(mid, 10), Example: spam.Example{ID: trainingID(t), Message: ticketMessage(t)}})
	}
	return out, rows.Err()
}

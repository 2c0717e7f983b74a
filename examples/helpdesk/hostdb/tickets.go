package hostdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/sqldb"
)

// Ticket statuses.
const (
	StatusOpen   = "open"
	StatusClosed = "closed"
	StatusSpam   = "spam"
)

// Where a ticket came from (Ticket.Origin).
const (
	OriginForm   = "form"
	OriginAPI    = "api"
	OriginPortal = "portal"
)

// Ticket is a row of hd_tickets.
type Ticket struct {
	// ID is the ticket number.
	ID int64
	// RequesterID and RequesterName are who opened it (the name as the
	// sender gave it); AssigneeID the agent working on it.
	RequesterID, RequesterName, AssigneeID string
	// Subject, Status (StatusOpen, StatusClosed, StatusSpam) and
	// SpamLabel (the agents' verdict: "spam", "ham" or "").
	Subject, Status, SpamLabel string
	// Origin is OriginForm, OriginAPI or OriginPortal ("" for tickets
	// the demo seeds).
	Origin string
	// CreatedAt and ClosedAt (zero while open).
	CreatedAt, ClosedAt time.Time
	// Messages, oldest first (Ticket only; lists leave them empty).
	Messages []Message
	// FirstBody is the first message's text (lists only).
	FirstBody string
	// Files counts the ticket's attachments (lists only).
	Files int
}

// Message is a row of hd_messages with its attachments.
type Message struct {
	ID                   int64
	AuthorID, AuthorName string
	Body                 string
	CreatedAt            time.Time
	Attachments          []Attachment
}

// Attachment is a row of hd_attachments; its file lives in the blob store
// under BlobKey.
type Attachment struct {
	ID, MessageID int64
	BlobKey       string
	Filename      string
	Size          int64
}

// NewFile is an attachment of a new ticket. Key computes the blob key from
// the attachment's ID; Store writes the file under it, inside the
// transaction that inserts the row.
type NewFile struct {
	Name  string
	Size  int64
	Key   func(attachmentID int64) string
	Store func(ctx context.Context, key string) error
}

// NewTicket is what the contact form, the portal or the API opens.
type NewTicket struct {
	// Requester is the customer; RequesterName the name the sender gave.
	Requester     User
	RequesterName string
	Subject, Body string
	// Origin says where it came from.
	Origin string
	// SubmissionKey, when set, is the key of the form that sent it: a
	// second ticket with the same key is refused (ErrAlreadyReceived).
	SubmissionKey string
	// File is an optional attachment.
	File *NewFile
}

// AlreadyReceivedError is returned by CreateTicket for a submission key
// that already opened a ticket: the form was sent twice.
type AlreadyReceivedError struct {
	// Ticket is the ticket the first sending opened.
	Ticket int64
}

func (e *AlreadyReceivedError) Error() string {
	return "hostdb: this submission was already received as ticket #" + strconv.FormatInt(e.Ticket, 10)
}

// Unwrap makes the error a gdprkit.ErrConflict.
func (e *AlreadyReceivedError) Unwrap() error { return gdprkit.ErrConflict }

// ErrAlreadyReceived matches an *AlreadyReceivedError with errors.Is.
var ErrAlreadyReceived = &AlreadyReceivedError{}

// Is matches any AlreadyReceivedError.
func (e *AlreadyReceivedError) Is(target error) bool {
	_, ok := target.(*AlreadyReceivedError)
	return ok
}

// Created is what CreateTicket stored.
type Created struct {
	Ticket, Message, Attachment int64
	// BlobKey is the attachment's file key ("" without a file).
	BlobKey string
}

// CreateTicket stores a ticket with its first message and, if any, the
// attachment row and its file, in one transaction (joining the caller's
// InTx). A SubmissionKey that already opened a ticket returns an
// *AlreadyReceivedError naming it, and stores nothing.
func (s *DB) CreateTicket(ctx context.Context, acct gdprkit.AccountID, nt NewTicket) (Created, error) {
	var c Created
	err := s.InTx(ctx, func(tx *DB) error {
		c = Created{}
		if nt.SubmissionKey != "" {
			var id int64
			err := tx.c.QueryRowContext(ctx, tx.q("SELECT id FROM hd_tickets WHERE account_id = ? AND submission_key = ?"+tx.forUpdate()),
				string(acct), nt.SubmissionKey).Scan(&id)
			if err == nil {
				return &AlreadyReceivedError{Ticket: id}
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return classify(err, "find submission")
			}
		}
		now := ts(tx.now())
		var err error
		c.Ticket, err = tx.insertID(ctx, `INSERT INTO hd_tickets (account_id, requester_id, requester_name, assignee_id, subject, status, spam_label, created_at, origin, submission_key)
			VALUES (?, ?, ?, NULL, ?, ?, '', ?, ?, ?)`, string(acct), nt.Requester.ID, nt.RequesterName, nt.Subject, StatusOpen, now, nullStr(nt.Origin), nullStr(nt.SubmissionKey))
		if err != nil {
			var de *sqldb.Error
			if errors.As(sqldb.Classify(err), &de) && de.Reason == sqldb.ReasonUnique && nt.SubmissionKey != "" {
				// A concurrent sending of the same form won the key.
				return tx.alreadyReceived(ctx, acct, nt.SubmissionKey)
			}
			return classify(err, "insert ticket")
		}
		if c.Message, err = tx.insertMessage(ctx, acct, c.Ticket, nt.Requester.ID, nt.RequesterName, nt.Body); err != nil {
			return err
		}
		if f := nt.File; f != nil {
			if c.Attachment, err = tx.insertID(ctx, "INSERT INTO hd_attachments (account_id, message_id, blob_key, filename, size) VALUES (?, ?, NULL, ?, ?)",
				string(acct), c.Message, f.Name, f.Size); err != nil {
				return classify(err, "insert attachment")
			}
			c.BlobKey = f.Key(c.Attachment)
			if _, err := tx.c.ExecContext(ctx, tx.q("UPDATE hd_attachments SET blob_key = ? WHERE id = ?"), c.BlobKey, c.Attachment); err != nil {
				return classify(err, "insert attachment")
			}
			if err := f.Store(ctx, c.BlobKey); err != nil {
				return fmt.Errorf("hostdb: store attachment: %w", err)
			}
		}
		return nil
	})
	return c, err
}

func (s *DB) alreadyReceived(ctx context.Context, acct gdprkit.AccountID, key string) error {
	var id int64
	if err := s.c.QueryRowContext(ctx, s.q("SELECT id FROM hd_tickets WHERE account_id = ? AND submission_key = ?"), string(acct), key).Scan(&id); err != nil {
		return classify(err, "find submission")
	}
	return &AlreadyReceivedError{Ticket: id}
}

func (s *DB) insertMessage(ctx context.Context, acct gdprkit.AccountID, ticket int64, authorID, authorName, body string) (int64, error) {
	id, err := s.insertID(ctx, "INSERT INTO hd_messages (account_id, ticket_id, author_id, author_name, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		string(acct), ticket, nullStr(authorID), authorName, body, ts(s.now()))
	return id, classify(err, "insert message")
}

// AddMessage appends a message to a ticket. An agent's reply assigns the
// ticket to them (assign); a customer's reopens a closed ticket. It
// returns an error wrapping gdprkit.ErrNotFound for an unknown ticket.
func (s *DB) AddMessage(ctx context.Context, acct gdprkit.AccountID, ticket int64, author User, body string) (int64, error) {
	var id int64
	err := s.InTx(ctx, func(tx *DB) error {
		var upd string
		var args []any
		if author.IsStaff() {
			upd, args = "UPDATE hd_tickets SET assignee_id = ? WHERE account_id = ? AND id = ?", []any{author.ID, string(acct), ticket}
		} else {
			upd, args = "UPDATE hd_tickets SET status = ?, closed_at = NULL WHERE account_id = ? AND id = ? AND status = ?", []any{StatusOpen, string(acct), ticket, StatusClosed}
		}
		if _, err := tx.Ticket(ctx, acct, ticket); err != nil {
			return err
		}
		if _, err := tx.c.ExecContext(ctx, tx.q(upd), args...); err != nil {
			return classify(err, "update ticket")
		}
		var err error
		id, err = tx.insertMessage(ctx, acct, ticket, author.ID, author.Name, body)
		return err
	})
	return id, err
}

const ticketCols = "t.id, t.requester_id, t.requester_name, t.assignee_id, t.subject, t.status, t.spam_label, t.created_at, t.closed_at, t.origin"

func scanTicket(sc interface{ Scan(...any) error }, extra ...any) (Ticket, error) {
	var t Ticket
	var req, reqName, assignee, closed, origin sql.NullString
	var created string
	err := sc.Scan(append([]any{&t.ID, &req, &reqName, &assignee, &t.Subject, &t.Status, &t.SpamLabel, &created, &closed, &origin}, extra...)...)
	t.RequesterID, t.RequesterName, t.AssigneeID, t.Origin = req.String, reqName.String, assignee.String, origin.String
	t.CreatedAt, t.ClosedAt = parseTS(created), parseTS(closed.String)
	return t, err
}

// Ticket returns one ticket with its messages and attachments, or an
// error wrapping gdprkit.ErrNotFound.
func (s *DB) Ticket(ctx context.Context, acct gdprkit.AccountID, id int64) (Ticket, error) {
	t, err := scanTicket(s.c.QueryRowContext(ctx, s.q("SELECT "+ticketCols+" FROM hd_tickets t WHERE t.account_id = ? AND t.id = ?"), string(acct), id))
	if err != nil {
		return Ticket{}, classify(err, "ticket")
	}
	rows, err := s.c.QueryContext(ctx, s.q(`SELECT m.id, m.author_id, m.author_name, m.body, m.created_at, x.id, x.blob_key, x.filename, x.size
		FROM hd_messages m LEFT JOIN hd_attachments x ON x.message_id = m.id
		WHERE m.account_id = ? AND m.ticket_id = ? ORDER BY m.id, x.id`), string(acct), id)
	if err != nil {
		return Ticket{}, classify(err, "messages")
	}
	defer rows.Close()
	for rows.Next() {
		var m Message
		var author, authorName, key, fname sql.NullString
		var created string
		var aid, size sql.NullInt64
		if err := rows.Scan(&m.ID, &author, &authorName, &m.Body, &created, &aid, &key, &fname, &size); err != nil {
			return Ticket{}, classify(err, "messages")
		}
		if len(t.Messages) == 0 || t.Messages[len(t.Messages)-1].ID != m.ID {
			m.AuthorID, m.AuthorName, m.CreatedAt = author.String, authorName.String, parseTS(created)
			t.Messages = append(t.Messages, m)
		}
		if aid.Valid {
			last := &t.Messages[len(t.Messages)-1]
			last.Attachments = append(last.Attachments, Attachment{ID: aid.Int64, MessageID: m.ID, BlobKey: key.String, Filename: fname.String, Size: size.Int64})
		}
	}
	return t, classify(rows.Err(), "messages")
}

// Folders of the ticket list.
const (
	FolderInbox  = "inbox"  // open tickets
	FolderClosed = "closed" // closed tickets
	FolderSpam   = "spam"   // tickets marked as spam
	FolderAll    = "all"    // every ticket but spam
)

// TicketFilter selects a page of tickets.
type TicketFilter struct {
	// Folder is one of the Folder constants (default FolderInbox).
	Folder string
	// Requester keeps one customer's tickets (then Folder defaults to
	// FolderAll).
	Requester string
	// Before is the last ticket number of the previous page (0 for the
	// first): pages run newest first.
	Before int64
	// Limit caps the page (0: 25).
	Limit int
}

// Tickets returns a page of tickets, newest first, each with its first
// message's text and its number of attachments, and the Before of the
// next page (0 when this is the last). It is one query, however many
// tickets the page holds.
func (s *DB) Tickets(ctx context.Context, acct gdprkit.AccountID, f TicketFilter) ([]Ticket, int64, error) {
	if f.Limit <= 0 {
		f.Limit = 25
	}
	if f.Folder == "" {
		f.Folder = FolderInbox
		if f.Requester != "" {
			f.Folder = FolderAll
		}
	}
	// The page is chosen first (the inner SELECT, which walks an index
	// newest first and stops after the page), and only its rows get their
	// first message and attachment count: with the per-row subqueries
	// beside the filter, a folder the index could not order (every ticket
	// but spam) read and sorted the whole table, subqueries included, on
	// every call, and grew slower with every ticket.
	//
	// The status is written into the statement (statusLiteral), not
	// passed: each folder is then its own prepared statement, planned for
	// that folder's share of the tickets.
	query := "SELECT " + ticketCols + `
		FROM hd_tickets t WHERE t.account_id = ?`
	args := []any{string(acct)}
	switch f.Folder {
	case FolderInbox:
		query += " AND t.status = " + statusLiteral(StatusOpen)
	case FolderClosed:
		query += " AND t.status = " + statusLiteral(StatusClosed)
	case FolderSpam:
		query += " AND t.status = " + statusLiteral(StatusSpam)
	case FolderAll:
		query += " AND t.status <> " + statusLiteral(StatusSpam)
	default:
		return nil, 0, fmt.Errorf("hostdb: unknown folder %q: %w", f.Folder, gdprkit.ErrInvalid)
	}
	if f.Requester != "" {
		query += " AND t.requester_id = ?"
		args = append(args, f.Requester)
	}
	if f.Before > 0 {
		query += " AND t.id < ?"
		args = append(args, f.Before)
	}
	query = "SELECT " + ticketCols + `,
		(SELECT m.body FROM hd_messages m WHERE m.ticket_id = t.id ORDER BY m.id LIMIT 1),
		(SELECT COUNT(*) FROM hd_messages m JOIN hd_attachments x ON x.message_id = m.id WHERE m.ticket_id = t.id)
		FROM (` + query + " ORDER BY t.id DESC LIMIT ?) t ORDER BY t.id DESC"
	rows, err := s.c.QueryContext(ctx, s.q(query), append(args, f.Limit+1)...)
	if err != nil {
		return nil, 0, classify(err, "tickets")
	}
	defer rows.Close()
	var out []Ticket
	for rows.Next() {
		var first sql.NullString
		var files int
		t, err := scanTicket(rows, &first, &files)
		if err != nil {
			return nil, 0, classify(err, "tickets")
		}
		t.FirstBody, t.Files = first.String, files
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, classify(err, "tickets")
	}
	var next int64
	if len(out) > f.Limit {
		out = out[:f.Limit]
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

// CountTickets counts the open, closed and spam tickets, each up to upTo
// (a count above it comes back as upTo+1, for "more than upTo"; 0 counts
// all). Capped, each count reads at most upTo+1 index entries, so the
// folder tabs cost the same however many tickets pile up; an exact count
// reads every ticket of the account on every page view.
func (s *DB) CountTickets(ctx context.Context, acct gdprkit.AccountID, upTo int) (map[string]int, error) {
	statuses := []string{StatusOpen, StatusClosed, StatusSpam}
	var parts []string
	var args []any
	for i, st := range statuses {
		sub := "SELECT 1 AS one FROM hd_tickets WHERE account_id = ? AND status = " + statusLiteral(st)
		args = append(args, string(acct))
		if upTo > 0 {
			sub += " LIMIT ?"
			args = append(args, upTo+1)
		}
		parts = append(parts, fmt.Sprintf("SELECT %d AS k, COUNT(*) AS n FROM (%s) c%d", i, sub, i))
	}
	rows, err := s.c.QueryContext(ctx, s.q(strings.Join(parts, " UNION ALL ")), args...)
	if err != nil {
		return nil, classify(err, "count tickets")
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k, n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, classify(err, "count tickets")
		}
		if k >= 0 && k < len(statuses) && n > 0 {
			out[statuses[k]] = n
		}
	}
	return out, classify(rows.Err(), "count tickets")
}

// statusLiteral is one of the status constants as an SQL string literal.
//
// Why not a parameter: a prepared statement with "status = $2" gets one
// generic plan for every status. PostgreSQL planned it for the average
// status, open: walk the account's tickets newest first and keep the
// matching ones. For closed or spam tickets, a few among thousands, that
// walk read every ticket on every page view (the load test saw 1,172 rows
// read per folder count, growing with the tickets). With the status in the
// statement, each status is planned for its own share, and the rare ones
// go through the (account_id, status, id) index.
func statusLiteral(st string) string {
	switch st {
	case StatusOpen, StatusClosed, StatusSpam:
		return "'" + st + "'"
	}
	panic("hostdb: statusLiteral of " + st)
}

// SetStatus sets a ticket's status and spam label; closing stamps
// closed_at, anything else clears it.
func (s *DB) SetStatus(ctx context.Context, acct gdprkit.AccountID, id int64, status, label string) error {
	closed := sql.NullString{}
	if status == StatusClosed {
		closed = nullTS(s.now())
	}
	_, err := s.c.ExecContext(ctx, s.q("UPDATE hd_tickets SET status = ?, spam_label = ?, closed_at = ? WHERE account_id = ? AND id = ?"),
		status, label, closed, string(acct), id)
	return classify(err, "set status")
}

// Attachment returns one attachment row, or an error wrapping
// gdprkit.ErrNotFound. requester, when set, must be the ticket's requester
// (the portal's check).
func (s *DB) Attachment(ctx context.Context, acct gdprkit.AccountID, id int64, requester string) (Attachment, error) {
	query := `SELECT x.id, x.message_id, x.blob_key, x.filename, x.size FROM hd_attachments x
		JOIN hd_messages m ON m.id = x.message_id JOIN hd_tickets t ON t.id = m.ticket_id
		WHERE x.account_id = ? AND x.id = ?`
	args := []any{string(acct), id}
	if requester != "" {
		query += " AND t.requester_id = ?"
		args = append(args, requester)
	}
	var a Attachment
	var key sql.NullString
	err := s.c.QueryRowContext(ctx, s.q(query), args...).Scan(&a.ID, &a.MessageID, &key, &a.Filename, &a.Size)
	a.BlobKey = key.String
	return a, classify(err, "attachment")
}

// FirstMessage is a message that opened its ticket, with the ticket's
// subject: what the spam filter was trained on.
type FirstMessage struct {
	MessageID, TicketID int64
	Subject, Body       string
}

// FirstMessages returns, of the given message IDs, those that opened their
// ticket, in one query.
func (s *DB) FirstMessages(ctx context.Context, acct gdprkit.AccountID, ids []int64) ([]FirstMessage, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := []any{string(acct)}
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := s.c.QueryContext(ctx, s.q(`SELECT m.id, t.id, t.subject, m.body
		FROM hd_messages m JOIN hd_tickets t ON t.id = m.ticket_id
		WHERE m.account_id = ? AND m.id IN (`+placeholders(len(ids))+`)
		AND m.id = (SELECT MIN(f.id) FROM hd_messages f WHERE f.ticket_id = m.ticket_id)`), args...)
	if err != nil {
		return nil, classify(err, "first messages")
	}
	defer rows.Close()
	var out []FirstMessage
	for rows.Next() {
		var f FirstMessage
		if err := rows.Scan(&f.MessageID, &f.TicketID, &f.Subject, &f.Body); err != nil {
			return nil, classify(err, "first messages")
		}
		out = append(out, f)
	}
	return out, classify(rows.Err(), "first messages")
}

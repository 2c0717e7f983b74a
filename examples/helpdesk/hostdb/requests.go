package hostdb

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gdprkit/gdprkit"
)

// The rights a data subject may invoke (GDPR Art. 15–21): the types of
// hd_requests.
const (
	RightAccess        = "access"        // Art. 15: a copy of one's data
	RightRectification = "rectification" // Art. 16: correct it
	RightErasure       = "erasure"       // Art. 17: be forgotten
	RightRestriction   = "restriction"   // Art. 18: stop processing, keep it
	RightPortability   = "portability"   // Art. 20: a machine-readable copy
	RightObjection     = "objection"     // Art. 21: object to processing
)

// Rights lists the rights in article order.
var Rights = []string{RightAccess, RightRectification, RightErasure, RightRestriction, RightPortability, RightObjection}

// The channels a request can arrive through.
const (
	ChannelPortal   = "portal"
	ChannelEmail    = "email"
	ChannelPhone    = "phone"
	ChannelLetter   = "letter"
	ChannelInPerson = "in_person"
	ChannelForm     = "contact_form"
)

// Channels lists the channels.
var Channels = []string{ChannelEmail, ChannelPortal, ChannelForm, ChannelPhone, ChannelLetter, ChannelInPerson}

// Request statuses.
const (
	RequestOpen     = "open"
	RequestDone     = "done"
	RequestRejected = "rejected"
)

// Request is a row of the intake log hd_requests: one data-subject request,
// whoever it came from and whichever right it invokes. Access and erasure
// requests are carried out by gdprkit (GDPRRequestID links them); the
// others by staff, who record the outcome.
type Request struct {
	// ID is the log's number.
	ID int64
	// Type is one of the Right constants; Channel one of the Channel
	// constants.
	Type, Channel string
	// SubjectID is the person in hd_users ("" when not known there);
	// SubjectName and Contact are who asked and where to answer, as given.
	SubjectID, SubjectName, Contact string
	// Evidence says how the identity was checked; Details what was asked.
	Evidence, Details string
	// ReceivedAt and DueAt (one month after receipt, Art. 12(3), or later
	// once extended with ExtensionReason).
	ReceivedAt, DueAt time.Time
	ExtensionReason   string
	// Status is RequestOpen, RequestDone or RequestRejected; Outcome says
	// what was done.
	Status, Outcome string
	// GDPRRequestID is gdprkit's erasure or access request.
	GDPRRequestID string
	// LoggedBy is the staff member who logged it ("" when the subject
	// filed it themself).
	LoggedBy string
	// ClosedAt is when it was done or rejected.
	ClosedAt time.Time
}

const requestCols = `id, request_type, channel, subject_id, subject_name, contact, evidence, details, received_at, due_at, extension_reason,
	status, outcome, gdpr_request_id, logged_by, closed_at`

func scanRequest(sc interface{ Scan(...any) error }) (Request, error) {
	var r Request
	var sub, name, contact, ev, det, ext, out, gid, by, closed sql.NullString
	var recv, due string
	err := sc.Scan(&r.ID, &r.Type, &r.Channel, &sub, &name, &contact, &ev, &det, &recv, &due, &ext, &r.Status, &out, &gid, &by, &closed)
	r.SubjectID, r.SubjectName, r.Contact, r.Evidence, r.Details = sub.String, name.String, contact.String, ev.String, det.String
	r.ReceivedAt, r.DueAt, r.ExtensionReason, r.Outcome = parseTS(recv), parseTS(due), ext.String, out.String
	r.GDPRRequestID, r.LoggedBy, r.ClosedAt = gid.String, by.String, parseTS(closed.String)
	return r, err
}

// LogRequest adds r to the intake log, open, and returns its number.
// ReceivedAt and DueAt must be set.
func (s *DB) LogRequest(ctx context.Context, acct gdprkit.AccountID, r Request) (int64, error) {
	if r.ReceivedAt.IsZero() || r.DueAt.IsZero() || r.Type == "" || r.Channel == "" {
		return 0, fmt.Errorf("hostdb: a request needs a type, a channel, a receipt and a due date: %w", gdprkit.ErrInvalid)
	}
	id, err := s.insertID(ctx, `INSERT INTO hd_requests (account_id, request_type, channel, subject_id, subject_name, contact, evidence, details,
		received_at, due_at, status, gdpr_request_id, logged_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		string(acct), r.Type, r.Channel, nullStr(r.SubjectID), nullStr(r.SubjectName), nullStr(r.Contact), nullStr(r.Evidence), nullStr(r.Details),
		ts(r.ReceivedAt), ts(r.DueAt), RequestOpen, nullStr(r.GDPRRequestID), nullStr(r.LoggedBy))
	return id, classify(err, "log request")
}

// Request returns one logged request, or an error wrapping
// gdprkit.ErrNotFound.
func (s *DB) Request(ctx context.Context, acct gdprkit.AccountID, id int64) (Request, error) {
	r, err := scanRequest(s.c.QueryRowContext(ctx, s.q("SELECT "+requestCols+" FROM hd_requests WHERE account_id = ? AND id = ?"), string(acct), id))
	return r, classify(err, "request")
}

// RequestFor returns the logged request of a gdprkit request, or an error
// wrapping gdprkit.ErrNotFound.
func (s *DB) RequestFor(ctx context.Context, acct gdprkit.AccountID, gdprID string) (Request, error) {
	r, err := scanRequest(s.c.QueryRowContext(ctx, s.q("SELECT "+requestCols+" FROM hd_requests WHERE account_id = ? AND gdpr_request_id = ?"),
		string(acct), gdprID))
	return r, classify(err, "request")
}

// RequestFilter selects logged requests.
type RequestFilter struct {
	// Status keeps one status ("" for all).
	Status string
	// Subject keeps one person's requests.
	Subject string
	// Limit caps the list (0: 200).
	Limit int
}

// Requests lists logged requests: open ones by due date, earliest first,
// then the others newest first.
func (s *DB) Requests(ctx context.Context, acct gdprkit.AccountID, f RequestFilter) ([]Request, error) {
	if f.Limit <= 0 {
		f.Limit = 200
	}
	query := "SELECT " + requestCols + " FROM hd_requests WHERE account_id = ?"
	args := []any{string(acct)}
	if f.Status != "" {
		query += " AND status = ?"
		args = append(args, f.Status)
	}
	if f.Subject != "" {
		query += " AND subject_id = ?"
		args = append(args, f.Subject)
	}
	query += " ORDER BY CASE WHEN status = 'open' THEN 0 ELSE 1 END, CASE WHEN status = 'open' THEN due_at ELSE '' END, id DESC LIMIT ?"
	rows, err := s.c.QueryContext(ctx, s.q(query), append(args, f.Limit)...)
	if err != nil {
		return nil, classify(err, "requests")
	}
	defer rows.Close()
	var out []Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, classify(err, "requests")
		}
		out = append(out, r)
	}
	return out, classify(rows.Err(), "requests")
}

// LinkRequest records the gdprkit request that carries out a logged one.
func (s *DB) LinkRequest(ctx context.Context, acct gdprkit.AccountID, id int64, gdprID string) error {
	return s.updateRequest(ctx, acct, id, "link request", "gdpr_request_id = ?", gdprID)
}

// ExtendRequest moves an open request's due date to due with a reason,
// once (Art. 12(3)): a second extension, or one of a closed request, is
// an error wrapping gdprkit.ErrConflict.
func (s *DB) ExtendRequest(ctx context.Context, acct gdprkit.AccountID, id int64, due time.Time, reason string) error {
	res, err := s.c.ExecContext(ctx, s.q("UPDATE hd_requests SET due_at = ?, extension_reason = ? WHERE account_id = ? AND id = ? AND status = ? AND extension_reason IS NULL"),
		ts(due), reason, string(acct), id, RequestOpen)
	if err != nil {
		return classify(err, "extend request")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("hostdb: request %d is not open or was already extended: %w", id, gdprkit.ErrConflict)
	}
	return nil
}

// CloseRequest closes an open request as done or rejected, with what was
// done. A request that is not open is an error wrapping
// gdprkit.ErrConflict.
func (s *DB) CloseRequest(ctx context.Context, acct gdprkit.AccountID, id int64, status, outcome string) error {
	if status != RequestDone && status != RequestRejected {
		return fmt.Errorf("hostdb: a request closes as done or rejected: %w", gdprkit.ErrInvalid)
	}
	res, err := s.c.ExecContext(ctx, s.q("UPDATE hd_requests SET status = ?, outcome = ?, closed_at = ? WHERE account_id = ? AND id = ? AND status = ?"),
		status, nullStr(outcome), ts(s.now()), string(acct), id, RequestOpen)
	if err != nil {
		return classify(err, "close request")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("hostdb: request %d is not open: %w", id, gdprkit.ErrConflict)
	}
	return nil
}

func (s *DB) updateRequest(ctx context.Context, acct gdprkit.AccountID, id int64, what, set string, v any) error {
	res, err := s.c.ExecContext(ctx, s.q("UPDATE hd_requests SET "+set+" WHERE account_id = ? AND id = ?"), v, string(acct), id)
	if err != nil {
		return classify(err, what)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return classify(sql.ErrNoRows, what)
	}
	return nil
}

// HoldMatter names the matter (a dispute, a case number) a legal hold is
// for: the host's note beside gdprkit's hold.
type HoldMatter struct {
	HoldID, Matter string
	// TicketID is the held ticket, for a hold on one ticket.
	TicketID  int64
	CreatedAt time.Time
}

// AddHoldMatter records the matter of a hold.
func (s *DB) AddHoldMatter(ctx context.Context, acct gdprkit.AccountID, m HoldMatter) error {
	ticket := sql.NullInt64{Int64: m.TicketID, Valid: m.TicketID > 0}
	_, err := s.c.ExecContext(ctx, s.q("INSERT INTO hd_hold_matters (hold_id, account_id, matter, ticket_id, created_at) VALUES (?, ?, ?, ?, ?)"),
		m.HoldID, string(acct), m.Matter, ticket, ts(s.now()))
	return classify(err, "add hold matter")
}

// HoldMatters returns the matters of the account's holds by hold ID.
func (s *DB) HoldMatters(ctx context.Context, acct gdprkit.AccountID) (map[string]HoldMatter, error) {
	rows, err := s.c.QueryContext(ctx, s.q("SELECT hold_id, matter, ticket_id, created_at FROM hd_hold_matters WHERE account_id = ?"), string(acct))
	if err != nil {
		return nil, classify(err, "hold matters")
	}
	defer rows.Close()
	out := map[string]HoldMatter{}
	for rows.Next() {
		var m HoldMatter
		var ticket sql.NullInt64
		var created string
		if err := rows.Scan(&m.HoldID, &m.Matter, &ticket, &created); err != nil {
			return nil, classify(err, "hold matters")
		}
		m.TicketID, m.CreatedAt = ticket.Int64, parseTS(created)
		out[m.HoldID] = m
	}
	return out, classify(rows.Err(), "hold matters")
}

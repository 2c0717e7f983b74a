// Package hostdb is the example helpdesk's own data layer: its tables
// (prefixed hd_) and every query the app runs against them. It is what a
// ticketing app already has before it adopts gdprkit, and it knows nothing
// of gdprkit's services: the wiring (examples/helpdesk/wiring.go) binds
// these tables to the erasure graph and hands the services what they need.
//
// The schema is an ordinary helpdesk's: one users table for staff and
// customers, tickets with a requester and an assignee, messages, attachment
// rows whose files live in a blob store, an intake log of data-subject
// requests, legal-hold matters and an audit log. Its foreign keys say how
// rows hang together, and the database enforces them:
//
//	hd_portal_profiles.user_id  → hd_users     ON DELETE CASCADE
//	hd_agent_profiles.user_id   → hd_users     ON DELETE CASCADE
//	hd_tickets.requester_id     → hd_users     ON DELETE CASCADE
//	hd_tickets.assignee_id      → hd_users     ON DELETE SET NULL
//	hd_messages.ticket_id       → hd_tickets   ON DELETE CASCADE
//	hd_messages.author_id       → hd_users     ON DELETE SET NULL
//	hd_attachments.message_id   → hd_messages  ON DELETE CASCADE
//	hd_requests.subject_id      → hd_users     ON DELETE SET NULL
//	hd_requests.logged_by       → hd_users     ON DELETE SET NULL
//	hd_hold_matters.ticket_id   → hd_tickets   ON DELETE SET NULL
//
// Choices made here:
//
//   - Every query names the account (tenant) it touches, though the example
//     serves one; keys are global (text IDs for people, database-generated
//     integers for tickets, messages and attachments), so a key can never
//     collide across processes or accounts.
//   - One customer per e-mail address: a unique key on (account, role,
//     e-mail) and an upsert (UpsertCustomer), so concurrent first
//     submissions from one new address create one customer.
//   - A ticket may carry the submission key of the form that opened it,
//     unique per account: a form sent twice (a double click, a retry after
//     a timeout) opens one ticket, and the second sending learns which
//     (ErrAlreadyReceived).
//   - Times are fixed-width RFC 3339 text in UTC, so one schema serves
//     SQLite, PostgreSQL and MySQL/MariaDB and sorts correctly.
//   - Errors pass through sqldb.Classify: a database that cannot be
//     reached, or a request whose context ended, is gdprkit.ErrUnavailable;
//     a missing row gdprkit.ErrNotFound; a key violation gdprkit.ErrConflict.
//     Driver messages (which may quote values) never reach the error text.
//   - Lists are paged by key (keyset pagination), one query per page.
package hostdb

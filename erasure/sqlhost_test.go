package erasure_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/fsblob"
	"github.com/gdprkit/gdprkit/erasure/sqltarget"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
)

// A host's own helpdesk tables, as an application would have them: string
// user keys, integer ticket/message/attachment keys, a tenant column.
var hostDDL = []string{
	`CREATE TABLE hd_users (account_id VARCHAR(64) NOT NULL, id VARCHAR(64) NOT NULL, name VARCHAR(200) NULL, email VARCHAR(200) NULL, PRIMARY KEY (account_id, id))`,
	`CREATE TABLE hd_tickets (account_id VARCHAR(64) NOT NULL, id BIGINT NOT NULL, requester_id VARCHAR(64) NULL, requester_name VARCHAR(200) NULL, subject VARCHAR(200) NOT NULL, PRIMARY KEY (account_id, id))`,
	`CREATE INDEX hd_tickets_requester ON hd_tickets (account_id, requester_id, id)`,
	`CREATE TABLE hd_messages (account_id VARCHAR(64) NOT NULL, id BIGINT NOT NULL, ticket_id BIGINT NOT NULL, author_id VARCHAR(64) NULL, author_name VARCHAR(200) NULL, body TEXT NOT NULL, PRIMARY KEY (account_id, id))`,
	`CREATE INDEX hd_messages_ticket ON hd_messages (account_id, ticket_id, id)`,
	`CREATE INDEX hd_messages_author ON hd_messages (account_id, author_id, id)`,
	`CREATE TABLE hd_attachments (account_id VARCHAR(64) NOT NULL, id BIGINT NOT NULL, message_id BIGINT NOT NULL, blob_key VARCHAR(200) NULL, PRIMARY KEY (account_id, id))`,
	`CREATE INDEX hd_attachments_message ON hd_attachments (account_id, message_id, id)`,
}

type sqlHost struct {
	db      *sql.DB
	dialect sqldb.Dialect
	blobs   *fsblob.Store
	timed   *timedBlobs
	targets []erasure.Target
	nextID  int64
}

func newSQLHost(tb testing.TB, db *sql.DB, d sqldb.Dialect) *sqlHost {
	tb.Helper()
	return newSQLHostIn(tb, db, d, tb.TempDir())
}

// newSQLHostIn creates the host's tables and binds them, with files under
// dir.
func newSQLHostIn(tb testing.TB, db *sql.DB, d sqldb.Dialect, dir string) *sqlHost {
	tb.Helper()
	for _, st := range hostDDL {
		_, err := db.Exec(st)
		require.NoError(tb, err, st)
	}
	return bindSQLHost(tb, db, d, dir)
}

// bindSQLHost binds tables that exist (another process created them), with
// files under dir.
func bindSQLHost(tb testing.TB, db *sql.DB, d sqldb.Dialect, dir string) *sqlHost {
	tb.Helper()
	blobs, err := fsblob.New(fsblob.Config{Dir: dir})
	require.NoError(tb, err)
	h := &sqlHost{db: db, dialect: d, blobs: blobs, timed: &timedBlobs{BlobStore: blobs}}
	b, err := sqltarget.Bind(context.Background(), sqltarget.Config{DB: db, Dialect: d,
		Specs: []sqltarget.Spec{
			{Kind: erasure.KindEndUser, Table: "hd_users", Key: "id", SubjectColumn: "id", AccountColumn: "account_id"},
			{Kind: erasure.KindTicket, Parent: erasure.KindEndUser, Table: "hd_tickets", Key: "id", ParentColumn: "requester_id", AccountColumn: "account_id",
				Columns: []sqltarget.Column{{Name: "requester_id", Action: sqltarget.Null}, {Name: "requester_name", Action: sqltarget.Fixed, Value: "Former user"}}},
			{Kind: erasure.KindMessage, Parent: erasure.KindTicket, Table: "hd_messages", Key: "id", ParentColumn: "ticket_id", AccountColumn: "account_id"},
			{Kind: erasure.KindAttachment, Parent: erasure.KindMessage, Table: "hd_attachments", Key: "id", ParentColumn: "message_id", AccountColumn: "account_id"},
			{Kind: erasure.KindAuthoredMessage, Table: "hd_messages", Key: "id", SubjectColumn: "author_id", AccountColumn: "account_id",
				Default: erasure.Rule{Action: erasure.Anonymize},
				Columns: []sqltarget.Column{{Name: "author_id", Action: sqltarget.Null}, {Name: "author_name", Action: sqltarget.Fixed, Value: "Former user"}}},
		},
		Blobs: []sqltarget.BlobSpec{{Kind: erasure.KindBlob, Parent: erasure.KindAttachment, Table: "hd_attachments", KeyColumn: "blob_key",
			ParentColumn: "id", AccountColumn: "account_id", Store: h.timed}},
	})
	require.NoError(tb, err)
	h.targets = b.Targets()
	return h
}

// directory implements erasure.Directory over hd_users: everybody is an
// end user except "admin".
func (h *sqlHost) Lookup(ctx context.Context, a gdprkit.AccountID, u gdprkit.SubjectID) (erasure.Subject, error) {
	if u == "admin" {
		return erasure.Subject{Role: gdprkit.RoleAdmin}, nil
	}
	var n int
	err := h.db.QueryRowContext(ctx, h.rebind("SELECT COUNT(*) FROM hd_users WHERE account_id = ? AND id = ?"), string(a), string(u)).Scan(&n)
	if err != nil {
		return erasure.Subject{}, err
	}
	if n == 0 {
		return erasure.Subject{}, fmt.Errorf("user: %w", gdprkit.ErrNotFound)
	}
	return erasure.Subject{Role: gdprkit.RoleEndUser}, nil
}

func (h *sqlHost) Subjects(ctx context.Context, a gdprkit.AccountID, cursor string, limit int) ([]gdprkit.SubjectID, string, error) {
	rows, err := h.db.QueryContext(ctx, h.rebind("SELECT id FROM hd_users WHERE account_id = ? AND id > ? ORDER BY id LIMIT ?"), string(a), cursor, limit)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []gdprkit.SubjectID
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, "", err
		}
		out = append(out, gdprkit.SubjectID(id))
	}
	next := ""
	if len(out) == limit {
		next = string(out[len(out)-1])
	}
	return out, next, rows.Err()
}

func (h *sqlHost) rebind(q string) string {
	if h.dialect != sqldb.Postgres {
		return q
	}
	n := 0
	var b strings.Builder
	for _, c := range q {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// insert writes rows with multi-row INSERTs of up to 200 rows.
func (h *sqlHost) insert(tb testing.TB, table string, cols int, rows [][]any) {
	tb.Helper()
	for i := 0; i < len(rows); i += 200 {
		part := rows[i:min(i+200, len(rows))]
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " VALUES ")
		var args []any
		for j, r := range part {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")")
			args = append(args, r...)
		}
		_, err := h.db.Exec(h.rebind(b.String()), args...)
		require.NoError(tb, err)
	}
}

// seedSubject gives user `tickets` tickets of `msgs` messages, the first
// message of each with one attachment (a 64-byte file). The last message
// of each ticket is written by "agent".
func (h *sqlHost) seedSubject(tb testing.TB, a gdprkit.AccountID, user string, tickets, msgs int) {
	tb.Helper()
	h.insert(tb, "hd_users", 4, [][]any{{string(a), user, "Name of " + user, user + "@example.com"}})
	var ts, ms, as [][]any
	ctx := context.Background()
	for range tickets {
		h.nextID++
		tid := h.nextID
		ts = append(ts, []any{string(a), tid, user, "Name of " + user, "subject"})
		for m := range msgs {
			h.nextID++
			author := user
			if m == msgs-1 && msgs > 1 {
				author = "agent"
			}
			ms = append(ms, []any{string(a), h.nextID, tid, author, author, "message body"})
			if m == 0 {
				key := fmt.Sprintf("att/%d", h.nextID)
				as = append(as, []any{string(a), h.nextID, h.nextID, key})
				require.NoError(tb, h.blobs.Put(ctx, a, key, []byte(strings.Repeat("b", 64))))
			}
		}
	}
	h.insert(tb, "hd_tickets", 5, ts)
	h.insert(tb, "hd_messages", 6, ms)
	h.insert(tb, "hd_attachments", 4, as)
}

func (h *sqlHost) count(tb testing.TB, q string, args ...any) int {
	tb.Helper()
	var n int
	require.NoError(tb, h.db.QueryRow(h.rebind(q), args...).Scan(&n))
	return n
}

type sqlEnv struct {
	host  *sqlHost
	svc   *erasure.Service
	store erasure.Store
	clock *fakeclock.Clock
}

func newSQLEnv(tb testing.TB, d sqldb.Dialect, batch int) *sqlEnv {
	tb.Helper()
	st, db := testdb.OpenStore(tb, d)
	h := newSQLHost(tb, db.DB, d)
	g, err := erasure.NewGraph(h.targets...)
	require.NoError(tb, err)
	ps, err := gdprkit.NewPseudonymizer(key)
	require.NoError(tb, err)
	clock := fakeclock.New(t0)
	svc, err := erasure.New(erasure.Config{Store: st.Erasure(), Graph: g, Directory: h, Pseudonymizer: ps, Clock: clock, BatchSize: batch})
	require.NoError(tb, err)
	return &sqlEnv{host: h, svc: svc, store: st.Erasure(), clock: clock}
}
